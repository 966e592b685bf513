#!/usr/bin/python3
"""scn-companion given the device by name while the DNS server does not
answer (flaky Wi-Fi): the loop must keep turning, and closing must not
wait for the resolver.

The companion runs in a mount namespace of its own (fake_dns.in_mount_ns)
whose /etc/resolv.conf names one nameserver: FakeDns, which holds every
query until told to answer. Meanwhile the drone simulator sends states at
100 Hz, which the companion records on /uav/state as they arrive: a gap in
their log times is the loop standing still. The DNS stays silent until a
resolution has failed (reported as such and retried by the reconnect
policy, each wait longer than the gap allowed); then it answers and the
device's frames must flow.

Before the fix lws resolved the name with a blocking getaddrinfo() inside
lws_client_connect_via_info(), on the loop thread: every state stopped
for the resolver's whole timeout, and SIGTERM waited for it too.
"""

import os
import subprocess
import time

import simproc
from fake_dns import FakeDns, in_mount_ns, loopback_addr
from simproc import COMPANION, log_events, scaled, wait_until

# The longest pause between two recorded states (they come at 100 Hz).
MAX_GAP_S = scaled(1.0)
# The resolver's timeout: a blocked loop would stop that long, at least.
RESOLVER_TIMEOUT_S = int(MAX_GAP_S) + 3
RESOLVE_FAILED = ("scn-companion: device link: the host name could not be "
                  "resolved")


