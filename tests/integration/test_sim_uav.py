"""scn-sim uav, driven from outside as an app would drive a drone.

The script plays the app: state and video servers on ephemeral ports,
passed with --state-host/--state-port/--video-port; --time-scale 20 keeps
moves short. Every wait is bounded; every simulator is killed in finally.

Environment: SCN_BIN_DIR (the build's apps dir, holding scn-sim) and
SCN_LOG_DIR (where simulator logs go; created). Run with /usr/bin/python3.
"""

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zlib

import websockets
import websockets.client
import websockets.exceptions
import websockets.server

import simproc
from simproc import SIM, scaled

PROTO = "scentience.uav.v1"
TIME_SCALE = "20"

# Test keys in the repository's test-key form (scripts/check-no-keys-in-logs
# scans the logs for them): none may ever show up in a log.
DEV_KEY = "SCN_TEST_uavdevmode000000001"
GOOD_KEY = "SCN_TEST_uavgood0000000000002"
REVOKED_KEY = "SCN_TEST_uavrevoked00000000003"
WIFI_PASSWORD = "s3cretWifiPassw0rd"

STATE_INT = ("pitch", "roll", "yaw", "vgx", "vgy", "vgz", "templ", "temph",
             "tof", "h", "bat", "time", "x", "y", "z")
STATE_DEC = ("baro", "agx", "agy", "agz", "olfa", "olfb")
PUBLISHED_ORDER = ("pitch", "roll", "yaw", "vgx", "vgy", "vgz", "templ",
                   "temph", "tof", "h", "bat", "baro", "time", "agx", "agy",
                   "agz")


class Sim(simproc.Sim):
    """One scn-sim uav process on an ephemeral port, sending its state and
    video to app (an App; None: no app). Its stop() also finds no secret,
    the Wi-Fi password included, on stderr; wait_event is a coroutine, as
    the tests wait inside the event loop that serves the app."""

    MODE = ("uav",)
    SECRETS = (DEV_KEY, GOOD_KEY, REVOKED_KEY, WIFI_PASSWORD)
    SECRETS_ON_STDERR = True

    def __init__(self, app, *args, name="uav"):
        pre = ["--time-scale", TIME_SCALE]
        if app is not None:
            pre += ["--state-host", "127.0.0.1",
                    "--state-port", str(app.state_port),
                    "--video-port", str(app.video_port)]
        super().__init__(*(pre + list(args)), name=name)

    async def wait_event(self, pred, timeout=5.0):
        hits = []
        await until(lambda: hits.extend(filter(pred, self.events())) or hits,
                    timeout, "a log event")
        return hits[0]


class App:
    """The app's side: state and video servers recording what arrives."""

    def __init__(self, close_state_after=None):
        self.state = []       # (connection number, monotonic time, message)
        self.video = {}       # connection number -> bytearray
        self.state_conns = 0
        self.video_conns = 0
        self.video_closed = set()
        self.close_state_after = close_state_after

    async def start(self):
        self.state_srv = await websockets.server.serve(
            self._state, "127.0.0.1", 0, max_size=2 ** 20)
        self.video_srv = await websockets.server.serve(
            self._video, "127.0.0.1", 0, max_size=2 ** 20)
        self.state_port = self.state_srv.sockets[0].getsockname()[1]
        self.video_port = self.video_srv.sockets[0].getsockname()[1]
        return self

    async def _state(self, ws, path=None):
        self.state_conns += 1
        n = self.state_conns
        got = 0
        try:
            async for m in ws:
                self.state.append((n, time.monotonic(), m))
                got += 1
                if n == 1 and self.close_state_after == got:
                    await ws.close()
        except websockets.exceptions.ConnectionClosed:
            pass

    async def _video(self, ws, path=None):
        self.video_conns += 1
        n = self.video_conns
        buf = self.video.setdefault(n, bytearray())
        try:
            async for m in ws:
                assert isinstance(m, bytes), "video must be binary"
                buf.extend(m)
        except websockets.exceptions.ConnectionClosed:
            pass
        self.video_closed.add(n)

    async def close(self):
        for s in (self.state_srv, self.video_srv):
            s.close()
            await asyncio.wait_for(s.wait_closed(), scaled(5))


