#!/usr/bin/python3
"""The target's apps under the emulator, as a user runs them on a board,
against the host's simulator: scn-stream streams every frame in order,
scn-record writes a recording the host's scn-record reads back intact.

SCN_TARGET_BIN_DIR: the cross build's apps; SCN_HOST_BIN_DIR: a native
build's (scn-sim, scn-record as the reader); SCN_TEST_EMULATOR: qemu-ARCH.
"""

import calendar
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
import unittest

TARGET = os.environ.get("SCN_TARGET_BIN_DIR", "build-armhf/apps")
HOST = os.environ.get("SCN_HOST_BIN_DIR", "build/apps")
EMULATOR = os.environ.get("SCN_TEST_EMULATOR", "qemu-arm").split()
LOG_DIR = os.environ.get("SCN_LOG_DIR", "/tmp")
os.makedirs(LOG_DIR, exist_ok=True)
KEY = "SCN_TEST_crossapps000000001"
# Everything under qemu-user is about ten times slower.
TIMEOUT = 300


def die_with_parent():
    import ctypes
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def target(app, *args):
    return EMULATOR + [os.path.join(TARGET, app)] + list(args)


def run_target(app, *args):
    env = dict(os.environ, SCENTIENCE_API_KEY=KEY,
               XDG_CONFIG_HOME="/nonexistent-scn-test")
    p = subprocess.run(target(app, *args), capture_output=True, text=True,
                       env=env, timeout=TIMEOUT, preexec_fn=die_with_parent)
    with open(os.path.join(LOG_DIR, "cross_apps.stderr.log"), "a") as f:
        f.write(p.stderr)
    return p


class Sim:
    """The host's scn-sim device on an ephemeral loopback port."""

    def __init__(self, *args):
        self.proc = subprocess.Popen(
            [os.path.join(HOST, "scn-sim"), "--host", "127.0.0.1", "--port",
             "0", "--quiet"] + list(args),
            stdout=subprocess.PIPE, preexec_fn=die_with_parent)
        line = b""
        deadline = time.monotonic() + 30
        while not line.endswith(b"\n") and time.monotonic() < deadline:
            r, _, _ = select.select([self.proc.stdout], [], [], 1)
            if r:
                b = os.read(self.proc.stdout.fileno(), 1)
                if not b:
                    break
                line += b
        m = re.search(rb"listening on 127\.0\.0\.1:(\d+)", line)
        if not m:
            self.close()
            raise AssertionError("scn-sim did not start: %r" % line)
        self.url = "ws://127.0.0.1:%s" % m.group(1).decode()

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()


class EmulatedAppsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = Sim("--rate", "50", "--devices", "SCN001")

    @classmethod
    def tearDownClass(cls):
        cls.sim.close()

    def test_the_binaries_are_the_targets(self):
        with open(os.path.join(TARGET, "scn-stream"), "rb") as f:
            head = f.read(20)
        self.assertEqual(head[:4], b"\x7fELF")
        machine = int.from_bytes(head[18:20], "little")
        want = {"qemu-arm": 40, "qemu-aarch64": 183}  # EM_ARM, EM_AARCH64
        self.assertEqual(machine, want[os.path.basename(EMULATOR[0])])

    def test_stream_every_frame_in_order(self):
        p = run_target("scn-stream", "--url", self.sim.url, "--count", "50")
        self.assertEqual(p.returncode, 0, p.stderr)
        frames = [json.loads(l) for l in p.stdout.splitlines()]
        self.assertEqual([f["SEQ"] for f in frames], list(range(1, 51)))
        self.assertTrue(all(f["UID"] == "SCN001" for f in frames))
        self.assertTrue(all(re.fullmatch(r"\d{4}-\d\d-\d\dT[0-9:.]+Z",
                                         f["TIMESTAMP"]) for f in frames))
        self.assertNotIn(KEY, p.stdout + p.stderr)

    def test_record_reads_back_on_the_host(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "board.mcap")
            p = run_target("scn-record", "record", "--url", self.sim.url,
                           "--count", "40", out)
            self.assertEqual(p.returncode, 0, p.stderr)
            info = subprocess.run(
                [os.path.join(HOST, "scn-record"), "info", "--json", out],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(info.returncode, 0, info.stderr)
            doc = json.loads(info.stdout)
            self.assertTrue(doc["complete"], doc)
            chans = {c["topic"]: c for c in doc["channels"]}
            self.assertEqual(chans["/olfaction"]["messages"], 40, doc)
            exp = subprocess.run(
                [os.path.join(HOST, "scn-record"), "export", out, "--format",
                 "jsonl", "--channel", "/olfaction"],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(exp.returncode, 0, exp.stderr)
            msgs = [json.loads(l) for l in exp.stdout.splitlines()]
            self.assertEqual([m["data"]["SEQ"] for m in msgs],
                             list(range(1, 41)))
            for m in msgs:
                # The nanosecond times the target computed: publish time
                # from the frame's TIMESTAMP (the library's parser, 64-bit
                # arithmetic), log time from the target's clock.
                ts = m["data"]["TIMESTAMP"]
                whole, frac = ts[:-1].split(".")
                secs = calendar.timegm(time.strptime(whole,
                                                     "%Y-%m-%dT%H:%M:%S"))
                want = secs * 10**9 + int(frac.ljust(9, "0"))
                self.assertEqual(m["publish_time_ns"], want, ts)
                self.assertLess(abs(m["log_time_ns"] - want), 60 * 10**9)

if __name__ == "__main__":
    unittest.main(verbosity=2)
