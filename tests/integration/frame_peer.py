"""A device whose frames are longer than any fixed buffer a client might
keep for one: each carries a "SPECTRUM" array of N readings (an unknown
key, which the client keeps), for test_companion_long_frames.py.

Usage: frame_peer.py N
Prints "frame_peer: listening on 127.0.0.1:PORT" first, then sends each
connection a hello and a frame (SEQ 1, 2, ...) every 50 ms until it
closes. Debian's python3-websockets (10.4).
"""

import asyncio
import json
import sys

import websockets


def frame(seq, n):
    return {"UID": "SCN001", "TIMESTAMP": "2025-08-29T21:00:00Z",
            "SEQ": seq, "NH3": 270,
            "SPECTRUM": [round(seq + i / 1000, 3) for i in range(n)]}


async def device(ws, path):
    n = int(sys.argv[1])
    await ws.send(json.dumps({"type": "hello", "protocol": "scentience.v1",
                              "uid": "SCN001", "devices": ["SCN001"]}))
    seq = 0
    try:
        while True:
            seq += 1
            await ws.send(json.dumps(frame(seq, n)))
            await asyncio.sleep(0.05)
    except websockets.exceptions.ConnectionClosed:
        pass


async def main():
    async with websockets.serve(device, "127.0.0.1", 0,
                                subprotocols=["scentience.v1"],
                                compression=None) as srv:
        port = srv.sockets[0].getsockname()[1]
        print("frame_peer: listening on 127.0.0.1:%d" % port, flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
