#!/usr/bin/python3
"""The README's library example as a user copies it (the build compiles
its C block unchanged: readme_example.cmake), run against scn-sim: with a
good key it prints frames; with a rejected key it ends, with the reason
and a non-zero status, instead of waiting forever; with no device it says
that it reconnects. scn_loop_run() returning once the session FAILED is
what makes the rejected-key case end."""

import os
import re
import select
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import simproc
from simproc import BIN_DIR, LOG_DIR, SIM, SOURCE_DIR

GOOD_KEY = "SCN_TEST_readme00000000000001"
OTHER_KEY = "SCN_TEST_readme00000000000002"
EXAMPLE = os.path.join(os.path.dirname(BIN_DIR), "tests", "integration",
                       "readme_example")


def readme_block():
    """The C block of README.md's "## Using the library", as the build
    extracts it."""
    with open(os.path.join(SOURCE_DIR, "README.md")) as f:
        text = f.read()
    section = text[text.index("## Using the library"):]
    m = re.search(r"```c\n(.*?\n)```", section, re.S)
    return m.group(1)


class ReadmeExampleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(LOG_DIR, exist_ok=True)
        cls.tmp = tempfile.mkdtemp()
        cls.keys = os.path.join(cls.tmp, "keys.json")
        fd = os.open(cls.keys, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write('{"keys": [{"name": "good", "key": "%s"}]}' % GOOD_KEY)
        cls.sim = simproc.Server(
            [SIM, "--port", "0", "--rate", "20", "--keys", cls.keys,
             "--quiet"], err_path=os.path.join(
                 LOG_DIR, "readme-example-sim-%d.stderr" % os.getpid()))

    @classmethod
    def tearDownClass(cls):
        cls.sim.close()
        simproc.check_stderr(cls.sim.stderr_text(), "scn-sim")
        os.unlink(cls.keys)
        os.rmdir(cls.tmp)

    def start(self, url, key):
        env = dict(os.environ, SCENTIENCE_API_KEY=key,
                   XDG_CONFIG_HOME="/nonexistent-scn-test")
        p = subprocess.Popen([EXAMPLE, url], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env,
                             preexec_fn=simproc.die_with_parent)
        self.addCleanup(self.end, p)
        return p

    def end(self, p):
        if p.poll() is None:
            p.kill()
        p.wait()
        p.stdout.close()
        p.stderr.close()

    def read_lines(self, stream, count, timeout=30):
        """count lines of stream, waiting up to timeout seconds in all."""
        lines = []
        deadline = time.monotonic() + timeout
        while len(lines) < count:
            left = deadline - time.monotonic()
            r, _, _ = select.select([stream], [], [], max(left, 0))
            self.assertTrue(r, "only %d lines in %d s: %r" %
                            (len(lines), timeout, lines))
            line = stream.readline()
            self.assertTrue(line, "the example exited: %r" % lines)
            lines.append(line)
        return lines

    def test_the_build_compiles_the_readme_block(self):
        with open(EXAMPLE + ".c") as f:
            self.assertEqual(f.read(), readme_block())

    def test_good_key_prints_frames(self):
        p = self.start(self.sim.origin, GOOD_KEY)
        for line in self.read_lines(p.stdout, 5):
            self.assertRegex(line, r"^SCN001 NH3=[0-9.e+]+ ppb\n$")
        p.send_signal(signal.SIGTERM)
        p.wait(10)
        simproc.check_stderr(p.stderr.read(), "readme_example")

    def test_rejected_key_ends_with_the_reason(self):
        p = self.start(self.sim.origin, OTHER_KEY)
        try:
            rc = p.wait(30)
        except subprocess.TimeoutExpired:
            self.fail("the example still runs 30 s after a rejected key")
        err = p.stderr.read()
        self.assertEqual(rc, 1, err)
        self.assertEqual(err, "failed: the API key was rejected as invalid\n")
        self.assertEqual(p.stdout.read(), "")

    def test_no_device_says_it_reconnects(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        p = self.start("ws://127.0.0.1:%d" % port, GOOD_KEY)
        line = self.read_lines(p.stderr, 1)[0]
        self.assertRegex(line, r"^network error: the server could not be "
                         r"reached; reconnecting in \d+ ms\n$")


if __name__ == "__main__":
    unittest.main(verbosity=2)
