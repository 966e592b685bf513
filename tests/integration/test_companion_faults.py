#!/usr/bin/python3
"""scn-companion under faults, on loopback with the simulators:

1. the cloud sim is killed (SIGKILL) mid-flight and restarted on the same
   port after ~3 s: across both cloud processes every seq 1..N of the
   companion's stream is accepted, none missing, and the companion never
   resends a seq it had already been acknowledged;
2. the companion is killed (kill -9) and restarted on the same spool: the
   second run resumes the same stream with seqs above the first run's and
   everything the first run had spooled reaches the cloud exactly once;
3. a dashboard subscriber on the live fan-out that stops reading is cut
   off, while a fast subscriber keeps receiving olfaction messages, the
   cloud stream keeps going and the drone (scn-sim uav, flying a script of
   reads) is unaffected: its states keep arriving at their rate and every
   command is answered normally.

stdlib + websockets (10.x) only. Env: SCN_BIN_DIR, SCN_LOG_DIR."""

import asyncio
import base64
import datetime
import json
import os
import re
import signal
import socket
import struct
import subprocess
import threading
import time
import unittest

import simproc
from simproc import (COMPANION, free_port, log_events as events, spool_seqs,
                     wait_until)

KEY = "SCN_TEST_companion0000000001"
LIVE_SUBPROTOCOL = "scentience.live.v1"


def log_ts(ev):
    """The sim log's "ts" (UTC, ms) as a POSIX time."""
    return datetime.datetime.strptime(
        ev["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()


def tcp_state(local_port, remote_port):
    """State (hex string, "01" = ESTABLISHED) of the IPv4 loopback socket
    local_port -> remote_port in /proc/net/tcp, or None if absent."""
    want_l, want_r = ":%04X" % local_port, ":%04X" % remote_port
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            if parts[1].endswith(want_l) and parts[2].endswith(want_r):
                return parts[3]
    return None


class FastSubscriber(threading.Thread):
    """A websockets client on the live fan-out that reads everything and
    timestamps each olfaction message."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.url = "ws://127.0.0.1:%d/live" % port
        self.olfaction = []  # monotonic times
        self.dropped_notices = 0
        self.subscribed = threading.Event()
        self.error = None
        self.closed_code = None
        self._stop_ev = None
        self._loop = None

    def run(self):
        try:
            asyncio.run(self._main())
        except Exception as e:  # reported by the test
            self.error = repr(e)

    async def _main(self):
        import websockets
        self._loop = asyncio.get_running_loop()
        self._stop_ev = asyncio.Event()
        async with websockets.connect(
                self.url, subprotocols=[LIVE_SUBPROTOCOL],
                open_timeout=10, max_size=None) as ws:
            await ws.send(json.dumps({"type": "subscribe", "streams": ["*"]}))
            stopper = asyncio.ensure_future(self._stop_ev.wait())
            try:
                while True:
                    recv = asyncio.ensure_future(ws.recv())
                    done, _ = await asyncio.wait(
                        {recv, stopper}, return_when=asyncio.FIRST_COMPLETED)
                    if stopper in done:
                        recv.cancel()
                        return
                    try:
                        msg = json.loads(recv.result())
                    except websockets.ConnectionClosed as e:
                        self.closed_code = e.code
                        return
                    t = msg.get("type")
                    if t == "subscribed":
                        self.subscribed.set()
                    elif t == "dropped":
                        self.dropped_notices += 1
                    elif t == "message" and msg.get("stream") == "olfaction":
                        self.olfaction.append(time.monotonic())
            finally:
                stopper.cancel()

    def stop(self):
        if self._loop and self._stop_ev:
            try:
                self._loop.call_soon_threadsafe(self._stop_ev.set)
            except RuntimeError:
                pass
        self.join(10)


def slow_subscriber(port):
    """A raw socket that completes the handshake, subscribes to everything
    and then never reads. Its receive buffer is kept small so the
    companion's queue for it fills in seconds, not minutes."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /live HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Protocol: %s\r\n\r\n"
               % (port, key, LIVE_SUBPROTOCOL)).encode())
    head = b""
    while not head.endswith(b"\r\n\r\n"):  # byte by byte: read no frame
        b = s.recv(1)
        if not b:
            raise ConnectionError("closed during the handshake: %r" % head)
        head += b
    if not head.startswith(b"HTTP/1.1 101"):
        raise ConnectionError("handshake refused: %r" % head)
    payload = json.dumps({"type": "subscribe", "streams": ["*"]}).encode()
    mask = os.urandom(4)
    assert len(payload) < 126
    s.sendall(bytes([0x81, 0x80 | len(payload)]) + mask +
              bytes(c ^ mask[i % 4] for i, c in enumerate(payload)))
    return s


