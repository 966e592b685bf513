"""A dashboard for tests/integration/test_fanout.c.

Debian's python3-websockets (10.4) subscribes to an scn_fanout endpoint, one
mode per run, prints one result line per fact the C test waits for
("SUBSCRIBED", "DONE 812", "CLOSE 1013 ...") and records what it received
to a file, one message per line, for the C test to check. Every wait is
bounded: what the fan-out does, by this peer; what the C test does next,
by the test (which waits for this output, and kills the peer).

Usage: fanout_peer.py MODE PORT [ARGS...]
  fast PORT OUT STREAMS    subscribe (STREAMS comma-separated), record every
                           message until one whose data has "end"
  late PORT OUT            subscribe to "events"; on an events message with
                           "go", subscribe to olfaction,events; record until
                           "end"
  stall PORT HOLD STREAMS  subscribe, stop reading for HOLD seconds, then
                           read until an "end" message (END n DROPPED k)
                           or the connection ends (CLOSE code n DROPPED k)
  garbage PORT OUT         malformed requests (each must get an error), then
                           as fast with "events"
  noproto PORT             connect without offering the subprotocol
"""

import asyncio
import json
import socket
import sys

import websockets
import websockets.exceptions

from simproc import scaled

# What the fan-out does in answer to the peer has a deadline; what the C
# test does next (publish) has none here: the test bounds it, waiting for
# this peer's output, and the peer dies with it.
TIMEOUT = scaled(20)
PROTO = "scentience.live.v1"


def say(*words):
    """One result line, in one write (print would write each word on its
    own under PYTHONUNBUFFERED)."""
    sys.stdout.write(" ".join(str(w) for w in words) + "\n")
    sys.stdout.flush()


def close_code(exc):
    rcvd = getattr(exc, "rcvd", None)
    return rcvd.code if rcvd else 1006


async def connect(port, sock=None, **kw):
    kw.setdefault("subprotocols", [PROTO])
    return await websockets.connect(
        "ws://127.0.0.1:%d/live" % port, sock=sock, compression=None,
        ping_interval=None, open_timeout=TIMEOUT, max_size=None, **kw)


async def recv_json(ws):
    return json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))


async def subscribe(ws, streams, kind="subscribe"):
    await ws.send(json.dumps({"type": kind, "streams": streams}))
    # Messages of the old set may still be ahead of the answer.
    while True:
        m = await recv_json(ws)
        if m.get("type") == "subscribed":
            return m


def is_end(m):
    d = m.get("data")
    return m.get("type") == "message" and isinstance(d, dict) and "end" in d


async def record(ws, out, count=0):
    with open(out, "a") as f:
        while True:
            raw = await ws.recv()  # at the test's pace
            f.write(raw + "\n")
            f.flush()
            m = json.loads(raw)
            if is_end(m):
                break
            count += 1
    say("DONE", count)
    await ws.close()


async def mode_fast(port, out, streams):
    ws = await connect(port)
    got = await subscribe(ws, streams.split(","))
    say("SUBSCRIBED", ",".join(got["streams"]))
    await record(ws, out)


async def mode_late(port, out):
    ws = await connect(port)
    await subscribe(ws, ["events"])
    say("SUBSCRIBED events")
    while True:
        m = json.loads(await ws.recv())  # at the test's pace
        if m.get("type") == "message" and "go" in m.get("data", {}):
            break
    got = await subscribe(ws, ["olfaction", "events"])
    say("SUBSCRIBED", ",".join(got["streams"]))
    await record(ws, out)


async def mode_stall(port, hold, streams):
    """A small receive buffer and a one-message queue make TCP push back on
    the server almost at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(TIMEOUT)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    ws = await connect(port, sock=sock, max_queue=1, read_limit=4096)
    await subscribe(ws, streams.split(","))
    say("SUBSCRIBED")
    await asyncio.sleep(float(hold))
    n = dropped = 0
    try:
        while True:
            m = await recv_json(ws)
            if m.get("type") == "dropped":
                dropped += 1
            elif is_end(m):
                say("END", n, "DROPPED", dropped)
                await ws.close()
                return
            else:
                n += 1
    except websockets.exceptions.ConnectionClosed as e:
        say("CLOSE", close_code(e), n, "DROPPED", dropped)


BAD = [
    "not json",
    b"\x00\x01binary",
    "[1, 2]",
    '{"streams": ["olfaction"]}',
    '{"type": 5}',
    '{"type": "frobnicate"}',
    '{"type": "subscribe"}',
    '{"type": "subscribe", "streams": "olfaction"}',
    '{"type": "subscribe", "streams": ["bad name!"]}',
    '{"type": "subscribe", "streams": [1]}',
    '{"type": "unsubscribe", "streams": ["' + "x" * 64 + '"]}',
]


async def mode_garbage(port, out):
    ws = await connect(port)
    codes = []
    for req in BAD:
        await ws.send(req)
        m = await recv_json(ws)
        if m.get("type") != "error" or not m.get("message"):
            say("UNEXPECTED", json.dumps(m))
            return
        codes.append(m["code"])
    say("ERRORS", len(codes), " ".join(codes))
    got = await subscribe(ws, ["events"])
    say("SUBSCRIBED", ",".join(got["streams"]))
    await record(ws, out)


async def mode_noproto(port):
    try:
        ws = await connect(port, subprotocols=None)
        say("OPEN")
        await ws.close()
    except websockets.exceptions.InvalidStatusCode as e:
        say("STATUS", e.status_code)


def main():
    mode, port, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    fn = {"fast": mode_fast, "late": mode_late, "stall": mode_stall,
          "garbage": mode_garbage, "noproto": mode_noproto}[mode]
    asyncio.run(fn(port, *args))


if __name__ == "__main__":
    main()
