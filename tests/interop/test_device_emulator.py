#!/usr/bin/python3
"""scn-stream against an independent device emulator (Python websockets).

The emulator is written from docs/PROTOCOL.md alone with Debian's
python3-websockets (10.4, asyncio API), a WebSocket implementation that
shares no code with the client. It runs in this process on 127.0.0.1, on an
ephemeral port, and the client runs as a subprocess:

    $SCN_BIN_DIR/scn-stream --url ws://127.0.0.1:PORT --count N --format jsonl

Cases:
  - v1 server: checks the Bearer key, selects scentience.v1, sends hello,
    streams SEQ 1..N with some messages fragmented, pings the client, and
    sends a typed message of unknown type. The client must print exactly
    the N frames, whole and in order, and exit 0.
  - revoked key: 401 with error_description="revoked". The client must exit
    77 at once and never retry.
  - compatibility mode: a server that selects no subprotocol and sends no
    hello still streams to the client.

Environment: SCN_BIN_DIR (the built apps), SCN_LOG_DIR (where the client's
stdout and stderr are kept, for scripts/check-no-keys-in-logs).
Only the standard library and websockets are used.
"""

import asyncio
import http
import json
import os
import re
import sys
import tempfile
import time
import unittest

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import simproc  # noqa: E402 (tests/integration, found through the path)
from simproc import scaled  # noqa: E402

SUBPROTOCOL = "scentience.v1"
# Test keys follow the repository convention (SCN_TEST_ + 16 or more
# letters/digits) so that scripts/check-no-keys-in-logs knows them.
KEY = "SCN_TEST_emuStream000000000042"
REVOKED_KEY = "SCN_TEST_emuRevoked00000000077"

N_FRAMES = 12
# Messages sent fragmented: these SEQs, plus hello and the unknown message.
FRAGMENTED_SEQ = {2, 5, 8, 11}
# SEQ after which the unknown typed message and the ping go out.
UNKNOWN_AFTER_SEQ = 3
PING_AFTER_SEQ = 6

CLIENT_TIMEOUT_S = scaled(45)
# Not a timing check: a client that retried or waited out a backoff would
# take far longer than this.
REJECT_DEADLINE_S = scaled(5.0)
STEP_TIMEOUT_S = scaled(10)

EXIT_OK = 0
EXIT_KEY_REJECTED = 77

BIN_DIR = os.environ.get("SCN_BIN_DIR", "")
LOG_DIR = os.environ.get("SCN_LOG_DIR") or os.path.join(
    tempfile.gettempdir(), "scn-interop-logs")
STREAM = os.path.join(BIN_DIR, "scn-stream")


def redact(text):
    """Never print a test key, even in an assertion message."""
    return re.sub(r"SCN_TEST_[A-Za-z0-9]{16,}",
                  lambda m: "****" + m.group(0)[-4:], text)


def make_frame(seq):
    """A device frame as PROTOCOL.md 3.1 describes it, with an unknown key
    and an extension; some compounds omitted (absent means zero)."""
    frame = {
        "UID": "SCN001",
        "TIMESTAMP": "2025-08-29T21:00:%02d.%03dZ" % (seq % 60, seq * 7 % 1000),
        "SEQ": seq,
        "ENV_temperatureC": 21.5 + seq / 4,
        "ENV_humidity": 40.25,
        "ENV_pressureHpa": 1010,
        "STATUS_opuA": 0,
        "BATT_health": 98,
        "BATT_v": 4.5,
        "BATT_charge": 83,
        "BATT_time": 2,
        "NH3": 270 + seq,
        "CO": 1275,
    }
    if seq % 2 == 0:
        frame["VOC"] = 2917
    if seq % 4 == 1:
        frame["NH3_A"] = 268
        frame["NH3_B"] = 272.5
    frame["XYZ_newfield"] = {"fw": "2.7.1", "flags": [1, 2, 3], "seq": seq}
    frame["_sim_units"] = {"compounds": "ppb", "ENV_temperatureC": "degC"}
    if seq in FRAGMENTED_SEQ:
        # Multi-byte UTF-8 in a message that travels in pieces.
        frame["XYZ_label"] = "Küche \u2615 #%d" % seq
    return frame


