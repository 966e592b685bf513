#!/usr/bin/python3
"""scn-companion's fleet link given the broker by name while the DNS server
does not answer (a drone on flaky Wi-Fi): the loop must not stop.

The companion runs in a mount namespace of its own (fake_dns.in_mount_ns)
whose /etc/resolv.conf names one nameserver: FakeDns, a UDP socket on a
loopback address of this run that reads queries and, until told, never
answers.
Meanwhile a device streams at 100 Hz through the companion to the cloud
simulator, whose inferences the companion prints: their arrival on its
stdout, timed here, shows the loop turning. The DNS stays silent until a
resolution has failed (reported, and retried by the reconnect policy) and
another has waited, unanswered, for longer than the gap allowed; then it
answers (the queries pending too) and the link must reach the real
mosquitto, its retained status online.

Before the fix libmosquitto resolved inside mosquitto_connect_async, on the
loop thread: every inference stopped for the whole wait.
"""

import os
import threading
import time

import simproc
from fake_dns import FakeDns, in_mount_ns, loopback_addr
from simproc import COMPANION, scaled, wait_until
from test_companion_mqtt import DRONE, ROOT, MqttCase, Sub

# The longest pause between two inferences while the name is not
# resolving (they come at about 100 Hz).
MAX_GAP_S = scaled(1.0)
# How long a query stays unanswered, at least, before the DNS answers:
# the loop thread would be stopped that long if it resolved.
HOLD_S = MAX_GAP_S + 3


class DnsStallTest(MqttCase):
    LOG_PREFIX = "mqtt-dns"

    def inferences(self, p):
        """A thread timing p's inference lines (monotonic, as they come)."""
        seen = []

        def read():
            for line in p.stdout:
                if line.startswith("inference seq "):
                    seen.append(time.monotonic())
        t = threading.Thread(target=read, daemon=True)
        t.start()
        return seen

    def test_loop_keeps_turning_while_the_broker_name_does_not_resolve(self):
        addr = loopback_addr()
        name = "fleet-broker-%d.scentience.test" % os.getpid()
        dns = FakeDns(addr, name)
        self.addCleanup(dns.close)
        resolv = os.path.join(self.tmp, "resolv.conf")
        with open(resolv, "w") as f:
            # One try, waiting longer than the hold: the DNS answers the
            # query it holds when it starts answering.
            f.write("nameserver %s\noptions timeout:%d attempts:1\n"
                    % (addr, int(HOLD_S) + 5))
        b = self.broker()
        sub = Sub(self, b, ROOT + "status", "status.sub")
        sub.wait_ready()
        _, _, dev_port = self.sim("device", ["device", "--rate", "100"])
        _, _, cloud_port = self.sim("cloud", ["cloud"])
        argv = in_mount_ns({"/etc/resolv.conf": resolv}) + [
                COMPANION, "--device-url", "ws://127.0.0.1:%d" % dev_port,
                "--cloud-url", "ws://127.0.0.1:%d/v1/stream" % cloud_port,
                "--spool-dir", os.path.join(self.tmp, "spool"),
                "--live-port", "0", "--no-status",
                "--mqtt-url", "mqtt://%s:%d" % (name, b.port),
                "--drone-id", DRONE,
                "--mqtt-spool-dir", os.path.join(self.tmp, "mqtt-spool")]
        p = self.start(argv, stderr="companion.stderr")
        seen = self.inferences(p)
        self.assertTrue(wait_until(lambda: seen, 30),
                        "no inference: " + self.text(p.err_path))
        t0 = seen[0]

        def asked_since(t):
            with dns.lock:
                return [q for q, n in dns.queries if n == name and q > t]

        # A resolution failed and was reported; one asked while the frames
        # flow has waited HOLD_S unanswered.
        def held():
            asked = asked_since(t0)
            return ("mqtt link:" in self.text(p.err_path) and asked and
                    time.monotonic() - asked[-1] >= HOLD_S)
        self.assertTrue(wait_until(held, 60 + 3 * HOLD_S),
                        "no failed resolution and query held: %s\n%s" % (
                            dns.queries, self.text(p.err_path)))
        dns.answer()
        self.wait_status(sub, True, timeout=30)
        t_open = time.monotonic()
        self.assertEqual(self.stop(p), 0, self.text(p.err_path))
        during = [t for t in seen if t <= t_open]
        gaps = [b - a for a, b in zip(during, during[1:])]
        self.assertGreater(t_open - t0, HOLD_S)
        self.assertLess(max(gaps), MAX_GAP_S,
                        "the loop stopped while the name was resolved")
        err = self.text(p.err_path)
        self.assertIn("mqtt link: the host name could not be resolved", err)
        simproc.check_stderr(err, "scn-companion")


if __name__ == "__main__":
    simproc.main()
