"""scn-sim device mode, driven from outside by an independent client.

Starts the real scn-sim on an ephemeral loopback port and talks to it with
Debian's python3-websockets: handshake refusals as HTTP statuses with their
headers, frames as PROTOCOL.md section 3.1 specifies them, requests and
their replies, key revocation, expiry and quota, the signal- and
timer-driven faults, and a reader too slow for the stream. Every wait is
bounded; every simulator is killed in a finally block.

Environment: SCN_BIN_DIR (the build's apps dir, holding scn-sim) and
SCN_LOG_DIR (where simulator logs go; created). Run with /usr/bin/python3.
"""

import asyncio
import calendar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import websockets
import websockets.client
import websockets.exceptions

import simproc
from simproc import LOG_DIR, SIM, scaled

PROTO = "scentience.v1"
COMPOUNDS = {"CO2", "NH3", "NO", "NO2", "CO", "C2H5OH", "H2", "CH4", "C3H8",
             "C4H10", "H2S", "HCHO", "SO2", "VOC"}
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

# Keys of the key-store tests, in the repository's test-key form
# (scripts/check-no-keys-in-logs scans the logs for them): none may ever
# show up in a log.
KEYS = {
    "good": "SCN_TEST_simgood00000000001",
    "revoked": "SCN_TEST_simrevoked000000002",
    "expired": "SCN_TEST_simexpired000000003",
    "elsewhere": "SCN_TEST_simelsewhere0000004",
    "quota": "SCN_TEST_simquota0000000005",
    "rotate": "SCN_TEST_simrotate000000006",
    "removed": "SCN_TEST_simremoved00000007",
    "soon": "SCN_TEST_simsoon00000000008",
    "zero": "SCN_TEST_simzero00000000009",
}
DEV_KEY = "SCN_TEST_simdevmode000000010"
UNKNOWN_KEY = "SCN_TEST_simunknown00000011"


class Sim(simproc.Sim):
    """One scn-sim process on an ephemeral port. Its stop() looks for no
    key in the log: test_keys checks the log and stderr itself. url(query)
    is 'ws://127.0.0.1:PORT/' + query."""


def run(coro, timeout=30):
    return asyncio.run(asyncio.wait_for(coro, scaled(timeout)))


def connect(url, key=DEV_KEY, uid_header=None, proto=(PROTO,), **kw):
    headers = {}
    if key is not None:
        headers["Authorization"] = "Bearer " + key
    if uid_header is not None:
        headers["X-Scentience-UID"] = uid_header
    kw.setdefault("open_timeout", scaled(5))
    kw.setdefault("close_timeout", scaled(2))
    kw.setdefault("ping_interval", None)
    return websockets.client.connect(
        url, subprotocols=list(proto) if proto else None,
        extra_headers=headers, **kw)


async def recv_json(ws, timeout=2.0):
    return json.loads(await asyncio.wait_for(ws.recv(), scaled(timeout)))


async def collect(ws, seconds):
    """Every message (raw text) that arrives within seconds."""
    out = []
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while True:
        left = end - loop.time()
        if left <= 0:
            return out
        try:
            out.append(await asyncio.wait_for(ws.recv(), left))
        except asyncio.TimeoutError:
            return out


async def next_typed(ws, typ, timeout=2.0):
    """Skips frames up to the next typed message of type typ."""
    loop = asyncio.get_running_loop()
    end = loop.time() + scaled(timeout)
    while True:
        m = await recv_json(ws, max(0.01, end - loop.time()))
        if isinstance(m, dict) and m.get("type") == typ:
            return m


async def refused(url, **kw):
    """The HTTP status (and headers) a refused handshake gives."""
    try:
        async with connect(url, **kw):
            pass
    except websockets.exceptions.InvalidStatusCode as e:
        return e.status_code, e.headers
    raise AssertionError("handshake was accepted")


async def closed_with(ws, timeout):
    """Waits for the end of the session; returns the ConnectionClosed."""
    loop = asyncio.get_running_loop()
    end = loop.time() + scaled(timeout)
    while True:
        try:
            await asyncio.wait_for(ws.recv(), max(0.01, end - loop.time()))
        except websockets.exceptions.ConnectionClosed as e:
            return e


