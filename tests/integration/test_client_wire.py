#!/usr/bin/python3
"""What a client session puts on the wire and how it answers, seen by a
server written on plain sockets (the session frames itself on ws://; lws
only carries the bytes): the upgrade request's line and headers, a ping
answered with a masked pong carrying its payload, a server close echoed,
and an upgrade answer with a wrong Sec-WebSocket-Accept refused."""

import base64
import hashlib
import os
import socket
import struct
import subprocess
import threading
import unittest

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


class Peer:
    """One connection, served by script(conn, request) on a thread."""

    def __init__(self, script):
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
                request, rest = read_request(conn)
                self.result = script(conn, request, rest)
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


def run_stream(port):
    env = dict(os.environ, SCENTIENCE_API_KEY=KEY,
               XDG_CONFIG_HOME="/nonexistent-scn-test")
    return subprocess.run(
        [os.path.join(BIN_DIR, "scn-stream"), "--url",
         "ws://127.0.0.1:%d/ws" % port, "--verbose", "--max-attempts", "1"],
        env=env, capture_output=True, timeout=TIMEOUT + 30, text=True)


class ClientWireTest(unittest.TestCase):
    def test_request_ping_and_close(self):
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

        peer = Peer(script)
        p = run_stream(peer.port)
        peer.join()
        self.assertIsNone(peer.error, p.stderr)
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


if __name__ == "__main__":
    unittest.main()
