"""A faulty network for tests: two network namespaces joined through a
third one whose traffic crosses netimpair, our userspace impairment router
(tests/netimpair; this kernel has no netem). Standard library only, for
Debian's /usr/bin/python3 like the other integration tests.

    client ns                 router ns                     server ns
    CLIENT_ADDR  ---veth---  rc [netimpair TUN "imp"] rs  ---veth---
    10.91.1.2                10.91.1.1         10.91.2.1     SERVER_ADDR
                                                             10.91.2.2

Policy routing in the router sends every packet that arrives on either
veth into the TUN device; netimpair reads it, drops, delays, reorders or
holds it as told, and writes it back, and the kernel forwards it to the
other side. Both directions are impaired alike.

Use (root only: a test that needs it calls require_root(), which FAILS,
not skips, when it cannot run: CI runs as root):

    from netns import Net, require_root, read_line
    require_root()
    with Net("uav") as net:                     # built here, gone after
        sim = net.popen(net.server, [SIM, "uav", "--host", net.server_addr,
                                     "--port", "8889", ...],
                        stdout=subprocess.PIPE, text=True)
        read_line(sim, "listening on", 10)
        app = net.popen(net.client, [...])      # sees ws://10.91.2.2:8889
        t = net.blackout()       # everything dropped; t: wall time (s)
        net.restore()            # link back; returns the time too
        net.set(drop=0.1, delay=50, jitter=20, reorder=0.05)
        net.flap(2000, 1000)     # 2 s up, 1 s down, repeated
        net.stats()              # netimpair's counters, as a dict
        net.tcp_sockets(net.client)  # ss -tan in a namespace
        with net.inside(net.server):   # this thread's new sockets live there
            srv = socket.create_server((net.server_addr, 0))

- Names hold the test's pid (and a serial), so parallel tests never
  collide; ports are private to each namespace, so fixed ports (8889,
  8890) are safe there.
- Everything is torn down by close(): on leaving the with block, at
  interpreter exit (atexit) and on SIGTERM. Processes started by popen()
  die with the test (PR_SET_PDEATHSIG); namespaces left by a test killed
  with SIGKILL are removed by the next Net() (their pid is dead).
- The times blackout(), flap() and restore() return come from
  netimpair's wall clock (CLOCK_REALTIME, ms), the clock of scn-sim's log
  "ts", so a test can say what crossed the link after a given moment.
  netimpair's own events (with those times) are in net.impair_log, under
  SCN_LOG_DIR.

A drone's state stream through a blackout (issue 9, D): start the drone
in net.server with `scn-sim uav --host SERVER_ADDR --state-host
CLIENT_ADDR` and the app (scn-uav or scn-companion, with `--listen
CLIENT_ADDR` or 0.0.0.0) in net.client. The drone's state and video
connections to the app then cross the router exactly like the commands,
so net.blackout() cuts them all; net.restore() brings the link back and
the test measures from the returned time how long the state stays STALE
(scn-uav prints "drone state STALE..." and "flowing again"; the
companion records state_stale/state_flowing events).
"""

import atexit
import contextlib
import ctypes
import itertools
import os
import re
import select
import signal
import socket
import subprocess
import time

BIN_DIR = os.environ.get("SCN_BIN_DIR", "build/apps")
LOG_DIR = os.environ.get("SCN_LOG_DIR", "/tmp/scn-test-logs")
NETIMPAIR = os.environ.get(
    "SCN_NETIMPAIR",
    os.path.join(os.path.dirname(BIN_DIR.rstrip("/")) or ".", "tests",
                 "netimpair", "netimpair"))

CLIENT_ADDR = "10.91.1.2"
SERVER_ADDR = "10.91.2.2"
_ROUTER_CLIENT_SIDE = "10.91.1.1"
_ROUTER_SERVER_SIDE = "10.91.2.1"
_PREFIX = "scnt-"  # namespaces: scnt-<pid>-<serial>-{c,r,s}
_serial = itertools.count(1)
_live = []  # Nets not yet closed, for atexit and SIGTERM