def check_frame(f, uid):
    assert isinstance(f, dict) and "type" not in f, f
    assert f["UID"] == uid, f
    assert TS_RE.match(f["TIMESTAMP"]), f["TIMESTAMP"]
    ts = time.strptime(f["TIMESTAMP"][:19], "%Y-%m-%dT%H:%M:%S")
    assert abs(calendar.timegm(ts) - time.time()) < 5, f["TIMESTAMP"]
    assert isinstance(f["SEQ"], int) and f["SEQ"] >= 1
    assert f["_sim_units"] == "ppb"
    for k in ("ENV_temperatureC", "ENV_humidity", "ENV_pressureHpa",
              "STATUS_opuA", "BATT_health", "BATT_v", "BATT_charge",
              "BATT_time"):
        assert isinstance(f[k], (int, float)), (k, f)
    assert 0 < f["BATT_charge"] <= 100 and 900 < f["ENV_pressureHpa"] < 1100
    for k, v in f.items():
        if k in COMPOUNDS:
            assert isinstance(v, (int, float)) and v > 0, (k, v)
    assert set(f) - COMPOUNDS - {
        "UID", "TIMESTAMP", "SEQ", "ENV_temperatureC", "ENV_humidity",
        "ENV_pressureHpa", "STATUS_opuA", "BATT_health", "BATT_v",
        "BATT_charge", "BATT_time", "_sim_units"} == set(), f


def write_keys(path, **over):
    """The test key store; over[name] = dict of members to change, or None
    to leave that key out."""
    keys = []
    base = {
        "good": {},
        "revoked": {"revoked": True},
        "expired": {"expires": "2001-01-01T00:00:00Z"},
        "elsewhere": {"allow": ["10.0.0.0/8", "192.0.2.1"]},
        "quota": {"quota": 6, "quota_window_s": 3600},
        "rotate": {"allow": ["127.0.0.0/8", "::1"]},
        "removed": {},
        "soon": {"expires": "2099-01-01T00:00:00+00:00"},
        "zero": {"quota": 0, "quota_window_s": 120},
    }
    for name, members in base.items():
        if name in over and over[name] is None:
            continue
        k = {"name": name, "key": KEYS[name]}
        k.update(members)
        k.update(over.get(name, {}))
        keys.append(k)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"keys": keys}, f)
    os.chmod(tmp, 0o600)
    os.rename(tmp, path)


# --- tests ----------------------------------------------------------------

def test_usage():
    bad = [["--rate", "0"], ["--rate", "1001"], ["--port", "70000"],
           ["--devices", "A,,B"], ["--devices", "A,A"], ["--bogus"],
           ["nosuchmode"], ["--host", "not-an-ip"], ["--stall-for", "0"],
           ["--malformed-every", "0"], ["--oversize-bytes", "10"],
           ["--port"], ["extra-arg-after", "--port", "0"]]
    for args in bad:
        p = subprocess.run([SIM] + args, capture_output=True, timeout=scaled(10))
        assert p.returncode == 64, (args, p.returncode, p.stderr)
        assert p.stderr.strip(), args
        assert not p.stdout, args
    p = subprocess.run([SIM, "--help"], capture_output=True, timeout=scaled(10))
    assert p.returncode == 0 and b"--drop-every" in p.stdout


