"""An independent WebSocket client for tests/integration/test_server.c.

Debian's python3-websockets (10.4) plays the peer of an scn_server, one
mode per run, and prints one result line per fact the C test asserts on
("OPEN", "STATUS 404", "CLOSE 1009", "GOT 200 <crc32>", ...). The C test
starts it, reads its output while serving the loop, and kills it when done.
Every wait is bounded: what the server does, by this peer; what the C test
does next, by the test (which waits for this output, and kills the peer).

Usage: server_peer.py MODE PORT [ARGS...]
"""

import asyncio
import random
import socket
import sys
import urllib.error
import urllib.request
import zlib

import websockets
import websockets.exceptions

from simproc import scaled

# What the server does in answer to the peer has a deadline; what the C
# test does next (broadcast, free its server) has none here: the test
# bounds it, waiting for this peer's output, and the peer dies with it.
TIMEOUT = scaled(20)


def say(*words):
    """One result line, in one write (print would write each word on its
    own under PYTHONUNBUFFERED)."""
    sys.stdout.write(" ".join(str(w) for w in words) + "\n")
    sys.stdout.flush()


def close_code(exc):
    """The close code a ConnectionClosed carries (1006 without a frame)."""
    rcvd = getattr(exc, "rcvd", None)
    return (rcvd.code, rcvd.reason) if rcvd else (1006, "")


async def connect(port, path="/", src=None, **kw):
    kw.setdefault("compression", None)
    kw.setdefault("ping_interval", None)
    kw.setdefault("open_timeout", TIMEOUT)
    uri = "ws://127.0.0.1:%d%s" % (port, path)
    if src is None:
        return await websockets.connect(uri, **kw)
    # A socket bound to the source address first: the server sees the
    # connection come from src (any 127.0.0.0/8 address is loopback).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((src, 0))
    sock.settimeout(TIMEOUT)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    return await websockets.connect(uri, sock=sock, **kw)


def payload(rng, size):
    return rng.randbytes(size)


async def mode_echo(port, path, seed):
    """Binary, text and fragmented messages, each echoed back intact."""
    rng = random.Random(int(seed))
    ws = await connect(port, path)
    sent = []
    for size in (0, 1, 125, 126, 127, 65535, 65536, 200000):
        sent.append(payload(rng, size))
    # Fragmented: one message in several frames, binary and text.
    frags_bin = [payload(rng, n) for n in (1000, 1, 70000, 3)]
    frags_txt = ["fragmented ", "text ", "message \u00e9\u20ac"]
    crc = 0
    for m in sent:
        await ws.send(m)
    await ws.send(frags_bin)
    await ws.send(frags_txt)
    await ws.send("plain text")
    expect = sent + [b"".join(frags_bin), "".join(frags_txt), "plain text"]
    for m in expect:
        crc = zlib.crc32(m if isinstance(m, bytes) else m.encode(), crc)
    say("SENT", len(expect), crc)
    ok = 0
    for m in expect:
        got = await asyncio.wait_for(ws.recv(), TIMEOUT)
        if got == m and type(got) is type(m):
            ok += 1
        else:
            say("MISMATCH", ok, type(got).__name__, len(got))
    say("ECHOED", ok)
    await ws.close()


async def mode_from(port, src):
    """Connects from a given source address; hello is echoed if let in."""
    try:
        ws = await connect(port, "/", src=src)
    except (OSError, EOFError, asyncio.TimeoutError,
            websockets.exceptions.WebSocketException) as e:
        say("REFUSED", type(e).__name__)
        return
    say("OPEN")
    await ws.send("hello from " + src)
    say("ECHO", await asyncio.wait_for(ws.recv(), TIMEOUT))
    await ws.close()


async def mode_oversize(port, size, fragments):
    """Sends one message of size bytes (in n frames); reports the close."""
    ws = await connect(port, "/", max_size=None)
    size, n = int(size), int(fragments)
    data = b"\x5a" * size
    try:
        if n <= 1:
            await ws.send(data)
        else:
            step = (size + n - 1) // n
            await ws.send([data[i:i + step] for i in range(0, size, step)])
        await asyncio.wait_for(ws.recv(), TIMEOUT)
        say("NO CLOSE")
    except websockets.exceptions.ConnectionClosed as e:
        say("CLOSE", *close_code(e))


async def mode_status(port, path, subprotocol):
    """Reports how an upgrade request fares: OPEN <subprotocol>, STATUS."""
    kw = {}
    if subprotocol != "-":
        kw["subprotocols"] = subprotocol.split(",")
    try:
        ws = await connect(port, path, **kw)
    except websockets.exceptions.InvalidStatusCode as e:
        say("STATUS", e.status_code)
        return
    except (OSError, EOFError,
            websockets.exceptions.WebSocketException) as e:
        say("FAILED", type(e).__name__)
        return
    say("OPEN", ws.subprotocol or "-")
    await ws.close()


def mode_http(port):
    """A plain HTTP GET, no upgrade."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/" % port,
                                    timeout=TIMEOUT) as r:
            say("STATUS", r.status)
    except urllib.error.HTTPError as e:
        say("STATUS", e.code)


async def mode_listen(port, first="-", path="/", subprotocol="-"):
    """Connects (offering subprotocol unless "-"), sends first (unless "-")
    and prints every message until the server closes."""
    kw = {}
    if subprotocol != "-":
        kw["subprotocols"] = [subprotocol]
    ws = await connect(port, path, **kw)
    say("OPEN")
    if first != "-":
        await ws.send(first)
    n = 0
    try:
        while True:
            m = await ws.recv()  # at the test's pace
            n += 1
            say("MSG", n, m if isinstance(m, str) else len(m))
    except websockets.exceptions.ConnectionClosed as e:
        say("CLOSE", *close_code(e))


async def mode_fast(port, count):
    """Reads count broadcast messages; checks their order and checksum."""
    ws = await connect(port, "/", max_size=None)
    say("READY")
    count = int(count)
    crc, order_ok = 0, True
    for i in range(count):
        m = await ws.recv()  # at the test's pace
        if int.from_bytes(m[:4], "big") != i:
            order_ok = False
        crc = zlib.crc32(m, crc)
    say("GOT", count, crc, "ORDER" if order_ok else "DISORDER")
    await ws.close()


async def mode_slow(port, hold):
    """Connects and stops reading: a small receive buffer and a one-message
    queue make TCP push back on the server almost at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(TIMEOUT)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    ws = await websockets.connect(
        "ws://127.0.0.1:%d/" % port, sock=sock, compression=None,
        ping_interval=None, max_size=None, max_queue=1, read_limit=4096,
        open_timeout=TIMEOUT)
    say("READY")
    await asyncio.sleep(float(hold))
    try:
        while True:
            await asyncio.wait_for(ws.recv(), TIMEOUT)
    except websockets.exceptions.ConnectionClosed as e:
        say("CLOSE", *close_code(e))


def main():
    mode, port, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    if mode == "http":
        mode_http(port)
        return
    fn = {"echo": mode_echo, "from": mode_from, "oversize": mode_oversize,
          "status": mode_status, "listen": mode_listen, "fast": mode_fast,
          "slow": mode_slow}[mode]
    asyncio.run(fn(port, *args))


if __name__ == "__main__":
    main()