def fragments(text, size):
    return [text[i:i + size] for i in range(0, len(text), size)]


class Emulator:
    """A scentience.v1 device (or a compatibility-mode one) on 127.0.0.1."""

    def __init__(self, key, v1=True, revoked=False, n_frames=N_FRAMES):
        self.key = key
        self.v1 = v1
        self.revoked = revoked
        self.n_frames = n_frames
        self.requests = []        # request headers of every handshake
        self.connections = 0      # upgrades accepted
        self.subprotocols = []    # subprotocol selected, per connection
        self.sent = []            # frames sent, as objects, in order
        self.sent_fragmented = []  # SEQs actually sent fragmented
        self.pongs = 0
        self.client_messages = []
        self.close_codes = []
        self.errors = []
        self.server = None
        self.port = None

    # -- handshake ---------------------------------------------------------

    async def process_request(self, path, headers):
        self.requests.append(headers)
        if self.revoked:
            return (http.HTTPStatus.UNAUTHORIZED,
                    [("WWW-Authenticate", 'Bearer error="invalid_token", '
                      'error_description="revoked"'),
                     ("Content-Type", "text/plain")],
                    b"key revoked\n")
        if headers.get("Authorization") != "Bearer " + self.key:
            return (http.HTTPStatus.UNAUTHORIZED,
                    [("WWW-Authenticate", 'Bearer error="invalid_token", '
                      'error_description="invalid"'),
                     ("Content-Type", "text/plain")],
                    b"key invalid\n")
        return None  # go on with the upgrade

    # -- session -------------------------------------------------------------

    async def send_maybe_fragmented(self, ws, text, fragmented, size=7):
        if fragmented:
            await ws.send(fragments(text, size))
        else:
            await ws.send(text)

    async def reader(self, ws):
        try:
            async for message in ws:
                self.client_messages.append(message)
        except websockets.ConnectionClosed:
            pass

    async def handler(self, ws):
        self.connections += 1
        self.subprotocols.append(ws.subprotocol)
        reader = asyncio.ensure_future(self.reader(ws))
        try:
            if ws.subprotocol == SUBPROTOCOL:
                hello = {
                    "type": "hello", "protocol": SUBPROTOCOL, "uid": "SCN001",
                    "devices": ["SCN001"], "rate_hz": 50,
                    "units": {"compounds": "ppb", "ENV_temperatureC": "degC"},
                }
                await self.send_maybe_fragmented(
                    ws, json.dumps(hello, separators=(",", ":")), True, 5)
            for seq in range(1, self.n_frames + 1):
                frame = make_frame(seq)
                text = json.dumps(frame, ensure_ascii=False,
                                  separators=(",", ":"))
                fragmented = seq in FRAGMENTED_SEQ
                # SEQ 5 goes in one-character pieces, the others in 7.
                await self.send_maybe_fragmented(
                    ws, text, fragmented, 1 if seq == 5 else 7)
                self.sent.append(frame)
                if fragmented:
                    self.sent_fragmented.append(seq)
                if seq == UNKNOWN_AFTER_SEQ:
                    unknown = {"type": "future_thing", "id": 99,
                               "payload": {"nested": [1, {"x": "y"}]}}
                    await self.send_maybe_fragmented(
                        ws, json.dumps(unknown), True, 4)
                if seq == PING_AFTER_SEQ:
                    pong = await ws.ping(b"scn-emulator")
                    await asyncio.wait_for(pong, STEP_TIMEOUT_S)
                    self.pongs += 1
                await asyncio.sleep(0.01)
            # The client has what it asked for; it closes the session.
            await asyncio.wait_for(ws.wait_closed(), STEP_TIMEOUT_S)
        except websockets.ConnectionClosed:
            pass
        except Exception as e:  # recorded, asserted empty by the test
            self.errors.append("%s: %s" % (type(e).__name__, e))
        finally:
            self.close_codes.append(ws.close_code)
            reader.cancel()
            try:
                await reader
            except asyncio.CancelledError:
                pass

    async def start(self):
        self.server = await websockets.serve(
            self.handler, "127.0.0.1", 0,
            subprotocols=[SUBPROTOCOL] if self.v1 else None,
            process_request=self.process_request,
            ping_interval=None,
            close_timeout=scaled(2))
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self):
        if self.server is not None:
            self.server.close()
            try:
                await asyncio.wait_for(self.server.wait_closed(), STEP_TIMEOUT_S)
            except asyncio.TimeoutError:
                pass

    @property
    def url(self):
        return "ws://127.0.0.1:%d" % self.port