def connect(sim, key=DEV_KEY, proto=(PROTO,), **kw):
    headers = {}
    if key is not None:
        headers["Authorization"] = "Bearer " + key
    kw.setdefault("open_timeout", scaled(5))
    kw.setdefault("close_timeout", scaled(2))
    kw.setdefault("ping_interval", None)
    return websockets.client.connect(
        "ws://127.0.0.1:%d/" % sim.port,
        subprotocols=list(proto) if proto else None, extra_headers=headers,
        **kw)


async def cmd(ws, line, timeout=5.0):
    await ws.send(line)
    return await asyncio.wait_for(ws.recv(), scaled(timeout))


async def until(pred, timeout, what):
    loop = asyncio.get_running_loop()
    end = loop.time() + scaled(timeout)
    while loop.time() < end:
        if pred():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


def parse_state(m):
    """A state string as a dict (documented grammar, every documented
    field present), or ValueError."""
    if not isinstance(m, str) or not m.endswith(";") or len(m) > 1024:
        raise ValueError("not a state string")
    out = {}
    for pair in m[:-1].split(";"):
        key, sep, value = pair.partition(":")
        num = (r"-?[0-9]+" if key in STATE_INT else
               r"-?[0-9]+\.[0-9]{2}" if key in STATE_DEC else r"[ -~]*")
        if not (sep and re.fullmatch(r"[!-~]+", key) and key not in out and
                re.fullmatch(num, value)):
            raise ValueError("bad pair %r" % pair)
        out[key] = (int(value) if key in STATE_INT else
                    float(value) if key in STATE_DEC else value)
    missing = set(STATE_INT + STATE_DEC) - set(out)
    if missing:
        raise ValueError("missing %s" % sorted(missing))
    return out


def run(coro, timeout=60):
    return asyncio.run(asyncio.wait_for(coro, scaled(timeout)))


def check_annex_b(data, frames):
    """An H.264 Annex B stream (apps/scn-sim/uav/uav_video.h): every 10th frame
    from the first is SPS (0x67), PPS (0x68) and an IDR picture (0x65) of
    60 raw macroblocks, the others a P picture (0x41); every NAL unit
    starts with 00 00 00 01 and holds no other start code. (A decoder
    reads it in test_uav_app.py.)"""
    parts = data.split(b"\x00\x00\x00\x01")
    assert parts[0] == b"", "stream does not start with a start code"
    want = []
    for i in range(frames):
        want += [0x67, 0x68, 0x65] if i % 10 == 0 else [0x41]
    assert [p[0] for p in parts[1:]] == want, [p[0] for p in parts[1:50]]
    for p in parts[1:]:
        assert b"\x00\x00\x01" not in p and b"\x00\x00\x00" not in p
        if p[0] == 0x65:
            assert len(p) > 60 * 384, len(p)


# --- tests ----------------------------------------------------------------

def test_usage():
    bad = [["--time-scale", "0"], ["--port", "70000"], ["--state-rate", "0"],
           ["--state-host", "not-an-ip"], ["--state-host", "::1"],
           ["--late-answers", "-1"], ["--garbage-state-every", "0"],
           ["--battery", "101"], ["--bogus"], ["--port"], ["extra"]]
    for args in bad:
        p = subprocess.run([SIM, "uav"] + args, capture_output=True,
                           timeout=scaled(10))
        assert p.returncode == 64, (args, p.returncode, p.stderr)
        assert p.stderr.strip() and not p.stdout, args
    p = subprocess.run([SIM, "uav", "--help"], capture_output=True,
                       timeout=scaled(10))
    assert p.returncode == 0 and b"--garbage-state-every" in p.stdout
    p = subprocess.run([SIM, "--help"], capture_output=True, timeout=scaled(10))
    assert p.returncode == 0 and b"uav" in p.stdout


