#!/usr/bin/python3
"""Servers of ours never send text that is not UTF-8 (issue 9 item 21):
each of scn-sim's servers (device, drone, cloud) answers a text message
that is not UTF-8 with close 1007, and nothing it sent before that close
was invalid (scn-sim device used to echo the bytes back in its error)."""

import unittest

import rawws
import simproc

KEY = "SCN_TEST_simutf8000000000001"
STREAM = "6f1c0e" + "0" * 26


class SimUtf8Test(simproc.ProcCase):
    KEY = KEY
    LOG_PREFIX = "sim-utf8"

    def check(self, mode, path, proto, request):
        _, port = self.start_sim([mode, "--port", "0", "--quiet"],
                                 stderr=mode)
        c = rawws.RawWS.connect(port, path, subprotocols=[proto],
                                headers={"Authorization": "Bearer " + KEY})
        self.assertEqual(c.status, 101, (mode, c.headers))
        self.addCleanup(c.close)
        c.sock.settimeout(10)
        c.send_frame(0x1, request)
        texts, code = [], None
        try:
            while True:
                op, payload = c.recv_message()
                if op == 0x1:
                    texts.append(payload)
        except rawws.Closed as e:
            code = e.code
        except TimeoutError:
            self.fail("%s: no close within 10 s; sent %r" % (mode, texts))
        self.assertEqual(code, 1007, (mode, texts))
        for t in texts:
            t.decode("utf-8")  # raises on invalid text
            self.assertNotIn(b"\xff", t)

    def test_device(self):
        self.check("device", "/", "scentience.v1",
                   b'{"type":"stream","uid":"\xff\xfe"}')

    def test_drone(self):
        self.check("uav", "/", "scentience.uav.v1", b"hello_\xffscentience")

    def test_cloud(self):
        self.check("cloud", "/v1/stream?stream=" + STREAM,
                   "scentience.cloud.v1", b'{"type":"hello","x":"\xc0\xaf"}')


if __name__ == "__main__":
    unittest.main()