async def run_client(name, args, key, timeout):
    """Runs scn-stream; returns (exit code, stdout, stderr, seconds). Its
    output is kept under SCN_LOG_DIR. The process never outlives this call."""
    os.makedirs(LOG_DIR, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="scn-interop-") as home:
        env = dict(os.environ)
        env["SCENTIENCE_API_KEY"] = key
        # No key file from the caller's configuration can interfere.
        env["XDG_CONFIG_HOME"] = home
        env["HOME"] = home
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            STREAM, *args, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=env, preexec_fn=simproc.die_with_parent)
        try:
            try:
                out, err = await asyncio.wait_for(proc.communicate(), timeout)
            except asyncio.TimeoutError:
                proc.kill()
                out, err = await asyncio.wait_for(proc.communicate(),
                                                  scaled(5))
                raise AssertionError(
                    "%s: scn-stream did not finish within %d s; stderr:\n%s"
                    % (name, timeout, redact(err.decode("utf-8", "replace"))))
        finally:
            if proc.returncode is None:
                proc.kill()
                await asyncio.wait_for(proc.wait(), scaled(5))
        elapsed = time.monotonic() - started
    out_text = out.decode("utf-8", "replace")
    err_text = err.decode("utf-8", "replace")
    base = os.path.join(LOG_DIR, "test_device_emulator." + name)
    with open(base + ".stdout.log", "w", encoding="utf-8") as f:
        f.write(out_text)
    with open(base + ".stderr.log", "w", encoding="utf-8") as f:
        f.write(err_text)
    return proc.returncode, out_text, err_text, elapsed


def offered_subprotocols(headers):
    offered = []
    for value in headers.get_all("Sec-WebSocket-Protocol"):
        offered += [p.strip() for p in value.split(",") if p.strip()]
    return offered


