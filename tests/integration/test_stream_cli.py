#!/usr/bin/python3
"""scn-stream as a user runs it against scn-sim: the output formats, a
single sample, the documented exit codes with the message that goes with
each, what a 404 means with and without --device, and "reconnected"."""

import csv
import io
import json
import os
import signal
import subprocess
import threading
import time
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

    def assert_usage(self, args, line):
        n = self.sim.connects()
        p = stream(args)
        self.assertEqual((p.returncode, p.stdout), (64, ""), p.stderr)
        self.assertNotIn(KEY, p.stderr, args)
        self.assertEqual(self.sim.connects(), n, args)
        self.assertEqual(p.stderr, "scn-stream: %s\nRun 'scn-stream --help' "
                         "for the options.\n" % line)

    def test_usage_error_is_64(self):
        self.assert_usage(["--count", "3"], "--url is required")
        self.assert_usage(["--url", "http://x", "--count", "1"],
                          "--url http://x: malformed or unsupported URL "
                          "(ws://HOST:PORT/PATH or wss://...)")
        self.assert_usage(["--url", self.sim.origin, "--format", "xml"],
                          "--format xml: must be jsonl, csv or table")
        # There is no option that takes the key itself.
        self.assert_usage(["--url", self.sim.origin, "--key", KEY],
                          "unknown option '--key'")

    def test_no_key_is_78(self):
        p = stream(["--url", self.sim.origin, "--count", "1"], key=None)
        self.assertEqual(p.returncode, 78)
        self.assertEqual(p.stderr, "scn-stream: no API key: set "
                         "SCENTIENCE_API_KEY or provide a key file\n")
        self.assertEqual(p.stdout, "")

    def test_unreachable_after_attempts_is_69(self):
        # A reserved port: nothing listens there, and nothing will.
        p = stream(["--url", "ws://127.0.0.1:%d" % reserve_port(),
                    "--max-attempts", "2", "--count", "1"])
        self.assertEqual(p.returncode, 69)
        self.assertEqual(p.stderr.count("reconnecting in"), 1, p.stderr)
        self.assertIn("scn-stream: gave up after the reconnect attempt "
                      "limit (last attempt: network error: the server could "
                      "not be reached)\n", p.stderr)
        self.assertEqual(p.stdout, "")

    def test_404_says_what_was_not_found(self):
        # A device asked for by UID that the server does not have.
        p = stream(["--url", self.sim.origin, "--device", "SCN009",
                    "--count", "1"])
        self.assertEqual(p.returncode, 69)
        self.assertIn("scn-stream: no device SCN009 is served at %s (HTTP "
                      "404)\n" % self.sim.origin, p.stderr)
        # No --device: a 404 is about the path, not about a device.
        cloud = simproc.Server([SIM, "cloud", "--port", "0", "--quiet"])
        try:
            url = cloud.url("no/such/path")
            p = stream(["--url", url, "--count", "1"])
        finally:
            cloud.close()
        self.assertEqual(p.returncode, 69, p.stderr)
        self.assertIn("scn-stream: nothing is served at %s (HTTP 404): check "
                      "the URL's path\n" % url, p.stderr)
        self.assertNotIn("no device with that UID", p.stderr)

    def test_says_reconnected(self):
        sim = Sim()
        try:
            env = dict(os.environ, SCENTIENCE_API_KEY=KEY)
            # stderr to a file and stdout read through its buffered file
            # only: communicate() reads the descriptor, and would miss
            # what readline() buffered past the first line (scn-stream
            # writes a loop turn's lines at once).
            err_path = os.path.join(LOG_DIR, "stream-cli-reconnect.err")
            with open(err_path, "w") as err_file:
                p = subprocess.Popen(
                    [os.path.join(BIN_DIR, "scn-stream"), "--url",
                     sim.origin, "--count", "150"], stdout=subprocess.PIPE,
                    stderr=err_file, text=True, env=env,
                    preexec_fn=simproc.die_with_parent)
            watchdog = threading.Timer(scaled(60), p.kill)
            watchdog.start()
            try:
                # 50 frames/s: drop the link once the stream runs.
                first = p.stdout.readline()
                self.assertTrue(first.startswith("{"), first)
                sim.signal(signal.SIGUSR2)
                out = p.stdout.read()
                p.wait()
            finally:
                watchdog.cancel()
                if p.poll() is None:
                    p.kill()
                p.wait()
                p.stdout.close()
            with open(err_path) as f:
                err = f.read()
        finally:
            sim.close()
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(len((first + out).splitlines()), 150)
        self.assertIn("; reconnecting in", err)
        self.assertIn("scn-stream: reconnected to %s\n" % sim.origin, err)
        self.assertIn(", 1 reconnects,", err)


if __name__ == "__main__":
    simproc.main()