def test_stream_and_requests():
    sim = Sim("--devices", "SCN001,SCN002", "--rate", "20", "--seed", "42",
              name="stream")
    try:
        async def main():
            async with connect(sim.url("?uid=SCN001")) as ws:
                assert ws.subprotocol == PROTO
                hello = await recv_json(ws)
                assert hello["type"] == "hello", hello
                assert hello["protocol"] == PROTO
                assert hello["uid"] == "SCN001"
                assert hello["devices"] == ["SCN001", "SCN002"]
                assert hello["rate_hz"] == 20
                assert hello["units"]["compounds"] == "ppb"
                assert hello["units"]["ENV_temperatureC"] == "degC"
                # Frames at once, at the rate, SEQ from 1 without gaps.
                first = await recv_json(ws, 1.0)
                t0 = time.monotonic()
                frames = [first] + [json.loads(m)
                                    for m in await collect(ws, 2.0)]
                for f in frames:
                    check_frame(f, "SCN001")
                assert [f["SEQ"] for f in frames] == \
                    list(range(1, len(frames) + 1))
                n = len(frames) - 1
                assert 30 <= n <= 50, "%d frames in 2 s at 20 Hz" % n
                assert time.monotonic() - t0 < scaled(3)

                # sample: one frame with the next SEQ, then the ack.
                await ws.send('{"type":"stream","on":false,"id":1}')
                ack = await next_typed(ws, "ack")
                assert ack == {"type": "ack", "id": 1, "request": "stream",
                               "on": False, "rate_hz": 20}, ack
                await collect(ws, 0.2)  # frames already in flight
                assert await collect(ws, 0.6) == [], "stream did not stop"
                await ws.send('{"type":"sample","id":2}')
                got = [json.loads(m) for m in await collect(ws, 0.5)]
                assert len(got) == 2, got
                check_frame(got[0], "SCN001")
                last_seq = got[0]["SEQ"]
                assert got[1] == {"type": "ack", "id": 2,
                                  "request": "sample"}, got
                await ws.send('{"type":"sample"}')  # no id: no ack
                got = [json.loads(m) for m in await collect(ws, 0.5)]
                assert len(got) == 1 and got[0]["SEQ"] == last_seq + 1, got

                # stream on at another rate.
                await ws.send(
                    '{"type":"stream","on":true,"rate_hz":50,"id":3}')
                msgs = [json.loads(m) for m in await collect(ws, 1.0)]
                acks = [m for m in msgs if m.get("type") == "ack"]
                assert acks == [{"type": "ack", "id": 3, "request": "stream",
                                 "on": True, "rate_hz": 50}], msgs
                n = len(msgs) - 1
                assert 35 <= n <= 65, "%d frames in 1 s at 50 Hz" % n

                # Invalid requests: errors, the session goes on.
                cases = [
                    ('{"type":"stream","rate_hz":0.01,"id":4}',
                     "bad_request", 4),
                    ('{"type":"stream","rate_hz":1001,"id":5}',
                     "bad_request", 5),
                    ('{"type":"stream","on":"yes","id":6}',
                     "bad_request", 6),
                    ('{"type":"stream","rate_hz":"fast","id":7}',
                     "bad_request", 7),
                    ('{"type":"calibrate","id":8}', "unknown_type", 8),
                    ('{"id":9}', "bad_request", 9),
                    ('{"type":"sample","id":"x"}', "bad_request", None),
                    ('[1,2]', "bad_request", None),
                    ('{"type":"sample",', "malformed", None),
                    ('not json at all', "malformed", None),
                ]
                for text, code, rid in cases:
                    await ws.send(text)
                    err = await next_typed(ws, "error")
                    assert err["code"] == code, (text, err)
                    assert isinstance(err["message"], str) and err["message"]
                    assert err.get("id") == rid, (text, err)
                await ws.send(b"\x01\x02")
                err = await next_typed(ws, "error")
                assert err["code"] == "bad_request", err
                pong = await ws.ping()
                await asyncio.wait_for(pong, scaled(2))

            # Device selection: header first, then the query parameter.
            async with connect(sim.url("?uid=SCN001"),
                               uid_header="SCN002") as ws:
                await next_typed(ws, "hello")
                check_frame(await recv_json(ws), "SCN002")
            async with connect(sim.url("?uid=SCN002")) as ws:
                assert (await recv_json(ws))["uid"] == "SCN002"
                check_frame(await recv_json(ws), "SCN002")
            async with connect(sim.url()) as ws:
                assert (await recv_json(ws))["uid"] == "SCN001"
            status, h = await refused(sim.url("?uid=SCN404"))
            assert status == 404, status
            status, h = await refused(sim.url(), uid_header="NOPE")
            assert status == 404, status

            # No subprotocol offered: served, no hello, frames at once.
            async with connect(sim.url(), proto=None) as ws:
                assert ws.subprotocol is None
                f = await recv_json(ws)
                check_frame(f, "SCN001")
                assert f["SEQ"] == 1
                await ws.send('{"type":"bogus","id":1}')
                msgs = [json.loads(m) for m in await collect(ws, 0.3)]
                assert all("type" not in m for m in msgs), msgs

            # Only unknown subprotocols offered: an HTTP answer, not a
            # silent hang-up.
            status, h = await refused(sim.url(), proto=("scentience.v9",))
            assert status == 400, status

            # Dev mode: any well-formed key; none or a bad one is 401.
            status, h = await refused(sim.url(), key=None)
            assert status == 401
            assert h["WWW-Authenticate"] == \
                'Bearer error="invalid_token", error_description="invalid"'
            status, h = await refused(sim.url(), key="short")
            assert status == 401

        run(main())
        reqs = [e["raw"] for e in sim.events("request")]
        assert '{"type":"sample","id":2}' in reqs, reqs
        assert 'not json at all' in reqs
        conns = sim.events("connect")
        assert conns[0]["peer"] == "127.0.0.1" and conns[0]["key"] == "dev"
        assert conns[0]["protocol"] == PROTO and conns[0]["uid"] == "SCN001"
        assert any(e["protocol"] is None for e in conns)
        closes = sim.events("close")
        assert closes[0]["code"] == 1000 and closes[0]["by"] == "client"
        assert closes[0]["frames_sent"] >= 70
        ref = sim.events("refused")
        assert {e["status"] for e in ref} == {400, 401, 404}, ref
        assert sim.events("listening")[0]["seed"] == "42"
        sim.stop()
        assert sim.events("exit"), "no exit event"
    finally:
        sim.kill()


