#!/usr/bin/python3
"""scn-uav against an independent drone emulator written with Python's
websockets (Debian's python3-websockets): the command channel speaks the
documented sample session, and the emulator pushes state strings (one of
them garbage, some with unknown keys) to scn-uav's state server."""

import asyncio
import json
import os
import subprocess
import sys
import unittest

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import simproc  # noqa: E402 (tests/integration, found through the path)
from simproc import reserve_port, scaled  # noqa: E402

BIN = os.environ.get("SCN_BIN_DIR", "build/apps")
LOG_DIR = os.environ.get("SCN_LOG_DIR", "/tmp/scn-test-logs")
KEY = "SCN_TEST_droneemulator000001"

SESSION = ["takeoff", "battery?", "speed 50", "go 100 0 50 30", "oioon",
           "oio nh3", "streamon", "streamoff", "oiooff", "land"]
ANSWERS = {"battery?": "80"}
STATE = ("pitch:0;roll:1;yaw:-3;vgx:0;vgy:0;vgz:0;templ:60;temph:62;tof:90;"
         "h:80;bat:80;baro:12.34;time:5;agx:0.10;agy:-0.20;agz:-998.00;"
         "olfa:2000.5;olfb:1500.25;x:10;y:20;z:80;mid:-1;")


class Drone:
    """Answers commands; after activation pushes state to the app."""

    def __init__(self, state_port):
        self.state_port = state_port
        self.received = []
        self.auth = None
        self.pusher = None

    async def push_state(self):
        url = "ws://127.0.0.1:%d" % self.state_port
        for _ in range(100):
            try:
                async with websockets.connect(url) as ws:
                    await ws.send(STATE)
                    await ws.send("pitch:1;ro")  # garbage: must be dropped
                    while True:
                        await ws.send(STATE)
                        await asyncio.sleep(0.05)
            except (OSError, websockets.exceptions.WebSocketException):
                await asyncio.sleep(0.05)

    async def handler(self, ws, path):
        self.auth = ws.request_headers.get("Authorization")
        try:
            await self.serve(ws)
        except websockets.exceptions.ConnectionClosed:
            pass

    async def serve(self, ws):
        async for msg in ws:
            self.received.append(msg)
            if msg == "hello_scentience":
                await ws.send("ok")
                if not self.pusher:
                    self.pusher = asyncio.ensure_future(self.push_state())
            else:
                await ws.send(ANSWERS.get(msg, "ok"))


async def scenario(tc):
    # Named to scn-uav before the drone pushes to them: reserved.
    state_port, video_port = reserve_port(), reserve_port()
    drone = Drone(state_port)
    server = await websockets.serve(drone.handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    env = dict(os.environ, SCENTIENCE_API_KEY=KEY)
    os.makedirs(LOG_DIR, exist_ok=True)
    err_path = os.path.join(LOG_DIR, "test_drone_emulator.stderr.log")
    with open(err_path, "w") as err:
        proc = await asyncio.create_subprocess_exec(
            os.path.join(BIN, "scn-uav"), "--drone",
            "ws://127.0.0.1:%d" % port, "--state-port", str(state_port),
            "--video-port", str(video_port), "--listen", "127.0.0.1",
            "--state", "jsonl", "--linger", "1", *SESSION,
            stdout=subprocess.PIPE, stderr=err, env=env,
            preexec_fn=simproc.die_with_parent)
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), scaled(60))
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            if drone.pusher:
                drone.pusher.cancel()
            server.close()
            await server.wait_closed()
    with open(err_path) as f:
        stderr = f.read()
    return proc.returncode, out.decode(), stderr, drone


class DroneEmulatorTest(unittest.TestCase):
    def test_sample_session_and_state(self):
        rc, out, err, drone = asyncio.run(scenario(self))
        self.assertEqual(rc, 0, err)
        self.assertEqual(drone.auth, "Bearer " + KEY)
        self.assertEqual(drone.received, ["hello_scentience"] + SESSION)
        lines = out.splitlines()
        sent = [l[2:] for l in lines if l.startswith("> ")]
        answers = [l[2:] for l in lines if l.startswith("< ")]
        self.assertEqual(sent, SESSION)
        self.assertEqual(answers[1], "80")
        self.assertTrue(all(a == "ok" for i, a in enumerate(answers) if i != 1))
        states = [json.loads(l) for l in lines if l.startswith("{")]
        self.assertGreater(len(states), 5)
        for st in states:
            self.assertEqual(st["h"], 80)
            self.assertEqual(st["baro"], 12.34)
            self.assertEqual(st["olfb"], 1500.25)
            self.assertEqual(st["mid"], -1)  # unknown key kept, numeric
        self.assertNotIn(KEY, out)
        self.assertNotIn(KEY, err)


if __name__ == "__main__":
    simproc.main()
