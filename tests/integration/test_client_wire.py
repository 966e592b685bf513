#!/usr/bin/python3
"""What a client session puts on the wire and how it answers, seen by a
server written on plain sockets (the session frames itself; lws only
carries the bytes): the upgrade request's line and headers, a ping
answered with a masked pong carrying its payload, a server close echoed,
and an upgrade answer with a wrong Sec-WebSocket-Accept refused.

The same on wss://, with TLS done by Python's ssl over memory buffers on
the plain socket, its ciphertext written a few bytes at a time so that
every TLS record reaches the client split across reads; the server name
sent (SNI) for a host name and not for an address, ALPN http/1.1; a name
the certificate lacks, though it points at the same address, refused as
a TLS failure (the session resolves the name itself and gives lws the
address: the name, not the address, must still be checked); and a
server that hangs up in the middle of the TLS handshake, refused as a
TLS failure."""

import base64
import hashlib
import os
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import unittest

from fake_dns import in_mount_ns
from simproc import BIN_DIR

KEY = "SCN_TEST_clientwire00000000001"
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TIMEOUT = 30


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            raise EOFError("client went away during the upgrade")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    return head.decode(), rest


def frame(opcode, payload):
    assert len(payload) < 126
    return bytes([0x80 | opcode, len(payload)]) + payload


def read_frame(conn, buf):
    """(opcode, masked, payload, rest) of the next frame from the client."""
    def need(n):
        nonlocal buf
        while len(buf) < n:
            chunk = conn.recv(4096)
            if not chunk:
                raise EOFError("client closed")
            buf += chunk
    need(2)
    opcode, masked, n = buf[0] & 0x0F, bool(buf[1] & 0x80), buf[1] & 0x7F
    at = 2
    if n == 126:
        need(4)
        n, at = struct.unpack("!H", buf[2:4])[0], 4
    elif n == 127:
        need(10)
        n, at = struct.unpack("!Q", buf[2:10])[0], 10
    mask = b"\0\0\0\0"
    if masked:
        need(at + 4)
        mask, at = buf[at:at + 4], at + 4
    need(at + n)
    payload = bytes(b ^ mask[i & 3] for i, b in enumerate(buf[at:at + n]))
    return opcode, masked, payload, buf[at + n:]


class Dribble:
    """The server side of TLS on a plain socket (ssl.SSLObject on memory
    buffers), with recv/sendall as a socket's. Ciphertext goes out PIECE
    bytes at a time, a moment apart, so that the client reads each record
    (the handshake's too) in several parts."""

    PIECE = 7

    def __init__(self, conn, ctx):
        self.conn = conn
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out, server_side=True)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.flush()
                if not self.fill():
                    raise EOFError("client went away during the handshake")
        self.flush()
        self.alpn = self.obj.selected_alpn_protocol()

    def fill(self):
        data = self.conn.recv(4096)
        self.inc.write(data)
        return bool(data)

    def flush(self):
        data = self.out.read()
        for i in range(0, len(data), self.PIECE):
            self.conn.sendall(data[i:i + self.PIECE])
            time.sleep(0.001)

    def recv(self, n):
        while True:
            try:
                return self.obj.read(n)
            except ssl.SSLWantReadError:
                self.flush()
                if not self.fill():
                    return b""
            except ssl.SSLZeroReturnError:
                return b""

    def sendall(self, data):
        self.obj.write(data)
        self.flush()


class Peer:
    """One connection, served by script(conn, request) on a thread; with
    tls (an SSLContext), over TLS written in pieces (Dribble)."""

    def __init__(self, script, tls=None):
        self.tls = tls
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(TIMEOUT)
        self.port = self.sock.getsockname()[1]
        self.result, self.error = None, None
        self.thread = threading.Thread(target=self.run, args=(script,))
        self.thread.start()

    def run(self, script):
        try:
            conn, _ = self.sock.accept()
            conn.settimeout(TIMEOUT)
            with conn:
                peer = Dribble(conn, self.tls) if self.tls else conn
                self.alpn = getattr(peer, "alpn", None)
                request, rest = read_request(peer)
                self.result = script(peer, request, rest)
        except Exception as e:  # reported by the test
            self.error = e
        finally:
            self.sock.close()

    def join(self):
        self.thread.join(TIMEOUT + 10)