def test_keys():
    keys = os.path.join(LOG_DIR, "sim-device-%d.keys.json" % os.getpid())
    os.makedirs(LOG_DIR, exist_ok=True)
    write_keys(keys)
    sim = Sim("--keys", keys, "--rate", "10", name="keys")
    try:
        async def main():
            url = sim.url("?uid=SCN001")
            async with connect(url, key=KEYS["good"]) as ws:
                assert (await recv_json(ws))["type"] == "hello"
                check_frame(await recv_json(ws), "SCN001")
            for name, desc in (("revoked", "revoked"),
                               ("expired", "expired")):
                status, h = await refused(url, key=KEYS[name])
                assert status == 401, (name, status)
                assert h["WWW-Authenticate"] == (
                    'Bearer error="invalid_token", '
                    'error_description="%s"' % desc), h
            status, h = await refused(url, key=UNKNOWN_KEY)
            assert status == 401
            assert 'error_description="invalid"' in h["WWW-Authenticate"]
            status, h = await refused(url, key=KEYS["elsewhere"])
            assert status == 403, status
            # An unknown device is reported before an exhausted quota.
            status, h = await refused(sim.url("?uid=X"), key=KEYS["zero"])
            assert status == 404, status
            status, h = await refused(url, key=KEYS["zero"])
            assert status == 429, status
            assert 100 <= int(h["Retry-After"]) <= 120, h

            # Quota of 6 frames: the session ends with 4029 after them,
            # and the next handshake is refused with 429 and Retry-After.
            async with connect(url, key=KEYS["quota"]) as ws:
                msgs = []
                try:
                    while True:
                        msgs.append(await asyncio.wait_for(ws.recv(), scaled(3)))
                except websockets.exceptions.ConnectionClosed as e:
                    assert e.code == 4029, e
                    m = re.fullmatch(r"quota exhausted; retry_after=(\d+)",
                                     e.reason)
                    assert m and 3500 < int(m.group(1)) <= 3600, e.reason
                frames = [m for m in map(json.loads, msgs) if "UID" in m]
                assert len(frames) == 6, msgs
            status, h = await refused(url, key=KEYS["quota"])
            assert status == 429 and 3500 < int(h["Retry-After"]) <= 3600

            # Expiry of an open session: closed with 4002 within ~1 s of
            # it. The expiry is set now, by a reload, so that a slow
            # machine does not see the key expire before it connects.
            write_keys(keys, soon={"expires": time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))})
            reloads = len(sim.events("reload"))
            sim.signal(signal.SIGHUP)
            sim.wait_event(lambda ev: ev["event"] == "reload"
                           and len(sim.events("reload")) > reloads)
            async with connect(url, key=KEYS["soon"]) as ws:
                e = await closed_with(ws, 8)
                assert e.code == 4002 and e.reason == "key expired", e

            # SIGHUP: a revoked and a removed key end their sessions with
            # 4001 at once; other sessions go on.
            async with connect(url, key=KEYS["rotate"]) as rot, \
                    connect(url, key=KEYS["removed"]) as rem, \
                    connect(url, key=KEYS["good"]) as good:
                for ws in (rot, rem, good):
                    await next_typed(ws, "hello")
                write_keys(keys, rotate={"revoked": True}, removed=None)
                t0 = time.monotonic()
                sim.signal(signal.SIGHUP)
                for ws in (rot, rem):
                    e = await closed_with(ws, 3)
                    assert e.code == 4001 and e.reason == "key revoked", e
                    assert e.rcvd is not None
                assert time.monotonic() - t0 < scaled(1.5)
                await collect(good, 0.3)
                assert good.open
                status, h = await refused(url, key=KEYS["rotate"])
                assert status == 401 and "revoked" in h["WWW-Authenticate"]
                status, h = await refused(url, key=KEYS["removed"])
                assert status == 401 and "invalid" in h["WWW-Authenticate"]

                # A broken file keeps the keys in use.
                with open(keys, "w") as f:
                    f.write('{"keys":[{"name":"x","key":')
                sim.signal(signal.SIGHUP)
                sim.wait_event(lambda ev: ev["event"] == "reload"
                               and ev["ok"] is False)
                await collect(good, 0.3)
                assert good.open
            async with connect(url, key=KEYS["good"]) as ws:
                assert (await recv_json(ws))["type"] == "hello"

        run(main(), 60)
        refs = sim.events("refused")
        assert {(e["status"], e["key"]) for e in refs} >= {
            (401, "revoked"), (401, "expired"), (401, None),
            (403, "elsewhere"), (429, "zero"), (429, "quota"),
            (404, "zero")}, refs
        codes = {(e["key"], e["code"]) for e in sim.events("close")}
        assert {("quota", 4029), ("soon", 4002), ("rotate", 4001),
                ("removed", 4001)} <= codes, codes
        sim.stop()
        # Keys never leave the simulator: names only.
        with open(sim.log) as f:
            text = f.read() + sim.stderr_text()
        for k in list(KEYS.values()) + [DEV_KEY, UNKNOWN_KEY]:
            assert k not in text, "a key leaked into the logs"
        assert "error" in [e for e in sim.events("reload")][-1]
    finally:
        sim.kill()
        for p in (keys, keys + ".tmp"):
            if os.path.exists(p):
                os.unlink(p)


