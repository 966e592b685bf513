"""A device whose frames are longer than any fixed buffer a client might
keep for one: each carries a "SPECTRUM" array of N readings (an unknown
key, which the client keeps), for test_companion_long_frames.py; and,
given M, whose typed messages are too (test_record_long_message.py).

Usage: frame_peer.py N [M]
Prints "frame_peer: listening on 127.0.0.1:PORT" first, then sends each
connection a hello, with M a "notice" (a type this client does not know)
whose "text" is notice_text(M), and a frame (SEQ 1, 2, ...) every 50 ms
until it closes. Debian's python3-websockets (10.4).
"""

import asyncio
import json
import sys

import websockets


def frame(seq, n):
    return {"UID": "SCN001", "TIMESTAMP": "2025-08-29T21:00:00Z",
            "SEQ": seq, "NH3": 270,
            "SPECTRUM": [round(seq + i / 1000, 3) for i in range(n)]}


def notice_text(m):
    """m characters that JSON must escape, or that are not ASCII, among
    plain ones, and a last one that tells a whole text from a cut one."""
    piece = 'ab"c\\d\n\u00e9\u2603\U0001f600 '
    return (piece * (m // len(piece) + 1))[:m - 1] + "$"


async def device(ws, path):
    n = int(sys.argv[1])
    await ws.send(json.dumps({"type": "hello", "protocol": "scentience.v1",
                              "uid": "SCN001", "devices": ["SCN001"]}))
    if len(sys.argv) > 2:
        await ws.send(json.dumps({"type": "notice", "seq": 1,
                                  "text": notice_text(int(sys.argv[2]))},
                                 ensure_ascii=False))
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
