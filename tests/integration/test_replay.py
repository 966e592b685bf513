"""scn-replay serves a recording back as a live device.

Records 200 frames from scn-sim with `scn-record record`, replays the file
with `scn-replay --speed 10` and reads it with `scn-stream`: the frames come
back in order with the recorded keys and values, SEQ renumbered from 1, at
roughly the scaled pace (only a loose upper bound is asserted). At the
end every connection is closed with 4010 (end of stream) and scn-stream
exits 0 by itself; --loop goes on past the end; requests (section 4 of
docs/PROTOCOL.md) are answered; bad command lines and files get their exit
codes and say why.

Environment: SCN_BIN_DIR (scn-sim, scn-record, scn-replay, scn-stream),
SCN_LOG_DIR (recordings and logs go there). Run with /usr/bin/python3; only
the standard library is used.
"""

import base64
import json
import os
import select
import socket
import struct
import subprocess
import sys
import tempfile
import time

import simproc
from simproc import BIN_DIR, LOG_DIR, SIM, check_stderr, scaled

RECORD = os.path.join(BIN_DIR, "scn-record")
REPLAY = os.path.join(BIN_DIR, "scn-replay")
STREAM = os.path.join(BIN_DIR, "scn-stream")
# In the repository's test-key form, so the key scan of SCN_LOG_DIR knows it.
KEY = "SCN_TEST_replay0000000000001"
FRAMES = 200

WORK = None  # this run's folder under LOG_DIR
RECORDING = None  # made once by test_record


class Server(simproc.Server):
    """A program of BIN_DIR (name) serving on 127.0.0.1; close() checks
    its stderr too."""

    def __init__(self, name, args):
        base = os.path.join(WORK, "%s-%d" % (name, time.monotonic_ns()))
        super().__init__([os.path.join(BIN_DIR, name)] + args,
                         base + ".stderr", env=simproc.env_with_key(KEY))

    def close(self):
        super().close()
        check_stderr(self.stderr_text(), self.name)


def run(prog, args, timeout=60):
    p = subprocess.run([prog] + args, capture_output=True,
                       timeout=scaled(timeout), env=simproc.env_with_key(KEY))
    err = p.stderr.decode(errors="replace")
    check_stderr(err, os.path.basename(prog))
    return p.returncode, p.stdout.decode(errors="replace"), err


def stream(url, count, timeout=30):
    """scn-stream's frames (dicts with their key order) and its wall time."""
    t0 = time.monotonic()
    rc, out, err = run(STREAM, ["--url", url, "--count", str(count),
                                "--format", "jsonl", "--max-attempts", "3"],
                       timeout=timeout)
    took = time.monotonic() - t0
    assert rc == 0, "scn-stream: exit %d\n%s" % (rc, err)
    frames = [json.loads(line) for line in out.splitlines() if line]
    assert len(frames) == count, (len(frames), err)
    return frames, took


def without_seq(frame):
    return [(k, v) for k, v in frame.items() if k != "SEQ"]


def recorded():
    rc, out, err = run(RECORD, ["export", RECORDING, "--format", "jsonl",
                                "--channel", "/olfaction"])
    assert rc == 0, err
    return [json.loads(line)["data"] for line in out.splitlines() if line]


def test_record():
    global RECORDING
    sim = Server("scn-sim", ["--host", "127.0.0.1", "--port", "0",
                             "--rate", "100"])
    try:
        path = os.path.join(WORK, "out.mcap")
        rc, _, err = run(RECORD, ["record", "--url", sim.origin, "--count",
                                  str(FRAMES), "--quiet", path])
        assert rc == 0, err
        RECORDING = path
    finally:
        sim.close()
    assert len(recorded()) == FRAMES


def usage_error(args, line):
    """scn-replay ARGS exits 64 with exactly LINE and the --help hint."""
    rc, out, err = run(REPLAY, args)
    assert rc == 64 and out == "", (args, rc, out, err)
    assert err == ("scn-replay: %s\nRun 'scn-replay --help' for the "
                   "options.\n" % line), (args, err)