def drain_frames(s, timeout):
    """Reads s to EOF (bounded); returns (number of data frames, close code
    or None, reached_eof)."""
    s.settimeout(1)
    buf = bytearray()
    deadline = time.monotonic() + timeout
    eof = False
    while time.monotonic() < deadline:
        try:
            b = s.recv(65536)
        except socket.timeout:
            continue
        except OSError:  # a reset is an end too
            eof = True
            break
        if not b:
            eof = True
            break
        buf += b
    frames, code, off = 0, None, 0
    while len(buf) - off >= 2:
        op, n = buf[off] & 0x0F, buf[off + 1] & 0x7F
        hdr = 2
        if n == 126:
            if len(buf) - off < 4:
                break
            n, hdr = struct.unpack_from(">H", buf, off + 2)[0], 4
        elif n == 127:
            if len(buf) - off < 10:
                break
            n, hdr = struct.unpack_from(">Q", buf, off + 2)[0], 10
        if len(buf) - off < hdr + n:
            break
        if op == 0x8 and n >= 2:
            code = struct.unpack_from(">H", buf, off + hdr)[0]
        elif op in (0x1, 0x2):
            frames += 1
        off += hdr + n
    return frames, code, eof


class CompanionFaultsTest(simproc.ProcCase):
    # Leftovers get SIGKILL; the sims' stderr is not kept.
    KEY = KEY
    LOG_PREFIX = "cfault"
    SIM_STDERR = subprocess.DEVNULL
    END_SIGNAL = signal.SIGKILL
    END_WAIT = 10

    def companion(self, name, args):
        """Starts scn-companion; stdout and stderr go to files."""
        return self.start([COMPANION] + args, stdout=name + ".stdout",
                          stderr=name + ".stderr")

    def base_args(self, dev_port, cloud_port, spool):
        return ["--device-url", "ws://127.0.0.1:%d" % dev_port,
                "--cloud-url", "ws://127.0.0.1:%d/v1/stream" % cloud_port,
                "--spool-dir", spool, "--live-port", "0", "--no-status"]

    # ------------------------------------------------------------ 1
    def test_cloud_outage_loses_and_duplicates_nothing(self):
        _, _, dev_port = self.sim("device", ["device", "--rate", "20"])
        cloud1, log1, cloud_port = self.sim("cloud1", ["cloud"])
        comp = self.companion("outage", self.base_args(
            dev_port, cloud_port, os.path.join(self.tmp, "spool")) +
            ["--duration", "60"])

        self.assertTrue(wait_until(
            lambda: len(events(log1, "accepted")) >= 40, 15),
            "cloud 1 accepted too little: %s" % self.text(comp.err_path))
        cloud1.kill()  # SIGKILL: no goodbye, no last acks
        cloud1.wait(10)
        time.sleep(3)
        self.assertIsNone(comp.poll(), "the companion exited in the outage")
        # Same port: the companion's URL does not change.
        _, log2, port2 = self.sim("cloud2", ["cloud"], port=cloud_port,
                                  tries=6)
        self.assertEqual(port2, cloud_port)
        # The backlog of the outage (~60 records) and then some live ones.
        self.assertTrue(wait_until(
            lambda: len(events(log2, "accepted")) >= 100, 30),
            "cloud 2 accepted too little: %s" % self.text(comp.err_path))
        self.assertEqual(self.stop(comp), 0, self.text(comp.err_path))

        acc1, acc2 = events(log1, "accepted"), events(log2, "accepted")
        streams = {e["stream"] for e in acc1 + acc2}
        self.assertEqual(len(streams), 1, streams)
        s1 = [e["seq"] for e in acc1]
        s2 = [e["seq"] for e in acc2]
        # Each cloud process saw each seq once, in order, and no resend of
        # an acked record reached either (a fresh cloud starts at acked 0,
        # so any "duplicate" in log 2 is a resend within its session).
        self.assertEqual(s1, list(range(1, len(s1) + 1)))
        self.assertEqual(s2, list(range(s2[0], s2[0] + len(s2))))
        self.assertEqual(events(log1, "duplicate"), [])
        self.assertEqual(events(log2, "duplicate"), [])
        # Nothing lost: the second picks up at or below where the first
        # stopped, so the union is 1..N without a gap.
        self.assertLessEqual(s2[0], s1[-1] + 1, (s1[-1], s2[0]))
        self.assertEqual(sorted(set(s1) | set(s2)),
                         list(range(1, s2[-1] + 1)))
        # What both accepted is what the first accepted but whose ack the
        # companion never got (SIGKILL between accept and ack). The cloud
        # sends inference N, ack N, inference N+1, ... on one socket, so a
        # companion that reported inference N+1 from cloud 1 had ack N:
        # its resend must start above N. In the companion's report that
        # means the inference seqs never go backwards (one repeat of the
        # last seq at the switch is that ambiguous record).
        overlap = sorted(set(s1) & set(s2))
        out = self.text(comp.out_path)
        inf = [int(x) for x in re.findall(r"^inference seq (\d+):", out, re.M)]
        self.assertTrue(inf, out)
        backwards = [(a, b) for a, b in zip(inf, inf[1:]) if b < a]
        repeats = [(a, b) for a, b in zip(inf, inf[1:]) if b == a]
        self.assertEqual(backwards, [], "the companion resent acked records")
        self.assertLessEqual(len(repeats), 1, repeats)
        self.assertLessEqual(len(overlap), 2, overlap)
        # The outage's frames were spooled, not lost: cloud 2 got a backlog
        # of ~3 s at 20 Hz at once, then the live ones.
        self.assertGreaterEqual(len(s2), 100)

    # ------------------------------------------------------------ 2
    def test_kill9_restart_resumes_from_spool(self):
        _, _, dev_port = self.sim("device", ["device", "--rate", "20"])
        cloud, log, cloud_port = self.sim(
            "cloud", ["cloud", "--stall-for", "2"])
        spool = os.path.join(self.tmp, "spool")
        args = self.base_args(dev_port, cloud_port, spool) + \
            ["--duration", "60"]

        run1 = self.companion("run1", args)
        self.assertTrue(wait_until(
            lambda: len(events(log, "accepted")) >= 40, 15),
            self.text(run1.err_path))
        # Stall the cloud (it neither reads nor acks for 2 s) so that run 1
        # dies with unacknowledged records in its spool.
        cloud.send_signal(signal.SIGUSR1)
        self.assertTrue(wait_until(lambda: events(log, "fault"), 5))
        time.sleep(1)
        run1.kill()
        run1.wait(10)
        run1_nconn = len(events(log, "connect"))
        # What run 1 left: its stream id and every record not yet known to
        # be acked (the spool keeps them on disk: one write per append).
        with open(os.path.join(spool, "meta"), "rb") as f:
            meta = f.read()
        left = spool_seqs(spool)
        acc_run1 = [e["seq"] for e in events(log, "accepted")]
        self.assertTrue(acc_run1)
        run1_max = max(acc_run1 + left)
        self.assertGreaterEqual(len(left), 10, "nothing left unacked")

        run2 = self.companion("run2", args)
        self.assertTrue(wait_until(
            lambda: len(events(log, "accepted")) >= len(acc_run1) + 40, 20),
            self.text(run2.err_path))
        self.assertEqual(self.stop(run2), 0, self.text(run2.err_path))

        conns = events(log, "connect")
        self.assertGreaterEqual(len(conns), 2, conns)
        streams = {c["stream"] for c in conns}
        self.assertEqual(len(streams), 1, "run 2 started a new stream")
        stream = streams.pop()
        self.assertIn(stream.encode(), meta)
        acc = events(log, "accepted")
        self.assertEqual({e["stream"] for e in acc}, {stream})
        seqs = [e["seq"] for e in acc]
        # Exactly once each, no gap, 1..N: nothing run 1 had accepted is
        # accepted again, nothing it spooled is lost.
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))
        for s in left:
            self.assertIn(s, seqs, "spooled by run 1, never accepted")
        # Run 2 continues the numbering above everything run 1 handed out.
        run1_conns = {c["conn"] for c in conns[:run1_nconn]}
        new = [e["seq"] for e in acc if e["conn"] not in run1_conns]
        fresh = [s for s in new if s not in left]
        self.assertTrue(fresh, "run 2 sent nothing new")
        self.assertGreater(min(fresh), run1_max)
        self.assertEqual(min(fresh), run1_max + 1)

    # ------------------------------------------------------------ 3
    def test_slow_subscriber_cut_off_fast_one_and_cloud_unaffected(self):
        # The companion's kernel send buffer to the slow one holds ~2 MB
        # before its 1024-message queue even starts to fill: a high frame
        # rate gets there in ~10 s (at 20 Hz it takes ~40 s).
        rate = 300
        state_rate = 10
        _, _, dev_port = self.sim("device", ["device", "--rate", str(rate)])
        _, log, cloud_port = self.sim("cloud", ["cloud"])
        _, uav_log, uav_port, state_port, video_port = self.uav_sim(
            "--state-rate", str(state_rate))
        # Take off, then a read every half second for as long as the test
        # runs: command round trips all through the slow subscriber's
        # starvation and cut-off.
        script = os.path.join(self.tmp, "reads.txt")
        with open(script, "w") as f:
            f.write("takeoff\n" + "battery?\nwait 0.5\n" * 400)
        mcap = os.path.join(self.tmp, "live.mcap")
        live = free_port()
        args = self.base_args(dev_port, cloud_port,
                              os.path.join(self.tmp, "spool"))
        args[args.index("--live-port") + 1] = str(live)
        comp = self.companion("live", args + [
            "--rate", str(rate), "--duration", "90",
            "--drone-url", "ws://127.0.0.1:%d" % uav_port,
            "--listen", "127.0.0.1", "--state-port", str(state_port),
            "--video-port", str(video_port), "--script", script,
            "--record", mcap])
        self.assertTrue(wait_until(
            lambda: "live fan-out on" in self.text(comp.err_path), 10),
            self.text(comp.err_path))

        fast = FastSubscriber(live)
        fast.start()
        try:
            self.assertTrue(fast.subscribed.wait(10), fast.error)
            # The drone is up and answering before the slow one arrives.
            self.assertTrue(wait_until(
                lambda: any(a.get("cmd") == "battery?"
                            for a in events(uav_log, "answer")), 20),
                self.text(comp.err_path))
            slow = slow_subscriber(live)
            try:
                slow_port = slow.getsockname()[1]
                t_slow = time.monotonic()
                wall_slow = time.time()
                # The companion's side of the slow connection leaves
                # ESTABLISHED when it cuts it off (it cannot tell us: we
                # do not read). Queue fill + 5 s behind, bounded.
                cut = wait_until(
                    lambda: tcp_state(live, slow_port) != "01", 60, 0.1)
                self.assertTrue(cut, "the slow subscriber was never cut off")
                t_cut = time.monotonic()
                wall_cut = time.time()
                self.assertIsNone(comp.poll(), self.text(comp.err_path))
                # Keep going a while after the cut.
                time.sleep(3)
                frames, code, eof = drain_frames(slow, 15)
                self.assertTrue(eof, "the slow subscriber is still served")
                # A close frame, if it got through, says "try later".
                self.assertIn(code, (None, 1013))
            finally:
                slow.close()
            self.assertIsNone(comp.poll(), self.text(comp.err_path))
        finally:
            fast.stop()
        self.assertIsNone(fast.error)
        self.assertIsNone(fast.closed_code)
        self.assertEqual(fast.dropped_notices, 0)
        self.assertEqual(self.stop(comp), 0, self.text(comp.err_path))

        # The fast one got olfaction all along, at about the device rate:
        # no hole while the slow one was being starved or cut.
        ts = [t for t in fast.olfaction if t >= t_slow]
        self.assertGreater(len(ts), 0)
        gaps = [b - a for a, b in zip(ts, ts[1:])]
        self.assertLess(max(gaps), 1.0, "olfaction to the fast one stalled")
        span = t_cut + 3 - t_slow
        self.assertGreater(len(ts), 0.5 * rate * span, (len(ts), span))
        self.assertTrue(any(t > t_cut + 2 for t in ts))

        # The cloud stream was not held up: 1..N, in order, going on after
        # the cut.
        acc = events(log, "accepted")
        seqs = [e["seq"] for e in acc]
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))
        self.assertEqual(events(log, "duplicate"), [])
        after = [e for e in acc if log_ts(e) > wall_cut + 1]
        self.assertGreater(len(after), 100, "the cloud stream stopped")

        # The drone was not held up either. In the companion's recording:
        # states kept coming at the drone's rate from the slow one's
        # arrival to 3 s after its cut-off...
        msgs = self.export(mcap, timeout=120)
        lo, hi = wall_slow * 1e9, (wall_cut + 3) * 1e9
        states = [m["publish_time_ns"] / 1e9 for m in msgs
                  if m["topic"] == "/uav/state"
                  and lo <= m["publish_time_ns"] <= hi]
        span = (hi - lo) / 1e9
        self.assertGreater(len(states), 0.5 * state_rate * span,
                           (len(states), span))
        sgaps = [b - a for a, b in zip(states, states[1:])]
        self.assertLess(max(sgaps), 1.0, "drone states stalled")
        # ...and every command asked in that time came back answered, on
        # the first attempt, with a normal answer (no error, no timeout).
        cmds = [m for m in msgs if m["topic"] == "/uav/command"
                and "answer" in m["data"]]
        during = [m["data"] for m in cmds if lo <= m["log_time_ns"] <= hi]
        self.assertGreater(len(during), span / 0.5 * 0.5,
                           (len(during), span))
        for c in during:
            self.assertNotIn("error", c)
            self.assertEqual(c["attempts"], 1, c)
            self.assertRegex(c["answer"], r"^\d+$", c)
        self.assertEqual([m["data"]["command"] for m in cmds
                          if m["data"]["command"] == "takeoff"
                          and m["data"]["answer"] == "ok"], ["takeoff"])
        # The landing at exit (still flying when stopped) came back ok.
        self.assertEqual(cmds[-1]["data"]["command"], "land")
        self.assertEqual(cmds[-1]["data"]["answer"], "ok")


if __name__ == "__main__":
    unittest.main()
