#!/usr/bin/python3
"""scn-uav as a user runs it, against `scn-sim uav`: the documented sample
session with state as JSON lines and video to a file that an independent
decoder (Debian's ffprobe and ffmpeg) opens and decodes to the pixel, a
script with waits and comments, an invalid command that stops everything
before anything is sent (exit 65), and Ctrl-C while flying, which lands
the drone."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import zlib

import long_answer_drone
import simproc
from simproc import (BIN_DIR, LOG_DIR, SIM, SOURCE_DIR, reserve_port, scaled,
                     wait_until)

KEY = "SCN_TEST_uavapp0000000000001"
LONG_DRONE = os.path.join(SOURCE_DIR, "tests", "integration",
                          "long_answer_drone.py")


class Sim(simproc.Server):
    """scn-sim uav sending its state and video to the given ports."""

    def __init__(self, state_port, video_port, name):
        os.makedirs(LOG_DIR, exist_ok=True)
        base = os.path.join(LOG_DIR, "%s-%d.sim" % (name, os.getpid()))
        self.log = base + ".log"
        if os.path.exists(self.log):
            os.unlink(self.log)
        super().__init__(
            [SIM, "uav", "--port", "0",
             "--time-scale", "20", "--state-host", "127.0.0.1",
             "--state-port", str(state_port), "--video-port",
             str(video_port), "--log", self.log, "--quiet"],
            base + ".stderr")

    def events(self, kind):
        return simproc.read_events(self.log, kind)


def run_uav(args, name, timeout=60, interrupt_when=None):
    """Runs scn-uav to its end (SIGINT once interrupt_when() holds, if
    given); returns (exit code, stdout, stderr)."""
    env = dict(os.environ, SCENTIENCE_API_KEY=KEY)
    err_path = os.path.join(LOG_DIR, "%s.stderr.log" % name)
    with open(err_path, "w") as err:
        proc = subprocess.Popen([os.path.join(BIN_DIR, "scn-uav")] + args,
                                stdout=subprocess.PIPE, stderr=err,
                                text=True, env=env,
                                preexec_fn=simproc.die_with_parent)
        try:
            if interrupt_when is not None:
                assert wait_until(interrupt_when, 20), "never ready for ^C"
                proc.send_signal(signal.SIGINT)
            out, _ = proc.communicate(timeout=scaled(timeout))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    with open(err_path) as f:
        return proc.returncode, out, f.read()


class UavAppTest(unittest.TestCase):
    def setUp(self):
        self.state_port, self.video_port = reserve_port(), reserve_port()
        self.sim = Sim(self.state_port, self.video_port, self.id())
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        for f in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, f))
        os.rmdir(self.tmp)
        self.sim.stop()

    def base(self):
        return ["--drone", self.sim.origin, "--listen", "127.0.0.1",
                "--state-port", str(self.state_port),
                "--video-port", str(self.video_port)]

    def test_sample_session(self):
        video = os.path.join(self.tmp, "flight.h264")
        session = ["takeoff", "battery?", "speed 50", "go 100 0 50 30",
                   "oioon", "oio nh3", "streamon", "wait 1", "streamoff",
                   "oiooff", "land"]
        script = os.path.join(self.tmp, "flight.txt")
        with open(script, "w") as f:
            f.write("# the documented session\n\n")
            f.write("\n".join(session) + "\n")
        rc, out, err = run_uav(self.base() + ["--video-out", video,
                                              "--state", "jsonl",
                                              "--script", script],
                               "uavapp-session")
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        sent = [l[2:] for l in lines if l.startswith("> ")]
        answers = [l[2:] for l in lines if l.startswith("< ")]
        self.assertEqual(sent, [c for c in session if not c.startswith("wait")])
        self.assertTrue(answers[1].isdigit())
        self.assertEqual([a for i, a in enumerate(answers) if i != 1],
                         ["ok"] * (len(answers) - 1))
        states = [json.loads(l) for l in lines if l.startswith("{")]
        self.assertGreater(len(states), 10)
        self.assertTrue(all(isinstance(s["h"], int) for s in states))
        self.assertTrue(any(s["h"] > 0 for s in states))
        # Video arrived intact: the file's CRC is the drone's.
        stops = self.sim.events("video_stop")
        self.assertEqual(len(stops), 1)
        with open(video, "rb") as f:
            data = f.read()
        self.assertEqual(len(data), stops[0]["bytes"])
        self.assertEqual(zlib.crc32(data), stops[0]["crc32"])
        self.assertNotIn(KEY, out + err)
        self.check_playable(video, stops[0]["frames"])

    def check_playable(self, video, frames):
        """What a player opens: ffprobe sees H.264 160x96 at 30 frames/s
        and decodes every frame; the first decodes to the simulator's test
        pattern (apps/scn-sim/uav/uav_video.h), pixel for pixel."""
        for tool in ("ffprobe", "ffmpeg"):
            self.assertTrue(shutil.which(tool),
                            "%s is required: scripts/install-deps" % tool)
        p = subprocess.run(
            ["ffprobe", "-v", "error", "-count_frames", "-show_entries",
             "stream=codec_name,width,height,r_frame_rate,nb_read_frames",
             "-of", "json", video], capture_output=True, text=True,
            timeout=60)
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        (st,) = json.loads(p.stdout)["streams"]
        self.assertEqual(st, {"codec_name": "h264", "width": 160,
                              "height": 96, "r_frame_rate": "30/1",
                              "nb_read_frames": str(frames)})
        p = subprocess.run(["ffmpeg", "-v", "error", "-i", video,
                            "-frames:v", "1", "-f", "rawvideo", "-pix_fmt",
                            "yuv420p", "-"], capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        w, h = 160, 96
        luma = bytes(16 + (2 * x + y) % 220 for y in range(h)
                     for x in range(w))
        self.assertEqual(p.stdout, luma + b"\x80" * (w * h // 2))

    def test_invalid_command_sends_nothing(self):
        rc, out, err = run_uav(self.base() + ["takeoff", "up 600", "land"],
                               "uavapp-invalid")
        self.assertEqual(rc, 65)
        self.assertIn("20-500", err)
        self.assertEqual(out, "")
        time.sleep(0.3)
        self.assertEqual(self.sim.events("connect"), [])
        self.assertEqual(self.sim.events("command"), [])

    def test_stops_at_first_error(self):
        rc, out, err = run_uav(self.base() + ["up 50", "battery?"],
                               "uavapp-error")
        self.assertEqual(rc, 1)
        self.assertIn("< error", out)
        self.assertNotIn("> battery?", out)
        rc, out, err = run_uav(self.base() + ["--keep-going", "up 50",
                                              "battery?"],
                               "uavapp-keepgoing")
        self.assertEqual(rc, 1)
        self.assertIn("> battery?", out)

    def test_interrupt_while_flying_lands(self):
        def flying():
            return any(e.get("cmd") == "takeoff"
                       for e in self.sim.events("answer"))
        rc, out, err = run_uav(self.base() + ["takeoff", "wait 30"],
                               "uavapp-interrupt", interrupt_when=flying)
        self.assertEqual(rc, 130, err)
        raws = [e.get("raw") for e in self.sim.events("command")]
        self.assertEqual(raws[-1], "land")
        self.assertIn("> land", out)

    def test_a_long_answer_is_said_to_be_cut(self):
        """A drone's answer longer than the library keeps (128 bytes) is
        printed as kept and said to be cut, never shown as if whole."""
        peer = simproc.Server(
            [sys.executable, LONG_DRONE], name="long_answer_drone",
            err_path=os.path.join(LOG_DIR, "uavapp-long.peer.stderr.log"))
        self.addCleanup(peer.kill)
        base = self.base()
        base[1] = peer.origin
        rc, out, err = run_uav(base + ["battery?"], "uavapp-long")
        self.assertEqual(rc, 1, err)  # the drone said error
        self.assertIn("< %s [answer cut: first 128 bytes kept]\n"
                      % long_answer_drone.ANSWER[:128], out)


if __name__ == "__main__":
    simproc.main()
