"""A drone whose answers are longer than the client keeps
(SCN_UAV_RAW_MAX, 128 bytes), for the tests that check a cut answer is
said to be cut (test_companion_mqtt.py, test_uav_app.py).

Usage: long_answer_drone.py
Prints "long_answer_drone: listening on 127.0.0.1:PORT" first, then
serves until killed. "hello_scentience" is answered "ok"; every other
command gets ANSWER, a well-formed error answer of 388 bytes.
Debian's python3-websockets (10.4).
"""

import asyncio
import sys

import websockets

# "error <reason>" is a possible answer to every command (PROTOCOL 8.3).
ANSWER = "error " + "; ".join("motor %02d: no valid imu reading" % i
                            for i in range(12))


async def drone(ws, path):
    async for line in ws:
        await ws.send("ok" if line == "hello_scentience" else ANSWER)


async def serve():
    async with websockets.serve(drone, "127.0.0.1", 0,
                                subprotocols=["scentience.uav.v1"],
                                compression=None) as srv:
        port = srv.sockets[0].getsockname()[1]
        print("long_answer_drone: listening on 127.0.0.1:%d" % port,
              flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    sys.exit(asyncio.run(serve()))
