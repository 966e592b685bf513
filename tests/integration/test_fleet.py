"""scn-fleet, the ground station, against Debian's mosquitto (started per
test, tests/integration/mosquitto_broker.py), with drones played by
mosquitto_pub sending the companion's envelopes (docs/PROTOCOL.md 12):

- three drones: the table shows each one's online flag, battery,
  position, last inference and gaps; QoS 1 messages sent twice are
  recorded once (scn-record export, and @mcap/core reads the file); a
  message outside the tree is counted and not recorded; a Foxglove client
  (@foxglove/ws-protocol) gets every drone's channels with schema-valid
  payloads; Debian's chromium shows the fleet table and, at /?drone=ID,
  that drone's values;
- the broker killed with -9 and started again, twice: the table says the
  link is down, then back (outages 2), and what the drones send after
  each return arrives;
- a drone that vanishes (a mosquitto_pub holding its will, killed with
  -9): the broker publishes the will and the table shows it offline
  within 1.5 keepalives;
- the recording's disk full: the recording stops (once, said), the table
  goes on, exit 74, and what was written is recoverable;
- a wrong password: exit 77 naming the cause, the password in no log; a
  subscription the broker refuses: exit 77, never "link open"; a
  broker certificate that the given CA did not sign: exit 76;
- the live listener over TLS with a test CA and a dashboard token, and
  an allow list that turns loopback away.
"""

import json
import os
import secrets
import shutil
import ssl
import subprocess
import time

import mosquitto_broker
import rawws
import simproc
from fleet_station import FleetCase, envelope
from test_dashboard_browser import Browser

DRONES = ("alpha", "bravo", "charlie")


def state(bat, x, y, h):
    return {"pitch": 0, "roll": 0, "yaw": 0, "h": h, "bat": bat, "x": x,
            "y": y}


def inference(label, score):
    return {"model": "m", "seq": 1,
            "labels": [{"label": "other", "score": 0.01},
                       {"label": label, "score": score}]}


