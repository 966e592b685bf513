#!/usr/bin/python3
"""An independent emulator of the Scentience cloud stream
(docs/PROTOCOL.md section 9, scentience.cloud.v1), on Python websockets.

  --serve [--port N] --state-file F
      Serves on 127.0.0.1; the first stdout line is "port N". F is a
      journal of JSON lines {"stream":..,"seq":..,"event":"accept"|"dup"},
      one write per record, appended before the ack is sent: the highest
      accepted seq per stream is the cloud's ack, so a SIGKILL never makes
      it ack what it did not record nor forget what it did.
  --serve-predict [--port N] --key K
      POST /v1/predict on http.server (section 9.6): 200 with an inference
      (dominant compound), 400 malformed, 401 for another key, 429 with
      retry_after for a frame whose UID is "QUOTA".
  (no arguments)
      Self-test as a CTest interop test: a websockets client against the
      emulator checks hello, acks, inferences, duplicates and the state
      surviving a restart; then $SCN_BIN_DIR/scn-predict against the
      predict emulator (exit codes 0, 65, 69, 75, 77, 78, 64). A missing
      scn-predict fails the test: it is part of every build.
"""
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import simproc  # noqa: E402 (tests/integration, found through the path)
from simproc import scaled  # noqa: E402

PROTO = "scentience.cloud.v1"


def load_state(path):
    acked = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue  # a torn last line: never acked
                if ev.get("event") == "accept":
                    s = ev["stream"]
                    acked[s] = max(acked.get(s, 0), ev["seq"])
    except FileNotFoundError:
        pass
    return acked


def dominant(frame):
    """The compound with the largest reading: the emulator's 'model'."""
    best = None
    for k, v in frame.items():
        if k in ("UID", "TIMESTAMP", "SEQ") or isinstance(v, bool):
            continue
        if isinstance(v, (int, float)) and (best is None or v > best[1]):
            best = (k, v)
    return best[0] if best else None


async def serve(port, state_file):
    acked = load_state(state_file)
    journal = os.open(state_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT,
                      0o600)

    def record(stream, seq, event):
        line = json.dumps({"stream": stream, "seq": seq, "event": event})
        os.write(journal, (line + "\n").encode())  # one write: atomic

    async def handler(ws, path):
        try:
            await session(ws, path)
        except websockets.ConnectionClosed:
            pass  # a client killed or cut off: it resends from its spool

    async def session(ws, path):
        if ws.subprotocol != PROTO:
            await ws.close(1002, "subprotocol")
            return
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        stream = ws.request_headers.get("X-Scentience-Stream") or \
            q.get("stream", [""])[0]
        if not stream:
            await ws.close(4000, "no stream")
            return
        await ws.send(json.dumps({"type": "hello", "protocol": PROTO,
                                  "models": ["emu-1"], "stream": stream,
                                  "acked": acked.get(stream, 0)}))
        async for text in ws:
            try:
                msg = json.loads(text)
                seq = msg["seq"]
                frame = msg["frame"]
                assert msg["type"] == "frame" and isinstance(seq, int)
                assert isinstance(frame, dict)
            except (ValueError, KeyError, AssertionError, TypeError):
                await ws.send(json.dumps({"type": "error",
                                          "code": "malformed",
                                          "message": "bad record"}))
                continue
            cur = acked.get(stream, 0)
            if seq <= cur:
                record(stream, seq, "dup")
                await ws.send(json.dumps({"type": "ack", "seq": cur}))
                continue
            record(stream, seq, "accept")
            acked[stream] = seq
            comp = dominant(frame)
            inf = {"type": "inference", "model": "emu-1", "seq": seq,
                   "labels": [{"label": "dominant", "score": 0.9}]}
            if comp:
                inf["target"] = {"compound": comp, "bearing_deg": 0.0}
            await ws.send(json.dumps(inf))
            await ws.send(json.dumps({"type": "ack", "seq": seq}))

    async with websockets.serve(handler, "127.0.0.1", port,
                                subprotocols=[PROTO]) as srv:
        port = srv.sockets[0].getsockname()[1]
        print("port %d" % port, flush=True)
        await asyncio.Future()