def test_sample_session():
    """The documented session, state strings at the rate, video and CRC."""
    async def main():
        app = await App().start()
        sim = Sim(app, "--seed", "5", name="session")
        try:
            async with connect(sim) as ws:
                assert ws.subprotocol == PROTO
                assert await cmd(ws, "hello_scentience") == "ok"
                await until(lambda: len(app.state) >= 1, 3, "state")
                assert await cmd(ws, "takeoff") == "ok"
                bat = await cmd(ws, "battery?")
                assert re.fullmatch(r"[0-9]+", bat) and 0 < int(bat) <= 100
                assert await cmd(ws, "speed 50") == "ok"
                assert await cmd(ws, "speed?") == "50"
                t = time.monotonic()
                assert await cmd(ws, "go 100 0 50 30") == "ok"
                # 112 cm at 30 cm/s is 3.7 s, 0.19 s at time scale 20.
                took = time.monotonic() - t
                assert 0.1 < took < scaled(2), took
                assert await cmd(ws, "pos?") == "100.0000, 0.0000"
                await asyncio.sleep(0.25)  # a state string after the move
                h = parse_state(app.state[-1][2])["h"]
                assert await cmd(ws, "oioon") == "ok"
                n0 = len(app.state)
                assert await cmd(ws, "oio nh3") == "ok"
                assert await cmd(ws, "streamon") == "ok"
                await until(lambda: app.video_conns == 1 and
                            len(app.video.get(1, b"")) > 50000, 5, "video")
                await asyncio.sleep(0.5)
                assert await cmd(ws, "streamoff") == "ok"
                assert await cmd(ws, "oiooff") == "ok"
                moved = [parse_state(m) for _, _, m in app.state[n0:]]
                assert moved[-1]["x"] != 100 or moved[-1]["y"] != 0, \
                    "oio did not move the drone"
                olfa = await cmd(ws, "olfa?")
                assert re.fullmatch(r"[0-9]+\.[0-9]{2}", olfa), olfa
                assert await cmd(ws, "sdk?") == "1.0.0-scentience"
                assert await cmd(ws, "sn?") == "SCN00001"
                assert re.fullmatch(r"[0-9]+", await cmd(ws, "time?"))
                assert re.fullmatch(r"-?[0-9]+", await cmd(ws, "wifi?"))
                pos = await cmd(ws, "pos?")
                assert re.fullmatch(r"-?[0-9]+\.[0-9]{4}, -?[0-9]+\.[0-9]{4}",
                                    pos), pos
                assert await cmd(ws, "land") == "ok"
                await asyncio.sleep(0.5)
                assert parse_state(app.state[-1][2])["h"] == 0
            assert h == 130, h  # takeoff to 80, then up 50

            # State: every string parses, published fields in order, at
            # about 10 Hz.
            states = [(t, m) for n, t, m in app.state if n == 1]
            for _, m in states:
                st = parse_state(m)
                keys = [p.split(":")[0] for p in m[:-1].split(";")]
                assert tuple(keys[:16]) == PUBLISHED_ORDER, keys
                assert 0 <= st["bat"] <= 100
            span = states[-1][0] - states[0][0]
            rate = (len(states) - 1) / span
            assert span > 1.5 and 7 <= rate <= 13, (len(states), span)

            # Video: what arrived is what the simulator says it sent.
            ev = await sim.wait_event(lambda e: e["event"] == "video_stop")
            await until(lambda: 1 in app.video_closed, 3, "video close")
            data = bytes(app.video[1])
            assert ev["reason"] == "streamoff", ev
            assert ev["bytes"] == len(data), (ev, len(data))
            assert ev["crc32"] == zlib.crc32(data), ev
            check_annex_b(data, ev["frames"])
            assert ev["frames"] >= 20, ev
            sim.stop()
            cmds = [e["raw"] for e in sim.events("command")]
            assert "go 100 0 50 30" in cmds and "oio nh3" in cmds
            assert sim.events("state_up") and sim.events("video_start")
        finally:
            sim.kill()
            await app.close()
    run(main())


