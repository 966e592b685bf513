"""Debian's mosquitto as a test broker: on a reserved loopback port, with a
config file written here, optional users (a password file made with
mosquitto_passwd) and an optional TLS listener with a test CA made here
(openssl). It can be killed with SIGKILL and started again on the same
ports (retained messages and sessions are not persisted: a restart is a
broker that lost everything, the worst case for a client). Always cleaned
up: the process dies with the test (PR_SET_PDEATHSIG) and close() (or the
with block) ends it and removes its directory.

    with mosquitto_broker.Broker(users={"drone1": "s3cret"}, tls=True) as b:
        b.url          "mqtt://127.0.0.1:PORT"
        b.tls_url      "mqtts://127.0.0.1:TLSPORT" (tls=True)
        b.ca_file      the test CA (PEM) the broker's certificate chains to
        b.other_ca     another CA that did not sign it (a "wrong CA" test)
        b.write_password_file("drone1") a 0600 file holding the password
        b.sub(["-t", "x/#"])   mosquitto_sub as an independent peer (Popen)
        b.pub("x/y", "hello", qos=1)   mosquitto_pub, waits for it
        b.kill9(); b.start()   an outage, then the broker on the same ports
        b.set_users({...})     a new password file, reloaded (SIGHUP)
        b.freeze(); b.kill9()  an outage with messages in flight, none of
                               them acknowledged by the dying broker
        b.kill9_settled([p])   an outage once what p published and the
                               broker acknowledged has reached subscribers

A broker killed without persistence loses what it acknowledged to a
publisher but had not yet written to its subscribers (mosquitto writes
them in a later step of its loop; a busy machine can stretch that to
milliseconds): QoS 1 is hop by hop. A test that asserts on what a
subscriber received across a kill -9 freezes the broker first, once the
subscriber has everything acknowledged so far, so that the messages in
flight at the kill are ones the client still owns.
        b.log_text()           what the broker logged (all runs)
    Broker(extra_conf=subscribe_acl(path, ["a/#"])): a broker that
    refuses a SUBSCRIBE to anything else (SUBACK 0x80).

Standard library only; runs under /usr/bin/python3 like the other tests.
Run as a script it starts one broker and prints "mosquitto: listening on
127.0.0.1:PORT" (then "mosquitto: tls on 127.0.0.1:PORT ca FILE" with
--tls), and serves until SIGTERM or SIGINT:
    mosquitto_broker.py [--user NAME:PASSWORD]... [--tls] [--dir DIR]
"""

import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import simproc

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "mosquitto_passwd"
MOSQUITTO_SUB = shutil.which("mosquitto_sub") or "mosquitto_sub"
MOSQUITTO_PUB = shutil.which("mosquitto_pub") or "mosquitto_pub"
# The line mosquitto logs once every listener is open.
READY = "running"


def have_mosquitto():
    """True when the broker and its clients are installed
    (scripts/install-deps); else says what is missing."""
    for p in (MOSQUITTO, MOSQUITTO_PASSWD, MOSQUITTO_SUB, MOSQUITTO_PUB):
        if not (os.path.isabs(p) and os.access(p, os.X_OK)) and \
                not shutil.which(p):
            print("%s not found (scripts/install-deps installs it)" % p)
            return False
    return True


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   capture_output=True, timeout=simproc.scaled(60))


def subscribe_acl(path, allowed):
    """extra_conf lines for a Broker of anonymous clients that refuses
    every SUBSCRIBE but to the filters allowed matches (SUBACK 0x80):
    Debian's dynamic security plugin, its state in path (a JSON file it
    rewrites). mosquitto's acl_file grants every SUBSCRIBE and filters
    what it delivers instead, so it cannot show a refusal."""
    plugins = glob.glob("/usr/lib/*/mosquitto_dynamic_security.so")
    if not plugins:
        raise AssertionError("mosquitto_dynamic_security.so not found "
                             "(scripts/install-deps installs mosquitto)")
    role = {"rolename": "reader",
            "acls": [{"acltype": "subscribePattern", "topic": t,
                      "allow": True} for t in allowed]}
    state = {"defaultACLAccess": {"publishClientSend": True,
                                  "publishClientReceive": True,
                                  "subscribe": False, "unsubscribe": True},
             "clients": [], "roles": [role],
             "groups": [{"groupname": "anonymous",
                         "roles": [{"rolename": "reader"}]}],
             "anonymousGroup": "anonymous"}
    with open(path, "w") as f:
        json.dump(state, f)
    return ["plugin " + plugins[0], "plugin_opt_config_file " + path]


