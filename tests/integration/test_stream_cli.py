#!/usr/bin/python3
"""scn-stream as a user runs it against scn-sim: the output formats, a
single sample, and the documented exit codes."""

import csv
import io
import json
import os
import socket
import subprocess
import unittest

import simproc
from simproc import BIN_DIR, LOG_DIR, SIM

KEY = "SCN_TEST_streamcli0000000001"


class Sim(simproc.Server):
    """scn-sim with two devices, shared by the tests; its stderr goes to
    the test's."""

    def __init__(self):
        os.makedirs(LOG_DIR, exist_ok=True)
        super().__init__([SIM, "--port", "0", "--rate", "50",
                          "--devices", "SCN001,SCN002", "--quiet"])


def stream(args, key=KEY, timeout=30):
    env = dict(os.environ)
    env.pop("SCENTIENCE_API_KEY", None)
    env["XDG_CONFIG_HOME"] = "/nonexistent-scn-test"
    if key:
        env["SCENTIENCE_API_KEY"] = key
    p = subprocess.run([os.path.join(BIN_DIR, "scn-stream")] + args,
                       capture_output=True, text=True, env=env,
                       timeout=timeout)
    with open(os.path.join(LOG_DIR, "test_stream_cli.stderr.log"), "a") as f:
        f.write(p.stderr)
    return p


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StreamCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = Sim()

    @classmethod
    def tearDownClass(cls):
        cls.sim.close()

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

    def test_usage_error_is_64(self):
        self.assertEqual(stream(["--count", "3"]).returncode, 64)
        self.assertEqual(stream(["--url", "http://x", "--count", "1"])
                         .returncode, 64)
        self.assertEqual(stream(["--url", self.sim.origin, "--format", "xml"])
                         .returncode, 64)
        # There is no option that takes the key itself.
        self.assertEqual(stream(["--url", self.sim.origin, "--key", KEY])
                         .returncode, 64)

    def test_no_key_is_78(self):
        p = stream(["--url", self.sim.origin, "--count", "1"], key=None)
        self.assertEqual(p.returncode, 78)
        self.assertIn("SCENTIENCE_API_KEY", p.stderr)

    def test_unreachable_after_attempts_is_69(self):
        p = stream(["--url", "ws://127.0.0.1:%d" % closed_port(),
                    "--max-attempts", "2", "--count", "1"])
        self.assertEqual(p.returncode, 69)


if __name__ == "__main__":
    unittest.main(verbosity=2)
