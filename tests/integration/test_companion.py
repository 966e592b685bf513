#!/usr/bin/python3
"""scn-companion against the three simulators on loopback: a scripted
flight (takeoff, wait, land) with --follow. Fused records reach the cloud
in order (seqs 1..N, no gap, no duplicate) carrying the nearest drone
state, inference pushes arrive, --follow sends exactly one valid `oio`,
and the MCAP recording holds every stream."""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

BIN = os.environ.get("SCN_BIN_DIR", "build/apps")
LOG_DIR = os.environ.get("SCN_LOG_DIR", "/tmp/scn-test-logs")
KEY = "SCN_TEST_companion0000000001"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_events(path, kind):
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("event") == kind:
                out.append(ev)
    return out


class CompanionTest(unittest.TestCase):
    def setUp(self):
        os.makedirs(LOG_DIR, exist_ok=True)
        self.tmp = tempfile.mkdtemp()
        self.procs = []
        self.env = dict(os.environ, SCENTIENCE_API_KEY=KEY)

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            if p.stdout:
                p.stdout.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def sim(self, name, args):
        log = os.path.join(LOG_DIR, "companion-%s-%d.log" % (name, os.getpid()))
        if os.path.exists(log):
            os.unlink(log)
        p = subprocess.Popen([os.path.join(BIN, "scn-sim")] + args +
                             ["--port", "0", "--log", log, "--quiet"],
                             stdout=subprocess.PIPE, text=True, env=self.env)
        self.procs.append(p)
        line = p.stdout.readline()
        self.assertIn("listening on", line)
        return log, int(line.strip().rsplit(":", 1)[1])

    def companion(self, name, args, timeout):
        err_path = os.path.join(LOG_DIR, "companion-%s.stderr.log" % name)
        with open(err_path, "w") as err:
            p = subprocess.Popen([os.path.join(BIN, "scn-companion")] + args,
                                 stdout=subprocess.PIPE, stderr=err,
                                 text=True, env=self.env)
            self.procs.append(p)
            out, _ = p.communicate(timeout=timeout)
        with open(err_path) as f:
            return p.returncode, out, f.read()

    def test_scripted_flight_with_follow(self):
        _, dev_port = self.sim("device", ["device", "--rate", "20"])
        cloud_log, cloud_port = self.sim("cloud", ["cloud"])
        state_port, video_port = free_port(), free_port()
        uav_log, uav_port = self.sim(
            "uav", ["uav", "--time-scale", "20", "--state-host", "127.0.0.1",
                    "--state-port", str(state_port),
                    "--video-port", str(video_port)])
        base = ["--device-url", "ws://127.0.0.1:%d" % dev_port,
                "--cloud-url", "ws://127.0.0.1:%d/v1/stream" % cloud_port,
                "--no-status"]

        # The device sim's plume drifts, so which compound the toy model
        # names changes over time: follow whichever it names first.
        script = os.path.join(self.tmp, "flight.txt")
        with open(script, "w") as f:
            f.write("takeoff\nwait 3\nland\n")
        mcap = os.path.join(self.tmp, "out.mcap")
        args = base + ["--spool-dir", os.path.join(self.tmp, "spool"),
                       "--drone-url", "ws://127.0.0.1:%d" % uav_port,
                       "--listen", "127.0.0.1",
                       "--state-port", str(state_port),
                       "--video-port", str(video_port),
                       "--live-port", str(free_port()),
                       "--script", script, "--follow", "any",
                       "--follow-threshold", "0.05",
                       "--record", mcap, "--duration", "6"]
        t0 = time.monotonic()
        rc, out, err = self.companion("flight", args, 40)
        self.assertEqual(rc, 0, err)
        self.assertLess(time.monotonic() - t0, 20)
        self.assertIn("recording " + mcap, err)

        # Cloud: the flight's records (a new stream id) 1..N, in order.
        flight = [e["seq"] for e in read_events(cloud_log, "accepted")]
        self.assertGreater(len(flight), 20)
        self.assertEqual(flight, list(range(1, len(flight) + 1)))
        self.assertEqual(read_events(cloud_log, "duplicate"), [])

        # Inference pushes reported; states fused (the toy model gives a
        # bearing only when the record carried a state with x/y).
        self.assertIn("inference seq", out)
        self.assertIn(" bearing ", out)

        # Exactly one oio, valid, besides the script's commands.
        cmds = read_events(uav_log, "command")
        oio = [c for c in cmds if c.get("raw", "").startswith("oio")]
        self.assertEqual(len(oio), 1, cmds)
        self.assertTrue(oio[0]["valid"])
        named = re.findall(r"^inference seq \d+: (\S+) ", out, re.M)
        self.assertIn(oio[0]["raw"].split()[1].upper(),
                      {n.upper() for n in named})
        raws = [c["raw"] for c in cmds]
        self.assertIn("takeoff", raws)
        self.assertIn("land", raws)

        # Inferences older than --max-age are reported, never acted on
        # (--max-age 0: every answer is older than its frame).
        rc, out, err = self.companion(
            "stale", args[:args.index("--script")] +
            ["--follow", "any", "--follow-threshold", "0",
             "--max-age", "0", "--duration", "2"], 30)
        self.assertEqual(rc, 0, err)
        self.assertIn("inference seq", out)
        oio = [c for c in read_events(uav_log, "command")
               if c.get("raw", "").startswith("oio")]
        self.assertEqual(len(oio), 1, oio)

        # The recording lists every stream.
        info = subprocess.run([os.path.join(BIN, "scn-record"), "info", mcap],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(info.returncode, 0, info.stderr)
        counts = dict(re.findall(r"^\s*\d+\s+(/\S+)\s+(\d+)\s", info.stdout,
                                 re.M))
        for topic in ("/olfaction", "/uav/state", "/uav/command",
                      "/inference", "/events"):
            self.assertGreater(int(counts.get(topic, 0)), 0, info.stdout)
        with open(mcap, "rb") as f:
            self.assertNotIn(KEY.encode(), f.read())

        # The independent reader (@mcap/core) accepts the flight recording
        # and counts the same messages per topic.
        check = os.path.join(os.environ.get("SCN_SOURCE_DIR", "."), "tests",
                             "integration", "mcap_check.mjs")
        node = shutil.which("node")
        self.assertTrue(node, "Node.js is required: scripts/install-deps")
        p = subprocess.run([node, check, mcap], capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        verdict = json.loads(p.stdout)
        for topic, n in counts.items():
            self.assertEqual(verdict["topics"][topic], int(n), topic)


if __name__ == "__main__":
    unittest.main()
