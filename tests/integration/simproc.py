"""Processes for the Python integration tests: scn-sim and the other
servers they start, and the runner of the plain (non-unittest) test files.

Imported by the test_*.py files next to it (python puts a script's own
folder on sys.path). Its name does not start with test_, so the CMake glob
does not register it as a test. Standard library only: it runs under
Debian's /usr/bin/python3 like the tests.

- BIN_DIR, SOURCE_DIR, LOG_DIR, SIM: from SCN_BIN_DIR, SCN_SOURCE_DIR,
  SCN_LOG_DIR (what ctest sets), with defaults for a run by hand.
- Server: a program that prints "NAME: listening on 127.0.0.1:PORT" first;
  started with its stderr in a file and killed if the test dies.
- Sim: scn-sim with a JSON-lines --log, read with events()/wait_event();
  stop() asserts a clean exit. Test files subclass it for their mode.
- read_events, check_stderr, env_with_key, have_programs, run_tests.
"""

import ctypes
import itertools
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
import traceback

BIN_DIR = os.environ.get("SCN_BIN_DIR", "build/apps")
SOURCE_DIR = os.environ.get(
    "SCN_SOURCE_DIR",
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
        __file__)))))
LOG_DIR = os.environ.get("SCN_LOG_DIR", "/tmp/scn-test-logs")
SIM = os.path.join(BIN_DIR, "scn-sim")

# What an ASan/UBSan build writes to stderr when it finds something.
SANITIZER_MARKS = ("Sanitizer", "runtime error:")


def die_with_parent():
    """preexec_fn: the child gets SIGKILL when the test dies first, so a
    crashed or killed test leaves no simulator holding its port."""
    try:
        # prctl(PR_SET_PDEATHSIG, SIGKILL)
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except OSError:
        pass


def check_stderr(text, who, extra=()):
    """No sanitizer report (nor any of extra) in a program's stderr."""
    for bad in SANITIZER_MARKS + tuple(extra):
        assert bad not in text, "stderr of %s:\n%s" % (who, text)


def env_with_key(key):
    """This environment with SCENTIENCE_API_KEY set to key."""
    env = dict(os.environ)
    env["SCENTIENCE_API_KEY"] = key
    return env


def read_events(path, name=None):
    """The events of a JSON-lines log (those called name, if given). A last
    line still being written is left out; a missing log has none."""
    out = []
    try:
        with open(path) as f:
            for line in f:
                if line.endswith("\n"):
                    ev = json.loads(line)
                    if name is None or ev["event"] == name:
                        out.append(ev)
    except FileNotFoundError:
        pass
    return out


def read_port(proc, name, timeout=10):
    """The port of the first stdout line, 'NAME: listening on
    127.0.0.1:PORT'. Reads a byte at a time under select so that a silent
    or dead program fails the test within timeout instead of hanging it."""
    deadline = time.monotonic() + timeout
    line = b""
    fd = proc.stdout.fileno()
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("%s printed no listening line" % name)
        r, _, _ = select.select([fd], [], [], left)
        if r:
            b = os.read(fd, 1)
            if not b:
                raise AssertionError("%s exited: %r" % (name, line))
            line += b
    m = re.fullmatch(rb"%s: listening on 127\.0\.0\.1:(\d+)\n" %
                     name.encode(), line)
    assert m, "unexpected first line %r" % line
    return int(m.group(1))