def serve_predict(port, key):
    import http.server

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def reply(self, status, obj, headers=()):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(n)
            if self.path != "/v1/predict":
                return self.reply(404, {"type": "error", "code": "nf"})
            if self.headers.get("Authorization") != "Bearer " + key:
                return self.reply(401, {"type": "error", "code": "invalid",
                                        "message": "bad key"},
                                  [("WWW-Authenticate", "Bearer")])
            try:
                frame = json.loads(raw)["input"]
                assert isinstance(frame, dict) and "UID" in frame
            except (ValueError, KeyError, AssertionError):
                return self.reply(400, {"type": "error",
                                        "code": "malformed",
                                        "message": "no input"})
            if frame["UID"] == "QUOTA":
                return self.reply(429, {"type": "error", "code": "quota",
                                        "message": "slow down",
                                        "retry_after": 30},
                                  [("Retry-After", "30")])
            inf = {"type": "inference", "model": "emu-1",
                   "labels": [{"label": "dominant", "score": 0.9}]}
            comp = dominant(frame)
            if comp:
                inf["target"] = {"compound": comp, "bearing_deg": 45.0}
            self.reply(200, inf)

    srv = http.server.HTTPServer(("127.0.0.1", port), H)
    print("port %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


def emulator(*args):
    """This file run as a server (args after its name); returns the process
    (which dies with this one) and the port of its first line, "port N"."""
    p = subprocess.Popen([sys.executable, os.path.abspath(__file__)] +
                         list(args), stdout=subprocess.PIPE,
                         preexec_fn=simproc.die_with_parent)
    try:
        line = simproc.read_line(p, "the emulator").decode()
        assert line.startswith("port "), line
        return p, int(line.split()[1])
    except BaseException:
        p.kill()
        p.wait()
        raise


def stop(p):
    p.kill()
    p.wait()
    p.stdout.close()


def predict_selftest():
    exe = os.path.join(os.environ.get("SCN_BIN_DIR", ""), "scn-predict")
    assert os.access(exe, os.X_OK), "%s not built (SCN_BIN_DIR)" % exe
    key = "emu-key-0123456789"
    p, port = emulator("--serve-predict", "--port", "0", "--key", key)
    # Holds a key file: removed whatever happens.
    d = tempfile.mkdtemp()
    # Only what scn-predict needs, and what makes a sanitizer report land
    # where tests/run-test looks.
    keep = {k: os.environ[k] for k in ("PATH", "ASAN_OPTIONS",
                                       "UBSAN_OPTIONS") if k in os.environ}
    env = dict(keep, HOME=d, SCENTIENCE_API_KEY=key)
    url = "http://127.0.0.1:%d/v1/predict" % port
    frame = ('{"UID":"SCN001","TIMESTAMP":"2025-08-29T21:00:00Z",'
             '"NH3":270,"VOC":2917}')

    def run(args, stdin, env_=env):
        r = subprocess.run([exe] + args, input=stdin, env=env_,
                           capture_output=True, text=True,
                           timeout=scaled(30))
        return r.returncode, r.stdout, r.stderr

    try:
        rc, out, err = run(["--url", url], frame + "\n")
        assert rc == 0, (rc, err)
        assert "model emu-1" in out and "target VOC" in out, out
        assert "bearing_deg 45.0" in out, out
        path = os.path.join(d, "frame.json")
        with open(path, "w") as f:
            f.write(frame)
        assert run(["--url", url, path], "")[0] == 0
        rc, _, err = run(["--url", url], frame, dict(env,
                         SCENTIENCE_API_KEY="wrong-key-0123456"))
        assert rc == 77, (rc, err)
        assert key not in err
        rc, _, err = run(["--url", url], frame.replace("SCN001", "QUOTA"))
        assert rc == 75 and "retry after 30000" in err, (rc, err)
        assert run(["--url", url], "{not json")[0] == 65
        kf = os.path.join(d, "key")
        with open(kf, "w") as f:
            f.write(key + "\n")
        os.chmod(kf, 0o600)
        noenv = dict(keep, HOME=d)
        assert run(["--url", url, "--key-file", kf], frame, noenv)[0] == 0
        rc, out, err = run(["--url", url], frame, noenv)
        assert rc == 78 and out == "" and "SCENTIENCE_API_KEY" in err, (
            rc, out, err)
        rc, out, err = run(["--url", url, "a", "b"], frame)
        assert rc == 64 and out == "", (rc, out, err)
        rc, out, err = run(["--key", key], frame)
        assert rc == 64 and out == "" and key not in err, (rc, out, err)
    finally:
        stop(p)
        shutil.rmtree(d, ignore_errors=True)
    # Nothing listens there any more.
    assert run(["--url", url, "--timeout", "3000"], frame)[0] == 69
    print("predict ok")


def start(state_file, port):
    return emulator("--serve", "--port", str(port), "--state-file",
                    state_file)


async def client(port, stream, seqs):
    url = "ws://127.0.0.1:%d/v1/stream?stream=%s" % (port, stream)
    async with websockets.connect(url, subprotocols=[PROTO]) as ws:
        hello = json.loads(await ws.recv())
        assert hello["type"] == "hello", hello
        got = []
        for s in seqs:
            await ws.send(json.dumps({"type": "frame", "seq": s, "frame": {
                "UID": "SCN001", "TIMESTAMP": "2025-08-29T21:00:00Z",
                "NH3": 270, "VOC": 10}}))
            while True:
                m = json.loads(await ws.recv())
                got.append(m)
                if m["type"] == "ack":
                    break
        return hello, got


def exchange(port, stream, seqs):
    """client() with a deadline: a silent emulator fails, never hangs."""
    return asyncio.run(asyncio.wait_for(client(port, stream, seqs),
                                        scaled(30)))


def selftest(d):
    state = os.path.join(d, "state.jsonl")
    # A reserved port: the restarted emulator must come back on it.
    p, port = start(state, simproc.reserve_port())
    try:
        hello, got = exchange(port, "ab" * 16, [1, 2, 3])
        assert hello["acked"] == 0 and hello["models"] == ["emu-1"]
        infs = [m for m in got if m["type"] == "inference"]
        assert [m["seq"] for m in infs] == [1, 2, 3]
        assert infs[0]["target"]["compound"] == "NH3"
    finally:
        stop(p)
    p, port = start(state, port)
    try:
        hello, got = exchange(port, "ab" * 16, [3, 4])
        assert hello["acked"] == 3, hello
        assert got[0] == {"type": "ack", "seq": 3}, got
        assert [m["seq"] for m in got if m["type"] == "inference"] == [4]
        hello, _ = exchange(port, "cd" * 16, [])
        assert hello["acked"] == 0
    finally:
        stop(p)
    with open(state) as f:
        ev = [json.loads(x) for x in f]
    acc = [e["seq"] for e in ev if e["event"] == "accept"]
    assert acc == [1, 2, 3, 4], acc
    print("ok")


def main():
    if "--serve-predict" in sys.argv:
        a = sys.argv
        port = int(a[a.index("--port") + 1]) if "--port" in a else 0
        try:
            serve_predict(port, a[a.index("--key") + 1])
        except KeyboardInterrupt:
            pass
        return 0
    if "--serve" in sys.argv:
        a = sys.argv
        port = int(a[a.index("--port") + 1]) if "--port" in a else 0
        state = a[a.index("--state-file") + 1]
        try:
            asyncio.run(serve(port, state))
        except KeyboardInterrupt:
            pass
        return 0
    d = tempfile.mkdtemp()
    try:
        selftest(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    predict_selftest()
    return 0


if __name__ == "__main__":
    sys.exit(main())