def test_signal_faults():
    sim = Sim("--rate", "20", "--stall-for", "3", name="signals")
    try:
        async def main():
            url = sim.url()
            async with connect(url) as ws:
                await next_typed(ws, "hello")
                await asyncio.wait_for(await ws.ping(), scaled(2))
                await collect(ws, 0.3)
                sim.signal(signal.SIGUSR1)
                sim.wait_event(lambda ev: ev["event"] == "fault"
                               and ev["kind"] == "stall")
                t0 = time.monotonic()
                await collect(ws, 0.2)  # what was already on the way
                pong = await ws.ping()
                # A connection opened during the stall is served.
                async with connect(url) as other:
                    await next_typed(other, "hello")
                    assert len(await collect(other, 0.5)) >= 5
                got = await collect(ws, 0.5)
                assert got == [] and not pong.done(), "stalled peer spoke"
                await asyncio.wait_for(pong, scaled(4))
                assert time.monotonic() - t0 > 2.0
                frames = [json.loads(m) for m in await collect(ws, 0.5)]
                assert len(frames) >= 5, frames
                seqs = [f["SEQ"] for f in frames]
                assert seqs == sorted(seqs)
                # Frames due during the stall were skipped: a SEQ gap.
                assert frames[0]["SEQ"] > 40, seqs

                sim.signal(signal.SIGUSR2)
                e = await closed_with(ws, 3)
                assert e.code == 1006 and e.rcvd is None, e
            ev = sim.wait_event(lambda ev: ev["event"] == "close"
                                and ev["by"] == "fault")
            assert ev["code"] == 1006 and ev["frames_skipped"] > 10, ev

        run(main())
        sim.stop()
    finally:
        sim.kill()


