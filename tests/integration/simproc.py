"""Processes for the Python integration tests: scn-sim and the other
servers they start, and the runner of the plain (non-unittest) test files.

Imported by the test_*.py files next to it (python puts a script's own
folder on sys.path). Its name does not start with test_, so the CMake glob
does not register it as a test. Standard library only: it runs under
Debian's /usr/bin/python3 like the tests.

- BIN_DIR, SOURCE_DIR, LOG_DIR, SIM: from SCN_BIN_DIR, SCN_SOURCE_DIR,
  SCN_LOG_DIR (what ctest sets), with defaults for a run by hand.
- What a test and tests/run-test agree on (as tests/support/runner.h for
  C): TIME_SCALE and scaled(), by which every deadline a test waits for is
  multiplied, and which every timeout given to a helper here already is;
  SKIP_EXIT, the exit code of a skipped test (run_tests, main);
  sanitizer_report(), the report a process left in SCN_SANITIZER_DIR;
  reserve_port(), a port nobody else takes, for a server that must be
  named before it starts (the C harness's ports.c, same locks).
- Server: a program that prints "NAME: listening on 127.0.0.1:PORT" first;
  started with its stderr in a file and killed if the test dies.
- Sim: scn-sim with a JSON-lines --log, read with events()/wait_event();
  stop() asserts a clean exit. Test files subclass it for their mode.
- read_events, check_stderr, env_with_key, have_programs, run_tests,
  spool_seqs (what a cloud spool holds on disk).
- For the unittest files that drive scn-companion (test_companion*.py):
  ProcCase, a TestCase that starts processes as plain Popen objects and
  ends them in tearDown, where an exit nobody checked must be clean;
  read_log/log_events, lenient readers of the sims' logs; wait_until;
  end_process; main, unittest.main with the skip exit code.
"""

import ctypes
import itertools
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import struct
import sys
import tempfile
import time
import traceback
import unittest
import zlib

BIN_DIR = os.environ.get("SCN_BIN_DIR", "build/apps")
SOURCE_DIR = os.environ.get(
    "SCN_SOURCE_DIR",
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
        __file__)))))
LOG_DIR = os.environ.get("SCN_LOG_DIR", "/tmp/scn-test-logs")
SIM = os.path.join(BIN_DIR, "scn-sim")
COMPANION = os.path.join(BIN_DIR, "scn-companion")
RECORD = os.path.join(BIN_DIR, "scn-record")

# What an ASan/UBSan build writes to stderr when it finds something (under
# tests/run-test it writes to SCN_SANITIZER_DIR instead).
SANITIZER_MARKS = ("Sanitizer", "runtime error:")

# How much slower than a quiet machine this run may be (sanitizers,
# valgrind); tests/CMakeLists.txt sets it per build.
TIME_SCALE = max(1.0, float(os.environ.get("SCN_TEST_TIME_SCALE") or 1))
# The exit code ctest counts as a skip (SKIP_RETURN_CODE).
SKIP_EXIT = 77


def scaled(seconds):
    """A deadline for something expected to happen, for this run."""
    return seconds * TIME_SCALE


def sanitizer_report(pid):
    """The sanitizer report process pid left (tests/run-test points
    ASan/UBSan at SCN_SANITIZER_DIR), or None."""
    d = os.environ.get("SCN_SANITIZER_DIR")
    path = os.path.join(d, "report.%d" % pid) if d else None
    if path and os.path.exists(path):
        with open(path, errors="replace") as f:
            return f.read()
    return None


def check_no_report(pid, who):
    report = sanitizer_report(pid)
    assert report is None, "sanitizer report of %s:\n%s" % (who, report)


# Port locks held for the life of this process (see reserve_port).
_port_locks = []


