"""The library's MQTT client (scn_mqtt, through
tests/integration/drivers/mqtt_driver.c) against Debian's mosquitto on a
loopback port (mosquitto_broker.py), with mosquitto_sub and mosquitto_pub
as the independent peers that say what reached the broker:

- publish and subscribe: QoS 0 and 1, retained, messages from another
  client delivered; the counters say so;
- the broker killed (kill -9) and restarted twice with QoS 1 messages in
  flight and more published while it is away: every one reaches the
  subscriber (duplicates allowed, dropped by payload), the client
  reconnects by itself, resends (the broker is frozen before the kill:
  see mosquitto_broker.py on what a dying broker itself loses);
- the client process killed with QoS 1 messages unsent: a new one on the
  same spool sends them; the spool's cap drops the oldest, reported;
- QoS 0 while the broker is away: dropped and counted;
- a wrong password is SCN_ERR_MQTT_AUTH (FAILED with fail_fast_auth,
  retried without), an anonymous client refused SCN_ERR_MQTT_NOT_AUTHORISED;
- TLS with a test CA: works with that CA, a wrong CA is SCN_ERR_TLS; a
  CA file trusted besides the system store, not instead of it; a
  client certificate the broker asks for;
- one publish larger than the socket takes arrives whole;
- the broker's SUBACK reported: granted, or refused by its access
  control;
- the will: published when the client is killed, not when it quits;
- after a reconnect each spooled message is written once (the broker's
  debug log counts the PUBLISHes it received);
- a burst of messages to the client all arrive (it reads on until the
  socket would block, a bounded number per turn).
"""

import os
import shutil
import subprocess
import tempfile
import unittest

import mosquitto_broker
import mqttdriver
from simproc import LOG_DIR, die_with_parent, main, scaled, wait_until

ERR_TLS = -47
ERR_NETWORK = -40
ERR_MQTT_AUTH = -140
ERR_MQTT_NOT_AUTHORISED = -141
PASSWORD = "drone-pw-7f3a"
GROUND_PASSWORD = "ground-pw-91c2"


