"""A hostile peer for test_hostile_peer.py: a device, a drone or a cloud
whose every text tries to forge log lines and drive the terminal (CR, LF,
ESC sequences, BEL, C1 controls, a bidirectional override, bytes that are
not UTF-8).

Usage: hostile_peer.py device|drone|cloud
Prints "hostile_peer: listening on 127.0.0.1:PORT" first, then serves
until killed. Debian's python3-websockets (10.4); raw frames where the
library would refuse to send invalid UTF-8.
"""

import asyncio
import http.server
import json
import struct
import sys
import threading

import websockets
from websockets.frames import OP_CLOSE, OP_TEXT

# What every text carries. The peer's claims, in the JSON texts, are
# decoded by the client (\\u001b is ESC); the raw texts carry the bytes.
EVIL = "boom\r\n[error] session: FORGED\x1b[31m\x07\u009b2J\u202eevil"
EVIL_RAW = EVIL.encode() + b"\xff\xc0\xaf"


def say(*words):
    print(*words, flush=True)


async def device(ws, path):
    await ws.send(json.dumps({"type": "hello", "protocol": "scentience.v1",
                              "uid": "SCN001", "devices": ["SCN001"]}))
    await ws.send(json.dumps({"type": "error", "code": "bad_request",
                              "message": EVIL}))
    await ws.send(json.dumps({"UID": "SCN\x1b[2J001",
                              "TIMESTAMP": "2025-08-29T21:00:00Z",
                              "SEQ": 1, "NH3": 270}))
    await asyncio.sleep(0.2)
    # A close reason with raw bytes: the library refuses to send those.
    await ws.write_frame(True, OP_CLOSE,
                         struct.pack("!H", 4004) + EVIL_RAW[:100])
    await asyncio.sleep(1)


async def drone(ws, path):
    async for line in ws:
        if line == "hello_scentience":
            await ws.send("ok")
        else:
            # Not a possible answer: the client keeps it raw, malformed.
            await ws.write_frame(True, OP_TEXT, b"ok " + EVIL_RAW)


class Cloud(http.server.BaseHTTPRequestHandler):
    """POST /v1/predict: labels for one frame, an error for another."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if b"NH3" in body:
            status, answer = 200, {"type": "inference", "model": EVIL[:40],
                                   "labels": [{"label": EVIL[:60],
                                               "score": 0.5}]}
        else:
            status, answer = 400, {"type": "error", "code": "malformed",
                                   "message": EVIL}
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


async def serve(handler, subprotocols):
    async with websockets.serve(handler, "127.0.0.1", 0,
                                subprotocols=subprotocols,
                                compression=None) as srv:
        port = srv.sockets[0].getsockname()[1]
        say("hostile_peer: listening on 127.0.0.1:%d" % port)
        await asyncio.Future()


def main():
    mode = sys.argv[1]
    if mode == "cloud":
        srv = http.server.HTTPServer(("127.0.0.1", 0), Cloud)
        say("hostile_peer: listening on 127.0.0.1:%d" % srv.server_port)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        threading.Event().wait()
    elif mode == "device":
        asyncio.run(serve(device, ["scentience.v1"]))
    else:
        asyncio.run(serve(drone, ["scentience.uav.v1"]))


if __name__ == "__main__":
    main()