class SessionDnsTest(simproc.ProcCase):
    KEY = "SCN_TEST_companionsessiondns1"
    LOG_PREFIX = "session-dns"

    def companion(self, name, dev_port, timeout_s, extra=(), net=53):
        """scn-companion in a mount namespace whose resolver asks only the
        FakeDns (started here, silent, on 127.NET.x.y: a test's own, as a
        socket closed under the thread holding it stays bound) and gives
        up after timeout_s; the device is ws://NAME:dev_port, the drone a
        simulator at 100 Hz. Returns (process, FakeDns)."""
        addr = loopback_addr().replace("127.53.", "127.%d." % net, 1)
        dns = FakeDns(addr, name)
        self.addCleanup(dns.close)
        resolv = os.path.join(self.tmp, "resolv.conf")
        with open(resolv, "w") as f:
            f.write("nameserver %s\noptions timeout:%d attempts:1\n"
                    % (addr, timeout_s))
        _, _, uav_port, state_port, video_port = self.uav_sim(
            "--state-rate", "100")
        argv = in_mount_ns({"/etc/resolv.conf": resolv}) + [
            COMPANION, "--device-url", "ws://%s:%d" % (name, dev_port),
            "--drone-url", "ws://127.0.0.1:%d" % uav_port,
            "--listen", "127.0.0.1", "--state-port", str(state_port),
            "--video-port", str(video_port), "--live-port", "0",
            "--no-status"] + list(extra)
        return self.start(argv, stderr="companion.stderr"), dns

    def asked(self, dns, name, since):
        """Queries for name the DNS got after since (monotonic)."""
        with dns.lock:
            return [t for t, n in dns.queries if n == name and t > since]

    def test_states_flow_while_the_device_name_does_not_resolve(self):
        name = "device-%d.scentience.test" % os.getpid()
        _, dev_log, dev_port = self.sim("device", ["device", "--rate", "100"])
        mcap = os.path.join(self.tmp, "dns.mcap")
        p, dns = self.companion(name, dev_port, RESOLVER_TIMEOUT_S,
                                ["--record", mcap])
        # A resolution fails (reported), and the reconnect policy asks
        # again.
        self.assertTrue(
            wait_until(lambda: p.poll() is not None or
                       RESOLVE_FAILED in self.text(p.err_path),
                       30 + 3 * RESOLVER_TIMEOUT_S),
            "no failed resolution: %s\n%s" % (dns.queries,
                                              self.text(p.err_path)))
        self.assertIsNone(p.poll(), self.text(p.err_path))
        self.assertFalse(log_events(dev_log, "connect"))
        failed = time.monotonic()
        self.assertTrue(wait_until(lambda: self.asked(dns, name, failed),
                                   30 + RESOLVER_TIMEOUT_S),
                        "not retried: %s" % self.text(p.err_path))
        dns.answer()
        self.assertTrue(wait_until(lambda: log_events(dev_log, "connect"),
                                   30), self.text(p.err_path))
        answered_ns = time.time_ns()
        time.sleep(scaled(1))  # the device streams: about 100 frames
        self.assertEqual(self.stop(p), 0, self.text(p.err_path))
        err = self.text(p.err_path)
        simproc.check_stderr(err, "scn-companion")

        msgs = self.export(mcap)
        states = [m["log_time_ns"] for m in msgs if m["topic"] == "/uav/state"]
        during = [t for t in states if t <= answered_ns]
        self.assertGreater(len(during), 100, err)
        # The states span the failed resolution and the retry.
        self.assertGreater((during[-1] - during[0]) / 1e9, RESOLVER_TIMEOUT_S)
        gaps = [(b - a) / 1e9 for a, b in zip(during, during[1:])]
        self.assertLess(max(gaps), MAX_GAP_S,
                        "the loop stopped while the device name resolved")
        frames = [m for m in msgs if m["topic"] == "/olfaction"]
        self.assertTrue(frames, "no device frame after the DNS answered")

    def test_sigterm_while_the_device_name_resolves_ends_promptly(self):
        name = "device-%d.scentience.test" % os.getpid()
        _, dev_log, dev_port = self.sim("device", ["device", "--rate", "100"])
        # A resolver that would wait far longer than the exit may take.
        p, dns = self.companion(name, dev_port, 60, net=54)
        self.assertTrue(wait_until(lambda: self.asked(dns, name, 0), 30),
                        self.text(p.err_path))
        # While the query is held, SIGTERM: the companion must end within
        # 5 s (scaled), far less than the resolver's wait (glibc caps it
        # at 30 s).
        self.assertEqual(self.stop(p, timeout=5), 0, self.text(p.err_path))
        self.assertFalse(log_events(dev_log, "connect"))
        simproc.check_stderr(self.text(p.err_path), "scn-companion")

    def test_connect_timeout_bounds_a_resolution_that_hangs(self):
        """The name's resolution counts in the attempt's connect timeout
        (scn-stream's documented 10 s): with a DNS server that never
        answers and a resolver that would wait 60 s, one attempt ends as a
        timeout after 10 s, not as a failed resolution after the
        resolver's wait. The bounds are a lower one (never early) and a
        generous upper one below the resolver's wait."""
        name = "device-%d.scentience.test" % os.getpid()
        addr = loopback_addr().replace("127.53.", "127.55.", 1)
        dns = FakeDns(addr, name)
        self.addCleanup(dns.close)
        resolv = os.path.join(self.tmp, "resolv.conf")
        with open(resolv, "w") as f:
            f.write("nameserver %s\noptions timeout:60 attempts:1\n" % addr)
        t0 = time.monotonic()
        p = self.start(in_mount_ns({"/etc/resolv.conf": resolv}) + [
            os.path.join(simproc.BIN_DIR, "scn-stream"), "--url",
            "ws://%s:9" % name, "--max-attempts", "1"],
            stderr="stream.stderr")
        rc = p.wait(timeout=scaled(45))
        took = time.monotonic() - t0
        err = self.text(p.err_path)
        p.checked = True
        self.assertEqual(rc, 69, err)  # unreachable after --max-attempts
        self.assertTrue(self.asked(dns, name, 0), err)
        self.assertGreaterEqual(took, 10.0, err)
        # The attempt limit is the reason; the cause is told with it.
        self.assertIn("gave up after the reconnect attempt limit "
                      "(last attempt: timed out)", err)
        simproc.check_stderr(err, "scn-stream")

    def test_a_name_whose_first_address_refuses_is_reached_through_the_next(
            self):
        """Two addresses for the name (/etc/hosts in the namespace), the
        first with nothing listening: an attempt that cannot connect moves
        the next one on to the other address, where the device is."""
        name = "device-%d.scentience.test" % os.getpid()
        hosts = os.path.join(self.tmp, "hosts")
        with open(hosts, "w") as f:
            f.write("127.0.0.1 localhost\n127.0.0.2 %s\n127.0.0.3 %s\n"
                    % (name, name))
        ns = in_mount_ns({"/etc/hosts": hosts})
        # The resolver's order (RFC 6724 sorting may swap them): the
        # device goes on the second.
        order = subprocess.run(
            ns + ["/usr/bin/python3", "-c",
                  "import socket,sys; print(' '.join(a[4][0] for a in "
                  "socket.getaddrinfo(sys.argv[1], 9, "
                  "type=socket.SOCK_STREAM)))", name],
            capture_output=True, text=True, timeout=30, check=True)
        addrs = order.stdout.split()
        self.assertEqual(sorted(addrs), ["127.0.0.2", "127.0.0.3"],
                         order.stderr)
        _, dev_log, dev_port = self.sim("device", ["device", "--rate", "50",
                                                   "--host", addrs[1]])
        mcap = os.path.join(self.tmp, "turn.mcap")
        p = self.start(ns + [
            COMPANION, "--device-url", "ws://%s:%d" % (name, dev_port),
            "--listen", "127.0.0.1", "--state-port", "0", "--video-port",
            "0", "--live-port", "0", "--no-status", "--record", mcap],
            stderr="companion.stderr")
        self.assertTrue(wait_until(lambda: p.poll() is not None or
                                   log_events(dev_log, "connect"), 60),
                        "the second address was never tried: %s"
                        % self.text(p.err_path))
        self.assertIsNone(p.poll(), self.text(p.err_path))
        time.sleep(scaled(1))
        self.assertEqual(self.stop(p), 0, self.text(p.err_path))
        msgs = self.export(mcap)
        self.assertTrue([m for m in msgs if m["topic"] == "/olfaction"],
                        self.text(p.err_path))


if __name__ == "__main__":
    simproc.main()