def test_refusals_and_modes():
    """Invalid commands answer error with the validation message and are
    logged as received but refused; the mode rules hold."""
    async def main():
        app = await App().start()
        sim = Sim(app, name="modes")
        try:
            async with connect(sim) as ws:
                assert await cmd(ws, "takeoff") == "error not in SDK mode"
                assert await cmd(ws, "battery?") == "error not in SDK mode"
                assert await cmd(ws, "emergency") == "ok"
                assert await cmd(ws, "hello_scentience") == "ok"
                assert await cmd(ws, "hello_scentience") == "ok"
                assert await cmd(ws, "up 50") == "error not flying"
                assert await cmd(ws, "go 100 0 0 50") == "error not flying"
                assert await cmd(ws, "land") == "error not flying"
                assert await cmd(ws, "rc 0 10 0 0") == "error not flying"
                assert await cmd(ws, "up 600") == \
                    "error up: distance 600 out of range 20-500 cm"
                for line in ("TAKEOFF", "speed 5", "go 10 10 10 50", "oio xx",
                             "up  50", "cw 020", "curve 0 0 0 0 0 0 20",
                             "ssid drone pass %s extra" % WIFI_PASSWORD,
                             "x" * 200, ""):
                    got = await cmd(ws, line)
                    assert got.startswith("error ") and len(got) > 7, \
                        (line, got)
                await ws.send(b"\x00takeoff")
                got = await asyncio.wait_for(ws.recv(), scaled(5))
                assert got.startswith("error "), got
                assert await cmd(ws, "takeoff") == "ok"
                assert await cmd(ws, "takeoff") == "error already flying"
                assert await cmd(ws, "down 100") == \
                    "error height out of range 20-3000 cm"
                assert await cmd(ws, "up 600") != "ok"
                assert await cmd(ws, "pos?") == "0.0000, 0.0000"
                assert await cmd(ws, "ssid drone pass " + WIFI_PASSWORD) == \
                    "ok"
                assert await cmd(ws, "cw 90") == "ok"
                assert await cmd(ws, "forward 100") == "ok"
                assert await cmd(ws, "pos?") == "0.0000, -100.0000"
                assert await cmd(ws, "emergency") == "ok"
                await asyncio.sleep(0.3)
                assert parse_state(app.state[-1][2])["h"] == 0
                assert await cmd(ws, "up 50") == "error not flying"
                assert await cmd(ws, "land") == "error not flying"
                # A move cut short by emergency gets no answer; the
                # emergency's ok comes at once.
                assert await cmd(ws, "takeoff") == "ok"
                assert await cmd(ws, "speed 10") == "ok"
                await ws.send("forward 500")  # capped at 30 s: 1.5 s here
                await asyncio.sleep(0.2)
                assert await cmd(ws, "emergency", 1.0) == "ok"
                try:
                    late = await asyncio.wait_for(ws.recv(), scaled(2.0))
                    raise AssertionError("answer after emergency: " + late)
                except asyncio.TimeoutError:
                    pass
            await sim.wait_event(lambda e: e["event"] == "interrupted" and
                                 e["cmd"] == "forward")
            sim.stop()
            evs = sim.events("command")
            refused = {e["raw"]: e for e in evs if not e["valid"]}
            up = refused["up 600"]
            assert up["code"] == "OUT_OF_RANGE" and "600" in up["error"], up
            assert refused["TAKEOFF"]["code"] == "UNKNOWN_TYPE"
            assert refused["x" * 200]["code"] == "MESSAGE_TOO_BIG"
            assert any(e.get("binary") for e in evs)
            # Passwords: the log keeps the name only, valid or not.
            assert "ssid drone pass ****" in [e["raw"] for e in evs]
            assert "ssid drone ****" in refused
            # The refused motion never reached the drone: no answer but
            # its error, and the drone did not move (pos? above).
            answers = [e for e in sim.events("answer") if e["cmd"] == "up"]
            assert all(a["answer"] != "ok" for a in answers), answers
        finally:
            sim.kill()
            await app.close()
    run(main())


