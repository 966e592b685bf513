"""Dashboard subscribers for bench/run's companion workload: N WebSocket
connections to the companion's live fan-out (docs/PROTOCOL.md section 10),
each subscribed to every stream ("*") and parsing every message, as a
dashboard would; and F Foxglove clients (section 11.2) on the same port,
each subscribed to every advertised channel and parsing every message
(its binary header and JSON payload), as Foxglove would.

    live_subscribers.py --url ws://127.0.0.1:PORT/live [--count 50]
                        [--foxglove F] [--seconds S]

Prints one line "ready {...}" once every connection was subscribed or
refused, then, at the end (after S seconds, or on SIGTERM), one JSON line
with what the subscribers saw. Run with /usr/bin/python3 (Debian's
websockets).
"""

import argparse
import asyncio
import json
import signal
import struct
import sys
import time

import websockets

SUBPROTOCOL = "scentience.live.v1"
FOXGLOVE = "foxglove.websocket.v1"


class Stats:
    def __init__(self):
        self.subscribed = 0
        self.refused = 0
        self.refusals = {}
        self.closed = 0
        self.messages = 0
        self.by_stream = {}
        self.dropped_notices = 0
        self.dropped_total = 0


async def subscriber(url, st, ready):
    try:
        # No pings: the companion's keepalive is not what is measured.
        async with websockets.connect(url, subprotocols=[SUBPROTOCOL],
                                      ping_interval=None,
                                      max_size=1 << 20) as ws:
            await ws.send(json.dumps({"type": "subscribe",
                                      "streams": ["*"]}))
            answered = False
            async for raw in ws:
                m = json.loads(raw)
                t = m.get("type")
                if t == "message":
                    st.messages += 1
                    s = m.get("stream")
                    st.by_stream[s] = st.by_stream.get(s, 0) + 1
                elif t == "subscribed" and not answered:
                    answered = True
                    st.subscribed += 1
                    ready.release()
                elif t == "dropped":
                    st.dropped_notices += 1
                    st.dropped_total = max(st.dropped_total,
                                           m.get("total", 0))
            if not answered:
                st.refused += 1
                ready.release()
            else:
                st.closed += 1
    except (OSError, websockets.exceptions.WebSocketException) as e:
        # Past the server's max_subscribers: refused at the handshake or
        # closed before the answer.
        st.refused += 1
        k = type(e).__name__
        st.refusals[k] = st.refusals.get(k, 0) + 1
        ready.release()


async def foxglove(url, st, ready):
    """One Foxglove client: subscribes to every channel as it is
    advertised; counts message data by topic."""
    topics, subs = {}, {}
    try:
        async with websockets.connect(url, subprotocols=[FOXGLOVE],
                                      ping_interval=None,
                                      max_size=1 << 20) as ws:
            answered = False
            async for raw in ws:
                if isinstance(raw, bytes):
                    if raw[0] != 1:
                        continue
                    sub, _ts = struct.unpack_from("<IQ", raw, 1)
                    json.loads(raw[13:])
                    st.messages += 1
                    t = topics.get(subs.get(sub))
                    st.by_stream[t] = st.by_stream.get(t, 0) + 1
                    continue
                m = json.loads(raw)
                if m.get("op") == "advertise":
                    req = []
                    for ch in m["channels"]:
                        topics[ch["id"]] = ch["topic"]
                        subs[len(subs) + 1] = ch["id"]
                        req.append({"id": len(subs), "channelId": ch["id"]})
                    await ws.send(json.dumps({"op": "subscribe",
                                              "subscriptions": req}))
                    if not answered:
                        answered = True
                        st.subscribed += 1
                        ready.release()
            if not answered:
                st.refused += 1
                ready.release()
            else:
                st.closed += 1
    except (OSError, websockets.exceptions.WebSocketException) as e:
        st.refused += 1
        k = type(e).__name__
        st.refusals[k] = st.refusals.get(k, 0) + 1
        ready.release()


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--count", type=int, default=50)
    p.add_argument("--foxglove", type=int, default=0,
                   help="Foxglove clients besides the --count dashboards")
    p.add_argument("--seconds", type=float, default=0,
                   help="stop after S seconds (0: at SIGTERM)")
    a = p.parse_args()

    st = Stats()
    ready = asyncio.Semaphore(0)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    fg_url = a.url.rsplit("/live", 1)[0] + "/"
    tasks = [asyncio.create_task(subscriber(a.url, st, ready))
             for _ in range(a.count)]
    tasks += [asyncio.create_task(foxglove(fg_url, st, ready))
              for _ in range(a.foxglove)]
    for _ in range(a.count + a.foxglove):
        await ready.acquire()
    t0 = time.monotonic()
    m0 = st.messages
    print("ready " + json.dumps({"subscribed": st.subscribed,
                                 "refused": st.refused}), flush=True)
    if a.seconds > 0:
        try:
            await asyncio.wait_for(stop.wait(), a.seconds)
        except asyncio.TimeoutError:
            pass
    else:
        await stop.wait()
    dt = time.monotonic() - t0
    # What was seen goes out first: closing 50 busy connections (each
    # waits for the server's close frame) may take longer than the
    # caller waits.
    print(json.dumps({
        "requested": a.count + a.foxglove, "foxglove": a.foxglove,
        "subscribed": st.subscribed,
        "refused": st.refused, "refusals": st.refusals,
        "closed_by_server": st.closed,
        "seconds": round(dt, 3),
        "messages": st.messages - m0,
        "messages_per_s": round((st.messages - m0) / dt, 1) if dt else 0,
        "by_stream": st.by_stream,
        "dropped_notices": st.dropped_notices,
        "dropped_total": st.dropped_total}), flush=True)
    for t in tasks:
        t.cancel()
    await asyncio.wait(tasks, timeout=10)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
