#!/usr/bin/python3
"""scn-companion's live listener under load and bad input, with a raw
socket client (rawws.py) that can send what libraries refuse to:

- a WebSocket (/live or Foxglove) that never subscribes is closed (1001)
  after the idle timeout, while one that subscribed stays;
- the per-address and the total connection limits answer HTTP 503 with
  Retry-After (not a bare TCP close), and a slot comes back when a
  connection leaves;
- text that is not UTF-8 closes with 1007, an unmasked client frame with
  1002, a message over the limit with 1009; Sec-WebSocket-Version 8 gets
  HTTP 426 naming version 13; the listener stays up for the next client.

Every wait is bounded and generous; nothing asserts how fast the machine
is."""

import json
import subprocess
import time
import unittest

import rawws
import simproc
from simproc import COMPANION, reserve_port

KEY = "SCN_TEST_companion0000000005"
LIVE = "scentience.live.v1"
FOXGLOVE = "foxglove.websocket.v1"


class LiveLimitsTest(simproc.ProcCase):
    KEY = KEY
    LOG_PREFIX = "live-limits"
    END_WAIT = 10

    def companion(self, extra=()):
        """The device simulator at 50 Hz and a companion with only the
        device and the live listener; returns the listener's port."""
        _, dev = self.start_sim(["device", "--rate", "50", "--port", "0",
                                 "--quiet"], stderr="device")
        port = reserve_port()
        comp = self.start(
            [COMPANION, "--device-url", "ws://127.0.0.1:%d" % dev,
             "--rate", "50", "--state-port", "0", "--video-port", "0",
             "--live-port", str(port), "--no-status", "--duration", "120"]
            + list(extra), stderr="companion")
        self.comp = comp
        ok = simproc.wait_until(
            lambda: comp.poll() is not None or
            "live fan-out on" in self.text(comp.err_path), 20)
        self.assertIsNone(comp.poll(), self.text(comp.err_path))
        self.assertTrue(ok, "the companion did not start its listener")
        return port

    def dashboard(self, port, source=None):
        """A /live connection subscribed to olfaction."""
        c = rawws.RawWS.connect(port, "/live", subprotocols=[LIVE],
                                source=source)
        self.assertEqual(c.status, 101, c.headers)
        c.send_frame(0x1, json.dumps({"type": "subscribe",
                                      "streams": ["olfaction"]}))
        while json.loads(c.recv_message()[1])["type"] != "subscribed":
            pass
        return c

    def assert_serves(self, port):
        """A new dashboard still gets frames."""
        c = self.dashboard(port)
        while True:
            m = json.loads(c.recv_message()[1])
            if m.get("stream") == "olfaction":
                break
        c.close()

    def test_idle_connections_closed(self):
        port = self.companion()
        t0 = time.monotonic()
        live_idle = rawws.RawWS.connect(port, "/live", subprotocols=[LIVE])
        fg_idle = rawws.RawWS.connect(port, "/", subprotocols=[FOXGLOVE])
        self.assertEqual((live_idle.status, fg_idle.status), (101, 101))
        busy = self.dashboard(port)
        # The idle ones are closed by the server, with a close frame.
        self.assertEqual(live_idle.close_code(timeout=40), 1001)
        self.assertEqual(fg_idle.close_code(timeout=40), 1001)
        # Not at once: after the 10 s timeout (minus scheduling slack).
        self.assertGreater(time.monotonic() - t0, 8)
        live_idle.close()
        fg_idle.close()
        # The one that subscribed is still served after that.
        for _ in range(50):
            busy.recv_message()
        busy.close()

    def test_per_address_limit_answers_503(self):
        port = self.companion(["--live-max-per-address", "3"])
        held = [self.dashboard(port) for _ in range(3)]
        # Plain HTTP and WebSocket alike: an answer, not a TCP close.
        st, hdrs, body = rawws.http("127.0.0.1", port, "/")
        self.assertEqual(st, 503, body)
        self.assertEqual(hdrs.get("retry-after"), "5")
        c = rawws.RawWS.connect(port, "/live", subprotocols=[LIVE])
        self.assertEqual(c.status, 503)
        self.assertIn("retry-after", c.headers)
        c.close()
        # Another address is not counted against this one.
        other = self.dashboard(port, source="127.0.0.2")
        other.close()
        # A slot comes back once a connection leaves.
        held.pop().close()
        ok = simproc.wait_until(
            lambda: rawws.http("127.0.0.1", port, "/")[0] == 200, 20,
            step=0.2)
        self.assertTrue(ok)
        for h in held:
            h.close()

    def test_total_limit_answers_503(self):
        port = self.companion(["--live-max-subscribers", "2"])
        a = self.dashboard(port, source="127.0.0.2")
        b = self.dashboard(port, source="127.0.0.3")
        c = rawws.RawWS.connect(port, "/", subprotocols=[FOXGLOVE],
                                source="127.0.0.4")
        self.assertEqual(c.status, 503)
        self.assertEqual(c.headers.get("retry-after"), "5")
        c.close()
        a.close()
        b.close()
        ok = simproc.wait_until(
            lambda: rawws.http("127.0.0.1", port, "/")[0] == 200, 20,
            step=0.2)
        self.assertTrue(ok)

    def test_bad_frames_and_versions(self):
        port = self.companion()
        # Text that is not UTF-8: 1007, on either protocol.
        for path, proto in (("/live", LIVE), ("/", FOXGLOVE)):
            c = rawws.RawWS.connect(port, path, subprotocols=[proto])
            self.assertEqual(c.status, 101)
            c.send_frame(0x1, b'{"type":"subscribe","streams":["\xc3\x28"]}')
            self.assertEqual(c.close_code(), 1007, path)
            c.close()
        # Split across fragments, still checked as one text.
        c = rawws.RawWS.connect(port, "/live", subprotocols=[LIVE])
        c.send_frame(0x1, b'{"a":"\xe2\x82', fin=False)
        c.send_frame(0x0, b'x"}')
        self.assertEqual(c.close_code(), 1007)
        c.close()
        # An unmasked client frame: 1002.
        c = rawws.RawWS.connect(port, "/live", subprotocols=[LIVE])
        c.send_frame(0x1, b'{"type":"subscribe","streams":["*"]}',
                     masked=False)
        self.assertEqual(c.close_code(), 1002)
        c.close()
        # Over the 64 KiB request limit: 1009.
        c = rawws.RawWS.connect(port, "/live", subprotocols=[LIVE])
        c.send_frame(0x1, b"[" + b"1," * 40000 + b"1]")
        self.assertEqual(c.close_code(), 1009)
        c.close()
        # Version 8: HTTP 426 naming the version served.
        c = rawws.RawWS.connect(port, "/live", subprotocols=[LIVE],
                                version="8")
        self.assertEqual(c.status, 426)
        self.assertEqual(c.headers.get("sec-websocket-version"), "13")
        c.close()
        # And the listener still serves.
        self.assert_serves(port)


if __name__ == "__main__":
    unittest.main()