def test_keys():
    """Bearer keys as in device mode: refusals are HTTP statuses."""
    tmp = tempfile.mkdtemp(prefix="scn-uav-keys-")
    keys = os.path.join(tmp, "uav.keys.json")
    with open(keys, "w") as f:
        json.dump({"keys": [{"name": "good", "key": GOOD_KEY},
                            {"name": "revoked", "key": REVOKED_KEY,
                             "revoked": True}]}, f)
    os.chmod(keys, 0o600)

    async def refused(sim, **kw):
        try:
            async with connect(sim, **kw):
                pass
        except websockets.exceptions.InvalidStatusCode as e:
            return e.status_code, e.headers
        raise AssertionError("handshake accepted")

    async def main():
        sim = Sim(None, "--keys", keys, name="keys")
        try:
            st, hd = await refused(sim, key=None)
            assert st == 401 and "invalid_token" in hd["WWW-Authenticate"]
            st, hd = await refused(sim, key=REVOKED_KEY)
            assert st == 401 and 'error_description="revoked"' in \
                hd["WWW-Authenticate"], hd
            st, _ = await refused(sim, key=DEV_KEY)
            assert st == 401
            st, _ = await refused(sim, key=GOOD_KEY, proto=("other.v1",))
            assert st == 400
            async with connect(sim, key=GOOD_KEY, proto=None) as ws:
                assert ws.subprotocol is None
                assert await cmd(ws, "sn?") == "error not in SDK mode"
            async with connect(sim, key=GOOD_KEY,
                               proto=(PROTO, "scentience.v1")) as ws:
                assert ws.subprotocol == PROTO
                assert await cmd(ws, "hello_scentience") == "ok"
            sim.stop()
            assert len(sim.events("refused")) == 4
        finally:
            sim.kill()
    try:
        run(main())
    finally:
        shutil.rmtree(tmp)


def test_late_answers():
    """Answers later than the client's timeout arrive, in order, and can
    be matched afterwards (resynchronisation)."""
    async def main():
        app = await App().start()
        sim = Sim(app, "--late-answers", "700", name="late")
        try:
            async with connect(sim) as ws:
                t = time.monotonic()
                assert await cmd(ws, "hello_scentience", 3) == "ok"
                assert time.monotonic() - t >= 0.65
                await ws.send("battery?")
                try:
                    await asyncio.wait_for(ws.recv(), 0.3)
                    raise AssertionError("answer not late")
                except asyncio.TimeoutError:
                    pass
                # The client gave up on battery? and moves on.
                await ws.send("sn?")
                first = await asyncio.wait_for(ws.recv(), scaled(3))
                second = await asyncio.wait_for(ws.recv(), scaled(3))
                assert re.fullmatch(r"[0-9]+", first), first
                assert second == "SCN00001", second
            sim.stop()
            delays = [e["delay_ms"] for e in sim.events("answer")]
            assert delays and min(delays) >= 690, delays
        finally:
            sim.kill()
            await app.close()
    run(main())


def test_state_faults():
    """Garbage state strings on schedule; the state link comes back after
    the app closes it."""
    async def main():
        app = await App(close_state_after=6).start()
        sim = Sim(app, "--garbage-state-every", "3", "--state-rate", "20",
                  "--reconnect-delay", "0.3", name="garbage")
        try:
            async with connect(sim) as ws:
                assert await cmd(ws, "hello_scentience") == "ok"
                await until(lambda: app.state_conns >= 2 and
                            sum(n == 2 for n, _, _ in app.state) >= 16, 5,
                            "a second state connection")
            sim.stop()
            second = [m for n, _, m in app.state if n == 2][:15]
            bad = []
            for i, m in enumerate(second, 1):
                try:
                    parse_state(m)
                except ValueError:
                    bad.append(i)
            assert bad == [3, 6, 9, 12, 15], bad
            assert isinstance(second[11], bytes)  # 4th garbage: binary
            variants = [e["variant"] for e in sim.events("fault")
                        if e["kind"] == "garbage_state"]
            assert set(variants) == {"truncated", "non_numeric", "control",
                                     "binary"}, variants
            downs = sim.events("state_down")
            assert downs[0]["reason"] == "closed by the app", downs
            assert len(sim.events("state_up")) >= 2
        finally:
            sim.kill()
            await app.close()
    run(main())


