"""scn-sim cloud mode, driven from outside by an independent client.

Starts the real scn-sim cloud on an ephemeral loopback port and talks to it
with Debian's python3-websockets and urllib: the /v1/stream handshake,
hello and its acked value per (key, stream), inferences from the toy model,
cumulative acks, duplicates after a resend, malformed records, quota and
revocation, POST /v1/predict with its statuses, the 429 mode and the
SIGUSR1/SIGUSR2 faults (PROTOCOL.md section 9). Every wait is bounded;
every simulator is killed in a finally block.

Environment: SCN_BIN_DIR (the build's apps dir, holding scn-sim) and
SCN_LOG_DIR (where simulator logs go; created). Run with /usr/bin/python3.
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import websockets
import websockets.client
import websockets.exceptions

import simproc
from simproc import LOG_DIR, SIM

PROTO = "scentience.cloud.v1"
DEV_KEY = "SCN_TEST_simclouddev0000012"
KEYS = {
    "good": "SCN_TEST_simcloudgood000013",
    "quota": "SCN_TEST_simcloudquota00014",
}
STREAM = "6f1c0e" + "0" * 26


class Sim(simproc.Sim):
    """One scn-sim cloud process on an ephemeral port."""

    MODE = ("cloud",)
    LOG_PREFIX = "cloud-"
    SECRETS = tuple(KEYS.values()) + (DEV_KEY,)

    def __init__(self, *args, name="cloud"):
        super().__init__(*args, name=name)

    def url(self, path="v1/stream"):
        return super().url(path)

    def http(self, path="v1/predict"):
        return "http://127.0.0.1:%d/%s" % (self.port, path)


def run(coro, timeout=30):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def connect(url, key=DEV_KEY, stream=STREAM, proto=(PROTO,), query=False):
    headers = {}
    if key is not None:
        headers["Authorization"] = "Bearer " + key
    if stream is not None and not query:
        headers["X-Scentience-Stream"] = stream
    if stream is not None and query:
        url += "?stream=" + stream
    return websockets.client.connect(
        url, subprotocols=list(proto) if proto else None,
        extra_headers=headers, open_timeout=5, close_timeout=2,
        ping_interval=None)


async def refusal(url, **kw):
    try:
        async with connect(url, **kw):
            pass
    except websockets.exceptions.InvalidStatusCode as e:
        return e.status_code, e.headers
    raise AssertionError("handshake was not refused")


async def recv_json(ws, timeout=2.0):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def quiet(ws, seconds):
    """Asserts that nothing arrives for seconds."""
    try:
        m = await asyncio.wait_for(ws.recv(), seconds)
    except asyncio.TimeoutError:
        return
    raise AssertionError("unexpected message %r" % m)


def frame(values, uid="SCN001"):
    f = {"UID": uid, "TIMESTAMP": "2025-08-29T21:00:00.250Z",
         "ENV_temperatureC": 21.5}
    f.update(values)
    return f


def record(seq, values, state=None):
    r = {"type": "frame", "seq": seq, "frame": frame(values)}
    if state is not None:
        r["state"] = state
        r["state_age_ms"] = 40
    return json.dumps(r)


# Dominant compound and its share of the sum of compound values.
INPUTS = [
    ({"NH3": 270, "CO": 1275, "VOC": 2917}, "VOC", 0.654),
    ({"NH3": 900, "CO": 100}, "NH3", 0.9),
    ({"H2S": 5}, "H2S", 1.0),
    ({"CO2": 400, "CH4": 1600}, "CH4", 0.8),
    ({"NO2": 30, "SO2": 10, "HCHO": 10}, "NO2", 0.6),
]
# A drone may name a member as the client names its own (9.3): it is the
# drone's, inside "state".
STATE = {"x": 120, "y": -30, "h": 150, "yaw": 45, "age_ms": 7}


async def expect_inference_and_ack(ws, seq, label, score, with_state):
    inf = await recv_json(ws)
    assert inf["type"] == "inference", inf
    assert inf["seq"] == seq and inf["model"] == "olfa-toy-1", inf
    assert inf["labels"] == [{"label": label, "score": score}], inf
    assert inf["target"]["compound"] == label, inf
    if with_state:
        b = inf["target"]["bearing_deg"]
        assert 0 <= b < 360, inf
    else:
        assert "bearing_deg" not in inf["target"], inf
    ack = await recv_json(ws)
    assert ack == {"type": "ack", "seq": seq}, ack
    return inf


def test_stream():
    sim = Sim(name="stream")
    try:
        async def main():
            async with connect(sim.url()) as ws:
                assert ws.subprotocol == PROTO
                hello = await recv_json(ws)
                assert hello == {"type": "hello", "protocol": PROTO,
                                 "models": ["olfa-toy-1"], "stream": STREAM,
                                 "acked": 0}, hello
                bearings = []
                for i, (vals, label, score) in enumerate(INPUTS):
                    st = STATE if i % 2 == 0 else None
                    await ws.send(record(i + 1, vals, st))
                    inf = await expect_inference_and_ack(
                        ws, i + 1, label, score, st is not None)
                    if st is not None:
                        bearings.append(
                            (label, inf["target"]["bearing_deg"]))
                # Resend of acked records: no inference, the ack again.
                for seq in (3, 4, 5):
                    await ws.send(record(seq, INPUTS[0][0]))
                    assert await recv_json(ws) == {"type": "ack", "seq": 5}
                # A malformed record is consumed: error, then the ack.
                await ws.send(json.dumps({"type": "frame", "seq": 6,
                                          "frame": {"NH3": 1}}))
                err = await recv_json(ws)
                assert err["type"] == "error" and err["code"] == "malformed"
                assert err["seq"] == 6 and "UID" in err["message"], err
                assert await recv_json(ws) == {"type": "ack", "seq": 6}
                await ws.send("not json")
                err = await recv_json(ws)
                assert err["code"] == "malformed" and "seq" not in err, err
                # The session stays.
                await ws.send(record(7, INPUTS[1][0], STATE))
                await expect_inference_and_ack(ws, 7, "NH3", 0.9, True)
                await quiet(ws, 0.3)
            # Same stream, stream id by query: acked where it was.
            async with connect(sim.url(), query=True) as ws:
                hello = await recv_json(ws)
                assert hello["acked"] == 7 and hello["stream"] == STREAM
                await ws.send(record(7, INPUTS[1][0]))
                assert await recv_json(ws) == {"type": "ack", "seq": 7}
                await ws.send(record(8, INPUTS[0][0], STATE))
                inf = await expect_inference_and_ack(ws, 8, "VOC", 0.654,
                                                     True)
                # Deterministic: same state, same compound, same bearing.
                assert ("VOC", inf["target"]["bearing_deg"]) == bearings[0]
            # Another stream starts from nothing.
            async with connect(sim.url(), stream="f" * 32) as ws:
                assert (await recv_json(ws))["acked"] == 0
                await ws.send(record(1, INPUTS[2][0]))
                await expect_inference_and_ack(ws, 1, "H2S", 1.0, False)
            # Handshake refusals.
            st, _ = await refusal(sim.url(), proto=None)
            assert st == 400
            st, _ = await refusal(sim.url(), proto=("scentience.v1",))
            assert st == 400
            st, h = await refusal(sim.url(), key=None)
            assert st == 401 and "invalid" in h["WWW-Authenticate"]
            st, _ = await refusal(sim.url(), stream=None)
            assert st == 400
            st, _ = await refusal(sim.url("v1/other"))
            assert st == 404

        run(main())
        acc = [e["seq"] for e in sim.events("accepted")
               if e["stream"] == STREAM]
        assert acc == [1, 2, 3, 4, 5, 7, 8], acc
        first = [e for e in sim.events("accepted") if e["stream"] == STREAM][0]
        assert first["state"] == STATE, first
        assert first["state_age_ms"] == 40, first
        dup = [e["seq"] for e in sim.events("duplicate")]
        assert dup == [3, 4, 5, 7], dup
        assert len(sim.events("malformed")) == 2
        sim.stop()
    finally:
        sim.kill()


def post(sim, body, key=DEV_KEY, path="v1/predict"):
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = "Bearer " + key
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    req = urllib.request.Request(sim.http(path), data=body, headers=headers,
                                 method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.headers, json.loads(r.read())
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, e.headers, json.loads(raw) if raw else None


def test_predict():
    sim = Sim(name="predict")
    try:
        for vals, label, score in INPUTS:
            st, _, body = post(sim, {"input": frame(vals)})
            assert st == 200, (st, body)
            assert body == {"type": "inference", "model": "olfa-toy-1",
                            "labels": [{"label": label, "score": score}],
                            "target": {"compound": label}}, body
        st, _, body = post(sim, {"input": frame({})})
        assert st == 200 and body["labels"] == [] and "target" not in body
        st, h, body = post(sim, {"input": frame({"NH3": 1})}, key=None)
        assert st == 401 and body["code"] == "invalid", body
        assert 'error_description="invalid"' in h["WWW-Authenticate"]
        for bad in (b"{", b"[]", {"nope": 1}, {"input": {"NH3": 3}},
                    {"input": frame({"NH3": "x"})}):
            st, _, body = post(sim, bad)
            assert st == 400 and body["code"] == "malformed", (bad, body)
        st, _, body = post(sim, {"input": frame({"NH3": 1}),
                                 "pad": "x" * 70000})
        assert st == 413 and body["code"] == "too_big", body
        st, _, _ = post(sim, {"input": frame({"NH3": 1})}, path="v1/other")
        assert st == 404
        # The connection-level machinery still works after all that.
        st, _, body = post(sim, {"input": frame({"CO": 5})})
        assert st == 200 and body["labels"][0]["label"] == "CO"
        assert [e["status"] for e in sim.events("predict")].count(200) == 7
        sim.stop()
    finally:
        sim.kill()


def test_refuse_429():
    sim = Sim("--refuse-429-for", "30", name="r429")
    try:
        async def main():
            st, h = await refusal(sim.url())
            assert st == 429 and 1 <= int(h["Retry-After"]) <= 30, h

        run(main())
        st, h, body = post(sim, {"input": frame({"NH3": 1})})
        assert st == 429 and body["code"] == "quota", body
        assert 1 <= int(h["Retry-After"]) <= 30
        assert body["retry_after"] == int(h["Retry-After"])
        sim.stop()
    finally:
        sim.kill()


def write_keys(path, revoked=False):
    keys = [{"name": "good", "key": KEYS["good"], "revoked": revoked},
            {"name": "quota", "key": KEYS["quota"], "quota": 3,
             "quota_window_s": 3600}]
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"keys": keys}, f)
    os.rename(tmp, path)


def test_keys():
    keys = os.path.join(LOG_DIR, "sim-cloud-%d.keys.json" % os.getpid())
    os.makedirs(LOG_DIR, exist_ok=True)
    write_keys(keys)
    sim = Sim("--keys", keys, name="keys")
    try:
        async def main():
            st, _ = await refusal(sim.url(), key=DEV_KEY)
            assert st == 401
            # Acked is kept per (key, stream): another key, same stream id.
            async with connect(sim.url(), key=KEYS["quota"]) as ws:
                assert (await recv_json(ws))["acked"] == 0
                for seq in (1, 2, 3):
                    await ws.send(record(seq, INPUTS[1][0]))
                    await expect_inference_and_ack(ws, seq, "NH3", 0.9,
                                                   False)
                await ws.send(record(4, INPUTS[1][0]))
                err = await recv_json(ws)
                assert err["code"] == "quota" and err["retry_after"] >= 1
                try:
                    await asyncio.wait_for(ws.recv(), 3)
                    raise AssertionError("no close after quota")
                except websockets.exceptions.ConnectionClosed:
                    pass
                assert ws.close_code == 4029, ws.close_code
                assert ws.close_reason == "retry_after=%d" % err[
                    "retry_after"], ws.close_reason
            async with connect(sim.url(), key=KEYS["good"]) as ws:
                assert (await recv_json(ws))["acked"] == 0
                await ws.send(record(1, INPUTS[0][0]))
                await expect_inference_and_ack(ws, 1, "VOC", 0.654, False)
                write_keys(keys, revoked=True)
                sim.proc.send_signal(signal.SIGHUP)
                err = await recv_json(ws, 3)
                assert err["code"] == "revoked", err
                try:
                    await asyncio.wait_for(ws.recv(), 3)
                    raise AssertionError("no close after revocation")
                except websockets.exceptions.ConnectionClosed:
                    pass
                assert ws.close_code == 4001, ws.close_code
            st, h = await refusal(sim.url(), key=KEYS["good"])
            assert st == 401 and "revoked" in h["WWW-Authenticate"]

        run(main())
        sim.stop()
    finally:
        sim.kill()
        for p in (keys, keys + ".tmp"):
            if os.path.exists(p):
                os.unlink(p)


def test_signal_faults():
    sim = Sim("--stall-for", "1", name="signals")
    try:
        async def main():
            async with connect(sim.url()) as ws:
                await recv_json(ws)
                await ws.send(record(1, INPUTS[0][0]))
                await expect_inference_and_ack(ws, 1, "VOC", 0.654, False)
                sim.proc.send_signal(signal.SIGUSR2)
                try:
                    await asyncio.wait_for(ws.recv(), 3)
                    raise AssertionError("not dropped")
                except websockets.exceptions.ConnectionClosed:
                    pass
                assert ws.close_code == 1006, ws.close_code
            sim.wait_event(lambda e: e["event"] == "fault" and
                           e["kind"] == "drop" and e["conns"] == 1)
            # The ack survives the drop.
            async with connect(sim.url()) as ws:
                assert (await recv_json(ws))["acked"] == 1
                sim.proc.send_signal(signal.SIGUSR1)
                sim.wait_event(lambda e: e["event"] == "fault" and
                               e["kind"] == "stall")
                await ws.send(record(2, INPUTS[1][0]))
                await quiet(ws, 0.5)  # stalled: no answer yet
                await expect_inference_and_ack(ws, 2, "NH3", 0.9, False)

        run(main())
        sim.stop()
    finally:
        sim.kill()


def test_usage():
    for args in (["--port", "70000"], ["--bogus"], ["--host", "nope"],
                 ["--stall-for", "0"], ["--refuse-429-for", "x"]):
        p = subprocess.run([SIM, "cloud"] + args, capture_output=True,
                           timeout=5)
        assert p.returncode == 64, (args, p.returncode)
    p = subprocess.run([SIM, "cloud", "--help"], capture_output=True,
                       timeout=5)
    assert p.returncode == 0 and b"/v1/predict" in p.stdout


TESTS = [test_usage, test_stream, test_predict, test_refuse_429, test_keys,
         test_signal_faults]


if __name__ == "__main__":
    sys.exit(simproc.run_tests(TESTS, need=(SIM,)))
