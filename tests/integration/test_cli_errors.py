#!/usr/bin/python3
"""What a new user hits at the command line, checked on the output, the
exit status and the files left behind:

- usage errors are one line naming the option and what it accepts, then
  where the options are listed; an unknown option is reported once; the
  required option that is missing is named;
- every app's --help lists the exit codes it returns, and README.md's
  table says the same;
- errors a user can cause name their cause and the port or path (a port
  in use, a directory that does not exist, a key file);
- scn-uav gives up on an unreachable drone with exit 69 (--max-attempts,
  default 6);
- scn-record never overwrites without --force, never destroys a
  recording on a failed run, and shows progress only on a terminal;
- scn-predict names its target, maps stream and base URLs, prints JSON.
"""

import json
import os
import pty
import re
import select
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

import simproc
from simproc import BIN_DIR, LOG_DIR, SIM, SOURCE_DIR

KEY = "SCN_TEST_clierrors0000000001"
OTHER_KEY = "SCN_TEST_clierrors0000000002"


def prog(name):
    return os.path.join(BIN_DIR, name)


def run(argv, key=KEY, timeout=90, stdin=None, env_extra=None):
    """argv[0] is a program name of BIN_DIR. Returns (rc, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if k != "SCENTIENCE_API_KEY"}
    env["XDG_CONFIG_HOME"] = "/nonexistent-scn-test"
    if key:
        env["SCENTIENCE_API_KEY"] = key
    env.update(env_extra or {})
    p = subprocess.run([prog(argv[0])] + argv[1:], capture_output=True,
                       text=True, env=env, timeout=timeout, input=stdin,
                       preexec_fn=simproc.die_with_parent)
    simproc.check_stderr(p.stderr, argv[0])
    return p.returncode, p.stdout, p.stderr


def exit_codes(text):
    """The exit codes a text lists: "64 usage, 69 unreachable..."."""
    return {int(n) for n in
            re.findall(r"(?<![\w.-])(\d{1,3})\s+(?=[A-Za-z(])", text)}


def taken_port():
    """A loopback socket listening on a port; the caller closes it."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CliTest(unittest.TestCase):
    def setUp(self):
        os.makedirs(LOG_DIR, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix="cli-", dir=LOG_DIR)
        # First registered, so it runs last: after the processes ended.
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def sim(self, *args, keys=None):
        """scn-sim ARGS on an ephemeral port, its key store holding KEY
        only when keys is true; ended by the test's cleanup."""
        argv = [SIM] + list(args) + ["--host", "127.0.0.1", "--port", "0",
                                     "--quiet"]
        if keys:
            store = self.path("keys.json")
            fd = os.open(store, os.O_WRONLY | os.O_CREAT, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump({"keys": [{"name": "good", "key": KEY}]}, f)
            argv += ["--keys", store]
        s = simproc.Server(argv, err_path=self.path("sim.stderr"),
                           name="scn-sim")
        self.addCleanup(s.kill)
        return s

    def usage_error(self, argv, line):
        """argv exits 64 with exactly LINE and the hint, nothing else."""
        rc, out, err = run(argv)
        name = argv[0] if argv[0] != "scn-record" else " ".join(argv[:2])
        self.assertEqual((rc, out), (64, ""), err)
        self.assertEqual(err, "%s: %s\nRun '%s --help' for the options.\n"
                         % (name, line, name))

    # --- usage ---------------------------------------------------------

    def test_usage_errors_name_the_option_and_its_range(self):
        url = "ws://127.0.0.1:1"
        cases = [
            (["scn-stream", "--url", url, "--rate", "5000"],
             "--rate 5000: must be a number 0.1-1000"),
            (["scn-stream", "--url", url, "--count", "x"],
             "--count x: must be a whole number 1 or more"),
            (["scn-stream", "--url"], "--url needs a value"),
            (["scn-stream"], "--url is required"),
            (["scn-stream", "--url", "http://x"],
             "--url http://x: malformed or unsupported URL "
             "(ws://HOST:PORT/PATH or wss://...)"),
            (["scn-uav", "--drone", url, "--state-port", "70000"],
             "--state-port 70000: must be a whole number 0-65535"),
            (["scn-uav", "--drone", url, "--max-attempts", "-1"],
             "--max-attempts -1: must be a whole number 0 or more"),
            (["scn-uav", "--drone", url, "--state", "csv"],
             "--state csv: must be jsonl"),
            (["scn-uav", "takeoff"], "--drone is required (ws://HOST:8889)"),
            (["scn-companion", "--device-url", url, "--follow-threshold",
              "2"], "--follow-threshold 2: must be a number 0-1"),
            (["scn-companion"], "--device-url is required (the olfaction "
             "device, ws://HOST:9000)"),
            (["scn-companion", "--device-url", url, "--cloud-url", url],
             "--cloud-url needs --spool-dir (where records wait for the "
             "cloud)"),
            (["scn-record", "record", "--url", url, "--chunk-size", "1",
              "x.mcap"],
             "--chunk-size 1: must be a size 1K-1G (bytes, or with K, M, G)"),
            (["scn-record", "record", "--url", url],
             "the output file is missing (OUT.mcap)"),
            (["scn-record", "export", "f.mcap", "--format", "xml"],
             "--format xml: must be csv or jsonl"),
            (["scn-predict", "--timeout", "0"],
             "--timeout 0: must be a whole number 1-600000"),
            (["scn-predict", "--url", "ftp://h/"],
             "--url ftp://h/: malformed or unsupported URL (http://, "
             "https://, ws:// or wss://)"),
        ]
        for argv, line in cases:
            with self.subTest(argv=argv):
                self.usage_error(argv, line)

    def test_unknown_options_are_reported_once(self):
        for name in ("scn-stream", "scn-uav", "scn-companion", "scn-predict",
                     "scn-replay"):
            with self.subTest(name=name):
                self.usage_error([name, "--bogus"], "unknown option '--bogus'")
                self.usage_error([name, "-x"], "unknown option '-x'")
        # A prefix of a long option is not that option (no --key SECRET).
        self.usage_error(["scn-stream", "--url", "ws://h:1", "--key", KEY],
                         "unknown option '--key'")
        self.usage_error(["scn-uav", "--drone", "ws://h:1", "--keep-going=1"],
                         "'--keep-going=1': --keep-going takes no value")

    def test_help_and_readme_list_every_exit_code(self):
        with open(os.path.join(SOURCE_DIR, "README.md")) as f:
            readme = f.read()
        table = readme[readme.index("## Exit codes"):]
        rows = {m.group(1): exit_codes(m.group(2)) for m in re.finditer(
            r"^\| `([a-z -]+)`[^|]* \| (.*) \|$", table, re.M)}
        must = {
            "scn-stream": {0, 64, 69, 70, 74, 77, 78},
            "scn-uav": {0, 1, 64, 65, 66, 69, 70, 71, 73, 77, 78, 130},
            "scn-companion": {0, 64, 65, 66, 69, 70, 71, 73, 74, 75, 76, 77,
                              78},
            "scn-record record": {0, 64, 69, 70, 73, 74, 75, 77, 78},
            "scn-predict": {0, 64, 65, 66, 69, 70, 75, 77, 78},
            "scn-replay": {0, 64, 65, 66, 70, 71},
        }
        for name, codes in must.items():
            with self.subTest(name=name):
                rc, out, err = run(name.split() + ["--help"])
                self.assertEqual(rc, 0, err)
                self.assertIn("Exit:", out)
                self.assertEqual(exit_codes(out[out.index("Exit:"):]), codes)
                self.assertEqual(rows.get(name), codes, "README.md")

    # --- errors a user can cause -----------------------------------------

    def test_a_port_in_use_is_named(self):
        with taken_port() as s:
            port = s.getsockname()[1]
            cause = ("cannot listen on 127.0.0.1:%d: address already in use "
                     "(another program listens on that port)" % port)
            rc, _, err = run(["scn-uav", "--drone", "ws://127.0.0.1:1",
                              "--listen", "127.0.0.1", "--state-port",
                              str(port), "takeoff"])
            self.assertEqual((rc, err), (71, "scn-uav: --state-port %d: %s\n"
                                         % (port, cause)))
            rc, _, err = run(["scn-uav", "--drone", "ws://127.0.0.1:1",
                              "--listen", "127.0.0.1", "--state-port", "0",
                              "--video-port", str(port), "takeoff"])
            self.assertEqual((rc, err), (71, "scn-uav: --video-port %d: %s\n"
                                         % (port, cause)))
            rc, _, err = run(["scn-companion", "--device-url",
                              "ws://127.0.0.1:1", "--live-port", str(port)])
            self.assertEqual(rc, 71, err)
            self.assertIn("scn-companion: --live-port %d: %s\n"
                          % (port, cause), err)

    def test_missing_paths_are_named(self):
        gone = self.path("no-such-dir")
        cause = "no such file or directory"
        url = "ws://127.0.0.1:%d" % closed_port()
        cases = [
            (["scn-uav", "--drone", url, "--video-out", gone + "/v.h264"],
             73, "scn-uav: --video-out %s/v.h264: %s\n" % (gone, cause)),
            (["scn-uav", "--drone", url, "--script", gone + "/f.txt"],
             66, "scn-uav: --script %s/f.txt: cannot read: %s\n"
             % (gone, cause)),
            (["scn-companion", "--device-url", url, "--live-port", "0",
              "--record", gone + "/r.mcap"],
             73, "scn-companion: --record %s/r.mcap: %s\n" % (gone, cause)),
            (["scn-companion", "--device-url", url, "--live-port", "0",
              "--cloud-url", url, "--spool-dir", gone + "/a/b"],
             73, "scn-companion: --spool-dir %s/a/b: %s\n" % (gone, cause)),
            (["scn-companion", "--config", gone + "/c.conf"],
             78, "scn-companion: --config %s/c.conf: %s\n" % (gone, cause)),
            (["scn-record", "record", "--url", url, gone + "/r.mcap"],
             73, "scn-record: cannot create %s/r.mcap: %s\n" % (gone, cause)),
            (["scn-record", "info", gone + "/r.mcap"],
             66, "scn-record: %s/r.mcap: %s\n" % (gone, cause)),
            (["scn-predict", "--url", url, gone + "/frame.json"],
             66, "scn-predict: %s/frame.json: %s\n" % (gone, cause)),
            (["scn-stream", "--url", url, "--key-file", gone + "/key"],
             78, "scn-stream: %s/key: the API key file cannot be read\n"
             % gone),
        ]
        for argv, code, line in cases:
            with self.subTest(argv=argv):
                rc, _, err = run(argv, key=None if "--key-file" in argv
                                 else KEY)
                self.assertEqual(rc, code, err)
                self.assertIn(line, err)
        self.assertFalse(os.path.exists(gone))

    def test_script_errors_name_file_and_line(self):
        script = self.path("flight.txt")
        url = "ws://127.0.0.1:%d" % closed_port()
        for text, why in (
                ("takeoff\nwait soon\n", "line 2: wait takes seconds "
                 "(0-3600)"),
                ("# ok\ntakeoff\n\nup 600\n", "line 4: up: distance 600 "
                 "out of range 20-500 cm"),
                ("takeoff\n" + "x" * 600 + "\n", "line 2: too long")):
            with self.subTest(why=why):
                with open(script, "w") as f:
                    f.write(text)
                rc, out, err = run(["scn-uav", "--drone", url, "--script",
                                    script])
                self.assertEqual((rc, out), (65, ""), err)
                self.assertEqual(err, "scn-uav: --script %s: %s\n"
                                 % (script, why))

    def test_companion_config_errors_name_file_line_and_range(self):
        conf = self.path("c.conf")
        with open(conf, "w") as f:
            f.write("# a comment\ndevice-url = ws://127.0.0.1:1\n"
                    "live-port = 99999\n")
        rc, _, err = run(["scn-companion", "--config", conf])
        self.assertEqual((rc, err), (78, "scn-companion: %s:3: bad value for "
                                     "'live-port': '99999': must be a whole "
                                     "number 0-65535\n" % conf))
        with open(conf, "w") as f:
            f.write("device-url = ws://127.0.0.1:1\nnonsense = 1\n")
        rc, _, err = run(["scn-companion", "--config", conf])
        self.assertEqual((rc, err), (78, "scn-companion: %s:2: unknown "
                                     "setting 'nonsense'\n" % conf))

    # --- scn-uav gives up ------------------------------------------------

    def test_uav_gives_up_on_an_unreachable_drone(self):
        url = "ws://127.0.0.1:%d" % closed_port()
        for extra, attempts in (([], 6), (["--max-attempts", "2"], 2)):
            with self.subTest(attempts=attempts):
                rc, out, err = run(["scn-uav", "--drone", url,
                                    "--state-port", "0", "--video-port", "0",
                                    "takeoff"] + extra)
                self.assertEqual(rc, 69, err)
                self.assertEqual(err.count("reconnecting in"), attempts - 1)
                self.assertTrue(err.endswith(
                    "scn-uav: the drone at %s is unreachable: gave up after %d "
                    "attempts (--max-attempts); the last: network error: the "
                    "server could not be reached\n" % (url, attempts)), err)
                self.assertEqual(out, "")  # nothing was sent

    # --- scn-record keeps what exists ------------------------------------

    def record(self, url, out, *extra, key=KEY):
        return run(["scn-record", "record", "--url", url, "--max-attempts",
                    "2", *extra, out], key=key)

    def test_record_never_destroys_a_recording(self):
        sim = self.sim("--rate", "50", keys=True)
        out = self.path("flight.mcap")
        with open(out, "wb") as f:
            f.write(b"precious")
        # Exists, no --force: refused, untouched, nothing else written.
        rc, _, err = self.record(sim.origin, out, "--count", "5")
        self.assertEqual(rc, 73, err)
        self.assertEqual(err, "scn-record: %s exists: not overwritten "
                         "(--force replaces it once the first frame is in)\n"
                         % out)
        # --force, but the key is rejected: the old file stays.
        rc, _, err = self.record(sim.origin, out, "--count", "5", "--force",
                                 key=OTHER_KEY)
        self.assertEqual(rc, 77, err)
        self.assertIn("no frame recorded: %s left as it was" % out, err)
        # --force, unreachable device: the same.
        rc, _, err = self.record("ws://127.0.0.1:%d" % closed_port(), out,
                                 "--count", "5", "--force")
        self.assertEqual(rc, 69, err)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), b"precious")
        self.assertEqual([f for f in os.listdir(self.tmp)
                          if f.endswith(".partial")], [])
        # --force and frames: replaced by a valid recording.
        rc, _, err = self.record(sim.origin, out, "--count", "5", "--force")
        self.assertEqual(rc, 0, err)
        self.assertFalse(os.path.exists(out + ".partial"))
        rc, info, err = run(["scn-record", "info", "--json", out])
        self.assertEqual(rc, 0, err)
        topics = {c["topic"]: c["messages"]
                  for c in json.loads(info)["channels"]}
        self.assertEqual(topics["/olfaction"], 5)
        # A new name and a failed run: no file at all.
        fresh = self.path("fresh.mcap")
        rc, _, err = self.record(sim.origin, fresh, "--count", "5",
                                 key=OTHER_KEY)
        self.assertEqual(rc, 77, err)
        self.assertIn("no frame recorded: %s not created" % fresh, err)
        self.assertFalse(os.path.exists(fresh))
        self.assertFalse(os.path.exists(fresh + ".partial"))

    def test_record_progress_only_on_a_terminal(self):
        sim = self.sim("--rate", "50")
        out = self.path("p.mcap")
        # stderr a pipe: no progress line, no terminal codes.
        rc, _, err = self.record(sim.origin, out, "--count", "60")
        self.assertEqual(rc, 0, err)
        self.assertNotIn("\r", err)
        self.assertNotIn("\033", err)
        # stderr a terminal: the progress line, rewritten in place.
        os.unlink(out)
        master, slave = pty.openpty()
        env = dict(os.environ, SCENTIENCE_API_KEY=KEY)
        p = subprocess.Popen([prog("scn-record"), "record", "--url",
                              sim.origin, "--count", "100", out],
                             stdout=subprocess.DEVNULL, stderr=slave,
                             env=env, preexec_fn=simproc.die_with_parent)
        os.close(slave)
        seen = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 1)
            if r:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the terminal closed: the program ended
                    break
                if not chunk:
                    break
                seen += chunk
        os.close(master)
        self.assertEqual(p.wait(30), 0, seen)
        text = seen.decode(errors="replace")
        self.assertRegex(text, r"\r\033\[Kscn-record: %s: \d+ frames, \d+ "
                         r"messages, \d+\.\d MB, 00:00:\d\d" % re.escape(out))
        self.assertIn("scn-record: 100 frames", text)

    # --- scn-predict -----------------------------------------------------

    def test_predict_names_its_target_and_maps_urls(self):
        sim = self.sim("cloud")
        frame = ('{"UID":"SCN001","TIMESTAMP":"2025-08-29T21:00:00Z",'
                 '"NH3":270,"CO":10}')
        port = sim.port
        for url, target in (
                ("ws://127.0.0.1:%d/v1/stream" % port,
                 "http://127.0.0.1:%d/v1/predict" % port),
                ("http://127.0.0.1:%d" % port,
                 "http://127.0.0.1:%d/v1/predict" % port),
                ("http://127.0.0.1:%d/v1/predict" % port,
                 "http://127.0.0.1:%d/v1/predict" % port)):
            with self.subTest(url=url):
                rc, out, err = run(["scn-predict", "--url", url], stdin=frame)
                self.assertEqual(rc, 0, err)
                self.assertEqual(err, "scn-predict: POST %s\n" % target)
                self.assertEqual(out.splitlines()[0], "model olfa-toy-1")
        rc, out, err = run(["scn-predict", "--url", sim.origin, "--json",
                            "--quiet"], stdin=frame)
        self.assertEqual((rc, err), (0, ""))
        answer = json.loads(out)
        self.assertEqual(answer["model"], "olfa-toy-1")
        self.assertEqual(answer["labels"][0]["label"], "NH3")
        self.assertEqual(answer["target"], {"compound": "NH3"})
        # No --url: the production service, said out loud. (No key, so it
        # stops before any connection: tests stay on loopback.)
        rc, out, err = run(["scn-predict"], key=None, stdin=frame)
        self.assertEqual(rc, 78, err)
        self.assertTrue(err.startswith(
            "scn-predict: POST https://api.scentience.ai/v1/predict (the "
            "default; --url to change)\n"), err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