class Server:
    """A program that prints 'NAME: listening on 127.0.0.1:PORT' first.

    argv is run as given, stdout piped (for that line), stderr to err_path
    (or inherited when None), env as given (None: this one's). NAME is the
    program's file name unless name says otherwise. origin is
    'ws://127.0.0.1:PORT'; url(path) adds '/' and path."""

    def __init__(self, argv, err_path=None, env=None, name=None):
        self.name = name or os.path.basename(argv[0])
        self.err_path = err_path
        self.err = open(err_path, "wb") if err_path else None
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                     stderr=self.err, env=env,
                                     preexec_fn=die_with_parent)
        try:
            self.port = read_port(self.proc, self.name)
        except BaseException:
            self.kill()  # the caller never gets the object to clean up
            raise
        self.origin = "ws://127.0.0.1:%d" % self.port

    def url(self, path=""):
        return "%s/%s" % (self.origin, path)

    def wait(self, timeout):
        return self.proc.wait(timeout)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stderr_text(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace")

    def close(self):
        """SIGTERM, SIGKILL after 5 s; for fixtures whose exit is not under
        test."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._close_files()

    def kill(self, timeout=5):
        """SIGKILL if still running; for finally blocks (safe after stop)."""
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self._close_files()

    def _close_files(self):
        self.proc.stdout.close()
        if self.err:
            self.err.close()


class Sim(Server):
    """One scn-sim on an ephemeral loopback port with a JSON-lines log.

    Runs `scn-sim MODE... --host 127.0.0.1 --port 0 --log LOG ARGS...`;
    the log and stderr go to LOG_DIR as LOG_PREFIX + NAME-PID-SERIAL.log
    and .stderr (stale ones removed). A subclass per mode sets:
    MODE, the words after scn-sim; LOG_PREFIX; SECRETS, the keys stop()
    must not find in the log (and on stderr with SECRETS_ON_STDERR)."""

    MODE = ()
    LOG_PREFIX = ""
    SECRETS = ()
    SECRETS_ON_STDERR = False
    _serial = itertools.count(1)  # distinct files for the sims of a run

    def __init__(self, *args, name="sim"):
        os.makedirs(LOG_DIR, exist_ok=True)
        base = "%s%s-%d-%d" % (self.LOG_PREFIX, name, os.getpid(),
                               next(Sim._serial))
        self.log = os.path.join(LOG_DIR, base + ".log")
        err_path = os.path.join(LOG_DIR, base + ".stderr")
        for p in (self.log, err_path):
            if os.path.exists(p):
                os.unlink(p)
        super().__init__(
            [SIM] + list(self.MODE) + ["--host", "127.0.0.1", "--port", "0",
                                       "--log", self.log] + list(args),
            err_path)

    def events(self, name=None):
        return read_events(self.log, name)

    def wait_event(self, pred, timeout=5.0):
        """The first log event pred accepts, polled for up to timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for ev in self.events():
                if pred(ev):
                    return ev
            time.sleep(0.05)
        raise AssertionError("no matching log event in %.1f s" % timeout)

    def stop(self, expect_rc=0, timeout=5.0):
        """SIGTERM; the exit code must be expect_rc, stderr clean and no
        secret in the log."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("scn-sim did not exit on SIGTERM")
        assert rc == expect_rc, "scn-sim exit code %r" % rc
        text = self.check_stderr()
        if self.SECRETS:
            with open(self.log) as f:
                log = f.read()
            for key in self.SECRETS:
                # The message never names the key: it would land in a log.
                assert key not in log, "secret in the log"
                if self.SECRETS_ON_STDERR:
                    assert key not in text, "secret on stderr"

    def check_stderr(self):
        """No sanitizer report and no lws noise; returns the stderr."""
        text = self.stderr_text()
        check_stderr(text, "scn-sim", extra=("scn-sim: lws:",))
        return text


def have_programs(*paths):
    """True if every path is an executable; else says which is not."""
    for path in paths:
        if not os.access(path, os.X_OK):
            print("%s not found (set SCN_BIN_DIR)" % path)
            return False
    return True


def run_tests(tests, need=(), fatal=()):
    """Runs each test function in turn, printing PASS (with its time) or
    FAIL (with the traceback), then 'N/M passed'. Nothing runs unless the
    programs in need are there. A failing test in fatal ends the run: the
    later ones need what it makes. Returns the exit status: 1 if any
    failed or a program is missing, else 0."""
    if not have_programs(*need):
        return 1
    failed = 0
    for t in tests:
        t0 = time.monotonic()
        try:
            t()
            print("PASS %s (%.1f s)" % (t.__name__, time.monotonic() - t0))
        except Exception:
            failed += 1
            print("FAIL %s" % t.__name__)
            traceback.print_exc()
            if t in fatal:
                break
        sys.stdout.flush()
    print("%d/%d passed" % (len(tests) - failed, len(tests)))
    return 1 if failed else 0
