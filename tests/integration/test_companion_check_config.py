#!/usr/bin/python3
"""scn-companion --check-config FILE: every problem of a config is reported
(with its line where it has one) and the exit code is 0 exactly when the
companion starts with that config: each config checked here is then given
to the companion itself (--config, --duration 1, against scn-sim), which
must start and stop cleanly for the configs the check accepted, and refuse
the others. The key never appears in the output.

stdlib only. Env: SCN_BIN_DIR, SCN_LOG_DIR."""

import os
import shutil
import subprocess
import tempfile
import unittest

import simproc
from simproc import BIN_DIR, SIM, reserve_port

COMPANION = os.path.join(BIN_DIR, "scn-companion")
KEY = "SCN_TEST_checkconfig00000001"


def run(args, timeout=60):
    env = dict(os.environ)
    env.pop("SCENTIENCE_API_KEY", None)
    env["XDG_CONFIG_HOME"] = "/nonexistent-scn-test"
    return subprocess.run([COMPANION] + args, capture_output=True, text=True,
                          env=env, timeout=timeout)


class CheckConfigTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = simproc.Server([SIM, "--port", "0", "--rate", "20",
                                  "--quiet"])

    @classmethod
    def tearDownClass(cls):
        cls.sim.close()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="scn-check-config-")
        self.key = os.path.join(self.dir, "api-key")
        fd = os.open(self.key, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, (KEY + "\n").encode())
        os.close(fd)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def conf(self, text):
        path = os.path.join(self.dir, "companion.conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    def good(self):
        return ("# a board's config\n"
                "device-url = %s   # the simulator\n"
                "key-file = %s\n"
                "live-port = 0\n"
                "rate = 20\n" % (self.sim.origin, self.key))

    def check(self, text):
        p = run(["--check-config", self.conf(text)])
        self.assertNotIn(KEY, p.stdout + p.stderr)
        return p

    def starts(self, text):
        """Whether the companion runs with it (1 s, then stops cleanly)."""
        p = run(["--config", self.conf(text), "--duration", "1",
                 "--no-status"])
        self.assertNotIn(KEY, p.stdout + p.stderr)
        return p.returncode == 0

    def test_a_good_config_is_ok_and_starts(self):
        p = self.check(self.good())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("companion.conf: ok", p.stderr)
        self.assertTrue(self.starts(self.good()))

    def test_every_problem_is_reported(self):
        bad = ("device-url = http://%s\n" % self.sim.origin[5:] +  # line 1
               "drone-url\n"                                      # 2
               "colud-url = ws://127.0.0.1:1/x\n"                 # 3
               "rate = 5000\n"                                    # 4
               "key-file = %s/missing\n" % self.dir +             # 5
               "follow = xyz\n"                                   # 6
               "cloud-url = ws://127.0.0.1:1/v1/stream\n"         # 7
               "config = /etc/passwd\n"                           # 8
               "script = %s/no-script\n" % self.dir +             # 9
               "x" * 2000 + " = 1\n")                             # 10
        p = self.check(bad)
        self.assertEqual(p.returncode, 78, p.stderr)
        err = p.stderr
        for want in (":2: 'drone-url' needs a value",
                     ":3: unknown setting 'colud-url'",
                     ":4: bad value for 'rate': '5000'",
                     ":8: unknown setting 'config'",
                     ":10: longer than 1023 bytes",
                     "device-url 'http://",
                     "cloud-url needs a spool-dir",
                     "follow: oio: unknown compound",
                     "API key %s/missing: the API key file cannot be read"
                     % self.dir,
                     "script %s/no-script" % self.dir,
                     "10 problems"):
            self.assertIn(want, err)

    def test_check_agrees_with_starting(self):
        g = self.good()
        cases = {
            "good": g,
            "no device": g.replace("device-url", "# device-url"),
            "key readable by others": g,
            "bad number": g + "live-queue-msgs = 0\n",
            "spool not creatable": g + "cloud-url = %s\nspool-dir = %s\n" % (
                self.sim.origin + "/v1/stream", "/proc/nope/spool"),
            "empty follow threshold": g + "follow-threshold =\n",
            "live cert without key": g.replace("live-port = 0", "") +
            "live-port = %d\nlive-cert = %s\n" % (reserve_port(), self.key),
            "off loopback without token": g.replace("live-port = 0", "") +
            "live-port = %d\nlive-bind = 0.0.0.0\n" % reserve_port(),
            "ports collide": g + "drone-url = ws://127.0.0.1:1\n"
                                 "state-port = 18890\nvideo-port = 18890\n",
        }
        for name, text in cases.items():
            with self.subTest(name):
                os.chmod(self.key, 0o644 if name == "key readable by others"
                         else 0o600)
                ok = self.check(text).returncode == 0
                self.assertEqual(ok, name == "good")
                self.assertEqual(self.starts(text), ok)


if __name__ == "__main__":
    unittest.main(verbosity=2)
