#!/usr/bin/python3
"""Text a peer sends never reaches a log or a terminal as it was sent: a
hostile device (error message, close reason, frame UID), drone (answers)
and cloud (labels, error message) try CR/LF line forging, ESC and C1
sequences, BEL, a bidirectional override and bytes that are not UTF-8
against scn-stream --verbose, scn-uav and scn-predict. What those print
must hold none of it raw, and must show it escaped (scn_escape_text)."""

import os
import re
import subprocess
import sys
import unittest

import simproc
from simproc import BIN_DIR, SOURCE_DIR

KEY = "SCN_TEST_hostile00000000000001"
PEER = os.path.join(SOURCE_DIR, "tests", "integration", "hostile_peer.py")
# What a terminal acts on: C0 controls but LF (our own line ends), DEL, and
# the C1 controls and bidirectional overrides of the decoded text.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f\u0080-\u009f\u202a-\u202e]")
ESCAPED = ("boom\\r\\n[error] session: FORGED\\x1b[31m\\x07\\u009b2J"
           "\\u202eevil")


def run(prog, args, timeout=60, stdin=None):
    env = dict(os.environ, SCENTIENCE_API_KEY=KEY,
               XDG_CONFIG_HOME="/nonexistent-scn-test")
    p = subprocess.run([os.path.join(BIN_DIR, prog)] + args, env=env,
                       capture_output=True, timeout=timeout, input=stdin)
    return p.returncode, p.stdout, p.stderr


class HostilePeerTest(unittest.TestCase):
    def peer(self, mode):
        srv = simproc.Server([sys.executable, PEER, mode],
                             name="hostile_peer")
        self.addCleanup(srv.kill)
        return srv

    def check_clean(self, who, data):
        """data (bytes) is UTF-8, holds no raw control and no forged line."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            self.fail("%s printed bytes that are not UTF-8: %s\n%r"
                      % (who, e, data))
        self.assertIsNone(RAW_CONTROL.search(text),
                          "%s printed a raw control: %r" % (who, text))
        for line in text.splitlines():
            self.assertFalse(line.startswith("[error] session: FORGED"),
                             "%s printed a forged line: %r" % (who, text))
        simproc.check_stderr(text, who)
        return text

    def test_device_error_close_reason_and_uid(self):
        srv = self.peer("device")
        rc, out, err = run("scn-stream", [
            "--url", srv.origin, "--verbose", "--format", "table",
            "--max-attempts", "1"])
        out, err = self.check_clean("scn-stream stdout", out), \
            self.check_clean("scn-stream stderr", err)
        self.assertEqual(rc, 69, err)  # 4004: no such device, final
        self.assertIn("device error: " + ESCAPED, err)
        self.assertIn("server closed the session: 4004 " + ESCAPED[:60], err)
        self.assertIn("\\xff\\xc0\\xaf", err)  # the raw bytes, escaped
        self.assertIn("SCN\\x1b[2J", out)      # the UID, in the table

    def test_drone_answers(self):
        srv = self.peer("drone")
        rc, out, err = run("scn-uav", [
            "--drone", srv.origin, "--state-port", "0", "--video-port", "0",
            "battery?"])
        out = self.check_clean("scn-uav stdout", out)
        self.check_clean("scn-uav stderr", err)
        self.assertEqual(rc, 1, err)  # a malformed answer fails the command
        self.assertIn("< ok " + ESCAPED + "\\xff\\xc0\\xaf\n", out)

    def test_cloud_labels_and_error_message(self):
        srv = self.peer("cloud")
        url = "http://127.0.0.1:%d/v1/predict" % srv.port
        frame = b'{"UID":"SCN001","TIMESTAMP":"2025-08-29T21:00:00Z","NH3":1}'
        rc, out, err = run("scn-predict", ["--url", url], stdin=frame)
        out = self.check_clean("scn-predict stdout", out)
        self.check_clean("scn-predict stderr", err)
        self.assertEqual(rc, 0, err)
        self.assertIn("label " + ESCAPED[:60], out)
        rc, out, err = run("scn-predict", ["--url", url], stdin=frame.replace(
            b'"NH3":1', b'"CO":1'))
        err = self.check_clean("scn-predict stderr", err)
        self.assertEqual(rc, 65, err)
        self.assertIn("malformed: " + ESCAPED, err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