class FleetTest(FleetCase):

    def setUp(self):
        super().setUp()
        if not mosquitto_broker.have_mosquitto():
            self.fail("mosquitto is required: scripts/install-deps")
        self.broker = mosquitto_broker.Broker()
        self.addCleanup(self.broker.close)

    def birth(self, drone, run, seq=1):
        self.pub(self.broker, "scentience/v1/%s/status" % drone,
                 envelope(run, seq, {"online": True, "version": "0.1.0",
                                     "drone_id": drone}),
                 retain=True)

    def test_table_dedup_recording_and_foxglove(self):
        mcap = os.path.join(self.tmp, "fleet.mcap")
        live_port = simproc.reserve_port()
        fleet = self.start_fleet(self.broker, "--record", mcap,
                                 live_port=live_port)
        self.wait_err(fleet, "scn-fleet: broker link open", 10)
        # A Foxglove client we did not write, validating every payload
        # against its channel's schema.
        node = shutil.which("node")
        self.assertTrue(node, "Node.js is required: scripts/install-deps")
        fox = self.start([node, os.path.join(
            simproc.SOURCE_DIR, "tests", "integration",
            "foxglove_client.mjs"), "ws://127.0.0.1:%d/" % live_port,
            "--topic", "/alpha/state", "--topic", "/charlie/events"],
            stdout="foxglove-out", stderr="foxglove-err")
        for i, d in enumerate(DRONES):
            run = "run%d" % i
            self.birth(d, run)
            self.pub(self.broker, "scentience/v1/%s/state" % d,
                     envelope(run, 1, state(90 - i, 100 * i, 50, 1200)),
                     qos=0)
            self.pub(self.broker, "scentience/v1/%s/inference" % d,
                     envelope(run, 1, inference("ammonia", 0.5 + i / 10)))
            # Events 1..20, then 15..20 again (a resend after a
            # reconnect): 20 recorded, 6 dropped.
            events = [envelope(run, s, {"event": "tick", "n": s})
                      for s in list(range(1, 21)) + list(range(15, 21))]
            self.pub_lines(self.broker, "scentience/v1/%s/events" % d, events)
        # charlie's olfaction lost 3 and 4 (QoS 0 while away): 2 gaps.
        for s in (1, 2, 5):
            self.pub(self.broker, "scentience/v1/charlie/olfaction",
                     envelope("run2", s, {"UID": "SCN-C", "TIMESTAMP":
                                          "2026-12-07T06:00:00.000Z",
                                          "CO2": 400 + s}), qos=0)
        # Not the fleet's: a bad drone id, a payload that is no envelope.
        self.pub(self.broker, "scentience/v1/bad.id/state", "{}")
        self.pub(self.broker, "scentience/v1/alpha/state", "not json")

        def complete(t):
            rows = t["rows"]
            return all(d in rows for d in DRONES) and \
                rows["charlie"]["gaps"] == 2 and \
                all(rows[d]["inference"] != "-" for d in DRONES)
        t = self.wait_table(fleet, complete, 20, "three drones")
        rows = t["rows"]
        self.assertIn("broker open", t["heading"])
        self.assertEqual(rows["alpha"]["online"], "yes")
        self.assertEqual(rows["alpha"]["battery"], "90%")
        self.assertEqual(rows["bravo"]["position"], "1.0,0.5,12.0")
        self.assertEqual(rows["charlie"]["inference"], "ammonia 0.70")
        self.assertEqual(rows["alpha"]["gaps"], 0)
        self.assertNotIn("bad.id", rows)
        # Foxglove has no history: a channel is advertised with its first
        # message, and the client subscribes then; what follows reaches it.
        more = iter(range(21, 1000))

        def ready():
            n = next(more)
            self.pub(self.broker, "scentience/v1/alpha/state",
                     envelope("run0", n, state(90, 0, 50, 1200)), qos=0)
            self.pub(self.broker, "scentience/v1/charlie/events",
                     envelope("run2", n, {"event": "tick", "n": n}))
            return "READY" in self.text(fox.out_path)
        self.assertTrue(simproc.wait_until(ready, 20, step=0.2),
                        "the Foxglove client did not get /alpha/state, "
                        "/charlie/events:\n" + self.text(fox.err_path))
        self.assertEqual(self.stop(fleet), 0)
        fox_rc, _ = self.finish(fox, 30)
        self.assertEqual(fox_rc, 0, self.text(fox.err_path))
        seen = json.loads(self.text(fox.out_path).strip().splitlines()[-1])
        for d in DRONES:
            for stream in ("status", "state", "inference", "events"):
                topic = "/%s/%s" % (d, stream)
                self.assertIn(topic, seen["topics"])
                self.assertEqual(seen["topics"][topic]["invalid"], 0,
                                 seen["topics"][topic])
        self.assertGreater(seen["topics"]["/charlie/events"]["count"], 0)
        self.assertGreater(seen["topics"]["/alpha/state"]["count"], 0)
        err = self.text(fleet.err_path)
        # 6 resent events of each drone.
        self.assertIn("18 duplicates dropped", err)
        self.assertIn("2 refused (1 topic, 1 payload, 0 over --max-drones)",
                      err)
        self.assertIn("scn-fleet: ignoring scentience/v1/bad.id/state: not "
                      "a drone's topic", err)
        # The recording: the drones' documents, each QoS 1 one once.
        msgs = self.export(mcap)
        by_topic = {}
        for m in msgs:
            by_topic.setdefault(m["topic"], []).append(m["data"])
        for d in DRONES:
            got = [e["n"] for e in by_topic["/%s/events" % d]]
            self.assertEqual(got, list(range(1, len(got) + 1)))
            self.assertGreaterEqual(len(got), 20)
            self.assertEqual(by_topic["/%s/status" % d][0]["online"], True)
            self.assertEqual(len(by_topic["/%s/inference" % d]), 1)
        self.assertEqual([f["CO2"] for f in by_topic["/charlie/olfaction"]],
                         [401, 402, 405])
        self.assertNotIn("/bad.id/state", by_topic)
        verdict = simproc.mcap_check(self, mcap)
        self.assertEqual(verdict["topics"]["/alpha/events"], 20)
        self.assertEqual(verdict["topics"]["/charlie/events"],
                         len(by_topic["/charlie/events"]))

    def test_foxglove_connecting_late_gets_every_channel(self):
        """Twelve drones with six streams each: 72 channels exist before
        the Foxglove client connects, and it is told of all of them."""
        live_port = simproc.reserve_port()
        fleet = self.start_fleet(self.broker, live_port=live_port)
        self.wait_err(fleet, "scn-fleet: broker link open", 10)
        drones = ["d%02d" % i for i in range(12)]
        docs = {"olfaction": {"UID": "U", "TIMESTAMP":
                              "2026-12-07T06:00:00.000Z"},
                "state": state(50, 0, 0, 100),
                "inference": inference("nh3", 0.5),
                "events": {"event": "x"}, "command": {"command": "land"},
                "status": {"online": True}}
        for stream, doc in docs.items():
            for d in drones:
                self.pub(self.broker, "scentience/v1/%s/%s" % (d, stream),
                         envelope("r", 1, doc))
        self.wait_table(fleet, lambda t: len(t["rows"]) == 12 and all(
            r["inference"] != "-" for r in t["rows"].values()), 20,
            "twelve drones")
        node = shutil.which("node")
        self.assertTrue(node, "Node.js is required: scripts/install-deps")
        fox = self.start([node, os.path.join(
            simproc.SOURCE_DIR, "tests", "integration",
            "foxglove_client.mjs"), "ws://127.0.0.1:%d/" % live_port,
            "--topic", "/d11/state"],
            stdout="late-foxglove-out", stderr="late-foxglove-err")
        more = iter(range(2, 1000))

        def ready():
            self.pub(self.broker, "scentience/v1/d11/state",
                     envelope("r", next(more), docs["state"]), qos=0)
            return "READY" in self.text(fox.out_path)
        self.assertTrue(simproc.wait_until(ready, 20, step=0.2),
                        self.text(fox.err_path))
        self.assertEqual(self.stop(fleet), 0)
        rc, _ = self.finish(fox, 30)
        self.assertEqual(rc, 0, self.text(fox.err_path))
        seen = json.loads(self.text(fox.out_path).strip().splitlines()[-1])
        topics = sorted(c["topic"] for c in seen["channels"])
        self.assertEqual(topics, sorted("/%s/%s" % (d, s) for d in drones
                                        for s in docs))

    def test_dashboard_shows_the_fleet_and_one_drone(self):
        """Debian's chromium on scn-fleet's page: the fleet table from the
        "fleet" stream, and at /?drone=alpha alpha's own values."""
        live_port = simproc.reserve_port()
        fleet = self.start_fleet(self.broker, live_port=live_port)
        self.wait_err(fleet, "scn-fleet: broker link open", 10)
        for i, d in enumerate(("alpha", "bravo")):
            self.birth(d, "r%d" % i)
            self.pub(self.broker, "scentience/v1/%s/inference" % d,
                     envelope("r%d" % i, 1, inference("ethanol", 0.9)))
        browser = Browser(self)
        self.addCleanup(browser.quit)
        browser("open", url="http://127.0.0.1:%d/?drone=alpha" % live_port)
        seq = iter(range(1, 1000))

        def shown():
            n = next(seq)
            # The page has no history: it shows what comes after it
            # subscribed.
            self.pub(self.broker, "scentience/v1/alpha/state",
                     envelope("r0", n, state(77, 0, 0, 250)), qos=0)
            self.pub(self.broker, "scentience/v1/bravo/state",
                     envelope("r1", n, state(66, 0, 0, 100)), qos=0)
            snap = browser("snapshot")
            rows = {r[0]: r for r in snap["fleet"]["rows"]}
            return snap["fleet"]["visible"] and "alpha" in rows and \
                "bravo" in rows and rows["bravo"][2] != "–" and \
                snap["values"]["d-bat"] != "–" and (snap, rows)
        got = simproc.wait_until(shown, 30, step=0.3)
        self.assertTrue(got, "the page did not show the fleet and alpha")
        snap, rows = got
        self.assertEqual(rows["alpha"][1], "yes")
        self.assertEqual(rows["bravo"][2], "66 %")
        self.assertEqual(rows["bravo"][4], "ethanol 0.90")
        # The drone panel is alpha's, not bravo's.
        self.assertIn("77", snap["values"]["d-bat"])
        self.assertIn("2.5", snap["values"]["d-height"])
        seen = browser("requests")
        self.assertEqual(seen["problems"], [])
        self.assertIn("ws://127.0.0.1:%d/live" % live_port,
                      [r["url"] for r in seen["requests"]])
        browser.quit()
        self.assertEqual(self.stop(fleet), 0)

    def test_broker_killed_and_restarted_twice(self):
        fleet = self.start_fleet(self.broker, "--mqtt-keepalive", "5")
        self.wait_err(fleet, "scn-fleet: broker link open", 10)
        for outage in (1, 2):
            # A companion's birth at each connection, a new seq each.
            self.birth("alpha", "r", seq=outage)
            self.pub(self.broker, "scentience/v1/alpha/events",
                     envelope("r", outage, {"event": "before", "n": outage}))
            self.wait_table(
                fleet, lambda t: "alpha" in t["rows"] and
                "outages %d" % (outage - 1) in t["heading"], 10,
                "alpha before outage %d" % outage)
            self.broker.kill9()
            self.wait_err(fleet, "scn-fleet: broker link lost", 10,
                          count=outage)
            down = self.wait_table(
                fleet, lambda t: "broker open" not in t["heading"] and
                "outages %d" % outage in t["heading"], 10,
                "the outage %d in the table" % outage)
            self.assertRegex(down["heading"], r"broker (reconnecting|"
                             r"connecting)")
            time.sleep(0.5)  # an outage the table shows for a while
            self.broker.start()
            self.wait_err(fleet, "scn-fleet: broker link back after", 20,
                          count=outage)
            self.wait_table(fleet, lambda t: "broker open" in t["heading"]
                            and "outages %d" % outage in t["heading"], 10,
                            "the return after outage %d" % outage)
        # What a drone sends after the returns arrives (the subscription
        # was made again).
        self.pub(self.broker, "scentience/v1/alpha/events",
                 envelope("r", 3, {"event": "after"}))
        self.pub(self.broker, "scentience/v1/zulu/state",
                 envelope("z", 1, state(55, 0, 0, 100)), qos=0)
        t = self.wait_table(fleet, lambda t: "zulu" in t["rows"], 10,
                            "a drone after the restarts")
        self.assertEqual(t["rows"]["zulu"]["battery"], "55%")
        self.assertEqual(self.stop(fleet), 0)
        err = self.text(fleet.err_path)
        self.assertIn("2 broker outages", err)
        self.assertIn("0 duplicates dropped", err)

    def test_persistent_session_gets_what_came_while_away(self):
        """--mqtt-persistent: a ground station that vanished (kill -9)
        gets the QoS 1 messages published while it was away when it comes
        back with the same client id. Without it, they are gone: the
        control run shows the test can tell the two apart."""
        for persistent in (True, False):
            cid = "ground-%s" % ("persistent" if persistent else "clean")
            extra = ["--mqtt-client-id", cid]
            if persistent:
                extra.append("--mqtt-persistent")
            first = self.start_fleet(self.broker, *extra, name=cid + "-1")
            # Said once the broker granted the subscription (SUBACK): it
            # holds the subscription to keep from then on.
            self.wait_err(first, "scn-fleet: broker link open", 10)
            first.kill()
            first.wait()
            first.checked = True
            drone = "away-" + cid
            self.pub(self.broker, "scentience/v1/%s/events" % drone,
                     envelope("r", 1, {"event": "while_away"}))
            second = self.start_fleet(self.broker, *extra, name=cid + "-2")
            self.wait_err(second, "scn-fleet: broker link open", 10)
            # Anything queued comes right after the CONNACK, before a
            # marker published now.
            marker = "marker-" + cid
            self.pub(self.broker, "scentience/v1/%s/state" % marker,
                     envelope("m", 1, state(50, 0, 0, 100)), qos=0)
            t = self.wait_table(second, lambda t: marker in t["rows"], 10,
                                "the marker drone")
            self.assertEqual(drone in t["rows"], persistent, t["rows"])
            self.assertEqual(self.stop(second), 0)

    def test_will_shows_drone_offline(self):
        keepalive = 5  # mosquitto_pub's least
        fleet = self.start_fleet(self.broker)
        self.wait_err(fleet, "scn-fleet: broker link open", 10)
        # A drone holding a connection with its will, as a companion does.
        # Its stdin stays open: mosquitto_pub -l keeps the connection.
        drone = subprocess.Popen(
            [mosquitto_broker.MOSQUITTO_PUB] + self.broker.client_args() +
            ["-i", "delta", "-k", str(keepalive), "-t",
             "scentience/v1/delta/state", "-q", "0", "-l",
             "--will-topic", "scentience/v1/delta/status",
             "--will-payload", envelope("d", 0, {"online": False,
                                                 "reason": "lost"}),
             "--will-qos", "1", "--will-retain"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            preexec_fn=simproc.die_with_parent)
        self.addCleanup(lambda: (drone.kill(), drone.wait(),
                                 drone.stdin.close()))
        self.birth("delta", "d")
        self.wait_table(fleet, lambda t: t["rows"].get("delta", {}).get(
            "online") == "yes", 10, "delta online")
        killed = time.monotonic()
        drone.kill()
        drone.wait()
        self.wait_err(fleet, "scn-fleet: drone delta OFFLINE",
                      1.5 * keepalive + 5)
        took = time.monotonic() - killed
        t = self.wait_table(fleet, lambda t: t["rows"].get("delta", {}).get(
            "online") == "NO", 5, "delta offline")
        self.assertIn("delta", t["rows"])
        # The broker waits 1.5 keepalives; the rest is our margin for a
        # loaded machine, not an assertion on speed.
        self.assertLess(took, simproc.scaled(1.5 * keepalive + 5))
        self.assertEqual(self.stop(fleet), 0)

    def test_full_disk_stops_the_recording_not_the_station(self):
        """The recording on a 1 MiB tmpfs (chunks of 256 KiB): when it is full the recording
        stops (said once), the table goes on, the exit status is 74 and
        what was written reads back."""
        mnt = self.mount_tmpfs("1m", "fleet-disk")
        mcap = os.path.join(mnt, "fleet.mcap")
        fleet = self.start_fleet(self.broker, "--record", mcap)
        self.wait_err(fleet, "scn-fleet: broker link open", 10)
        pad = "x" * 1000
        self.pub_lines(self.broker, "scentience/v1/alpha/events",
                       [envelope("r", s, {"event": "fill", "pad": pad})
                        for s in range(1, 2001)])
        self.wait_err(fleet, "recording stopped", 30)
        # The station goes on: a drone after the disk filled is shown.
        self.pub(self.broker, "scentience/v1/bravo/state",
                 envelope("r", 1, state(42, 0, 0, 100)), qos=0)
        t = self.wait_table(fleet, lambda t: "bravo" in t["rows"], 10,
                            "a drone after the disk filled")
        self.assertEqual(t["rows"]["bravo"]["battery"], "42%")
        self.assertEqual(self.stop(fleet), 74)
        err = self.text(fleet.err_path)
        self.assertEqual(err.count("recording stopped"), 1, err)
        self.assertIn("2001 messages", err)  # 2000 events and bravo
        # What reached the disk is a valid MCAP prefix: recover reads it.
        fixed = os.path.join(self.tmp, "fixed.mcap")
        r = subprocess.run([simproc.RECORD, "recover", mcap, fixed],
                           capture_output=True, text=True,
                           timeout=simproc.scaled(60))
        self.assertEqual(r.returncode, 0, r.stderr)
        events = [m for m in self.export(fixed)
                  if m["topic"] == "/alpha/events"]
        self.assertGreater(len(events), 10)
        self.assertEqual([e["data"]["event"] for e in events],
                         ["fill"] * len(events))

    def secret(self, name):
        """A password made for this run, listed (never printed) in
        LOG_DIR/*.keys.json, so that scripts/check-no-keys-in-logs looks
        for it in every log."""
        pw = "fleet-" + secrets.token_hex(12)
        with open(os.path.join(simproc.LOG_DIR, "%s-%s-%s.keys.json"
                               % (self.LOG_PREFIX, self.tag, name)),
                  "w") as f:
            json.dump({"password": pw}, f)
        return pw

    def test_wrong_password(self):
        right, wrong = self.secret("right"), self.secret("wrong")
        self.broker.close()
        self.broker = mosquitto_broker.Broker(users={"ground": right})
        self.addCleanup(self.broker.close)
        pw = self.broker.write_password_file("ground", password=wrong)
        fleet = self.start_fleet(self.broker, "--mqtt-username", "ground",
                                 "--mqtt-password-file", pw)
        rc, _ = self.finish(fleet, 20)
        self.assertEqual(rc, 77)
        err = self.text(fleet.err_path)
        self.assertIn("scn-fleet: broker %s: " % self.broker.url, err)
        self.assertIn(simproc_strerror_auth(), err)
        for text in (err, self.text(fleet.out_path),
                     self.broker.log_text()):
            self.assertNotIn(wrong, text)
            self.assertNotIn(right, text)
        # The right one from the same kind of file works.
        ok_pw = self.broker.write_password_file("ground")
        ok = self.start_fleet(self.broker, "--mqtt-username", "ground",
                              "--mqtt-password-file", ok_pw, name="ok")
        self.wait_err(ok, "scn-fleet: broker link open", 10)
        self.assertEqual(self.stop(ok), 0)

    def test_wrong_ca(self):
        self.broker.close()
        self.broker = mosquitto_broker.Broker(tls=True)
        self.addCleanup(self.broker.close)
        p = self.start([os.path.join(simproc.BIN_DIR, "scn-fleet"),
                        "--mqtt-url", self.broker.tls_url, "--mqtt-ca",
                        self.broker.other_ca, "--live-port", "0"],
                       stdout="ca-out", stderr="ca-err")
        rc, _ = self.finish(p, 20)
        self.assertEqual(rc, 76, self.text(p.err_path))
        self.assertIn("scn-fleet: broker %s: " % self.broker.tls_url,
                      self.text(p.err_path))
        # With the right CA the same broker is fine.
        ok = self.start([os.path.join(simproc.BIN_DIR, "scn-fleet"),
                         "--mqtt-url", self.broker.tls_url, "--mqtt-ca",
                         self.broker.ca_file, "--live-port", "0"],
                        stdout="ca-ok-out", stderr="ca-ok-err")
        self.wait_err(ok, "scn-fleet: broker link open", 10)
        self.assertEqual(self.stop(ok), 0)

    def test_refused_subscription(self):
        """A broker whose access control does not let scn-fleet subscribe
        to the fleet tree refuses the SUBSCRIBE (SUBACK 0x80) after
        accepting the CONNECT: scn-fleet never says the link is open (no
        message could come), says the subscription was refused and exits
        77. To the drones it may read, the same broker's link is open."""
        self.broker.close()
        self.broker = mosquitto_broker.Broker(
            extra_conf=mosquitto_broker.subscribe_acl(
                os.path.join(self.tmp, "dynsec.json"),
                ["scentience/v1/alpha/#"]))
        self.addCleanup(self.broker.close)
        fleet = self.start_fleet(self.broker)
        rc, _ = self.finish(fleet, 20)
        err = self.text(fleet.err_path)
        self.assertEqual(rc, 77, err)
        self.assertIn("scn-fleet: the broker refused the subscription to "
                      "scentience/v1/+/#", err)
        self.assertNotIn("broker link open", err)
        ok = self.start_fleet(self.broker, "--drone", "alpha", name="ok")
        self.wait_err(ok, "scn-fleet: broker link open", 10)
        self.assertEqual(self.stop(ok), 0)
        self.assertNotIn("refused the subscription", self.text(ok.err_path))

    def test_chosen_drones_only(self):
        fleet = self.start_fleet(self.broker, "--drone", "alpha,charlie")
        self.wait_err(fleet, "scn-fleet: broker link open", 10)
        for d in DRONES:
            self.birth(d, "r")
        t = self.wait_table(fleet, lambda t: "alpha" in t["rows"] and
                            "charlie" in t["rows"], 10, "alpha and charlie")
        self.assertNotIn("bravo", t["rows"])
        self.assertEqual(self.stop(fleet), 0)
        self.assertIn("2 drones", self.text(fleet.err_path))

    def test_live_listener_tls_token_and_allow_list(self):
        """The companion's listener options: https and wss with a test CA
        (a client trusting only the system's CAs is refused), a token file
        (never printed); --live-allow turns away a peer outside its
        prefixes at accept."""
        d = self.tmp
        ca, ca_key = mosquitto_broker.make_test_ca(d, "live-ca")
        cert, key = mosquitto_broker.make_cert(d, "live", ca, ca_key,
                                               "127.0.0.1")
        token = "fleet-dash-" + secrets.token_hex(12)
        token_file = os.path.join(d, "token")
        with open(token_file, "w") as f:
            f.write(token + "\n")
        os.chmod(token_file, 0o600)
        port = simproc.reserve_port()
        fleet = self.start_fleet(
            self.broker, "--live-cert", cert, "--live-key", key,
            "--live-token-file", token_file, "--live-allow",
            "10.255.0.0/16,127.0.0.0/8", live_port=port, name="tls")
        self.wait_err(fleet, "scn-fleet: dashboard on https://127.0.0.1:%d/"
                      "?token=(from the token file)" % port, 10)
        self.wait_err(fleet, "scn-fleet: broker link open", 10)
        # (A loopback peer needs no token: test_live_offboard.py checks
        # the token from another network namespace, on the same code.)
        ctx = rawws.client_ssl_context(ca)
        st, _, body = rawws.http("127.0.0.1", port, "/", ssl_ctx=ctx)
        self.assertEqual(st, 200)
        self.assertTrue(body.startswith(b"<!doctype html>"), body[:40])
        fg = rawws.RawWS.connect(
            port, "/", ssl_ctx=ctx, subprotocols=["foxglove.websocket.v1"],
            headers={"Authorization": "Bearer " + token})
        self.assertEqual(fg.status, 101)
        self.assertEqual(json.loads(fg.recv_message()[1])["op"],
                         "serverInfo")
        fg.close()
        with self.assertRaises(ssl.SSLError):
            rawws.http("127.0.0.1", port, "/",
                       ssl_ctx=ssl.create_default_context())
        self.assertEqual(self.stop(fleet), 0)
        self.assertNotIn(token, self.text(fleet.err_path))
        # Loopback outside the allow list: turned away at accept.
        fleet = self.start_fleet(self.broker, "--live-allow", "10.255.0.0/16",
                                 live_port=port, name="allow")
        self.wait_err(fleet, "scn-fleet: broker link open", 10)
        with self.assertRaises((rawws.Closed, OSError)):
            rawws.http("127.0.0.1", port, "/")
        self.assertEqual(self.stop(fleet), 0)

    def test_usage_errors(self):
        for argv, msg in (
                ([], "scn-fleet: --mqtt-url is required"),
                (["--mqtt-url", "mqtt://127.0.0.1:1", "--drone", "a/b"],
                 "scn-fleet: --drone a/b: a drone id is 1-63 of"),
                (["--mqtt-url", "mqtt://127.0.0.1:1", "--mqtt-persistent"],
                 "--mqtt-persistent needs --mqtt-client-id"),
                (["--mqtt-url", "mqtt://127.0.0.1:1", "--mqtt-cert", "x"],
                 "--mqtt-cert and --mqtt-key go together"),
                (["--mqtt-url", "mqtt://127.0.0.1:1", "--live-bind",
                  "0.0.0.0"], "give a dashboard token with "
                 "--live-token-file"),
                (["--mqtt-url", "mqtt://127.0.0.1:1", "--mqtt-keepalive",
                  "2"], "scn-fleet: --mqtt-keepalive 2: must be"),
                (["--mqtt-url", "mqtt://127.0.0.1:1", "--live-cert", "x"],
                 "--live-cert and --live-key go together"),
                (["--mqtt-url", "mqtt://127.0.0.1:1", "--live-queue-msgs",
                  "0"], "scn-fleet: --live-queue-msgs 0: must be"),
                (["--mqtt-url", "mqtt://127.0.0.1:1", "--live-origin"],
                 "scn-fleet: --live-origin needs a value")):
            p = subprocess.run([os.path.join(simproc.BIN_DIR, "scn-fleet")] +
                               argv, capture_output=True, text=True,
                               timeout=simproc.scaled(10))
            self.assertEqual(p.returncode, 64, p.stderr)
            self.assertIn(msg, p.stderr)


def simproc_strerror_auth():
    """What scn_strerror(SCN_ERR_MQTT_AUTH) says (include/scentience/
    error.h), as the program prints it."""
    with open(os.path.join(simproc.SOURCE_DIR, "include", "scentience",
                           "error.h")) as f:
        for line in f:
            if "MQTT_AUTH," in line:
                return line.split('"')[1]
    raise AssertionError("MQTT_AUTH not in error.h")


if __name__ == "__main__":
    simproc.main()
