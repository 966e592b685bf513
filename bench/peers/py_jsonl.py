"""Python peer for bench/stream-jsonl: what `scn-stream --format jsonl`
does, written as a Python user would: Debian's websockets, json.loads of
every frame, one JSON line out (json.dumps) per frame, stop after --count
frames. Run with /usr/bin/python3."""
import argparse
import asyncio
import json
import sys

import websockets


async def main(url, count):
    n = 0
    out = sys.stdout
    # As bench/peers/py_client.py: the subprotocol scn-stream offers, and
    # no wait on a flooding server's close answer.
    async with websockets.connect(url, subprotocols=["scentience.v1"],
                                  compression=None, max_size=1 << 20,
                                  ping_interval=None,
                                  close_timeout=0.2) as ws:
        async for msg in ws:
            out.write(json.dumps(json.loads(msg)) + "\n")
            n += 1
            if n == count:
                break
    return 0 if n == count else 1


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--count", type=int, required=True)
    a = ap.parse_args()
    sys.exit(asyncio.run(main(a.url, a.count)))