def test_usage():
    usage_error([], "the recording to play is missing (FILE)")
    usage_error(["--bogus", RECORDING], "unknown option '--bogus'")
    for speed in ("0", "-1", "1001", "x"):
        usage_error([RECORDING, "--speed", speed],
                    "--speed %s: must be a number above 0, at most 1000"
                    % speed)
    usage_error([RECORDING, "--port", "70000"],
                "--port 70000: must be a whole number 0-65535")
    usage_error([RECORDING, "--port"], "--port needs a value")
    usage_error([RECORDING, RECORDING], "unexpected argument '%s'" % RECORDING)
    missing = os.path.join(WORK, "missing.mcap")
    rc, _, err = run(REPLAY, [missing])
    assert rc == 66, (rc, err)
    assert err == "scn-replay: %s: no such file or directory\n" % missing, err
    rc, _, err = run(REPLAY, [RECORDING, "--channel", "/nope"])
    assert rc == 65, (rc, err)
    assert err == "scn-replay: %s: no /nope channel\n" % RECORDING, err
    junk = os.path.join(WORK, "junk.mcap")
    with open(junk, "wb") as f:
        f.write(b"\x89MCAP0\r\n" + b"\0" * 64)
    rc, _, err = run(REPLAY, [junk])
    assert rc == 65 and err.startswith("scn-replay: %s: " % junk), (rc, err)
    rc, out, _ = run(REPLAY, ["--help"])
    assert rc == 0 and "usage: scn-replay" in out
    assert "71 cannot listen" in out, out
    # The port taken: named, with the cause, exit 71.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        rc, _, err = run(REPLAY, [RECORDING, "--port", str(port)])
    assert rc == 71, (rc, err)
    assert ("scn-replay: cannot listen on 127.0.0.1:%d: address already in "
            "use (another program listens on that port)\n" % port) in err, err


def test_stream_ends_at_the_end():
    """scn-stream without --count stops by itself when the replay ends
    (close 4010), exit 0, every frame printed."""
    rp = Server("scn-replay", [RECORDING, "--port", "0", "--speed", "20"])
    try:
        rc, out, err = run(STREAM, ["--url", rp.origin, "--format", "jsonl"],
                           timeout=60)
        assert rc == 0, (rc, err)
        assert len(out.splitlines()) == FRAMES, (len(out.splitlines()), err)
        assert ("scn-stream: the stream ended: the server has no more "
                "data\n") in err, err
        assert "reconnecting" not in err, err
        assert rp.wait(10) == 0
    finally:
        rp.close()


def test_replay_matches_recording():
    want = recorded()
    rp = Server("scn-replay", [RECORDING, "--port", "0", "--speed", "10"])
    try:
        got, took = stream(rp.origin, FRAMES)
        # About 2 s of recording at 10x: a loose bound, never a tight one.
        assert took < scaled(10), took
        assert [f["SEQ"] for f in got] == list(range(1, FRAMES + 1))
        for i, (g, w) in enumerate(zip(got, want)):
            assert without_seq(g) == without_seq(w), (i, g, w)
        # Without --loop it closes its clients and exits 0 at the end.
        assert rp.wait(10) == 0
        assert "%d frames sent" % FRAMES in rp.stderr_text()
    finally:
        rp.close()


def test_loop():
    want = recorded()
    rp = Server("scn-replay", [RECORDING, "--port", "0", "--speed", "20",
                               "--loop"])
    try:
        got, took = stream(rp.origin, 300)
        assert took < scaled(15), took
        assert [f["SEQ"] for f in got] == list(range(1, 301))
        for i, g in enumerate(got):
            assert without_seq(g) == without_seq(want[i % FRAMES]), i
        assert rp.proc.poll() is None, "a looping replay keeps serving"
    finally:
        rp.close()