def _die_with_parent():
    """preexec_fn: SIGKILL when the test dies, wherever the child runs."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)


def require_root():
    """Fails the calling test, with the reason, when the link-fault setup
    cannot run here: not root, no /dev/net/tun, no ip/ss, no netimpair."""
    problems = []
    if os.geteuid() != 0:
        problems.append("not root (network namespaces need root; CI runs "
                        "the suite as root)")
    if not os.path.exists("/dev/net/tun"):
        problems.append("no /dev/net/tun")
    for tool in ("ip", "ss"):
        if not any(os.access(os.path.join(d, tool), os.X_OK)
                   for d in os.environ.get("PATH", "").split(":") +
                   ["/usr/sbin", "/sbin", "/usr/bin"]):
            problems.append("no %s (Debian package iproute2: "
                            "scripts/install-deps)" % tool)
    if not os.access(NETIMPAIR, os.X_OK):
        problems.append("no netimpair at %s (build the tests, or set "
                        "SCN_NETIMPAIR)" % NETIMPAIR)
    if problems:
        raise AssertionError("link-fault test cannot run: " +
                             "; ".join(problems))


def _ip(*args, check=True):
    return subprocess.run(("ip",) + args, capture_output=True, text=True,
                          check=check)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale():
    """Removes namespaces of ours whose test process is gone (one killed
    with SIGKILL could not clean up)."""
    out = _ip("netns", "list", check=False).stdout
    for line in out.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.fullmatch(re.escape(_PREFIX) + r"(\d+)-\d+-[crs]", name)
        if m and not _pid_alive(int(m.group(1))):
            _ip("netns", "del", name, check=False)
            try:
                os.unlink("/tmp/%s.ctl" % name[:-2])
            except FileNotFoundError:
                pass


def read_line(proc, needle, timeout):
    """Reads proc's stdout (text mode) line by line until one contains
    needle; returns it. Fails after timeout seconds or at EOF, quoting
    what was read."""
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no %r within %.0f s; got %r" %
                                 (needle, timeout, seen[-10:]))
        r, _, _ = select.select([proc.stdout], [], [], left)
        if not r:
            continue
        line = proc.stdout.readline()
        if not line:
            raise AssertionError("EOF before %r; got %r" % (needle, seen[-10:]))
        seen.append(line)
        if needle in line:
            return line


class Net:
    """The three namespaces, two veth pairs, the router and its control
    socket. Built by the constructor; close() (or the with block) removes
    everything, processes first."""

    def __init__(self, tag="net", impair_args=()):
        sweep_stale()
        base = "%s%d-%d" % (_PREFIX, os.getpid(), next(_serial))
        self.tag = tag
        self.client, self.router, self.server = (base + "-c", base + "-r",
                                                 base + "-s")
        self.client_addr, self.server_addr = CLIENT_ADDR, SERVER_ADDR
        self.control_path = "/tmp/%s.ctl" % base
        # netimpair's stderr: its events with their wall-clock times.
        self.impair_log = os.path.join(LOG_DIR, "netimpair-%s-%s.log" %
                                       (tag, base))
        self.procs = []
        self.impair_proc = None
        self._closed = False
        _live.append(self)
        try:
            self._build(list(impair_args))
        except BaseException:
            self.close()
            raise

    # -- building --------------------------------------------------------

    def _sh(self, ns, script):
        subprocess.run(["ip", "netns", "exec", ns, "sh", "-c", script],
                       check=True, capture_output=True, text=True)

    def _build(self, impair_args):
        for ns in (self.client, self.router, self.server):
            _ip("netns", "add", ns)
            # No IPv6: no DAD wait, no neighbour chatter through the router.
            self._sh(ns, "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6;"
                     "echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6")
            _ip("-n", ns, "link", "set", "lo", "up")
        for side, ns, addr, gw, rname in (
                ("c0", self.client, CLIENT_ADDR, _ROUTER_CLIENT_SIDE, "rc"),
                ("s0", self.server, SERVER_ADDR, _ROUTER_SERVER_SIDE, "rs")):
            _ip("-n", self.router, "link", "add", rname, "type", "veth",
                "peer", "name", side, "netns", ns)
            _ip("-n", self.router, "addr", "add", gw + "/24", "dev", rname)
            _ip("-n", self.router, "link", "set", rname, "up")
            _ip("-n", ns, "addr", "add", addr + "/24", "dev", side)
            _ip("-n", ns, "link", "set", side, "up")
            _ip("-n", ns, "route", "add", "default", "via", gw)
        # Forwarding without reverse-path checks: a packet written back by
        # netimpair arrives on "imp", not on the veth its source is behind.
        self._sh(self.router,
                 "echo 1 > /proc/sys/net/ipv4/ip_forward;"
                 "for f in /proc/sys/net/ipv4/conf/*/rp_filter; do "
                 "echo 0 > $f; done;"
                 "for f in /proc/sys/net/ipv4/conf/*/send_redirects; do "
                 "echo 0 > $f; done")
        os.makedirs(LOG_DIR, exist_ok=True)
        with open(self.impair_log, "w") as err:
            self.impair_proc = subprocess.Popen(
                ["ip", "netns", "exec", self.router, NETIMPAIR, "--tun",
                 "imp", "--control", self.control_path] + impair_args,
                stdout=subprocess.PIPE, stderr=err, text=True,
                preexec_fn=_die_with_parent)
        read_line(self.impair_proc, "netimpair: ready", 10)
        self._sh(self.router,
                 "echo 0 > /proc/sys/net/ipv4/conf/imp/rp_filter")
        _ip("-n", self.router, "rule", "add", "iif", "rc", "lookup", "100",
            "pref", "100")
        _ip("-n", self.router, "rule", "add", "iif", "rs", "lookup", "100",
            "pref", "101")
        _ip("-n", self.router, "route", "add", "default", "dev", "imp",
            "table", "100")

    # -- processes -------------------------------------------------------

    def popen(self, ns, argv, **kw):
        """subprocess.Popen(argv, **kw) inside namespace ns; the process
        dies with the test and is ended by close()."""
        kw.setdefault("preexec_fn", _die_with_parent)
        p = subprocess.Popen(["ip", "netns", "exec", ns] + list(argv), **kw)
        self.procs.append(p)
        return p

    def run(self, ns, argv, timeout=30, env=None):
        """subprocess.run inside ns (with env, None: this one's); returns
        the CompletedProcess (text)."""
        return subprocess.run(["ip", "netns", "exec", ns] + list(argv),
                              capture_output=True, text=True, timeout=timeout,
                              env=env)

    @contextlib.contextmanager
    def inside(self, ns):
        """Runs the with block's thread in namespace ns: sockets made there
        belong to ns and keep working afterwards, in any namespace."""
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        clone_newnet = 0x40000000
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open("/run/netns/" + ns, os.O_RDONLY)
        try:
            if libc.setns(target, clone_newnet) != 0:
                raise OSError(ctypes.get_errno(), "setns " + ns)
            try:
                yield
            finally:
                if libc.setns(home, clone_newnet) != 0:
                    raise OSError(ctypes.get_errno(), "setns back")
        finally:
            os.close(target)
            os.close(home)

    def tcp_sockets(self, ns):
        """Every TCP socket of ns as (state, recv_q, send_q, local, peer),
        from `ss -tanH`: what the kernel still holds."""
        out = self.run(ns, ["ss", "-tanH"]).stdout
        rows = []
        for line in out.splitlines():
            f = line.split()
            if len(f) >= 5:
                rows.append((f[0], int(f[1]), int(f[2]), f[3], f[4]))
        return rows

    # -- impairment ------------------------------------------------------

    def control(self, command):
        """Sends one command to netimpair; returns its answer after "ok"
        (raises on "error")."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(self.control_path)
            s.sendall(command.encode() + b"\n")
            answer = b""
            while not answer.endswith(b"\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                answer += chunk
        text = answer.decode().strip()
        if not text.startswith("ok"):
            raise AssertionError("netimpair %r: %r" % (command, text))
        return text[2:].strip()

    def _timed(self, command):
        return float(self.control(command).split("t=", 1)[1].split()[0])

    def blackout(self, ms=None):
        """Drops everything, for ms or until restore(); returns the wall
        time (s) it began."""
        return self._timed("blackout" + ("" if ms is None else " %d" % ms))

    def restore(self):
        """Ends a blackout and flapping; returns the wall time (s)."""
        return self._timed("restore")

    def flap(self, up_ms, down_ms):
        """Up up_ms, down down_ms, over and over, starting up."""
        return self._timed("flap %d %d" % (up_ms, down_ms))

    def set(self, **settings):
        """drop=P, delay=MS, jitter=MS, reorder=P, reorder_gap=MS."""
        return self._timed("set " + " ".join(
            "%s=%s" % kv for kv in sorted(settings.items())))

    def stats(self):
        """netimpair's counters: link ('up'/'down'), passed, dropped_*,
        reordered, queued, t."""
        out = {}
        for kv in self.control("stats").split():
            k, v = kv.split("=", 1)
            out[k] = v if k == "link" else float(v)
        return out

    # -- teardown --------------------------------------------------------

    def close(self):
        """Ends every process started here (SIGTERM, SIGKILL after 5 s),
        then the router, then removes the namespaces. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for p in reversed(self.procs + [self.impair_proc]):
            if p is None:
                continue
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            for f in (p.stdout, p.stderr, p.stdin):
                if f:
                    f.close()
        for ns in (self.client, self.router, self.server):
            _ip("netns", "del", ns, check=False)
        try:
            os.unlink(self.control_path)
        except FileNotFoundError:
            pass
        if self in _live:
            _live.remove(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _close_all():
    for net in list(_live):
        net.close()


def _on_sigterm(signum, frame):
    # ctest's timeout and a user's kill: tear down, then die as asked.
    _close_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


atexit.register(_close_all)
if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
    signal.signal(signal.SIGTERM, _on_sigterm)
