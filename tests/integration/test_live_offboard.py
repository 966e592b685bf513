#!/usr/bin/python3
"""scn-companion's live listener reached from another machine: a network
namespace the test makes (vethns.py: a veth pair, names with the pid,
removed on exit) plays the ground station, so the companion sees a peer
that is not on loopback.

- Bound to its side of the link with --live-token-file: a request without
  the token gets 401 (page and WebSocket alike); the token in the query
  of a page turns into a cookie (303), which then opens the page and the
  WebSocket; an Authorization header opens Foxglove; a wrong Origin is
  refused (403) even with the token; a wrong token is 401.
- The same over TLS with a test CA made here (openssl): https and wss
  work for a client trusting that CA, and a client trusting only the
  system's CAs is refused.
- Binding off loopback without a token is a usage error (64); a token
  file readable by others is refused (78).
"""

import json
import os
import shlex
import signal
import subprocess
import unittest

import vethns
import simproc
from simproc import COMPANION, SOURCE_DIR, reserve_port

KEY = "SCN_TEST_companion0000000007"
PEER = os.path.join(SOURCE_DIR, "tests", "integration", "offboard_peer.py")
TOKEN = "dash-0123456789-abcdefABCDEF"


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   capture_output=True, timeout=60)


def make_ca_and_cert(d, ip_addr):
    """A test CA and a server certificate for ip_addr signed by it."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=scentience test CA", "-keyout", "ca.key",
            "-out", "ca.pem", cwd=d)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj",
            "/CN=" + ip_addr, "-keyout", "server.key", "-out", "server.csr",
            cwd=d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n"
                % ip_addr)
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey",
            "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf",
            "-out", "server.pem", cwd=d)
    os.chmod(os.path.join(d, "server.key"), 0o600)
    return [os.path.join(d, n) for n in ("ca.pem", "server.pem",
                                         "server.key")]


def kill_named(word):
    """SIGKILL every process whose command line holds word."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if word.encode() in f.read():
                    os.kill(int(pid), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            pass


class LiveOffboardTest(simproc.ProcCase):
    KEY = KEY
    LOG_PREFIX = "live-offboard"
    END_WAIT = 10

    def setUp(self):
        super().setUp()
        self.net = vethns.Pair("lv")
        self.net.__enter__()
        self.addCleanup(self.net.close)
        self.token_file = os.path.join(self.tmp, "token")
        with open(self.token_file, "w") as f:
            f.write(TOKEN + "\n")
        os.chmod(self.token_file, 0o600)

    def companion(self, extra):
        _, dev = self.start_sim(["device", "--rate", "20", "--port", "0",
                                 "--quiet"], stderr="device")
        port = reserve_port()
        comp = self.start(
            [COMPANION, "--device-url", "ws://127.0.0.1:%d" % dev,
             "--state-port", "0", "--video-port", "0",
             "--live-port", str(port), "--live-bind", self.net.host_ip,
             "--live-token-file", self.token_file, "--no-status",
             "--duration", "120"] + list(extra), stderr="companion")
        ok = simproc.wait_until(
            lambda: comp.poll() is not None or
            "live fan-out on" in self.text(comp.err_path), 20)
        self.assertIsNone(comp.poll(), self.text(comp.err_path))
        self.assertTrue(ok)
        err = self.text(comp.err_path)
        self.assertNotIn(TOKEN, err)  # the token is never printed
        return comp, port

    def peer(self, port, *extra):
        p = subprocess.run(
            self.net.argv(["/usr/bin/python3", PEER, self.net.host_ip,
                           str(port), TOKEN] + list(extra)),
            capture_output=True, text=True, timeout=120,
            env=dict(os.environ, PYTHONPATH=os.path.dirname(PEER)))
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def check_access(self, r, secure):
        self.assertEqual(r["page_no_token"][0], 401)
        st, cookie, location, _ = r["page_query_token"]
        self.assertEqual((st, location), (303, "/"))
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Lax", cookie)
        self.assertEqual("Secure" in cookie, secure)
        self.assertEqual(r["page_cookie"][0], 200)
        self.assertTrue(r["page_cookie"][3].startswith("<!doctype html>"))
        self.assertEqual(r["page_wrong_token"][0], 401)
        self.assertEqual(r["live_no_token"][0], 401)
        self.assertEqual(r["live_query_token"], [101, "olfaction"])
        self.assertEqual(r["live_cookie_own_origin"], [101, "olfaction"])
        self.assertEqual(r["live_token_evil_origin"][0], 403)
        self.assertEqual(r["foxglove_bearer"], [101, "serverInfo"])

    def test_token_and_origin(self):
        comp, port = self.companion([])
        self.check_access(self.peer(port), secure=False)
        self.assertEqual(self.stop(comp, timeout=30), 0)

    def test_tls_with_a_test_ca(self):
        ca, cert, key = make_ca_and_cert(self.tmp, self.net.host_ip)
        comp, port = self.companion(["--live-cert", cert, "--live-key", key])
        self.assertIn("https://%s:%d/" % (self.net.host_ip, port),
                      self.text(comp.err_path))
        r = self.peer(port, ca)
        self.check_access(r, secure=True)
        self.assertTrue(r["untrusted"].startswith("refused"), r["untrusted"])
        self.assertEqual(self.stop(comp, timeout=30), 0)

    def test_refused_configurations(self):
        base = [COMPANION, "--device-url", "ws://127.0.0.1:9",
                "--live-bind", self.net.host_ip, "--no-status"]
        p = subprocess.run(base, capture_output=True, text=True, timeout=30,
                           env=self.env)
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("--live-token-file", p.stderr)
        os.chmod(self.token_file, 0o644)
        p = subprocess.run(base + ["--live-token-file", self.token_file],
                           capture_output=True, text=True, timeout=30,
                           env=self.env)
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn("chmod 600", p.stderr)
        self.assertNotIn(TOKEN, p.stderr)

    def test_encrypted_key_is_refused_without_a_prompt(self):
        """A key that needs a passphrase is refused at start-up. OpenSSL's
        default would ask on the controlling terminal and wait there (with
        the loop stopped): `script` gives the companion one."""
        _, cert, key = make_ca_and_cert(self.tmp, self.net.host_ip)
        locked = os.path.join(self.tmp, "locked.key")
        openssl("pkey", "-in", key, "-aes256", "-passout", "pass:sesame",
                "-out", locked, cwd=self.tmp)
        os.chmod(locked, 0o600)
        cmd = " ".join(shlex.quote(a) for a in [
            COMPANION, "--device-url", "ws://127.0.0.1:9", "--live-bind",
            self.net.host_ip, "--live-token-file", self.token_file,
            "--live-cert", cert, "--live-key", locked, "--no-status"])
        p = subprocess.Popen(["script", "-qec", cmd, "/dev/null"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True,
                             env=self.env, start_new_session=True)
        try:
            out, _ = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            kill_named(locked)  # the companion: a session of its own
            self.fail("scn-companion waited for a passphrase on the terminal")
        self.assertNotEqual(p.returncode, 0, out)
        self.assertNotIn("pass phrase", out.lower())
        self.assertIn(locked, out)


if __name__ == "__main__":
    unittest.main()