class Ws:
    """A minimal WebSocket client (RFC 6455) offering scentience.v1."""

    def __init__(self, port, path="/"):
        self.sock = socket.create_connection(("127.0.0.1", port), scaled(5))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((
            "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: %s\r\n"
            "Sec-WebSocket-Protocol: scentience.v1\r\n\r\n" %
            (path, port, key)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self._fill(5)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.status = int(head.split(b" ", 2)[1])

    def _fill(self, timeout):
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            raise TimeoutError("no data from the server")
        b = self.sock.recv(65536)
        if not b:
            raise EOFError("connection closed")
        self.buf += b

    def _take(self, n, deadline):
        while len(self.buf) < n:
            self._fill(max(0.01, deadline - time.monotonic()))
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self, timeout=5):
        """(opcode, payload) of the next frame; unfragmented is enough."""
        deadline = time.monotonic() + scaled(timeout)
        b0, b1 = self._take(2, deadline)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._take(2, deadline))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._take(8, deadline))[0]
        return b0 & 0x0F, self._take(n, deadline)

    def recv_json(self, timeout=5):
        while True:
            op, data = self.recv(timeout)
            if op == 1:
                return json.loads(data)
            assert op in (9, 10), "unexpected opcode %d" % op

    def send(self, obj):
        data = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(data)
        head = bytes([0x81, 0x80 | n]) if n < 126 else \
            bytes([0x81, 0x80 | 126]) + struct.pack(">H", n)
        self.sock.sendall(head + mask + bytes(
            c ^ mask[i % 4] for i, c in enumerate(data)))

    def close(self):
        self.sock.close()


def test_requests():
    rp = Server("scn-replay", [RECORDING, "--port", "0", "--loop"])
    ws = None
    try:
        ws = Ws(rp.port, "/?uid=SCN001")
        assert ws.status == 101, ws.status
        hello = ws.recv_json()
        assert hello["type"] == "hello", hello
        assert hello["protocol"] == "scentience.v1"
        assert hello["uid"] == "SCN001" and hello["devices"] == ["SCN001"]
        ws.send({"type": "stream", "on": False, "id": 7})
        last = 0
        while True:
            m = ws.recv_json()
            if m.get("type") == "ack":
                break
            assert "type" not in m, m
            assert m["SEQ"] == last + 1, (m, last)
            last = m["SEQ"]
        assert m["id"] == 7 and m["request"] == "stream" and \
            m["on"] is False, m
        # Stream off: nothing arrives until asked.
        try:
            m = ws.recv_json(0.4)
            raise AssertionError("a message with the stream off: %r" % m)
        except TimeoutError:
            pass
        ws.send({"type": "sample", "id": 8})
        m = ws.recv_json()
        assert m["SEQ"] == last + 1 and m["UID"] == "SCN001", (m, last)
        m = ws.recv_json()
        assert m == {"type": "ack", "id": 8, "request": "sample"}, m
        ws.send({"type": "nope", "id": 9})
        m = ws.recv_json()
        assert m["type"] == "error" and m["code"] == "unknown_type" and \
            m["id"] == 9, m
        ws.send({"type": "stream", "on": True, "id": 10})
        m = ws.recv_json()
        assert m["type"] == "ack" and m["on"] is True, m
        m = ws.recv_json()
        assert m["SEQ"] == last + 2, (m, last)
        # The recording has no drone state: its path is refused.
        state = Ws(rp.port, "/uav/state")
        state.close()
        assert state.status == 403, state.status
    finally:
        if ws:
            ws.close()
        rp.close()


def mcap_record(op, body):
    return struct.pack("<BQ", op, len(body)) + body


def mcap_str(s):
    b = s.encode()
    return struct.pack("<I", len(b)) + b


