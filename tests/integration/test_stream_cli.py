#!/usr/bin/python3
"""scn-stream as a user runs it against scn-sim: the output formats, a
single sample, and the documented exit codes."""

import csv
import io
import json
import os
import subprocess
import unittest

import simproc
from simproc import BIN_DIR, LOG_DIR, SIM, reserve_port, scaled

KEY = "SCN_TEST_streamcli0000000001"


class Sim(simproc.Server):
    """scn-sim with two devices, shared by the tests."""

    def __init__(self):
        os.makedirs(LOG_DIR, exist_ok=True)
        base = os.path.join(LOG_DIR, "test_stream_cli-%d.sim" % os.getpid())
        self.log = base + ".log"
        if os.path.exists(self.log):
            os.unlink(self.log)
        super().__init__([SIM, "--port", "0", "--rate", "50",
                          "--devices", "SCN001,SCN002", "--quiet",
                          "--log", self.log], base + ".stderr")

    def connects(self):
        return len(simproc.read_events(self.log, "connect"))


def stream(args, key=KEY, timeout=30):
    env = dict(os.environ)
    env.pop("SCENTIENCE_API_KEY", None)
    env["XDG_CONFIG_HOME"] = "/nonexistent-scn-test"
    if key:
        env["SCENTIENCE_API_KEY"] = key
    p = subprocess.run([os.path.join(BIN_DIR, "scn-stream")] + args,
                       capture_output=True, text=True, env=env,
                       timeout=scaled(timeout))
    with open(os.path.join(LOG_DIR, "test_stream_cli.stderr.log"), "a") as f:
        f.write(p.stderr)
    return p


class StreamCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = Sim()

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def test_jsonl_keeps_every_key(self):
        p = stream(["--url", self.sim.origin, "--count", "20", "--device",
                    "SCN002"])
        self.assertEqual(p.returncode, 0, p.stderr)
        frames = [json.loads(l) for l in p.stdout.splitlines()]
        self.assertEqual(len(frames), 20)
        self.assertTrue(all(f["UID"] == "SCN002" for f in frames))
        self.assertEqual([f["SEQ"] for f in frames], list(range(1, 21)))
        self.assertTrue(all("_sim_units" in f for f in frames))
        self.assertNotIn(KEY, p.stdout + p.stderr)

    def test_csv_has_a_stable_header(self):
        p = stream(["--url", self.sim.origin, "--count", "5",
                    "--format", "csv"])
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = list(csv.reader(io.StringIO(p.stdout)))
        self.assertEqual(rows[0][:3], ["UID", "TIMESTAMP", "SEQ"])
        self.assertIn("ENV_temperatureC", rows[0])
        self.assertEqual(rows[0][-14:], [
            "CO2", "NH3", "NO", "NO2", "CO", "C2H5OH", "H2", "CH4", "C3H8",
            "C4H10", "H2S", "HCHO", "SO2", "VOC"])
        self.assertEqual(len(rows), 6)
        self.assertTrue(all(len(r) == len(rows[0]) for r in rows))

    def test_table_and_sample(self):
        p = stream(["--url", self.sim.origin, "--sample", "--format",
                    "table"])
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), 2)  # header + the one reading
        self.assertIn("SCN001", lines[1])

    def usage_error(self, args):
        """args are refused before anything connects: exit 64, no frame
        out, no connection, a message on stderr that never repeats the
        key."""
        n = self.sim.connects()
        p = stream(args)
        self.assertEqual(p.returncode, 64, (args, p.stderr))
        self.assertEqual(p.stdout, "", args)
        self.assertTrue(p.stderr.strip(), args)
        self.assertNotIn(KEY, p.stderr, args)
        self.assertEqual(self.sim.connects(), n, args)

    def test_usage_error_is_64(self):
        self.usage_error(["--count", "3"])
        self.usage_error(["--url", "http://x", "--count", "1"])
        self.usage_error(["--url", self.sim.origin, "--format", "xml"])
        # There is no option that takes the key itself.
        self.usage_error(["--url", self.sim.origin, "--key", KEY])

    def test_no_key_is_78(self):
        p = stream(["--url", self.sim.origin, "--count", "1"], key=None)
        self.assertEqual(p.returncode, 78)
        self.assertIn("SCENTIENCE_API_KEY", p.stderr)

    def test_unreachable_after_attempts_is_69(self):
        # A reserved port: nothing listens there, and nothing will.
        p = stream(["--url", "ws://127.0.0.1:%d" % reserve_port(),
                    "--max-attempts", "2", "--count", "1"])
        self.assertEqual(p.returncode, 69, p.stderr)
        self.assertEqual(p.stdout, "")


if __name__ == "__main__":
    simproc.main()
