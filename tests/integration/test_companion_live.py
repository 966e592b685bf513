#!/usr/bin/python3
"""scn-companion's live fan-out options against Python websockets
dashboards on loopback: bad --live-* values are usage errors (64);
--live-max-subscribers N admits N dashboards and refuses the next one until
a slot is free; with --live-queue-* caps, a dashboard that stops reading
while the device streams loses its oldest messages (or, if it stays
behind, is cut off with 1013), while a dashboard beside it gets
every frame in order. Every wait is bounded; no assertion depends on
timing."""

import asyncio
import json
import os
import shutil
import socket
import subprocess
import tempfile
import unittest

import websockets
import websockets.exceptions

BIN = os.environ.get("SCN_BIN_DIR", "build/apps")
LOG_DIR = os.environ.get("SCN_LOG_DIR", "/tmp/scn-test-logs")
KEY = "SCN_TEST_companion0000000003"
PROTO = "scentience.live.v1"
TIMEOUT = 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def dashboard(port, sock=None, **kw):
    ws = await websockets.connect(
        "ws://127.0.0.1:%d/live" % port, sock=sock, subprotocols=[PROTO],
        compression=None, ping_interval=None, open_timeout=TIMEOUT,
        max_size=None, **kw)
    await ws.send(json.dumps({"type": "subscribe", "streams": ["olfaction"]}))
    while True:
        m = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        if m.get("type") == "subscribed":
            return ws


async def refused(port):
    """True when the companion turns the connection away."""
    try:
        ws = await dashboard(port)
    except (OSError, asyncio.TimeoutError,
            websockets.exceptions.WebSocketException):
        return True
    await ws.close()
    return False


async def olfaction_seq(ws):
    while True:
        m = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        if m.get("type") == "message" and m.get("stream") == "olfaction":
            return m["data"]["SEQ"]


class CompanionLiveTest(unittest.TestCase):
    def setUp(self):
        os.makedirs(LOG_DIR, exist_ok=True)
        self.tmp = tempfile.mkdtemp()
        self.procs = []
        self.env = dict(os.environ, SCENTIENCE_API_KEY=KEY)

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            if p.stdout:
                p.stdout.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, args, name):
        log = os.path.join(LOG_DIR, "companion-live-%s-%d.log" %
                           (name, os.getpid()))
        err = open(log, "w")
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err,
                             text=True, env=self.env)
        err.close()
        self.procs.append(p)
        return p, log

    def companion(self, extra):
        """The device simulator at 100 Hz and a companion with only the
        device and the fan-out; returns the fan-out's port once it
        listens."""
        sim, _ = self.start([os.path.join(BIN, "scn-sim"), "device",
                             "--rate", "100", "--port", "0", "--quiet"],
                            "device")
        line = sim.stdout.readline()
        self.assertIn("listening on", line)
        dev = int(line.strip().rsplit(":", 1)[1])
        live = free_port()
        comp, log = self.start(
            [os.path.join(BIN, "scn-companion"), "--device-url",
             "ws://127.0.0.1:%d" % dev, "--rate", "100", "--state-port", "0",
             "--video-port", "0", "--live-port", str(live), "--no-status",
             "--duration", "120"] + extra, "companion")
        for _ in range(200):
            with open(log) as f:
                if "live fan-out on" in f.read():
                    return live
            self.assertIsNone(comp.poll(), "companion exited")
            subprocess.run(["sleep", "0.05"])
        self.fail("the companion did not start its fan-out")

    def test_usage_errors(self):
        base = [os.path.join(BIN, "scn-companion"), "--device-url",
                "ws://127.0.0.1:9"]
        for bad in (["--live-max-subscribers", "0"],
                    ["--live-max-subscribers", "many"],
                    ["--live-queue-msgs", "0"],
                    ["--live-queue-bytes", "1"],
                    ["--live-queue-bytes", "12Q"],
                    ["--live-flush-ms", "-5"]):
            p = subprocess.run(base + bad, capture_output=True, text=True,
                               timeout=30, env=self.env)
            self.assertEqual(p.returncode, 64, bad)
            self.assertIn("usage", p.stderr)
        p = subprocess.run(base[:1] + ["--help"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 0)
        for flag in ("--live-max-subscribers", "--live-queue-msgs",
                     "--live-queue-bytes", "--live-flush-ms"):
            self.assertIn(flag, p.stdout)

    def test_max_subscribers(self):
        port = self.companion(["--live-max-subscribers", "2"])

        async def run():
            a = await dashboard(port)
            b = await dashboard(port)
            # Both are live: each gets olfaction frames.
            self.assertIsNotNone(await olfaction_seq(a))
            self.assertIsNotNone(await olfaction_seq(b))
            self.assertTrue(await refused(port))
            await a.close()
            # The slot is free once the companion saw the close.
            for _ in range(100):
                c = None
                try:
                    c = await dashboard(port)
                except (OSError, asyncio.TimeoutError,
                        websockets.exceptions.WebSocketException):
                    await asyncio.sleep(0.05)
                    continue
                self.assertIsNotNone(await olfaction_seq(c))
                await c.close()
                break
            else:
                self.fail("no slot after a dashboard left")
            self.assertIsNotNone(await olfaction_seq(b))
            await b.close()

        asyncio.run(run())

    def test_queue_caps(self):
        port = self.companion(["--live-queue-msgs", "16",
                               "--live-queue-bytes", "4K",
                               "--live-flush-ms", "20"])

        async def run():
            fast = await dashboard(port)
            # A small receive buffer: TCP pushes back almost at once.
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.settimeout(TIMEOUT)
            sock.connect(("127.0.0.1", port))
            sock.setblocking(False)
            slow = await dashboard(port, sock=sock, max_queue=1,
                                   read_limit=4096)
            # The slow one stops reading while 400 frames (about 220 KB
            # of envelopes, over every buffer and cap on the way) are
            # published; the fast one sees them all, in order.
            seqs = [await olfaction_seq(fast) for _ in range(400)]
            self.assertTrue(all(x < y for x, y in zip(seqs, seqs[1:])), seqs)
            got, notices, closed = [], 0, 0
            try:
                while not got or got[-1] < seqs[-1]:
                    m = json.loads(await asyncio.wait_for(slow.recv(),
                                                          TIMEOUT))
                    if m.get("type") == "dropped":
                        notices += 1
                        self.assertGreater(m["count"], 0)
                    elif m.get("type") == "message":
                        got.append(m["data"]["SEQ"])
            except websockets.exceptions.ConnectionClosed as e:
                closed = e.rcvd.code if e.rcvd else 1006
            # What it got is in order, with the oldest of its backlog
            # gone (a notice may itself be dropped while it stays
            # behind), or it was cut off for staying behind: the cap held
            # either way.
            self.assertTrue(all(x < y for x, y in zip(got, got[1:])))
            lost = [q for q in seqs if got and got[0] <= q <= got[-1]
                    and q not in set(got)]
            self.assertTrue(lost or closed in (1006, 1013),
                            (len(got), notices, closed))
            await fast.close()
            await slow.close()

        asyncio.run(run())


if __name__ == "__main__":
    unittest.main()