def make_test_ca(d, name):
    """A self-signed CA in d: (name.pem, name.key)."""
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
             "-subj", "/CN=scentience test CA " + name, "-keyout",
             name + ".key", "-out", name + ".pem", cwd=d)
    return os.path.join(d, name + ".pem"), os.path.join(d, name + ".key")


def make_cert(d, name, ca_pem, ca_key, cn, server=True, dns_names=()):
    """A certificate for cn (an IP address when server; and dns_names)
    signed by the CA: (name.pem, name.key), the key 0600."""
    _openssl("req", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=" + cn,
             "-keyout", name + ".key", "-out", name + ".csr", cwd=d)
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        if server:
            f.write("subjectAltName=%s\nextendedKeyUsage=serverAuth\n"
                    % ",".join(["IP:" + cn] +
                               ["DNS:" + n for n in dns_names]))
        else:
            f.write("extendedKeyUsage=clientAuth\n")
    _openssl("x509", "-req", "-in", name + ".csr", "-CA", ca_pem, "-CAkey",
             ca_key, "-CAcreateserial", "-days", "2", "-extfile", ext,
             "-out", name + ".pem", cwd=d)
    os.chmod(os.path.join(d, name + ".key"), 0o600)
    return os.path.join(d, name + ".pem"), os.path.join(d, name + ".key")


