#!/usr/bin/python3
"""Paths of the apps no other test took, each checked on what the user
sees and on what the peer or the file got:

- the TLS options: scn-stream and scn-record over wss:// with --ca-file,
  refused without it (exit 69 naming TLS), --insecure;
- scn-companion --config, with command-line flags overriding the file;
- scn-uav --no-land-on-exit: Ctrl-C in flight sends no 'land';
- scn-record across a dropped link (it reconnects, /events says so, the
  count is reached) and across a link that fails for good (exit 69, the
  recording is complete and says why);
- scn-companion's fatal exits: a device that is not served (69) and a
  key revoked under it (77), each reported, recorded and the recording
  finished;
- a drone named by host name (its address resolved for the state
  server's allow list); scn-record bench.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import simproc
from simproc import BIN_DIR, LOG_DIR, SIM, reserve_port

KEY = "SCN_TEST_clipaths00000000001"


def prog(name):
    return os.path.join(BIN_DIR, name)


class PathsTest(unittest.TestCase):
    def setUp(self):
        os.makedirs(LOG_DIR, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix="paths-", dir=LOG_DIR)
        # First registered, so it runs last: after the processes ended.
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.env = {k: v for k, v in os.environ.items()
                    if k != "SCENTIENCE_API_KEY"}
        self.env.update(SCENTIENCE_API_KEY=KEY,
                        XDG_CONFIG_HOME="/nonexistent-scn-test")
        self.serial = 0

    def path(self, name):
        return os.path.join(self.tmp, name)

    def sim(self, *args):
        """scn-sim ARGS on an ephemeral loopback port with a log (its path
        in .log); its stderr is checked at the end of the test."""
        self.serial += 1
        log = self.path("sim-%d.log" % self.serial)
        err = self.path("sim-%d.stderr" % self.serial)
        s = simproc.Server([SIM] + list(args) + [
            "--host", "127.0.0.1", "--port", "0", "--log", log, "--quiet"],
            err_path=err, name="scn-sim")
        s.log = log
        self.addCleanup(lambda: simproc.check_stderr(s.stderr_text(),
                                                     "scn-sim"))
        self.addCleanup(s.kill)
        return s

    def run_app(self, argv, timeout=90):
        p = subprocess.run([prog(argv[0])] + argv[1:], capture_output=True,
                           text=True, env=self.env, timeout=timeout,
                           preexec_fn=simproc.die_with_parent)
        simproc.check_stderr(p.stderr, argv[0])
        return p.returncode, p.stdout, p.stderr

    def start(self, argv):
        p = subprocess.Popen([prog(argv[0])] + argv[1:],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=self.env,
                             preexec_fn=simproc.die_with_parent)
        self.addCleanup(simproc.end_process, p, signal.SIGKILL, 5)
        return p

    def events(self, mcap):
        """The /events messages of a recording (scn-record export)."""
        rc, out, err = self.run_app(["scn-record", "export", mcap,
                                     "--format", "jsonl", "--channel",
                                     "/events"])
        self.assertEqual(rc, 0, err)
        return [json.loads(l)["data"] for l in out.splitlines()]

    def info(self, mcap):
        rc, out, err = self.run_app(["scn-record", "info", "--json", mcap])
        self.assertEqual(rc, 0, err)
        return json.loads(out)

    # --- TLS -------------------------------------------------------------

    def make_certs(self):
        """A CA and a server certificate for 127.0.0.1 signed by it."""
        def openssl(*args):
            p = subprocess.run(["openssl"] + list(args), capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)

        ca, ca_key = self.path("ca.pem"), self.path("ca.key")
        srv, srv_key = self.path("srv.pem"), self.path("srv.key")
        csr, ext = self.path("srv.csr"), self.path("srv.ext")
        newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                  "-nodes"]
        openssl("req", "-x509", *newkey, "-keyout", ca_key, "-out", ca,
                "-days", "2", "-subj", "/CN=scn-test-ca", "-addext",
                "basicConstraints=critical,CA:TRUE", "-addext",
                "keyUsage=critical,keyCertSign,cRLSign")
        openssl("req", "-new", *newkey, "-keyout", srv_key, "-out", csr,
                "-subj", "/CN=127.0.0.1")
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                    "subjectAltName=IP:127.0.0.1\n")
        openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
                "-CAcreateserial", "-out", srv, "-days", "2", "-extfile", ext)
        return ca, srv, srv_key

    def test_tls_options(self):
        ca, cert, key = self.make_certs()
        sim = self.sim("--rate", "50", "--tls-cert", cert, "--tls-key", key)
        url = "wss://127.0.0.1:%d" % sim.port
        # Trusted through --ca-file: frames.
        rc, out, err = self.run_app(["scn-stream", "--url", url, "--ca-file",
                                     ca, "--count", "3"])
        self.assertEqual(rc, 0, err)
        self.assertEqual([json.loads(l)["SEQ"] for l in out.splitlines()],
                         [1, 2, 3])
        # Without it the certificate is not trusted: refused, named.
        rc, out, err = self.run_app(["scn-stream", "--url", url, "--count",
                                     "3", "--max-attempts", "2"])
        self.assertEqual((rc, out), (69, ""), err)
        self.assertIn("TLS failure (certificate or handshake); reconnecting",
                      err)
        # --insecure: not verified, frames.
        rc, out, err = self.run_app(["scn-stream", "--url", url, "--insecure",
                                     "--count", "3"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(out.splitlines()), 3)
        # scn-record takes the same options.
        mcap = self.path("tls.mcap")
        rc, _, err = self.run_app(["scn-record", "record", "--url", url,
                                   "--ca-file", ca, "--count", "10", mcap])
        self.assertEqual(rc, 0, err)
        topics = {c["topic"]: c["messages"] for c in self.info(mcap)["channels"]}
        self.assertEqual(topics["/olfaction"], 10)

    # --- scn-companion --config ------------------------------------------

    def test_companion_config_file(self):
        sim = self.sim("--rate", "50")
        conf = self.path("companion.conf")
        mcap = self.path("c.mcap")
        with open(conf, "w") as f:
            f.write("# from a file\n"
                    "device-url = %s   # a comment after a value\n"
                    "live-port = 0\n"
                    "no-status\n"
                    "record = %s\n"
                    "duration = 600\n" % (sim.origin, mcap))
        t0 = time.monotonic()
        # The command line wins over the file: 1 s, not 600.
        rc, out, err = self.run_app(["scn-companion", "--config", conf,
                                     "--duration", "1"], timeout=60)
        self.assertEqual(rc, 0, err)
        self.assertLess(time.monotonic() - t0, 30)
        frames = int(err.split("scn-companion: ")[-1].split(" frames")[0])
        self.assertGreater(frames, 0, err)
        topics = {c["topic"]: c["messages"] for c in self.info(mcap)["channels"]}
        self.assertEqual(topics["/olfaction"], frames)

    # --- scn-uav --no-land-on-exit ---------------------------------------

    def test_uav_no_land_on_exit(self):
        sim = self.sim("uav", "--time-scale", "20", "--state-host",
                       "127.0.0.1", "--state-port", str(reserve_port()),
                       "--video-port", str(reserve_port()))
        # Landing first: after the other run the drone is still flying.
        for no_land in (False, True):
            with self.subTest(no_land=no_land):
                before = len(simproc.read_events(sim.log, "command"))
                p = self.start(["scn-uav", "--drone", sim.origin,
                                "--state-port", "0", "--video-port", "0",
                                "takeoff", "wait 60"] +
                               (["--no-land-on-exit"] if no_land else []))
                lines = [p.stdout.readline(), p.stdout.readline()]
                self.assertEqual(lines, ["> takeoff\n", "< ok\n"])
                p.send_signal(signal.SIGINT)
                out, err = p.communicate(timeout=60)
                self.assertEqual(p.returncode, 130, err)
                sent = [e["raw"] for e in
                        simproc.read_events(sim.log, "command")[before:]]
                if no_land:
                    self.assertEqual(out, "")
                    self.assertNotIn("land", sent)
                    self.assertNotIn("landing", err)
                else:
                    self.assertEqual(out, "> land\n< ok\n")
                    self.assertEqual(sent[-1], "land")
                    self.assertIn("interrupted while flying: landing", err)

    def test_uav_drone_by_host_name(self):
        """--drone ws://localhost:PORT: the state server resolves the name
        for its allow list, and the drone's states get through."""
        state = reserve_port()
        sim = self.sim("uav", "--time-scale", "20", "--state-host",
                       "127.0.0.1", "--state-port", str(state),
                       "--video-port", str(reserve_port()))
        rc, out, err = self.run_app([
            "scn-uav", "--drone", "ws://localhost:%d" % sim.port, "--listen",
            "127.0.0.1", "--state-port", str(state), "--video-port", "0",
            "--state", "jsonl", "battery?", "wait 1"])
        self.assertEqual(rc, 0, err)
        states = [json.loads(l) for l in out.splitlines() if l[:1] == "{"]
        self.assertGreater(len(states), 3, out + err)
        self.assertEqual(states[-1]["bat"], int(out.split("< ")[1].split()[0]))

    def test_record_bench(self):
        out = self.path("bench.mcap")
        rc, text, err = self.run_app(["scn-record", "bench", out, "--count",
                                      "2000", "--size", "600"])
        self.assertEqual(rc, 0, err)
        result = json.loads(text)
        self.assertEqual((result["frames"], result["frame_bytes"]),
                         (2000, 600))
        self.assertEqual(result["file_bytes"], os.path.getsize(out))
        topics = {c["topic"]: c["messages"] for c in self.info(out)["channels"]}
        self.assertEqual(topics, {"/olfaction": 2000})

    # --- scn-record across reconnects and failed links -------------------

    def test_record_across_a_dropped_link(self):
        sim = self.sim("--rate", "50")
        mcap = self.path("drop.mcap")
        p = self.start(["scn-record", "record", "--url", sim.origin,
                        "--count", "150", mcap])
        # Drop every connection once frames flow (the file is named at
        # the first frame).
        self.assertTrue(simproc.wait_until(lambda: os.path.exists(mcap), 30),
                        "no frame recorded in 30 s")
        sim.signal(signal.SIGUSR2)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, err)
        self.assertIn("device: ", err)
        self.assertIn("; reconnecting in", err)
        self.assertIn("150 frames", err)
        info = self.info(mcap)
        self.assertTrue(info["complete"])
        topics = {c["topic"]: c["messages"] for c in info["channels"]}
        self.assertEqual(topics["/olfaction"], 150)
        states = [e for e in self.events(mcap) if e["event"] == "state"]
        seen = [(e["previous"], e["state"]) for e in states]
        self.assertIn(("open", "reconnecting"), seen)
        self.assertIn(("connecting", "open"), seen[seen.index(
            ("open", "reconnecting")):])
        stop = [e for e in self.events(mcap) if e["event"] == "stop"][-1]
        self.assertEqual((stop["reason"], stop["reconnects"]), ("count", 1))

    def test_record_across_a_failed_link(self):
        sim = self.sim("--rate", "50")
        mcap = self.path("failed.mcap")
        p = self.start(["scn-record", "record", "--url", sim.origin,
                        "--max-attempts", "2", mcap])
        self.assertTrue(simproc.wait_until(lambda: os.path.exists(mcap), 30),
                        "no frame recorded in 30 s")
        sim.close()  # the device goes away for good
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 69, err)
        self.assertIn("scn-record: device: gave up after the reconnect "
                      "attempt limit (last attempt: network error: the "
                      "server could not be reached)\n", err)
        info = self.info(mcap)
        self.assertTrue(info["complete"])
        events = self.events(mcap)
        failed = [e for e in events if e.get("state") == "failed"]
        self.assertEqual(len(failed), 1, events)
        self.assertEqual(failed[0]["reason"], "ATTEMPTS_EXHAUSTED")
        self.assertEqual(failed[0]["last_error"], "NETWORK")
        self.assertEqual(events[-1]["event"], "stop")
        self.assertEqual(events[-1]["reason"], "failed")

    # --- scn-companion's fatal exits ---------------------------------------

    def test_companion_fatal_exits(self):
        store = self.path("keys.json")

        def keys(revoked):
            tmp = store + ".tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump({"keys": [{"name": "k", "key": KEY,
                                     "revoked": revoked}]}, f)
            os.rename(tmp, store)

        keys(False)
        sim = self.sim("--rate", "50", "--devices", "SCN001", "--keys", store)
        # A device the server does not have: 69, said, recorded.
        mcap = self.path("unknown.mcap")
        rc, _, err = self.run_app(["scn-companion", "--device-url", sim.origin,
                                   "--device", "SCN009", "--live-port", "0",
                                   "--no-status", "--record", mcap])
        self.assertEqual(rc, 69, err)
        self.assertIn("scn-companion: device link failed: no device with "
                      "that UID is served here\n", err)
        self.assertTrue(self.info(mcap)["complete"])
        # The key revoked while running: 77, said, recorded.
        mcap = self.path("revoked.mcap")
        p = self.start(["scn-companion", "--device-url", sim.origin,
                        "--live-port", "0", "--no-status", "--record", mcap])
        self.assertTrue(simproc.wait_until(lambda: self.info_frames(mcap), 30),
                        "no frame recorded in 30 s")
        keys(True)
        sim.signal(signal.SIGHUP)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 77, err)
        self.assertIn("scn-companion: device link failed: the API key was "
                      "revoked\n", err)
        info = self.info(mcap)
        self.assertTrue(info["complete"])
        events = self.events(mcap)
        failed = [e for e in events if e.get("state") == "failed"]
        self.assertEqual([(e["source"], e["reason"]) for e in failed],
                         [("device", "the API key was revoked")])
        self.assertEqual(events[-1]["event"], "stop")
        self.assertNotIn(KEY, json.dumps(events))

    def info_frames(self, mcap):
        """Frames in a recording being written (0 before its first flush)."""
        p = subprocess.run([prog("scn-record"), "info", "--json", mcap],
                           capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            return 0
        return sum(c["messages"] for c in json.loads(p.stdout)["channels"]
                   if c["topic"] == "/olfaction")


if __name__ == "__main__":
    unittest.main(verbosity=2)
