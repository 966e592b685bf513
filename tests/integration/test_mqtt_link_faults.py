"""The MQTT client (scn_mqtt, through mqtt_driver) across an impaired
link: the drone in one network namespace, mosquitto in another, the
link between them through netimpair (netns.py), the subscriber
(mosquitto_sub) beside the broker.

- TLS over a link with 80 ms each way: the non-blocking connect and the
  TLS handshake complete across real round trips, QoS 1 flows.
- A blackout while QoS 1 messages are published: the TCP connection
  does not break, the keepalive finds the silence, the client gives the
  link up and retries while the link is down, and once it is back every
  message reaches the subscriber (dedup by payload).
"""

import os
import shutil
import tempfile
import time
import unittest

import mosquitto_broker
import mqttdriver
from netns import SERVER_ADDR, Net, require_root
from simproc import LOG_DIR, main

PASSWORD = "drone-pw-2b8e"


@unittest.skipUnless(mqttdriver.have_all(), "mqtt_driver or mosquitto missing")
class MqttLinkFaultsTest(unittest.TestCase):
    def setUp(self):
        require_root()
        os.makedirs(LOG_DIR, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix="scn-mqtt-net-")
        self.net = Net("mqtt")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.addCleanup(self.net.close)
        self.broker = mosquitto_broker.Broker(
            users={"drone1": PASSWORD, "ground": "ground-pw"}, tls=True,
            host=SERVER_ADDR, spawn=self.server_popen)
        self.addCleanup(self.broker.close)
        self.sub = mqttdriver.Subscriber(self.broker, "t/#", user="ground",
                                         probe_topic="t/probe")
        self.addCleanup(self.sub.stop)
        self.sub.ready()

    def server_popen(self, argv, **kw):
        return self.net.popen(self.net.server, argv, **kw)

    def client_popen(self, argv, **kw):
        return self.net.popen(self.net.client, argv, **kw)

    def drone(self, *extra):
        pw = self.broker.write_password_file(
            "drone1", os.path.join(self.tmp, "pw"))
        err = os.path.join(LOG_DIR, "mqtt-net-%s-%d.stderr" % (
            self._testMethodName, os.getpid()))
        d = mqttdriver.Driver(
            self.broker.tls_url, err, "--client-id", "drone1", "--username",
            "drone1", "--password-file", pw, "--ca", self.broker.ca_file,
            "--spool", os.path.join(self.tmp, "spool"), "--backoff-min",
            "100", "--backoff-max", "1000", *extra, spawn=self.client_popen)
        self.addCleanup(d.close)
        return d

    def test_tls_across_round_trips(self):
        self.net.set(delay=80)
        d = self.drone()
        d.opened(timeout=30)
        self.assertEqual(d.publish("seq 1 t/slow s 1 50")["count"], 50)
        want = ["s-%d" % i for i in range(1, 51)]
        self.assertEqual(self.sub.wait_payloads("t/slow", want, 30), want)
        d.stats_until(lambda s: s["acked_qos1"] == 50, 20, "acked")
        d.quit()

    def test_blackout_loses_no_qos1(self):
        d = self.drone("--keepalive", "5")
        d.opened()
        self.assertEqual(d.publish("seq 1 t/data m 1 50")["count"], 50)
        self.net.blackout()
        mark = d.mark()
        # Sent into the silent link, and while the client knows it is
        # down: all wait in the spool.
        self.assertEqual(d.publish("seq 1 t/data m 51 50")["count"], 50)
        ev = d.wait(lambda e: e["event"] == "state" and
                    e["state"] == "reconnecting", 30, "keepalive loss", mark)
        self.assertEqual(ev["reason"], -46)  # DEAD_PEER
        self.assertEqual(d.publish("seq 1 t/data m 101 50")["count"], 50)
        time.sleep(0.5)  # an attempt or two into the blackout
        self.net.restore()
        d.opened(start=mark, timeout=30)
        want = ["m-%d" % i for i in range(1, 151)]
        got = self.sub.wait_payloads("t/data", want, 30)
        self.assertEqual(sorted(set(want) - set(got)), [], "lost")
        self.assertEqual(list(dict.fromkeys(got)), want)
        d.stats_until(lambda s: s["spooled"] == 0, 20, "spool empties")
        d.quit()


if __name__ == "__main__":
    main()