@unittest.skipUnless(mqttdriver.have_all(), "mqtt_driver or mosquitto missing")
class MqttClientTest(unittest.TestCase):
    def setUp(self):
        os.makedirs(LOG_DIR, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix="scn-mqtt-test-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def broker(self, **kw):
        b = mosquitto_broker.Broker(**kw)
        self.addCleanup(b.close)
        return b

    def users_broker(self, **kw):
        return self.broker(users={"drone1": PASSWORD,
                                  "ground": GROUND_PASSWORD}, **kw)

    def subscriber(self, broker, filter_="t/#", user="ground"):
        s = mqttdriver.Subscriber(broker, filter_, user=user,
                                  probe_topic="t/probe")
        self.addCleanup(s.stop)
        s.ready()
        return s

    def driver(self, url, *extra, name="drv"):
        err = os.path.join(LOG_DIR, "mqtt-%s-%s-%d.stderr" % (
            self._testMethodName, name, os.getpid()))
        d = mqttdriver.Driver(url, err, *extra)
        self.addCleanup(d.close)
        return d

    def drone(self, broker, *extra, name="drv", client_id="drone1",
              password=PASSWORD):
        """The driver as drone1 with a password file (and extra)."""
        pw = broker.write_password_file(
            "drone1", os.path.join(self.tmp, "pw-" + name), password)
        return self.driver(broker.url, "--client-id", client_id,
                           "--username", "drone1", "--password-file", pw,
                           "--backoff-min", "50", "--backoff-max", "300",
                           *extra, name=name)

    def restart_gated(self, broker, sub, drv):
        """The broker back, refusing the drone until the subscriber is in
        again (what the drone resends must have a reader), then letting
        it in; returns once the drone is open."""
        broker.set_users({"ground": GROUND_PASSWORD}, reload=False)
        broker.start()
        sub.restart()
        sub.ready()
        mark = drv.mark()
        broker.set_users({"drone1": PASSWORD, "ground": GROUND_PASSWORD})
        drv.opened(start=mark)

    # ------------------------------------------------------------------
    def test_publish_and_subscribe(self):
        b = self.users_broker()
        sub = self.subscriber(b)
        d = self.drone(b, "--spool", os.path.join(self.tmp, "spool"))
        d.opened()
        self.assertEqual(d.publish("sub 1 t/in/#")["rc"], 0)
        self.assertEqual(d.publish("pub 0 0 t/q0 hello zero")["rc"], 0)
        self.assertEqual(d.publish("pub 1 0 t/q1 hello one")["rc"], 0)
        self.assertEqual(d.publish("pub 1 1 t/ret kept")["rc"], 0)
        self.assertEqual(d.publish("seq 1 t/many m 1 200")["count"], 200)
        want = ["m-%d" % i for i in range(1, 201)]
        got = sub.wait_payloads("t/many", want, 20)
        # One connection, no loss: each exactly once, in order.
        self.assertEqual(got, want)
        self.assertEqual(sub.payloads("t/q0"), ["hello zero"])
        self.assertEqual(sub.payloads("t/q1"), ["hello one"])
        st = d.stats_until(lambda s: s["acked_qos1"] == 202 and
                           s["spooled"] == 0, 20, "all acknowledged")
        self.assertEqual(st["published_qos0"], 1)
        self.assertEqual(st["submitted_qos1"], 202)
        self.assertEqual(st["resent_qos1"], 0)
        self.assertEqual(st["connects"], 1)
        # The retained one is the broker's: a late subscriber gets it.
        late = b.sub(["-t", "t/ret", "-C", "1", "-v", "-W", "10"],
                     user="ground")
        self.assertEqual(late.communicate(timeout=scaled(15))[0].decode(),
                         "t/ret kept\n")
        # A message from another client reaches the driver's subscription,
        # and our own subscription is matched by the broker, not by us.
        self.assertEqual(b.pub("t/in/x", "from ground", qos=1,
                               user="ground").returncode, 0)
        msg = d.wait(lambda e: e["event"] == "message", 10, "message")
        self.assertEqual((msg["topic"], msg["payload"], msg["qos"]),
                         ("t/in/x", "from ground", 1))
        self.assertEqual(d.publish("pub 2 0 t/x bad qos")["rc"], -1)
        self.assertEqual(d.publish("pub 1 0 t/+ wildcard")["rc"], -1)
        d.quit()

    def test_broker_killed_twice_loses_no_qos1(self):
        b = self.users_broker()
        sub = self.subscriber(b)
        d = self.drone(b, "--spool", os.path.join(self.tmp, "spool"),
                       "--max-inflight", "8")
        d.opened()
        sent = 0

        def publish(n):
            nonlocal sent
            ev = d.publish("seq 1 t/data m %d %d" % (sent + 1, n))
            self.assertEqual((ev["rc"], ev["count"]), (0, n))
            sent += n

        for outage in range(2):
            # Published while up, all of it through (acknowledged and
            # forwarded): what the broker acknowledged is the broker's.
            for _ in range(5):
                publish(20)
            d.stats_until(lambda s: s["acked_qos1"] >= sent, 20, "acked")
            sub.wait_payloads("t/data", ["m-%d" % sent], 20)
            # Then frozen: what is published now is in flight (written,
            # never acknowledged) when the broker dies.
            b.freeze()
            publish(40)
            st = d.stats()
            self.assertGreater(st["spooled"], 0)
            b.kill9()
            mark = d.mark()
            d.wait(lambda e: e["event"] == "state" and
                   e["state"] == "reconnecting", 10, "link lost", mark)
            # Published while it is away: they wait in the spool.
            publish(50)
            publish(50)
            self.restart_gated(b, sub, d)
        publish(30)
        want = ["m-%d" % i for i in range(1, sent + 1)]
        got = sub.wait_payloads("t/data", want, 30)
        missing = sorted(set(want) - set(got), key=lambda p: int(p[2:]))
        self.assertEqual(missing, [], "lost QoS 1 messages")
        # Nothing beyond what was sent, in order after dropping repeats.
        firsts = list(dict.fromkeys(got))
        self.assertEqual(firsts, want)
        st = d.stats_until(lambda s: s["spooled"] == 0, 20, "spool empties")
        self.assertEqual(st["submitted_qos1"], sent)
        self.assertGreaterEqual(st["acked_qos1"], sent)
        self.assertGreaterEqual(st["connects"], 3)
        self.assertGreaterEqual(st["disconnects"], 2)
        # (st["refused"] is not checked: whether the gate refused the
        # driver depends on where its backoff put the next attempt.)
        self.assertGreater(st["resent_qos1"], 0)
        d.quit()

    def test_reconnect_writes_each_spooled_message_once(self):
        # The broker's debug log has a line per PUBLISH it received.
        b = self.broker(extra_conf=["log_type debug"])
        # A publish from inside the OPEN callback (scn-companion's birth
        # message) must not start the resend ahead of the spool's rewind.
        d = self.driver(b.url, "--client-id", "drone1", "--spool",
                        os.path.join(self.tmp, "spool"), "--backoff-min",
                        "50", "--backoff-max", "300", "--birth", "t/birth")
        d.opened()
        self.assertEqual(d.publish("seq 1 t/data m 1 10")["count"], 10)
        d.stats_until(lambda s: s["acked_qos1"] >= 11 and s["spooled"] == 0,
                      20, "acked")
        # Written and never acknowledged when the broker dies.
        b.freeze()
        self.assertEqual(d.publish("seq 1 t/data m 11 9")["count"], 9)
        b.kill9()
        mark = d.mark()
        d.wait(lambda e: e["event"] == "state" and
               e["state"] == "reconnecting", 10, "link lost", mark)
        # Spooled while the broker is away: written on the next connect.
        self.assertEqual(d.publish("seq 1 t/data m 20 11")["count"], 11)
        mark = d.mark()
        b.start()
        d.opened(start=mark)
        d.stats_until(lambda s: s["acked_qos1"] >= 32 and s["spooled"] == 0,
                      20, "all acknowledged")
        # The 9 in flight, the 11 spooled and the new birth: once each.
        run = b.log_text().split("--- run %d ---" % b.runs)[-1]
        received = [ln for ln in run.splitlines()
                    if "Received PUBLISH from drone1" in ln]
        self.assertEqual(len(received), 21, "\n".join(received))
        st = d.stats()
        self.assertEqual((st["acked_qos1"], st["resent_qos1"]), (32, 9))
        d.quit()

    def test_burst_to_the_client_all_arrives(self):
        n = 2000
        b = self.broker()
        d = self.driver(b.url, "--client-id", "ground1")
        d.opened()
        self.assertEqual(d.publish("sub 1 t/burst")["rc"], 0)
        # The SUBACK has no event: a probe through the subscription.
        for attempt in range(10):
            self.assertEqual(b.pub("t/burst", "probe", qos=1).returncode, 0)
            try:
                d.wait(lambda e: e["event"] == "message", 2, "probe")
                break
            except AssertionError:
                if attempt == 9:
                    raise
        mark = d.mark()
        pub = subprocess.run(
            [mosquitto_broker.MOSQUITTO_PUB] + b.client_args() +
            ["-t", "t/burst", "-q", "1", "-l"],
            input="".join("b-%d\n" % i for i in range(1, n + 1)).encode(),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            preexec_fn=die_with_parent, timeout=scaled(60))
        self.assertEqual(pub.returncode, 0, pub.stderr)
        d.wait(lambda e: e["event"] == "message" and
               e["payload"] == "b-%d" % n, 60, "last of the burst", mark)
        got = [e["payload"] for e in d.events[mark:]
               if e["event"] == "message" and e["payload"] != "probe"]
        self.assertEqual(got, ["b-%d" % i for i in range(1, n + 1)])
        d.quit()

    def test_spool_survives_a_killed_process_and_is_bounded(self):
        b = self.users_broker(start=False)
        spool = os.path.join(self.tmp, "spool")
        d = self.drone(b, "--spool", spool)
        d.state("reconnecting")
        self.assertEqual(d.publish("seq 1 t/kept k 1 40")["count"], 40)
        self.assertEqual(d.publish("seq 0 t/gone g 1 5")["count"], 5)
        st = d.stats()
        self.assertEqual((st["spooled"], st["dropped_offline"]), (40, 5))
        # One process per spool.
        busy = self.drone(b, "--spool", spool, name="busy")
        self.assertEqual(busy.wait(lambda e: e["event"] == "new", 10,
                                   "new")["rc"], -121)  # SPOOL_BUSY
        d.kill()  # kill -9 with all 40 unsent
        b.start()
        sub = self.subscriber(b)
        d2 = self.drone(b, "--spool", spool, name="drv2")
        d2.opened()
        want = ["k-%d" % i for i in range(1, 41)]
        self.assertEqual(sub.wait_payloads("t/kept", want, 20), want)
        self.assertEqual(sub.payloads("t/gone"), [])
        d2.stats_until(lambda s: s["spooled"] == 0, 20, "spool empties")
        d2.quit()

        # A small cap: the oldest go, counted and reported, the newest
        # are sent.
        b.kill9()
        small = os.path.join(self.tmp, "small")
        d3 = self.drone(b, "--spool", small, "--spool-cap", "4096",
                        name="drv3")
        d3.state("reconnecting")
        self.assertEqual(d3.publish("seq 1 t/capped " + "c" * 100 +
                                    " 1 200")["count"], 200)
        drops = [e for e in d3.events if e["event"] == "spool_drop"]
        self.assertTrue(drops, "no spool_drop reported")
        st = d3.stats()
        dropped = sum(e["count"] for e in drops)
        self.assertEqual(st["dropped_full"], dropped)
        self.assertEqual(st["spooled"] + dropped, 200)
        self.restart_gated(b, sub, d3)
        kept = ["c" * 100 + "-%d" % i for i in range(dropped + 1, 201)]
        got = sub.wait_payloads("t/capped", kept, 20)
        self.assertEqual(got, kept)  # the newest, none of the dropped
        d3.quit()

    def test_wrong_password_and_anonymous(self):
        b = self.users_broker()
        # fail_fast_auth: FAILED, with the cause, once.
        d = self.drone(b, "--fail-fast-auth", password="not-the-password")
        ev = d.state("failed")
        self.assertEqual(ev["reason"], ERR_MQTT_AUTH)
        self.assertIn("username or password", ev["reason_text"])
        self.assertEqual(d.publish("pub 0 0 t/x y")["rc"], -3)  # STATE
        st = d.stats()
        self.assertEqual((st["refused"], st["connects"]), (1, 0))
        d.quit()
        # Without it: retried, each refusal reported.
        d2 = self.drone(b, password="not-the-password", name="retry")
        d2.wait(lambda e: e["event"] == "state" and
                e["state"] == "reconnecting" and
                e["reason"] == ERR_MQTT_AUTH, 10, "refusal")
        d2.stats_until(lambda s: s["refused"] >= 2, 10, "retried")
        # A password fixed in the file is read at the next connect.
        b.write_password_file("drone1", os.path.join(self.tmp, "pw-retry"))
        d2.opened()
        d2.quit()
        # No credentials at all: not authorised.
        d3 = self.driver(b.url, "--client-id", "anon", "--fail-fast-auth",
                         name="anon")
        ev = d3.state("failed")
        self.assertEqual(ev["reason"], ERR_MQTT_NOT_AUTHORISED)
        d3.quit()
        for drv in (d, d2, d3):
            with open(drv.err_path) as f:
                self.assertNotIn(PASSWORD, f.read())
            self.assertNotIn(PASSWORD, repr(drv.events))
        # A password file others may read is refused before connecting.
        loose = os.path.join(self.tmp, "loose")
        with open(loose, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(loose, 0o644)
        d4 = self.driver(b.url, "--client-id", "d4", "--username", "drone1",
                         "--password-file", loose, name="loose")
        ev = d4.wait(lambda e: e["event"] == "new", 10, "new")
        self.assertEqual(ev["rc"], -22)  # KEY_FILE_PERMS
        self.assertEqual(d4.proc.wait(scaled(10)), 1)

    def test_tls_with_test_ca(self):
        b = self.users_broker(tls=True)
        sub = self.subscriber(b)
        pw = b.write_password_file("drone1",
                                   os.path.join(self.tmp, "pw-tls"))
        common = ["--username", "drone1", "--password-file", pw,
                  "--fail-fast-auth", "--backoff-min", "50"]
        d = self.driver(b.tls_url, "--client-id", "tls1", "--ca", b.ca_file,
                        "--spool", os.path.join(self.tmp, "spool"), *common)
        d.opened()
        self.assertEqual(d.publish("pub 1 0 t/tls over tls")["rc"], 0)
        self.assertEqual(sub.wait_payloads("t/tls", ["over tls"], 10),
                         ["over tls"])
        d.quit()
        # A CA that did not sign the broker's certificate.
        d2 = self.driver(b.tls_url, "--client-id", "tls2", "--ca",
                         b.other_ca, *common, name="wrongca")
        self.assertEqual(d2.state("failed")["reason"], ERR_TLS)
        d2.quit()
        # The system store does not know the test CA either.
        d3 = self.driver(b.tls_url, "--client-id", "tls3", *common,
                         name="sysca")
        self.assertEqual(d3.state("failed")["reason"], ERR_TLS)
        d3.quit()
        # A CA file that cannot be read fails scn_mqtt_new.
        d4 = self.driver(b.tls_url, "--client-id", "tls4", "--ca",
                         os.path.join(self.tmp, "nope.pem"), *common,
                         name="noca")
        self.assertEqual(d4.wait(lambda e: e["event"] == "new", 10,
                                 "new")["rc"], ERR_TLS)

    def test_ca_file_adds_to_the_system_store(self):
        """--ca is trusted besides the system store, as a session's CA
        file is (docs/PROTOCOL.md 1), never instead of it. The system
        store is OpenSSL's default paths, here SSL_CERT_FILE/SSL_CERT_DIR
        in the driver's environment."""
        b = self.users_broker(tls=True)
        sub = self.subscriber(b)
        pw = b.write_password_file("drone1",
                                   os.path.join(self.tmp, "pw-sys"))
        empty = os.path.join(self.tmp, "no-certs")
        os.mkdir(empty)
        common = ["--username", "drone1", "--password-file", pw,
                  "--fail-fast-auth", "--backoff-min", "50"]

        def driver(name, ca_file, store):
            """The driver with --ca ca_file and store as the system's."""
            env = dict(os.environ, SSL_CERT_FILE=store, SSL_CERT_DIR=empty)
            d = mqttdriver.Driver(
                b.tls_url, os.path.join(LOG_DIR, "mqtt-%s-%s-%d.stderr" % (
                    self._testMethodName, name, os.getpid())),
                "--client-id", name, "--ca", ca_file, *common,
                spawn=lambda argv, **kw: subprocess.Popen(argv, env=env, **kw))
            self.addCleanup(d.close)
            return d

        # The store knows the broker's CA, --ca names another: trusted.
        d = driver("store", b.other_ca, b.ca_file)
        d.opened()
        self.assertEqual(d.publish("pub 0 0 t/sys store and file")["rc"], 0)
        self.assertEqual(sub.wait_payloads("t/sys", ["store and file"], 10),
                         ["store and file"])
        d.quit()
        # The store does not, --ca does: trusted.
        d2 = driver("file", b.ca_file, b.other_ca)
        d2.opened()
        d2.quit()
        # Neither does: refused, so the store above was what trusted it.
        d3 = driver("neither", b.other_ca, b.other_ca)
        self.assertEqual(d3.state("failed")["reason"], ERR_TLS)
        d3.quit()

    def test_publish_larger_than_the_socket_takes(self):
        """One publish of 8 MiB: more than the socket takes at once, so
        the link writes it over many writable events, each asked for from
        inside the previous one (lib/lws/fd_watch.c); the subscriber gets
        it whole."""
        b = self.users_broker()
        sub = self.subscriber(b)
        d = self.drone(b)
        d.opened()
        n = 8 << 20
        self.assertEqual(d.publish("big 0 t/big %d" % n)["rc"], 0)
        want = ("0123456789" * (n // 10 + 1))[:n]
        got = sub.wait_payloads("t/big", [want], 30)
        self.assertEqual(len(got), 1, [len(p) for p in got])
        self.assertTrue(got[0] == want, "the payload arrived changed")
        self.assertEqual(d.stats()["published_qos0"], 1)
        d.quit()

    def test_subscription_granted_and_refused(self):
        """The broker's SUBACK reaches on_subscribe: a filter its access
        control lets the client subscribe to is granted at the QoS asked,
        another is refused (-1)."""
        b = self.broker(extra_conf=mosquitto_broker.subscribe_acl(
            os.path.join(self.tmp, "dynsec.json"), ["t/#"]))
        d = self.driver(b.url, "--client-id", "subs1")
        d.opened()
        for line, want in (("sub 1 t/mine", ("t/mine", 1)),
                           ("sub 1 secret/#", ("secret/#", -1))):
            start = d.mark()
            self.assertEqual(d.publish(line)["rc"], 0)
            ev = d.wait(lambda e: e["event"] == "subscribed", 10,
                        "subscribed", start)
            self.assertEqual((ev["filter"], ev["granted_qos"]), want)
        d.quit()

    def test_client_certificate(self):
        b = self.broker(tls=True, require_cert=True)
        cert, key = b.client_cert("drone1")
        d = self.driver(b.tls_url, "--client-id", "c1", "--ca", b.ca_file,
                        "--cert", cert, "--key", key, "--fail-fast-auth")
        d.opened()
        d.quit()
        # Without one, the broker ends the handshake. Under TLS 1.3 the
        # client's side of the handshake is over before the broker checks
        # the certificate, and the broker's alert can be lost to the reset
        # its close sends (the client's CONNECT is still unread there):
        # the client then sees a lost link (NETWORK), not the alert (TLS).
        # Either way it never opens, and the broker says why.
        d2 = self.driver(b.tls_url, "--client-id", "c2", "--ca", b.ca_file,
                         "--fail-fast-auth", name="nocert")
        ev = d2.wait(lambda e: e["event"] == "state" and e["state"] in
                     ("failed", "reconnecting", "open"), 20,
                     "the refused handshake")
        self.assertIn(ev["reason"], (ERR_TLS, ERR_NETWORK), ev)
        self.assertFalse([e for e in d2.events if e.get("state") == "open"])
        self.assertTrue(wait_until(lambda: "certificate" in b.log_text(), 10),
                        b.log_text()[-2000:])
        d2.quit()
        # A certificate without its key is refused by scn_mqtt_new.
        d3 = self.driver(b.tls_url, "--client-id", "c3", "--ca", b.ca_file,
                         "--cert", cert, name="nokey")
        self.assertEqual(d3.wait(lambda e: e["event"] == "new", 10,
                                 "new")["rc"], ERR_TLS)

    def test_will_on_kill_not_on_quit(self):
        b = self.users_broker()
        sub = self.subscriber(b)
        will = ["--will-topic", "t/status", "--will-payload", "offline",
                "--keepalive", "5"]
        d = self.drone(b, *will)
        d.opened()
        self.assertEqual(d.publish("pub 0 0 t/status online")["rc"], 0)
        sub.wait_payloads("t/status", ["online"], 10)
        d.quit()  # DISCONNECT: the broker drops the will
        d2 = self.drone(b, *will, name="killed")
        d2.opened()
        self.assertEqual(d2.publish("pub 0 0 t/status online2")["rc"], 0)
        sub.wait_payloads("t/status", ["online2"], 10)
        d2.kill()
        got = sub.wait_payloads("t/status", ["offline"], 10)
        self.assertEqual(got, ["online", "online2", "offline"])


if __name__ == "__main__":
    main()
