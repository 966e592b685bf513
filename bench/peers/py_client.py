"""Python peer for bench/: Debian's `websockets` with `json.loads`.

What a Python user would write: an asyncio client that parses every frame
into a dict and reads one field. Same command line and result line as the
C clients (bench/bench_common.h). Run with /usr/bin/python3 so that the
Debian package is the one measured.
"""

import argparse
import asyncio
import json
import resource
import sys
import time

import websockets
import websockets.legacy.client

SENT_KEY = "_bench_sent_ns"
LISTEN_KEY = "_bench_listen_ns"
CHECK_EVERY = 64


def cpu_s():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def dist(samples, unit, with_samples=False):
    out = {"n": len(samples)}
    if samples:
        s = sorted(samples)

        def pct(p):
            # Nearest rank, as bench_common.c.
            rank = max(1, min(len(s), -(-len(s) * p // 100)))
            return s[int(rank) - 1] / unit

        out.update(p50=pct(50), p90=pct(90), p99=pct(99), max=s[-1] / unit)
        if with_samples:
            out["samples"] = [v / unit for v in s]
    return out


class MinimalBackoff(websockets.legacy.client.Connect):
    """The library's own reconnecting iterator (`async for ws in
    connect(...)`, websockets >= 10), its backoff set to the minimum: the
    class attributes are its only knobs. With BACKOFF_MIN equal to
    BACKOFF_MAX and a factor of 1 every retry takes the first branch, a
    uniform random wait of up to BACKOFF_INITIAL seconds, 1 ms here like
    libscentience's floor."""

    BACKOFF_MIN = 0.001
    BACKOFF_MAX = 0.001
    BACKOFF_FACTOR = 1.0
    BACKOFF_INITIAL = 0.001


def connect_kwargs():
    return dict(
        subprotocols=["scentience.v1"],
        compression=None,
        max_size=1 << 20,
        ping_interval=None,
        # A flooding server is slow to answer a close: do not wait on it.
        close_timeout=0.2,
    )


def new_state():
    return dict(frames=0, t0=0, t1=0, cpu0=0.0, cpu1=0.0, rss0=-1, conns=0)


async def run(a, st, lat, rec):
    """Fills st, lat and rec as it goes, so that a run cut short by the
    time limit still reports what it saw."""
    window = int(a.seconds * 1e9)
    touched = 0.0

    def start():
        st["t0"] = time.monotonic_ns()
        st["cpu0"] = cpu_s()
        st["rss0"] = status_kib("VmRSS")

    def finish():
        if not st["t1"]:
            st["t1"] = time.monotonic_ns()
            st["cpu1"] = cpu_s()

    if a.mode == "reconnect":
        async for ws in MinimalBackoff(a.url, **connect_kwargs()):
            try:
                async for msg in ws:
                    obj = json.loads(msg)
                    touched += obj.get("NH3", 0.0)
                    st["frames"] += 1
                    if st["frames"] == 1:
                        start()
                    if obj.get("SEQ") == 1:
                        # First frame of a connection; the first connection
                        # is not a reconnect.
                        if st["conns"] > 0:
                            rec.append(time.monotonic_ns() - obj[LISTEN_KEY])
                        st["conns"] += 1
                        if st["conns"] > a.reconnects:
                            finish()
                            return
            except websockets.ConnectionClosed:
                continue
        return

    async with websockets.connect(a.url, **connect_kwargs()) as ws:
        async for msg in ws:
            obj = json.loads(msg)
            touched += obj.get("NH3", 0.0)
            st["frames"] += 1
            if st["frames"] == 1:
                start()
            if a.mode == "latency":
                now = time.monotonic_ns()
                lat.append(now - obj[SENT_KEY])
                if now - st["t0"] >= window:
                    finish()
                    break
                continue
            if a.mode == "slow" and a.sleep_us:
                # The idiomatic slow consumer: the event loop stays free,
                # the library's reader fills its bounded queue (max_queue).
                await asyncio.sleep(a.sleep_us / 1e6)
            if (
                st["frames"] % CHECK_EVERY == 0
                and time.monotonic_ns() - st["t0"] >= window
            ):
                break
        # Measured up to here: the close handshake is not part of it.
        finish()


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--url", required=True)
    p.add_argument(
        "--mode", default="ingest",
        choices=["ingest", "latency", "reconnect", "slow"])
    p.add_argument("--seconds", type=float, default=3)
    p.add_argument("--reconnects", type=int, default=50)
    p.add_argument("--sleep-us", type=int, default=1000)
    a = p.parse_args()

    limit = a.seconds if a.mode == "reconnect" else a.seconds + 10
    st, lat, rec = new_state(), [], []
    try:
        asyncio.run(asyncio.wait_for(run(a, st, lat, rec), limit))
    except (asyncio.TimeoutError, OSError, websockets.WebSocketException):
        pass
    if not st["t1"]:
        st["t1"], st["cpu1"] = time.monotonic_ns(), cpu_s()
    r = {
        "client": "python",
        "mode": a.mode,
        "frames": st["frames"],
        "seconds": (st["t1"] - st["t0"]) / 1e9 if st["frames"] else 0,
        "cpu_s": st["cpu1"] - st["cpu0"] if st["frames"] else 0,
        "rss_start_kib": st["rss0"],
        "peak_rss_kib": status_kib("VmHWM"),
        "connections": st["conns"],
        "websockets": websockets.__version__,
    }
    if a.mode == "latency":
        r["latency_us"] = dist(lat, 1e3)
    if a.mode == "reconnect":
        r["reconnect_ms"] = dist(rec, 1e6, True)
    print(json.dumps(r), flush=True)
    return 0 if st["frames"] else 1


if __name__ == "__main__":
    sys.exit(main())
