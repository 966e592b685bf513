#!/usr/bin/python3
"""scn-companion's live fan-out options against Python websockets
dashboards on loopback: bad --live-* values are usage errors (64);
--live-max-subscribers N admits N dashboards and refuses the next one until
a slot is free; with --live-queue-* caps, a dashboard that stops reading
while the device streams loses its oldest messages (or, if it stays
behind, is cut off with 1013), while a dashboard beside it gets
every frame in order. The companion must live through all of it and exit
0 when stopped. Every wait is bounded (and scaled); no assertion depends
on timing."""

import asyncio
import json
import socket
import subprocess

import websockets
import websockets.exceptions

import simproc
from simproc import COMPANION, reserve_port, scaled, wait_until

KEY = "SCN_TEST_companion0000000003"
PROTO = "scentience.live.v1"
TIMEOUT = scaled(20)


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


class CompanionLiveTest(simproc.ProcCase):
    # Leftovers get SIGTERM, SIGKILL after 10 s.
    KEY = KEY
    LOG_PREFIX = "companion-live"
    END_WAIT = 10

    def companion(self, extra):
        """The device simulator at 100 Hz and a companion with only the
        device and the fan-out; returns the companion and the fan-out's
        port once it listens."""
        _, dev = self.start_sim(["device", "--rate", "100", "--port", "0",
                                 "--quiet"], stderr="device")
        live = reserve_port()
        comp = self.start(
            [COMPANION, "--device-url",
             "ws://127.0.0.1:%d" % dev, "--rate", "100", "--state-port", "0",
             "--video-port", "0", "--live-port", str(live), "--no-status",
             "--duration", "120"] + extra, stderr="companion")
        self.assertTrue(wait_until(
            lambda: comp.poll() is not None or
            "live fan-out on" in self.text(comp.err_path), 10) and
            comp.poll() is None,
            "the companion did not start its fan-out: " +
            self.text(comp.err_path))
        return comp, live

    def stopped_cleanly(self, comp):
        """The companion lived through the test and exits 0 on SIGTERM."""
        self.assertIsNone(comp.poll(), self.text(comp.err_path))
        self.assertEqual(self.stop(comp), 0, self.text(comp.err_path))

    def test_usage_errors(self):
        base = [COMPANION, "--device-url",
                "ws://127.0.0.1:9"]
        for bad, why in (
                (["--live-max-subscribers", "0"],
                 "must be a whole number 1-4096"),
                (["--live-max-subscribers", "many"],
                 "must be a whole number 1-4096"),
                (["--live-queue-msgs", "0"],
                 "must be a whole number 1-1048576"),
                (["--live-queue-bytes", "1"],
                 "must be a size 4K-64M (bytes, or with K, M, G)"),
                (["--live-queue-bytes", "12Q"],
                 "must be a size 4K-64M (bytes, or with K, M, G)"),
                (["--live-flush-ms", "-5"],
                 "must be a whole number 0-10000")):
            p = subprocess.run(base + bad, capture_output=True, text=True,
                               timeout=scaled(30), env=self.env)
            self.assertEqual(p.returncode, 64, bad)
            # One line naming the option, its value and what it accepts.
            self.assertEqual(p.stderr, "scn-companion: %s %s: %s\nRun "
                             "'scn-companion --help' for the options.\n"
                             % (bad[0], bad[1], why))
        p = subprocess.run(base[:1] + ["--help"], capture_output=True,
                           text=True, timeout=scaled(30))
        self.assertEqual(p.returncode, 0)
        for flag in ("--live-max-subscribers", "--live-queue-msgs",
                     "--live-queue-bytes", "--live-flush-ms"):
            self.assertIn(flag, p.stdout)

    def test_max_subscribers(self):
        comp, port = self.companion(["--live-max-subscribers", "2"])

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
        self.stopped_cleanly(comp)

    def test_queue_caps(self):
        # Caps that hold 2.5 s of frames (at 100 Hz): room for the fast
        # dashboard to stall a moment on a loaded machine; far less than
        # the slow one is sent.
        comp, port = self.companion(["--live-queue-msgs", "256",
                                     "--live-queue-bytes", "128K",
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
            # The slow one stops reading while 1000 frames (about 550 KB
            # of envelopes, over every buffer and cap on the way) are
            # published; the fast one sees them all, in order.
            seqs = [await olfaction_seq(fast) for _ in range(1000)]
            self.assertEqual(seqs, list(range(seqs[0], seqs[0] + 1000)),
                             "the fast one missed frames or got them out "
                             "of order")
            got, notices, closed = [], 0, None
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
                # Cut off: with 1013, or with no close frame when the
                # companion could not write one to a full socket. Never a
                # crash: the companion must still be there.
                closed = e.rcvd.code if e.rcvd else "no close frame"
                self.assertIn(closed, (1013, "no close frame"))
                self.assertIsNone(comp.poll(), self.text(comp.err_path))
            # What it got is in order, with the oldest of its backlog
            # gone (a notice may itself be dropped while it stays
            # behind), or it was cut off for staying behind: the cap held
            # either way.
            self.assertTrue(all(x < y for x, y in zip(got, got[1:])))
            lost = [q for q in seqs if got and got[0] <= q <= got[-1]
                    and q not in set(got)]
            self.assertTrue(lost or closed is not None,
                            (len(got), notices, closed))
            await fast.close()
            await slow.close()

        asyncio.run(run())
        self.stopped_cleanly(comp)


if __name__ == "__main__":
    simproc.main()