def test_connection_faults():
    """SIGUSR1 stalls answers, SIGUSR2 drops everything (the state link
    comes back), --drop-every drops command connections."""
    async def closed(ws, timeout):
        try:
            await asyncio.wait_for(ws.recv(), scaled(timeout))
        except websockets.exceptions.ConnectionClosed as e:
            return e
        raise AssertionError("connection still open")

    async def main():
        app = await App().start()
        sim = Sim(app, "--stall-for", "1", "--reconnect-delay", "0.3",
                  name="faults")
        try:
            async with connect(sim) as ws:
                assert await cmd(ws, "hello_scentience") == "ok"
                await until(lambda: app.state_conns == 1, 3, "state")
                sim.proc.send_signal(signal.SIGUSR1)
                await sim.wait_event(lambda e: e.get("kind") == "stall")
                t = time.monotonic()
                assert await cmd(ws, "sn?", 5) == "SCN00001"
                assert time.monotonic() - t > 0.6, time.monotonic() - t
                sim.proc.send_signal(signal.SIGUSR2)
                e = await closed(ws, 3)
                assert e.code == 1006, e.code
            await until(lambda: app.state_conns >= 2, 5, "state back")
            async with connect(sim) as ws:
                assert await cmd(ws, "battery?") == "100"  # still active
            sim.stop()
        finally:
            sim.kill()

        sim = Sim(app, "--drop-every", "0.5", name="dropevery")
        try:
            async with connect(sim) as ws:
                e = await closed(ws, 3)
                assert e.code == 1006, e.code
            sim.stop()
            assert any(e.get("source") == "drop-every"
                       for e in sim.events("fault"))
        finally:
            sim.kill()
            await app.close()
    run(main())


class SilentApp:
    """An app whose state and video ports accept a connection, read the
    upgrade request and never answer it (a companion stopped, or one that
    hangs): lws gives such an attempt up after the simulator's timeout."""

    async def start(self):
        self.requests = 0
        self.writers = []

        async def silent(reader, writer):
            await reader.readuntil(b"\r\n\r\n")
            self.requests += 1
            self.writers.append(writer)
        self.srvs = [await asyncio.start_server(silent, "127.0.0.1", 0)
                     for _ in range(2)]
        self.state_port, self.video_port = (
            s.sockets[0].getsockname()[1] for s in self.srvs)
        return self

    async def close(self):
        for w in self.writers:
            w.close()
        for s in self.srvs:
            s.close()
            await asyncio.wait_for(s.wait_closed(), scaled(5))


def test_app_never_answers_the_upgrade():
    """An attempt given up unanswered is a link_error and is tried again;
    the drone stops cleanly while the next one waits (it kept a pointer to
    the attempt lws had freed, and crashed at its stop, before)."""
    async def main():
        app = await SilentApp().start()
        sim = Sim(app, "--reconnect-delay", "0.2", name="silent")
        try:
            async with connect(sim) as ws:
                assert await cmd(ws, "hello_scentience") == "ok"
                await until(lambda: any(
                    e["error"] == "closed before the upgrade was answered"
                    for e in sim.events("link_error")), 20,
                    "an unanswered attempt given up")
                await until(lambda: app.requests >= 2, 5, "another attempt")
            sim.stop()
            assert not sim.events("state_up")
        finally:
            sim.kill()
            await app.close()
    run(main())

TESTS = [test_usage, test_sample_session, test_refusals_and_modes, test_keys,
         test_late_answers, test_state_faults, test_connection_faults,
         test_app_never_answers_the_upgrade]


if __name__ == "__main__":
    sys.exit(simproc.run_tests(TESTS, need=(SIM,)))