def reserve_port():
    """A loopback port nobody else takes while this process lives, for a
    server that must be named before it starts (scn-sim uav's state and
    video ports, --live-port) or restarted on the same port. Below the
    kernel's ephemeral range, which bind(0) and outgoing connections never
    use, and locked by an abstract Unix socket named after it, which the
    C harness (ports.c) takes too."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
    floor = 20000
    span = low - floor
    start = (os.getpid() * 7919 ^ int(time.time())) % span
    for i in range(span):
        port = floor + (start + i) % span
        lock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            lock.bind("\0scn-test-port-%d" % port)
        except OSError:
            lock.close()
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                lock.close()
                continue
        _port_locks.append(lock)
        return port
    raise AssertionError("no free port to reserve")


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


def read_line(proc, name, timeout=10):
    """The next line proc prints on stdout (a pipe), as bytes. Reads a
    byte at a time under select so that a silent or dead program fails
    the test within timeout (scaled) instead of hanging it."""
    deadline = time.monotonic() + scaled(timeout)
    line = b""
    fd = proc.stdout.fileno()
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("%s printed no line: %r" % (name, line))
        r, _, _ = select.select([fd], [], [], left)
        if r:
            b = os.read(fd, 1)
            if not b:
                raise AssertionError("%s exited: %r" % (name, line))
            line += b
    return line


def read_port(proc, name, timeout=10):
    """The port of the first stdout line, 'NAME: listening on
    127.x.y.z:PORT' (see read_line)."""
    line = read_line(proc, name, timeout)
    m = re.fullmatch(rb"%s: listening on 127\.\d+\.\d+\.\d+:(\d+)\n" %
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
        return self.proc.wait(scaled(timeout))

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stderr_text(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, expect_rc=0, timeout=5.0):
        """SIGTERM; it must exit with expect_rc within timeout (scaled) and
        leave no sanitizer report. Returns its stderr (when kept)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(scaled(timeout))
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("%s did not exit on SIGTERM" % self.name)
        self._close_files()
        check_no_report(self.proc.pid, self.name)
        text = self.stderr_text() if self.err_path else ""
        assert rc == expect_rc, "%s exit code %r, expected %r:\n%s" % (
            self.name, rc, expect_rc, text)
        return text

    def close(self):
        """SIGTERM, SIGKILL after 5 s (scaled); for fixtures whose exit
        code is not under test. A sanitizer report still fails."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(scaled(5))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(scaled(5))
        self._close_files()
        check_no_report(self.proc.pid, self.name)

    def kill(self, timeout=5):
        """SIGKILL if still running; for finally blocks (safe after stop).
        A sanitizer report still fails."""
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(scaled(timeout))
            except subprocess.TimeoutExpired:
                pass
        self._close_files()
        check_no_report(self.proc.pid, self.name)

    def _close_files(self):
        self.proc.stdout.close()
        if self.err:
            self.err.close()
            self.err = None


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
        """The first log event pred accepts, polled for up to timeout
        (scaled)."""
        deadline = time.monotonic() + scaled(timeout)
        while time.monotonic() < deadline:
            for ev in self.events():
                if pred(ev):
                    return ev
            time.sleep(0.05)
        raise AssertionError("no matching log event in %.1f s" % timeout)

    def stop(self, expect_rc=0, timeout=5.0):
        """SIGTERM; the exit code must be expect_rc, stderr clean, no
        sanitizer report and no secret in the log."""
        super().stop(expect_rc, timeout)
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


def stop_all(servers, timeout=10):
    """Server.stop() on every one of servers: each must exit 0 on SIGTERM
    with no sanitizer report. Raises one AssertionError naming every
    problem, after all were stopped."""
    problems = []
    for s in servers:
        try:
            s.stop(timeout=timeout)
        except AssertionError as e:
            problems.append(str(e))
    assert not problems, "\n".join(problems)


def have_programs(*paths):
    """True if every path is an executable; else says which is not."""
    for path in paths:
        if not os.access(path, os.X_OK):
            print("%s not found (set SCN_BIN_DIR)" % path)
            return False
    return True


def run_tests(tests, need=(), fatal=()):
    """Runs each test function in turn, printing PASS (with its time),
    SKIP (a test that raised unittest.SkipTest: it cannot run here) or
    FAIL (with the traceback), then 'N/M passed'. Nothing runs unless the
    programs in need are there. A failing test in fatal ends the run: the
    later ones need what it makes. Returns the exit status: 1 if any
    failed or a program is missing, else SKIP_EXIT if any was skipped,
    else 0."""
    if not have_programs(*need):
        return 1
    failed = skipped = 0
    for t in tests:
        t0 = time.monotonic()
        try:
            t()
            print("PASS %s (%.1f s)" % (t.__name__, time.monotonic() - t0))
        except unittest.SkipTest as e:
            skipped += 1
            print("SKIP %s: %s" % (t.__name__, e))
        except Exception:
            failed += 1
            print("FAIL %s" % t.__name__)
            traceback.print_exc()
            if t in fatal:
                break
        sys.stdout.flush()
    print("%d/%d passed" % (len(tests) - failed - skipped, len(tests)))
    return 1 if failed else SKIP_EXIT if skipped else 0


def main():
    """unittest.main() for a test file, with the exit codes ctest reads:
    1 when a test failed (or none ran), SKIP_EXIT when one was skipped,
    else 0."""
    result = unittest.main(exit=False, verbosity=2).result
    if not result.wasSuccessful() or result.testsRun == 0:
        sys.exit(1)
    sys.exit(SKIP_EXIT if result.skipped else 0)


# ---------------------------------------------------------------------------
# The scn-companion tests: unittest, processes kept as Popen objects (the
# tests signal, kill and restart them mid-run), logs read while written.


def read_log(path):
    """Every event of a JSON-lines log read while it is written: a line
    that does not parse (the last one, half written) is skipped; a log not
    yet created has none. Unlike read_events, never raises."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out


def log_events(path, kind):
    """The events of read_log(path) called kind."""
    return [e for e in read_log(path) if e.get("event") == kind]


def wait_until(pred, timeout, step=0.05):
    """Polls pred until it returns a true value or timeout seconds
    (scaled) pass; returns the last value (the caller asserts on it, with
    its message)."""
    deadline = time.monotonic() + scaled(timeout)
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


def end_process(p, sig, timeout):
    """Ends the Popen p if it still runs: sig, then SIGKILL if it outlives
    timeout seconds (scaled). After a SIGKILL that was sig, gives up
    waiting. Returns whether p had to be ended."""
    if p.poll() is not None:
        return False
    p.send_signal(sig)
    try:
        p.wait(scaled(timeout))
    except subprocess.TimeoutExpired:
        if sig != signal.SIGKILL:
            p.kill()
            p.wait()
    return True


class ProcCase(unittest.TestCase):
    """A TestCase whose processes die with it and are ended by tearDown.

    Every process must end well: tearDown fails the test when one left a
    sanitizer report, or when its exit was not checked by the test (stop,
    finish) and is not p.expect_rc (0 unless the test set it): exited by
    itself with another code or signal, or, ended by tearDown with
    SIGTERM, did not exit with it.

    setUp: LOG_DIR exists; self.tmp, a temporary directory (removed by
    tearDown); self.tag, TESTNAME-PID (log names); self.env, this
    environment with SCENTIENCE_API_KEY=KEY, or without any
    SCENTIENCE_API_KEY when KEY is None (a key file must decide);
    self.sim_args, words sim() adds to every scn-sim (none).

    A subclass sets KEY; LOG_PREFIX, the start of its log names
    (LOG_DIR/LOG_PREFIX-TAG-NAME.log); END_SIGNAL and END_WAIT, how
    tearDown ends a process still running (see end_process)."""

    KEY = None
    LOG_PREFIX = "proc"
    END_SIGNAL = signal.SIGTERM
    END_WAIT = 5

    def setUp(self):
        os.makedirs(LOG_DIR, exist_ok=True)
        self.tmp = tempfile.mkdtemp()
        self.procs = []
        self.tag = "%s-%d" % (self._testMethodName, os.getpid())
        if self.KEY is None:
            self.env = {k: v for k, v in os.environ.items()
                        if k != "SCENTIENCE_API_KEY"}
        else:
            self.env = env_with_key(self.KEY)
        self.sim_args = []

    def tearDown(self):
        problems = []
        for p in self.procs:
            ended = end_process(p, self.END_SIGNAL, self.END_WAIT)
            if p.stdout:
                p.stdout.close()
            problems += self.exit_problems(p, ended)
        shutil.rmtree(self.tmp, ignore_errors=True)
        if problems:
            self.fail("\n".join(problems))

    def exit_problems(self, p, ended_here):
        """What is wrong with how p ended (see the class)."""
        who = "%s (pid %d)" % (os.path.basename(p.args[0]), p.pid)
        report = sanitizer_report(p.pid)
        if report is not None:
            return ["sanitizer report of %s:\n%s" % (who, report)]
        if p.checked or (ended_here and self.END_SIGNAL == signal.SIGKILL):
            return []
        if p.returncode == p.expect_rc:
            return []
        how = ("ended by tearDown with signal %d" % self.END_SIGNAL
               if ended_here else "ended by itself")
        err = ""
        if p.err_path and os.path.exists(p.err_path):
            err = ":\n" + self.text(p.err_path)[-2000:]
        return ["%s %s: exit %d, expected %d%s"
                % (who, how, p.returncode, p.expect_rc, err)]

    def mount_tmpfs(self, size, tag="disk"):
        """A tmpfs of size (mount's syntax: "512k") on a fresh directory,
        unmounted at the end of the test whatever happens (after
        tearDown's kills). Needs root."""
        mnt = tempfile.mkdtemp(prefix="scn-%s-%d-" % (tag, os.getpid()))
        p = subprocess.run(["mount", "-t", "tmpfs", "-o",
                            "size=%s,mode=0700" % size,
                            "scn-test-%d" % os.getpid(), mnt],
                           capture_output=True, text=True)
        if p.returncode != 0:
            os.rmdir(mnt)
            self.fail("cannot mount a tmpfs (root needed): " + p.stderr)

        def unmount():
            subprocess.run(["umount", "-l", mnt], check=False)
            os.rmdir(mnt)
        self.addCleanup(unmount)
        return mnt

    def log_path(self, name):
        """LOG_DIR/LOG_PREFIX-TAG-NAME.log, a stale one removed."""
        path = os.path.join(LOG_DIR, "%s-%s-%s.log" % (self.LOG_PREFIX,
                                                       self.tag, name))
        if os.path.exists(path):
            os.unlink(path)
        return path

    def start(self, argv, stdout=subprocess.PIPE, stderr=None, stdin=None):
        """Popen(argv) in text mode with self.env; tearDown ends it.
        stdout and stderr: as for Popen, or a name for log_path, the file
        that takes it (its path in p.out_path, p.err_path); stdin: as for
        Popen."""
        out, err = (open(self.log_path(s), "w") if isinstance(s, str) else s
                    for s in (stdout, stderr))
        try:
            p = subprocess.Popen(argv, stdin=stdin, stdout=out, stderr=err,
                                 text=True, env=self.env,
                                 preexec_fn=die_with_parent)
        finally:
            for f in (out, err):
                if hasattr(f, "close"):
                    f.close()  # the child has its own copy
        p.out_path = getattr(out, "name", None)
        p.err_path = getattr(err, "name", None)
        p.expect_rc = 0
        p.checked = False
        self.procs.append(p)
        return p

    def start_sim(self, args, stderr=None, tries=1):
        """scn-sim ARGS; returns (process, port) once its first line says
        'listening on'. Up to tries attempts, 0.5 s apart after the last
        one exits (a port just freed may still be taken)."""
        for attempt in range(tries):
            p = self.start([SIM] + args, stderr=stderr)
            try:
                return p, read_port(p, "scn-sim")
            except AssertionError as e:
                why = e
            end_process(p, signal.SIGKILL, 10)
            p.checked = True  # its failure is this one
            if attempt + 1 < tries:
                time.sleep(0.5)
        self.fail("scn-sim %s did not start: %s" % (args[0], why))

    def sim(self, name, args, port=0, tries=1):
        """scn-sim ARGS with self.sim_args, --port, --quiet and a log
        (log_path(name)), its stderr in log_path(name + ".stderr");
        returns (process, log path, port)."""
        log = self.log_path(name)
        p, port = self.start_sim(
            args + self.sim_args +
            ["--port", str(port), "--log", log, "--quiet"],
            name + ".stderr", tries)
        return p, log, port

    def uav_sim(self, *extra):
        """scn-sim uav (as "uav", --time-scale 20, EXTRA after) with its
        state and video on reserved loopback ports, which the companion
        must be given too; returns (process, log, port, state port, video
        port)."""
        state_port, video_port = reserve_port(), reserve_port()
        p, log, port = self.sim(
            "uav", ["uav", "--time-scale", "20", "--state-host", "127.0.0.1",
                    "--state-port", str(state_port),
                    "--video-port", str(video_port)] + list(extra))
        return p, log, port, state_port, video_port

    def stop(self, p, sig=signal.SIGTERM, timeout=20):
        """Sends sig (if p still runs); returns the exit code, which the
        caller checks. Fails the test if p outlives timeout seconds
        (scaled)."""
        if p.poll() is None:
            p.send_signal(sig)
        try:
            rc = p.wait(scaled(timeout))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            self.fail("process did not exit within %d s of signal %d"
                      % (scaled(timeout), sig))
        p.checked = True
        return rc

    def finish(self, p, timeout):
        """Waits for p to end by itself (timeout seconds, scaled); returns
        (exit code, stdout), the exit code for the caller to check."""
        try:
            out, _ = p.communicate(timeout=scaled(timeout))
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            self.fail("%s did not end within %d s"
                      % (os.path.basename(p.args[0]), scaled(timeout)))
        p.checked = True
        return p.returncode, out

    def text(self, path):
        with open(path) as f:
            return f.read()

    def export(self, mcap, timeout=60):
        """The messages of a recording, by scn-record export --format
        jsonl (which must succeed)."""
        p = subprocess.run([RECORD, "export", mcap, "--format", "jsonl"],
                           capture_output=True, text=True,
                           timeout=scaled(timeout))
        self.assertEqual(p.returncode, 0, p.stderr)
        return [json.loads(line) for line in p.stdout.splitlines()]


def mcap_check(testcase, path):
    """Reads the recording at path with the independent reader
    (tests/integration/mcap_check.mjs, @mcap/core from npm) and returns its
    verdict (topics with message counts, channels with schemas); fails
    testcase when Node.js is missing or the reader rejects the file."""
    check = os.path.join(SOURCE_DIR, "tests", "integration", "mcap_check.mjs")
    node = shutil.which("node")
    testcase.assertTrue(node, "Node.js is required: scripts/install-deps")
    p = subprocess.run([node, check, path], capture_output=True, text=True,
                       timeout=scaled(120))
    testcase.assertEqual(p.returncode, 0, p.stdout + p.stderr)
    return json.loads(p.stdout)


def spool_seqs(spool_dir):
    """Seqs of the records held in the spool's segments (lib/cloud/spool.h:
    [u32 len][u64 seq][payload][u32 crc32], little-endian), stopping at a
    segment's first bad record as the spool's own recovery does."""
    seqs = []
    for name in sorted(os.listdir(spool_dir)):
        if not re.fullmatch(r"seg-\d{20}\.log", name):
            continue
        with open(os.path.join(spool_dir, name), "rb") as f:
            data = f.read()
        off = 0
        while len(data) - off >= 16:
            length, seq = struct.unpack_from("<IQ", data, off)
            if length > len(data) - off - 16:
                break
            body = data[off + 12:off + 12 + length]
            crc, = struct.unpack_from("<I", data, off + 12 + length)
            if zlib.crc32(data[off:off + 12] + body) != crc:
                break
            seqs.append(seq)
            off += 16 + length
    return seqs