class DeviceEmulatorTest(unittest.IsolatedAsyncioTestCase):

    def setUp(self):
        self.assertTrue(os.access(STREAM, os.X_OK),
                        "scn-stream not built at %r (SCN_BIN_DIR)" % STREAM)

    def assert_no_key(self, key, *texts):
        for text in texts:
            self.assertNotIn(key, text, "the API key appears in the output")

    def check_stream(self, emu, code, out, err):
        """The assertions shared by the v1 and the compatibility case."""
        detail = "\nstderr:\n" + redact(err)
        self.assertEqual(emu.errors, [], "emulator errors" + detail)
        self.assertEqual(code, EXIT_OK, "scn-stream exit code" + detail)
        self.assertEqual(emu.connections, 1,
                         "one connection expected, no reconnect" + detail)

        # The handshake as the emulator saw it.
        self.assertEqual(len(emu.requests), 1)
        headers = emu.requests[0]
        self.assertEqual(headers.get("Authorization"), "Bearer " + KEY,
                         "Authorization header")
        self.assertIn(SUBPROTOCOL, offered_subprotocols(headers),
                      "the client must offer " + SUBPROTOCOL)

        # stdout: exactly the N frames, one compact JSON object per line.
        lines = out.splitlines()
        self.assertEqual(len(lines), N_FRAMES,
                         "expected %d lines on stdout, got:\n%s%s"
                         % (N_FRAMES, redact(out), detail))
        got = []
        for i, line in enumerate(lines, 1):
            try:
                obj = json.loads(line)
            except ValueError as e:
                self.fail("stdout line %d is not JSON (%s): %r"
                          % (i, e, line))
            self.assertIsInstance(obj, dict, "line %d" % i)
            self.assertNotIn("type", obj,
                             "a typed message was printed as a frame: %r"
                             % line)
            got.append(obj)
        self.assertEqual([o.get("SEQ") for o in got],
                         list(range(1, N_FRAMES + 1)), "SEQ 1..N in order")

        # Every key the emulator sent, with its value, in the order sent.
        self.assertEqual(len(emu.sent), N_FRAMES)
        for sent, obj in zip(emu.sent, got):
            seq = sent["SEQ"]
            for k, v in sent.items():
                self.assertIn(k, obj, "SEQ %d lacks key %s" % (seq, k))
                self.assertEqual(obj[k], v, "SEQ %d key %s" % (seq, k))
            order = [k for k in obj if k in sent]
            self.assertEqual(order, list(sent),
                             "SEQ %d: keys not in the order received" % seq)

        # The fragmented messages went out fragmented and arrived whole.
        self.assertEqual(emu.sent_fragmented, sorted(FRAGMENTED_SEQ))
        for seq in FRAGMENTED_SEQ:
            self.assertEqual(got[seq - 1], {**got[seq - 1], **emu.sent[seq - 1]})
            self.assertEqual(got[seq - 1]["XYZ_label"],
                             "Küche \u2615 #%d" % seq)

        # The ping was answered, and the client closed normally (1000) once
        # it had its N frames (PROTOCOL.md section 5).
        self.assertEqual(emu.pongs, 1, "the client must answer pings")
        self.assertEqual(emu.close_codes, [1000], "close code" + detail)
        self.assert_no_key(KEY, out, err)

    async def test_v1_stream(self):
        emu = await Emulator(KEY, v1=True).start()
        try:
            code, out, err, _ = await run_client(
                "v1", ["--url", emu.url, "--count", str(N_FRAMES),
                       "--format", "jsonl", "--max-attempts", "3"],
                KEY, CLIENT_TIMEOUT_S)
        finally:
            await emu.stop()
        self.check_stream(emu, code, out, err)
        self.assertEqual(emu.subprotocols, [SUBPROTOCOL])

    async def test_compatibility_mode(self):
        # No subprotocol selected, no hello, no typed message expected.
        emu = await Emulator(KEY, v1=False).start()
        try:
            code, out, err, _ = await run_client(
                "compat", ["--url", emu.url, "--count", str(N_FRAMES),
                           "--format", "jsonl", "--max-attempts", "3"],
                KEY, CLIENT_TIMEOUT_S)
        finally:
            await emu.stop()
        self.check_stream(emu, code, out, err)
        self.assertEqual(emu.subprotocols, [None])

    async def test_revoked_key(self):
        emu = await Emulator(REVOKED_KEY, revoked=True).start()
        try:
            # --max-attempts bounds a client that would wrongly retry: it
            # would then exit 69, not 77.
            code, out, err, elapsed = await run_client(
                "revoked", ["--url", emu.url, "--count", str(N_FRAMES),
                            "--format", "jsonl", "--max-attempts", "3"],
                REVOKED_KEY, CLIENT_TIMEOUT_S)
        finally:
            await emu.stop()
        detail = "\nstderr:\n" + redact(err)
        self.assertEqual(code, EXIT_KEY_REJECTED,
                         "exit code for a revoked key" + detail)
        self.assertLess(elapsed, REJECT_DEADLINE_S,
                        "a rejected key must end the client at once" + detail)
        self.assertEqual(len(emu.requests), 1,
                         "a revoked key must never be retried" + detail)
        self.assertEqual(emu.requests[0].get("Authorization"),
                         "Bearer " + REVOKED_KEY)
        self.assertEqual(emu.connections, 0)
        self.assertEqual(out.strip(), "", "no frame on stdout")
        self.assert_no_key(REVOKED_KEY, out, err)


if __name__ == "__main__":
    simproc.main()
