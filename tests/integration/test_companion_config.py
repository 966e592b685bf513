#!/usr/bin/python3
"""scn-companion --config as a user writes it: settings that take effect,
and files refused with the line that is wrong, before anything starts. A
line longer than the reader's buffer used to be split, and its tail (say,
after a long comment) applied as a setting of its own."""

import os
import subprocess
import tempfile
import unittest

import simproc
from simproc import COMPANION, LOG_DIR

KEY = "SCN_TEST_companioncfg000001"
CONFIG_ERROR = 78


class CompanionConfigTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="scn-cfg-")
        self.addCleanup(self.dir.cleanup)

    def run_with(self, content, *args):
        path = os.path.join(self.dir.name, "companion.conf")
        with open(path, "wb") as f:
            f.write(content)
        env = simproc.env_with_key(KEY)
        env["XDG_CONFIG_HOME"] = "/nonexistent-scn-test"
        p = subprocess.run([COMPANION, "--config", path] + list(args),
                           capture_output=True, text=True, env=env,
                           timeout=60, preexec_fn=simproc.die_with_parent)
        os.makedirs(LOG_DIR, exist_ok=True)
        with open(os.path.join(LOG_DIR, "test_companion_config.stderr.log"),
                  "a") as log:
            log.write(p.stderr)
        simproc.check_stderr(p.stderr, "scn-companion")
        return p

    def refused(self, content, *expected):
        p = self.run_with(content)
        self.assertEqual(p.returncode, CONFIG_ERROR, p.stderr)
        for text in expected:
            self.assertIn(text, p.stderr)
        return p

    def test_settings_take_effect(self):
        # A device nobody serves: the companion runs for the configured
        # duration and stops by itself; CRLF, comments and a bare flag.
        p = self.run_with(b"# the lab bench\r\n"
                          b"device-url = ws://127.0.0.1:9  # nothing here\r\n"
                          b"duration=0.5\n\n"
                          b"live-port = 0\nstate-port = 0\nvideo-port = 0\n"
                          b"\tno-status\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("device link", p.stderr)

    def test_long_line_refused_with_its_number(self):
        # Before: the first 1023 bytes were read as a comment and the
        # tail, "duration = 1", was applied as a setting.
        self.refused(b"live-port = 0\n#" + b"x" * 1022 + b"duration = 1\n",
                     ":2: longer than 1023 bytes")
        # The longest line accepted.
        p = self.run_with(b"#" + b"x" * 1022 + b"\n")
        self.assertNotEqual(p.returncode, CONFIG_ERROR, p.stderr)

    def test_bad_lines_named(self):
        self.refused(b"live-port = 0\nlive-prot = 5\n",
                     ":2: unknown setting 'live-prot'")
        self.refused(b"rate = fast\n", ":1: bad value for 'rate': 'fast'")
        self.refused(b"device-url =\n", ":1: 'device-url' needs a value")
        # "no-status = no" would have meant the opposite of what it says.
        self.refused(b"no-status = no\n", ":1: 'no-status' takes no value")
        self.refused(b"= 5\n", ":1: no setting name before '='")
        # What a text editor does not show cannot be read silently.
        self.refused(b"live-port = 0\x00duration = 1\n",
                     ":1: contains a NUL byte")
        self.refused(b"live-port = 0\rduration = 1\n",
                     ":1: contains a control character")
        self.refused(b"config = other.conf\n", "unknown setting 'config'")
        # Every problem at once, not only the first.
        self.refused(b"rate = fast\nlive-prot = 5\n#" + b"x" * 1023 + b"\n",
                     ":1: bad value", ":2: unknown setting", ":3: longer than")

    def test_missing_file(self):
        absent = os.path.join(self.dir.name, "absent.conf")
        p = subprocess.run([COMPANION, "--config", absent],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, CONFIG_ERROR, p.stderr)
        self.assertEqual(p.stderr, "scn-companion: --config %s: no such file "
                         "or directory\n" % absent)


if __name__ == "__main__":
    if not simproc.have_programs(COMPANION):
        raise SystemExit(1)
    unittest.main()