class Broker:
    """One mosquitto (see the module). users: {name: password}; when given
    (or anonymous=False), anonymous clients are refused. acl: lines of an
    acl_file (mosquitto.conf(5)), e.g. ["user drone1", "topic write a/#"].
    host: the address it listens on (127.0.0.1; another for a broker in a
    network namespace, with spawn: a Popen-like callable that starts a
    program there, e.g. lambda argv, **kw: net.popen(net.server, argv,
    **kw); the broker, mosquitto_sub and mosquitto_pub run through it).
    tls: also a TLS listener with a certificate for host (and the names
    in tls_names) signed by ca_file; require_cert: it asks for a client
    certificate signed by that CA (client_cert()). extra_conf: more lines for mosquitto.conf. The
    broker starts at once (start=False: call start())."""

    def __init__(self, users=None, anonymous=None, acl=None, tls=False,
                 require_cert=False, extra_conf=(), name="mosquitto",
                 start=True, workdir=None, host="127.0.0.1", spawn=None,
                 tls_names=()):
        self.name = name
        self.own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix="scn-mosquitto-")
        os.chmod(self.dir, 0o700)
        self.users = dict(users or {})
        self.host = host
        self.tls_names = tuple(tls_names)
        self.spawn = spawn or subprocess.Popen
        self.proc = None
        self.runs = 0
        self.log_path = os.path.join(self.dir, "mosquitto.log")
        self.conf_path = os.path.join(self.dir, "mosquitto.conf")
        self.passwd_path = os.path.join(self.dir, "passwd")
        self.port = simproc.reserve_port()
        self.url = "mqtt://%s:%d" % (host, self.port)
        self.tls_port = self.tls_url = None
        self.ca_file = self.ca_key = self.other_ca = None
        try:
            self._write_config(anonymous, acl, tls, require_cert, extra_conf)
            if start:
                self.start()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------
    def _write_config(self, anonymous, acl, tls, require_cert, extra_conf):
        if anonymous is None:
            anonymous = not self.users
        lines = [
            "per_listener_settings false",
            "persistence false",
            # Root drops to the mosquitto user by default, which cannot
            # read a test's 0700 directory; ignored when not root.
            "user root",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
            "log_timestamp true",
            "allow_anonymous %s" % ("true" if anonymous else "false"),
            # Tests publish bursts while a client is away: never let the
            # broker drop a queued QoS 1 message for a subscriber.
            "max_queued_messages 0",
            "max_inflight_messages 0",
            # Without it Nagle holds a subscriber's small PUBLISHes in the
            # broker's send queue for an ACK; a kill -9 then resets the
            # connection and drops them, after the publisher had its
            # PUBACK: a loss the client under test could not prevent.
            "set_tcp_nodelay true",
        ]
        if self.users:
            self._write_passwords(self.users)
            lines.append("password_file %s" % self.passwd_path)
        if acl is not None:
            path = os.path.join(self.dir, "acl")
            with open(path, "w") as f:
                f.write("\n".join(acl) + "\n")
            lines.append("acl_file %s" % path)
        lines += ["listener %d %s" % (self.port, self.host)]
        if tls:
            self.ca_file, self.ca_key = make_test_ca(self.dir, "ca")
            self.other_ca, _ = make_test_ca(self.dir, "other-ca")
            cert, key = make_cert(self.dir, "server", self.ca_file,
                                  self.ca_key, self.host,
                                  dns_names=self.tls_names)
            self.tls_port = simproc.reserve_port()
            self.tls_url = "mqtts://%s:%d" % (self.host, self.tls_port)
            lines += ["listener %d %s" % (self.tls_port, self.host),
                      "cafile %s" % self.ca_file,
                      "certfile %s" % cert,
                      "keyfile %s" % key,
                      "require_certificate %s" %
                      ("true" if require_cert else "false")]
        lines += list(extra_conf)
        with open(self.conf_path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def _write_passwords(self, users):
        tmp = self.passwd_path + ".new"
        open(tmp, "w").close()
        os.chmod(tmp, 0o600)
        for user, password in users.items():
            # -b puts the password on mosquitto_passwd's argv: test
            # passwords only, never a real one.
            subprocess.run([MOSQUITTO_PASSWD, "-b", tmp, user, password],
                           check=True, capture_output=True,
                           timeout=simproc.scaled(30))
        os.rename(tmp, self.passwd_path)

    def set_users(self, users, reload=True):
        """Replaces the password file with users (a broker made with
        users); with reload, a running broker rereads it (SIGHUP). A
        client left out is refused from its next CONNECT: a test can hold
        a client off while a subscriber gets ready."""
        assert self.users, "a broker made without users has no password file"
        self._write_passwords(users)
        if reload and self.running():
            start_at = self._log_size()
            self.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + simproc.scaled(10)
            while "Reloading config" not in self._log_since(start_at):
                assert time.monotonic() < deadline, "mosquitto did not reload"
                time.sleep(0.02)

    def client_cert(self, name="client"):
        """A client certificate signed by the broker's CA: (pem, key)."""
        return make_cert(self.dir, name, self.ca_file, self.ca_key, name,
                         server=False)

    def write_password_file(self, user, path=None, password=None):
        """A 0600 file holding user's password (or password) on one line;
        returns its path."""
        path = path or os.path.join(self.dir, "%s.password" % user)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write((password if password is not None
                     else self.users[user]) + "\n")
        return path

    # ------------------------------------------------------------------
    def start(self, timeout=10):
        """Starts mosquitto on the ports (again, after kill9 or stop) and
        waits until it logs that it runs. A port just freed may still be
        taken for a moment (the kernel's TIME_WAIT does not block a
        listener, but a slow exit can): a failed start is retried."""
        assert self.running() is False, "broker already running"
        deadline = time.monotonic() + simproc.scaled(timeout)
        while True:
            self.runs += 1
            start_at = self._log_size()
            with open(self.log_path, "ab") as log:
                log.write(b"--- run %d ---\n" % self.runs)
                log.flush()
                self.proc = self.spawn(
                    [MOSQUITTO, "-c", self.conf_path], stdout=log,
                    stderr=log, stdin=subprocess.DEVNULL,
                    preexec_fn=simproc.die_with_parent)
            while time.monotonic() < deadline:
                if READY in self._log_since(start_at):
                    return self.port
                if self.proc.poll() is not None:
                    break
                time.sleep(0.02)
            if self.proc.poll() is None:
                self.kill9()
                raise AssertionError("mosquitto did not start:\n%s"
                                     % self._log_since(start_at))
            if time.monotonic() >= deadline:
                raise AssertionError("mosquitto exited %r:\n%s" % (
                    self.proc.returncode, self._log_since(start_at)))
            time.sleep(0.2)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        """SIGKILL, as a crashed broker or a power cut: no clean close,
        no will held back, nothing persisted."""
        if self.running():
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait(simproc.scaled(10))

    def kill9_settled(self, publishers, settle=0.5):
        """kill -9 once what the broker acknowledged has gone out to its
        subscribers (see the module): the publishers (Popen objects) are
        paused for settle seconds (scaled) before the kill and go on
        right after it, so what they publish next meets the outage."""
        for p in publishers:
            p.send_signal(signal.SIGSTOP)
        try:
            time.sleep(simproc.scaled(settle))
            self.kill9()
        finally:
            for p in publishers:
                p.send_signal(signal.SIGCONT)

    def freeze(self):
        """SIGSTOP: the broker reads, acknowledges and forwards nothing
        until thaw() or kill9(); its sockets stay open."""
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self):
        self.proc.send_signal(signal.SIGCONT)

    def stop(self, timeout=5):
        """SIGTERM; waits for the exit (SIGKILL after timeout, scaled)."""
        if self.running():
            self.proc.terminate()
            try:
                self.proc.wait(simproc.scaled(timeout))
            except subprocess.TimeoutExpired:
                self.kill9()

    def restart(self):
        """kill -9 then start on the same ports."""
        self.kill9()
        self.start()

    def close(self):
        """Ends the broker and removes its directory (unless given)."""
        try:
            self.stop()
        finally:
            if self.own_dir:
                shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------
    def _log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def _log_since(self, offset):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def log_text(self):
        """Everything the broker logged, over all its runs."""
        return self._log_since(0)

    def log_mark(self):
        """A position in the log, for clients_connected(since=...)."""
        return self._log_size()

    def clients_connected(self, since=0):
        """The client ids the broker logged as connecting after the log
        position since (connection_messages is on)."""
        return set(re.findall(r"New client connected from \S+ as (\S+) \(",
                              self._log_since(since)))

    def client_args(self, user=None, tls=False, ca_file=None):
        """mosquitto_sub/pub arguments reaching this broker (as user, with
        the password from users; over TLS trusting ca_file or the CA)."""
        if tls:
            args = ["-h", self.host, "-p", str(self.tls_port), "--cafile",
                    ca_file or self.ca_file]
        else:
            args = ["-h", self.host, "-p", str(self.port)]
        if user is not None:
            args += ["-u", user, "-P", self.users[user]]
        return args

    def sub(self, args, user=None, tls=False, stdout=subprocess.PIPE,
            stderr=None):
        """mosquitto_sub with client_args and args (e.g. ["-t", "a/#",
        "-q", "1", "-v"]) as a Popen the caller ends (end_process or
        kill); it dies with the test."""
        return self.spawn(
            [MOSQUITTO_SUB] + self.client_args(user, tls) + list(args),
            stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
            preexec_fn=simproc.die_with_parent)

    def pub(self, topic, message, qos=0, retain=False, user=None, tls=False,
            extra=(), timeout=10):
        """mosquitto_pub of one message; waits for it and returns its
        CompletedProcess (returncode, stderr bytes)."""
        argv = [MOSQUITTO_PUB] + self.client_args(user, tls) + [
            "-t", topic, "-m", message, "-q", str(qos)] + list(extra)
        if retain:
            argv.append("-r")
        p = self.spawn(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE,
                       preexec_fn=simproc.die_with_parent)
        try:
            out, err = p.communicate(timeout=simproc.scaled(timeout))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise
        return subprocess.CompletedProcess(argv, p.returncode, out, err)

    def wait_connectable(self, timeout=5):
        """True once a TCP connection to the plain port succeeds."""
        deadline = time.monotonic() + simproc.scaled(timeout)
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), 1):
                    return True
            except OSError:
                time.sleep(0.05)
        return False


def _main(argv):
    users = {}
    tls = False
    workdir = None
    it = iter(argv)
    for a in it:
        if a == "--user":
            name, _, password = next(it).partition(":")
            users[name] = password
        elif a == "--tls":
            tls = True
        elif a == "--dir":
            workdir = next(it)
        else:
            print("usage: mosquitto_broker.py [--user NAME:PASSWORD]... "
                  "[--tls] [--dir DIR]", file=sys.stderr)
            return 64
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    with Broker(users=users, tls=tls, workdir=workdir) as b:
        print("mosquitto: listening on 127.0.0.1:%d" % b.port, flush=True)
        if tls:
            print("mosquitto: tls on 127.0.0.1:%d ca %s" % (b.tls_port,
                                                            b.ca_file),
                  flush=True)
        while not stop and b.running():
            time.sleep(0.2)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
