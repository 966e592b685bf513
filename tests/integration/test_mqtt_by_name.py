#!/usr/bin/python3
"""The MQTT client (scn_mqtt, through mqtt_driver) given the broker by host
name: the name is resolved off the loop and libmosquitto connects to the
address, so these check what that must not change or break. mqtt_driver
runs in a mount namespace of its own (fake_dns.in_mount_ns) whose
/etc/hosts or /etc/resolv.conf are this test's.

- mqtts:// by name: the broker's certificate is verified against the
  name (it holds the name: connected; a name it does not hold, though the
  address is the same: SCN_ERR_TLS, never connected), and the name is the
  SNI (a TLS server of this test records it).
- Closed while its name is being resolved (the DNS silent): the client
  exits at once, cleanly (ASan: nothing leaked or touched after free).
"""

import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import unittest

import mosquitto_broker
import mqttdriver
from fake_dns import FakeDns, in_mount_ns, loopback_addr
from simproc import LOG_DIR, main, scaled, wait_until

ERR_TLS = -47
ERR_RESOLVE = -50


@unittest.skipUnless(mqttdriver.have_all(), "mqtt_driver or mosquitto missing")
class MqttByNameTest(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.fail("needs root (mount namespaces): CI runs as root")
        os.makedirs(LOG_DIR, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix="scn-mqtt-name-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.name = "broker-%d.scentience.test" % os.getpid()
        self.other = "other-%d.scentience.test" % os.getpid()
        self.hosts = os.path.join(self.tmp, "hosts")
        with open(self.hosts, "w") as f:
            f.write("127.0.0.1 localhost %s %s\n" % (self.name, self.other))

    def driver(self, url, files, *extra):
        err = os.path.join(LOG_DIR, "mqtt-name-%s-%d.stderr" % (
            self._testMethodName, os.getpid()))
        ns = in_mount_ns(files)
        d = mqttdriver.Driver(
            url, err, "--client-id", "byname", "--spool",
            os.path.join(self.tmp, "spool"), "--backoff-min", "100",
            "--backoff-max", "500", *extra,
            spawn=lambda argv, **kw: subprocess.Popen(
                ns + argv, **kw))
        self.addCleanup(d.close)
        return d

    def lost(self, d, reason):
        return d.wait(lambda e: e["event"] == "state" and
                      e["state"] == "reconnecting" and e["reason"] == reason,
                      30, "reconnecting with %d" % reason)

    def test_tls_verifies_the_name(self):
        b = mosquitto_broker.Broker(tls=True, tls_names=[self.name])
        self.addCleanup(b.close)
        good = self.driver("mqtts://%s:%d" % (self.name, b.tls_port),
                           {"/etc/hosts": self.hosts}, "--ca", b.ca_file)
        good.opened(timeout=30)
        self.assertEqual(good.publish("seq 1 t/n m 1 5")["count"], 5)
        good.stats_until(lambda s: s["acked_qos1"] == 5, 20, "acked")
        good.quit()
        # The same broker and address under a name its certificate lacks.
        bad = self.driver("mqtts://%s:%d" % (self.other, b.tls_port),
                          {"/etc/hosts": self.hosts}, "--ca", b.ca_file)
        self.lost(bad, ERR_TLS)
        self.assertFalse([e for e in bad.events if e.get("state") == "open"])
        bad.quit()

    def test_the_name_is_the_sni(self):
        ca, ca_key = mosquitto_broker.make_test_ca(self.tmp, "ca")
        cert, key = mosquitto_broker.make_cert(
            self.tmp, "server", ca, ca_key, "127.0.0.1",
            dns_names=[self.name])
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        names = []
        ctx.sni_callback = lambda s, name, c: names.append(name)
        srv = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(srv.close)
        srv.settimeout(scaled(30))

        def serve():
            try:
                conn, _ = srv.accept()
                with ctx.wrap_socket(conn, server_side=True):
                    pass  # the handshake done, it closes
            except (OSError, ssl.SSLError):
                pass
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        d = self.driver("mqtts://%s:%d" % (self.name, srv.getsockname()[1]),
                        {"/etc/hosts": self.hosts}, "--ca", ca)
        t.join(scaled(30))
        self.assertEqual(names, [self.name])
        d.quit()

    def test_closed_while_the_name_is_resolved(self):
        dns = FakeDns(loopback_addr(), self.name)
        self.addCleanup(dns.close)
        resolv = os.path.join(self.tmp, "resolv.conf")
        with open(resolv, "w") as f:
            f.write("nameserver %s\noptions timeout:30 attempts:1\n"
                    % dns.sock.getsockname()[0])
        d = self.driver("mqtt://%s:1883" % self.name,
                        {"/etc/resolv.conf": resolv})
        d.state("connecting")
        self.assertTrue(wait_until(lambda: dns.queries, 20), "no query")
        # Held for 30 s: quit must not wait for it.
        d.quit(timeout=5)
        self.assertFalse([e for e in d.events if e.get("state") == "open"])


if __name__ == "__main__":
    main()