def accept_value(request):
    for line in request.split("\r\n"):
        if line.lower().startswith("sec-websocket-key:"):
            key = line.split(":", 1)[1].strip().encode()
            return base64.b64encode(hashlib.sha1(key + GUID).digest())
    return b""


def run_stream(port, ca_file=None, attempts=1, host="127.0.0.1", prefix=()):
    env = dict(os.environ, SCENTIENCE_API_KEY=KEY,
               XDG_CONFIG_HOME="/nonexistent-scn-test")
    scheme = ["--ca-file", ca_file] if ca_file else []
    return subprocess.run(
        list(prefix) + [os.path.join(BIN_DIR, "scn-stream"), "--url",
         "%s://%s:%d/ws" % ("wss" if ca_file else "ws", host, port),
         "--verbose", "--max-attempts", str(attempts)] + scheme,
        env=env, capture_output=True, timeout=TIMEOUT + 30, text=True)


CERT_CNF = """[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
[srv]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
"""


def make_certs(d):
    """A test CA and a server certificate it signed for 127.0.0.1 and
    localhost, in d."""
    with open(os.path.join(d, "cnf"), "w") as f:
        f.write(CERT_CNF)

    def openssl(*args):
        subprocess.run(["openssl"] + list(args), cwd=d, check=True,
                       capture_output=True, timeout=60)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
            "ca.key", "-out", "ca.crt", "-subj", "/CN=scn-wire-ca", "-days",
            "2", "-config", "cnf", "-extensions", "ca")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key",
            "-out", "srv.csr", "-subj", "/CN=127.0.0.1", "-config", "cnf")
    openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey",
            "ca.key", "-CAcreateserial", "-out", "srv.crt", "-days", "2",
            "-extfile", "cnf", "-extensions", "srv")


class ClientWireTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="scn-wire-")
        make_certs(cls.dir)
        cls.ca = os.path.join(cls.dir, "ca.crt")
        cls.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cls.tls.load_cert_chain(os.path.join(cls.dir, "srv.crt"),
                                os.path.join(cls.dir, "srv.key"))
        cls.tls.set_alpn_protocols(["h2", "http/1.1"])
        cls.sni = []  # the server name of each TLS handshake
        cls.tls.sni_callback = lambda obj, name, ctx: cls.sni.append(name)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_request_ping_and_close(self):
        self.check_request_ping_and_close(tls=False)

    def test_wss_records_split_request_ping_and_close(self):
        self.check_request_ping_and_close(tls=True)

    def check_request_ping_and_close(self, tls):
        def script(conn, request, rest):
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\n"
                         b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Sec-WebSocket-Accept: " + accept_value(request) +
                         b"\r\nSec-WebSocket-Protocol: scentience.v1\r\n\r\n" +
                         frame(0x9, b"hb-17"))
            buf, frames = rest, []
            while True:  # the client's own frames first (its requests)
                op, masked, payload, buf = read_frame(conn, buf)
                frames.append((op, masked, payload))
                if op == 0xA:
                    break
            conn.sendall(frame(0x8, struct.pack("!H", 4001) + b"done"))
            op, masked, payload, buf = read_frame(conn, buf)
            frames.append((op, masked, payload))
            return request, frames

        self.sni.clear()
        peer = Peer(script, self.tls if tls else None)
        p = run_stream(peer.port, self.ca if tls else None)
        peer.join()
        self.assertIsNone(peer.error, p.stderr)
        # An address is no server name (RFC 6066 3): none sent. ALPN
        # offers HTTP/1.1 only, as lws did.
        self.assertEqual(self.sni, [None] if tls else [])
        self.assertEqual(peer.alpn, "http/1.1" if tls else None)
        request, frames = peer.result
        lines = request.split("\r\n")
        self.assertEqual(lines[0], "GET /ws HTTP/1.1")
        fields = [line.split(":", 1)[0].lower() for line in lines[1:]]
        # The order lws wrote them in, then ours.
        self.assertEqual(fields, [
            "pragma", "cache-control", "host", "origin", "upgrade",
            "connection", "sec-websocket-key", "sec-websocket-protocol",
            "sec-websocket-version", "authorization", "user-agent"])
        self.assertIn("Host: 127.0.0.1", lines)
        self.assertIn("Upgrade: websocket", lines)
        self.assertIn("Connection: Upgrade", lines)
        self.assertIn("Sec-WebSocket-Version: 13", lines)
        self.assertIn("authorization: Bearer " + KEY, lines)
        # Every client frame masked; the ping answered with its payload.
        self.assertTrue(all(m for _, m, _ in frames), frames)
        self.assertIn((0xA, True, b"hb-17"), frames)
        # The server's close echoed, and reported.
        self.assertEqual(frames[-1], (0x8, True,
                                      struct.pack("!H", 4001) + b"done"))
        self.assertIn("server closed the session: 4001 done", p.stderr)

    def test_wrong_accept_refused(self):
        def script(conn, request, rest):
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\n"
                         b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Sec-WebSocket-Accept: "
                         b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n" +
                         frame(0x1, b"{}"))
            try:
                return conn.recv(4096)  # b"": closed without a frame
            except ConnectionResetError:
                return b""

        peer = Peer(script)
        p = run_stream(peer.port)
        peer.join()
        self.assertIsNone(peer.error, p.stderr)
        self.assertEqual(peer.result, b"")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("wrong Sec-WebSocket-Accept", p.stderr)
        self.assertNotIn("connecting -> open", p.stderr)

    def test_wss_name_sent_and_checked(self):
        """To a host name: the name goes in SNI and in Host, and the
        certificate (signed for localhost too) is accepted for it."""
        self.sni.clear()
        peer = Peer(lambda conn, request, rest: request, self.tls)
        p = run_stream(peer.port, self.ca, host="localhost")
        peer.join()
        self.assertIsNone(peer.error, p.stderr)
        self.assertEqual(self.sni, ["localhost"])
        self.assertIn("Host: localhost", peer.result.split("\r\n"))

    def test_wss_name_the_certificate_lacks_refused(self):
        """A name that resolves (in the client's /etc/hosts) to the
        server's address, which the certificate does not hold: sent as
        SNI and refused as a TLS failure, the upgrade never sent."""
        other = "other-%d.scentience.test" % os.getpid()
        hosts = os.path.join(self.dir, "hosts")
        with open(hosts, "w") as f:
            f.write("127.0.0.1 localhost %s\n" % other)
        self.sni.clear()
        peer = Peer(lambda conn, request, rest: request, self.tls)
        p = run_stream(peer.port, self.ca, host=other,
                       prefix=in_mount_ns({"/etc/hosts": hosts}))
        peer.join()
        self.assertEqual(self.sni, [other], p.stderr)
        self.assertIsNone(peer.result, p.stderr)  # no upgrade request
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("failed: TLS handshake failed: certificate verify "
                      "failed: hostname mismatch", p.stderr)
        self.assertNotIn("connecting -> open", p.stderr)

    def test_wss_server_closes_mid_handshake(self):
        """The server takes the ClientHello and hangs up, twice: each
        attempt is a TLS failure (retried), and nothing of the upgrade
        request (nor the key) was sent."""
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        sock.settimeout(TIMEOUT)
        got = []

        def serve():
            try:
                for _ in range(2):
                    conn, _ = sock.accept()
                    with conn:
                        conn.settimeout(TIMEOUT)
                        got.append(conn.recv(4096))
            finally:
                sock.close()

        t = threading.Thread(target=serve)
        t.start()
        p = run_stream(sock.getsockname()[1], self.ca, attempts=2)
        t.join(TIMEOUT + 10)
        self.assertEqual(len(got), 2, p.stderr)
        for hello in got:  # a TLS handshake record, and no key in it
            self.assertEqual(hello[:1], b"\x16", got)
            self.assertNotIn(KEY.encode(), hello)
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(p.stderr.count("closed during the TLS handshake"),
                         2, p.stderr)
        self.assertIn("connecting -> reconnecting: TLS failure", p.stderr)
        self.assertNotIn("connecting -> open", p.stderr)


if __name__ == "__main__":
    unittest.main()