def write_mcap(path, channels, messages):
    """A minimal unchunked MCAP file: channels {id: topic}, messages
    (channel id, log time ns, JSON text). CRCs are 0: "not computed"."""
    out = b"\x89MCAP0\r\n" + mcap_record(
        0x01, mcap_str("") + mcap_str("test_replay"))
    for cid, topic in channels.items():
        out += mcap_record(0x04, struct.pack("<HH", cid, 0) + mcap_str(
            topic) + mcap_str("json") + struct.pack("<I", 0))
    for seq, (cid, t, text) in enumerate(messages):
        out += mcap_record(0x05, struct.pack("<HIQQ", cid, seq, t, t) +
                           text.encode())
    out += mcap_record(0x0F, struct.pack("<I", 0))
    out += mcap_record(0x02, struct.pack("<QQI", 0, 0, 0))
    with open(path, "wb") as f:
        f.write(out + b"\x89MCAP0\r\n")


def test_state_and_inference():
    frames = recorded()[:10]
    states = [json.dumps({"pitch": i, "roll": 0, "yaw": 90, "h": 100 + i,
                          "bat": 80, "baro": 12.5}, separators=(",", ":"))
              for i in range(5)]
    infer = [json.dumps({"model": "toy", "seq": i, "labels": [
        {"label": "NH3", "score": 0.9}]}, separators=(",", ":"))
        for i in range(3)]
    t0 = 1795000000000000000
    ms = 1000000
    msgs = [(1, t0 + i * 50 * ms, json.dumps(f))
            for i, f in enumerate(frames)]
    msgs += [(2, t0 + 310 * ms + i * 30 * ms, s) for i, s in enumerate(states)]
    msgs += [(3, t0 + 320 * ms + i * 40 * ms, s) for i, s in enumerate(infer)]
    msgs.sort(key=lambda m: m[1])
    path = os.path.join(WORK, "drone.mcap")
    write_mcap(path, {1: "/olfaction", 2: "/uav/state", 3: "/inference"},
               msgs)
    rp = Server("scn-replay", [path, "--port", "0"])
    conns = []
    try:
        # Playback starts with the first message when the first client
        # comes; states and inferences are 300 ms later, time enough for
        # their clients to be there.
        dev = Ws(rp.port, "/")
        conns.append(dev)
        st = Ws(rp.port, "/uav/state")
        conns.append(st)
        inf = Ws(rp.port, "/inference")
        conns.append(inf)
        assert (st.status, inf.status, dev.status) == (101, 101, 101)

        def until_close(ws):
            got = []
            while True:
                op, data = ws.recv(10)
                if op == 8:
                    return got, struct.unpack(">H", data[:2])[0]
                if op == 1:
                    got.append(data.decode())

        # The end of the recording: 4010, end of stream.
        got, code = until_close(st)
        assert got == states and code == 4010, (got, code)
        got, code = until_close(inf)
        assert got == infer and code == 4010, (got, code)
        got, code = until_close(dev)
        assert code == 4010 and json.loads(got[0])["type"] == "hello", got
        got = [json.loads(g) for g in got[1:]]
        assert [g["SEQ"] for g in got] == list(range(1, 11)), got
        for g, w in zip(got, frames):
            assert without_seq(g) == without_seq(w), (g, w)
        for ws in conns:
            ws.close()
        assert rp.wait(10) == 0
    finally:
        for ws in conns:
            ws.close()
        rp.close()


TESTS = [test_record, test_usage, test_replay_matches_recording,
         test_stream_ends_at_the_end, test_loop,
         test_requests, test_state_and_inference]


def main():
    global WORK
    if not simproc.have_programs(SIM, RECORD, REPLAY, STREAM):
        return 1
    os.makedirs(LOG_DIR, exist_ok=True)
    WORK = tempfile.mkdtemp(prefix="replay-", dir=LOG_DIR)
    # Everything after test_record replays its recording.
    return simproc.run_tests(TESTS, fatal=(test_record,))


if __name__ == "__main__":
    sys.exit(main())