def test_timed_faults():
    sim = Sim("--rate", "50", "--malformed-every", "3", "--oversize-every",
              "4", "--oversize-bytes", "4096", "--seed", "9", name="faulty")
    try:
        async def main():
            async with connect(sim.url()) as ws:
                await next_typed(ws, "hello")
                return await collect(ws, 0.7)
        msgs = run(main())
        seq = 0
        kinds = []
        oversize = []
        for m in msgs:
            try:
                v = json.loads(m)
            except ValueError:
                v = None
            if isinstance(v, dict) and v.get("type") == "_sim_oversize":
                assert len(m.encode()) == 4096, len(m)
                assert v["seq"] == seq and seq % 4 == 0, (v["seq"], seq)
                oversize.append(v["seq"])
                continue
            seq += 1
            if seq % 3:
                check_frame(v, "SCN001")
                assert v["SEQ"] == seq
                continue
            if v is None:
                kinds.append("truncated")
            elif not isinstance(v, dict):
                kinds.append("not_object")
            elif "UID" not in v:
                kinds.append("missing_uid")
                assert v["SEQ"] == seq
            else:
                assert v["CO2"] == "high", v
                kinds.append("wrong_type")
        assert seq >= 20, seq
        assert kinds[:4] == ["truncated", "not_object", "wrong_type",
                             "missing_uid"], kinds
        assert oversize[:3] == [4, 8, 12], oversize
        faults = sim.events("fault")
        assert any(f["kind"] == "malformed" for f in faults)
        assert any(f["kind"] == "oversize" and f["bytes"] == 4096
                   for f in faults)
        sim.stop()
    finally:
        sim.kill()

    # Default oversize: 2 MiB, valid JSON.
    sim = Sim("--rate", "20", "--oversize-every", "2", name="oversize")
    try:
        async def big():
            async with connect(sim.url(), max_size=None) as ws:
                while True:
                    m = await asyncio.wait_for(ws.recv(), scaled(3))
                    if '"_sim_oversize"' in m[:64]:
                        return m
        m = run(big())
        assert len(m.encode()) == 2 * 1024 * 1024
        assert json.loads(m)["type"] == "_sim_oversize"
        sim.stop()
    finally:
        sim.kill()

    # Periodic drops and stalls, then exit by --duration.
    sim = Sim("--rate", "50", "--drop-every", "0.8", "--stall-every", "0.5",
              "--stall-for", "0.3", "--duration", "2.5", name="periodic")
    try:
        async def periodic():
            async with connect(sim.url()) as ws:
                e = await closed_with(ws, 3)
                assert e.code == 1006 and e.rcvd is None, e
        run(periodic())
        kinds = {(f["kind"], f["source"]) for f in sim.events("fault")}
        assert ("drop", "drop-every") in kinds, kinds
        assert ("stall", "stall-every") in kinds, kinds
        rc = sim.proc.wait(scaled(6))
        assert rc == 0, rc
        sim.check_stderr()
        assert sim.events("exit")
    finally:
        sim.kill()


def test_slow_reader():
    """A client that stops reading: the simulator skips frames instead of
    buffering them, and the reader sees SEQ gaps once it reads again."""
    sim = Sim("--rate", "1000", "--oversize-every", "10",
              "--oversize-bytes", "65536", name="slow")
    sock = None
    try:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(scaled(5))
        sock.connect(("127.0.0.1", sim.port))
        sock.sendall((
            "GET /?uid=SCN001 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "Authorization: Bearer %s\r\n\r\n" % DEV_KEY).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            b = sock.recv(1)
            assert b, "closed during handshake"
            head += b
        assert head.startswith(b"HTTP/1.1 101"), head
        time.sleep(3)  # not reading: the socket fills up
        ev = sim.events("connect")
        assert ev, "no connect event"
        sock.close()
        sock = None
        ev = sim.wait_event(lambda e: e["event"] == "close")
        assert ev["frames_skipped"] > 1000, ev
        assert ev["frames_sent"] < 2000, ev
        sim.stop()
    finally:
        if sock:
            sock.close()
        sim.kill()


TESTS = [test_usage, test_stream_and_requests, test_keys,
         test_signal_faults, test_timed_faults, test_slow_reader]


if __name__ == "__main__":
    sys.exit(simproc.run_tests(TESTS, need=(SIM,)))
