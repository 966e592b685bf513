"""A WebSocket and HTTP client written on plain sockets, for the tests that
must send what a well-behaved client library refuses to: unmasked frames,
text that is not UTF-8, a Sec-WebSocket-Version other than 13, requests
that stop half way. Standard library only (Debian's /usr/bin/python3).

    c = RawWS.connect(port, "/live", subprotocols=["scentience.live.v1"])
    c.status                 # 101, or the refusal's status
    c.send_frame(0x1, b"{...}")
    c.recv_message()         # (opcode, payload) of the next data frame
    c.close_code()           # the server's close code (None: no frame)

Every read is bounded by a timeout; a test that waits longer fails.
"""

import base64
import json
import os
import socket
import ssl
import struct
import threading
import time

TIMEOUT = 20


class Closed(Exception):
    """The connection ended; .code is the close frame's code, or None."""

    def __init__(self, code):
        super().__init__("closed: %r" % (code,))
        self.code = code


def open_socket(host, port, source=None, timeout=TIMEOUT, rcvbuf=None,
                ssl_ctx=None, server_hostname=None):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                      socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if source:
        s.bind((source, 0))
    s.settimeout(timeout)
    s.connect((host, port))
    if ssl_ctx:
        s = ssl_ctx.wrap_socket(s, server_hostname=server_hostname or host)
    return s


def read_head(sock):
    """Reads an HTTP response head; returns (status, {lower name: value},
    rest of the bytes read)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise Closed(None)
        data += chunk
        if len(data) > 65536:
            raise AssertionError("response head too long")
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, rest


def http(host, port, path="/", method="GET", headers=None, source=None,
         ssl_ctx=None, server_hostname=None):
    """One request; returns (status, headers, body)."""
    sock = open_socket(host, port, source, ssl_ctx=ssl_ctx,
                       server_hostname=server_hostname)
    try:
        req = "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n" % (
            method, path, host, port)
        for k, v in (headers or {}).items():
            req += "%s: %s\r\n" % (k, v)
        sock.sendall((req + "\r\n").encode())
        status, hdrs, body = read_head(sock)
        want = int(hdrs.get("content-length", "0"))
        while method != "HEAD" and status != 304 and len(body) < want:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return status, hdrs, body
    finally:
        sock.close()


class RawWS:
    def __init__(self, sock, status, headers, rest):
        self.sock = sock
        self.status = status
        self.headers = headers
        self.buf = rest

    @classmethod
    def connect(cls, port, path="/", host="127.0.0.1", subprotocols=(),
                version="13", headers=None, source=None, rcvbuf=None,
                ssl_ctx=None, server_hostname=None, host_header=None):
        sock = open_socket(host, port, source, rcvbuf=rcvbuf, ssl_ctx=ssl_ctx,
                           server_hostname=server_hostname)
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: %s\r\n") % (
                   path, host_header or "%s:%d" % (host, port), key, version)
        if subprotocols:
            req += "Sec-WebSocket-Protocol: %s\r\n" % ", ".join(subprotocols)
        for k, v in (headers or {}).items():
            req += "%s: %s\r\n" % (k, v)
        sock.sendall((req + "\r\n").encode())
        try:
            status, hdrs, rest = read_head(sock)
        except (Closed, OSError):
            sock.close()
            raise
        return cls(sock, status, hdrs, rest)

    def close(self):
        self.sock.close()

    def send_frame(self, opcode, payload, masked=True, fin=True):
        if isinstance(payload, str):
            payload = payload.encode()
        n = len(payload)
        head = bytes([(0x80 if fin else 0) | opcode])
        mbit = 0x80 if masked else 0
        if n < 126:
            head += bytes([mbit | n])
        elif n < 65536:
            head += bytes([mbit | 126]) + struct.pack(">H", n)
        else:
            head += bytes([mbit | 127]) + struct.pack(">Q", n)
        if masked:
            key = os.urandom(4)
            payload = bytes(b ^ key[i & 3] for i, b in enumerate(payload))
            head += key
        self.sock.sendall(head + payload)

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed(None)
            self.buf += chunk

    def recv_frame(self):
        """The next frame: (fin, opcode, payload). Server frames are never
        masked; one that is fails the test."""
        self._need(2)
        b0, b1 = self.buf[0], self.buf[1]
        assert not b1 & 0x80, "a server frame was masked"
        n, at = b1 & 0x7F, 2
        if n == 126:
            self._need(4)
            n, at = struct.unpack(">H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, at = struct.unpack(">Q", self.buf[2:10])[0], 10
        self._need(at + n)
        payload, self.buf = self.buf[at:at + n], self.buf[at + n:]
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def recv_message(self):
        """The next data message (pings are answered, pongs skipped);
        raises Closed at a close frame or the end of the stream."""
        while True:
            fin, op, payload = self.recv_frame()
            if op == 0x8:
                raise Closed(struct.unpack(">H", payload[:2])[0]
                             if len(payload) >= 2 else 1005)
            if op == 0x9:
                self.send_frame(0xA, payload)
                continue
            if op == 0xA:
                continue
            assert fin, "fragmented server message"
            return op, payload

    def close_code(self, timeout=TIMEOUT):
        """Reads until the server closes; its close code (None when the
        stream ended without a close frame)."""
        deadline = time.monotonic() + timeout
        self.sock.settimeout(timeout)
        try:
            while time.monotonic() < deadline:
                self.recv_message()
        except Closed as e:
            return e.code
        except (ConnectionResetError, BrokenPipeError):
            return None
        raise AssertionError("the server did not close in %d s" % timeout)


class LiveWatch:
    """A /live dashboard subscribed to one stream on its own thread:
    times (monotonic) and data of the messages of that stream it
    receives."""

    def __init__(self, port, stream):
        self.times, self.data = [], []
        self.stream = stream
        self.c = RawWS.connect(port, "/live",
                               subprotocols=["scentience.live.v1"])
        self.c.send_frame(0x1, json.dumps({"type": "subscribe",
                                           "streams": [stream]}))
        self.c.sock.settimeout(120)
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        try:
            while True:
                m = json.loads(self.c.recv_message()[1])
                if m.get("stream") == self.stream:
                    self.data.append(m.get("data"))
                    self.times.append(time.monotonic())
        except Exception:
            pass

    def close(self):
        self.c.close()


def client_ssl_context(ca_file):
    """A context that trusts ca_file only and checks the host name."""
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.check_hostname = True
    return ctx
