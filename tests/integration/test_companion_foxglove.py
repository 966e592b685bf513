#!/usr/bin/python3
"""scn-companion's Foxglove WebSocket protocol against an implementation we
did not write: @foxglove/ws-protocol's FoxgloveClient over the `ws`
package (tests/integration/foxglove_client.mjs), with the companion flying
the three simulators.

- interop: two clients, one offering foxglove.websocket.v1 and one
  foxglove.sdk.v1, each get serverInfo and the six streams the recording
  has (same topics and schema names as the MCAP file, read back with
  @mcap/core), subscribe to every channel, and every payload validates
  against the advertised JSON Schema (ajv); when the companion stops they
  see every channel unadvertised, then a clean close (1001);
- slow client: a Foxglove client that stops reading is cut off, while a
  /live dashboard and a Foxglove client beside it get every frame in
  order and the cloud keeps accepting every record (seqs without a gap).
"""

import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import time
import unittest

import rawws
import simproc
from simproc import COMPANION, SOURCE_DIR, reserve_port, log_events

KEY = "SCN_TEST_companion0000000006"
CLIENT = os.path.join(SOURCE_DIR, "tests", "integration",
                      "foxglove_client.mjs")
TOPICS = {
    "/olfaction": "scentience.Olfaction",
    "/uav/state": "scentience.UavState",
    "/uav/command": "scentience.UavCommand",
    "/inference": "scentience.Inference",
    "/events": "scentience.Event",
    "/cloud/record": "scentience.CloudRecord",
}


def read_line(p, timeout):
    """A line of p's stdout, or what came before timeout seconds passed
    (or p ended)."""
    fd = p.stdout.fileno()
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        b = os.read(fd, 1)
        if not b:
            break
        line += b
    return line.decode()


class CompanionFoxgloveTest(simproc.ProcCase):
    KEY = KEY
    LOG_PREFIX = "companion-foxglove"
    END_WAIT = 10

    def node(self):
        node = shutil.which("node")
        self.assertTrue(node, "Node.js is required: scripts/install-deps")
        return node

    def wait_listening(self, comp):
        ok = simproc.wait_until(
            lambda: comp.poll() is not None or
            "live fan-out on" in self.text(comp.err_path), 20)
        self.assertIsNone(comp.poll(), self.text(comp.err_path))
        self.assertTrue(ok, "the companion did not start its listener")

    def test_interop_three_simulators(self):
        _, _, dev_port = self.sim("device", ["device", "--rate", "20"])
        _, _, cloud_port = self.sim("cloud", ["cloud"])
        _, _, uav_port, state_port, video_port = self.uav_sim()
        script = os.path.join(self.tmp, "flight.txt")
        with open(script, "w") as f:
            # Commands once the clients are subscribed.
            f.write("wait 4\ntakeoff\nwait 2\nland\n")
        mcap = os.path.join(self.tmp, "flight.mcap")
        live = reserve_port()
        comp = self.start(
            [COMPANION, "--device-url", "ws://127.0.0.1:%d" % dev_port,
             "--cloud-url", "ws://127.0.0.1:%d/v1/stream" % cloud_port,
             "--spool-dir", os.path.join(self.tmp, "spool"),
             "--drone-url", "ws://127.0.0.1:%d" % uav_port,
             "--listen", "127.0.0.1", "--state-port", str(state_port),
             "--video-port", str(video_port), "--live-port", str(live),
             "--script", script, "--record", mcap, "--no-status",
             "--duration", "90"], stderr="companion")
        self.wait_listening(comp)
        clients = []
        for proto in ("foxglove.websocket.v1", "foxglove.sdk.v1"):
            clients.append(self.start(
                [self.node(), CLIENT, "ws://127.0.0.1:%d/" % live,
                 "--subprotocol", proto], stderr="client-" + proto))
        # READY: every advertised channel delivered a message (the
        # script's commands and the cloud's inferences take a few s).
        for c in clients:
            line = read_line(c, 60)
            self.assertEqual(line.strip(), "READY",
                             self.text(c.err_path) + line)
        self.assertEqual(self.stop(comp, signal.SIGINT, 60), 0,
                         self.text(comp.err_path))
        verdict = simproc.mcap_check(self, mcap)
        recorded = {topic: ch["schema"]
                    for topic, ch in verdict["channels"].items()}
        for c, proto in zip(clients, ("foxglove.websocket.v1",
                                      "foxglove.sdk.v1")):
            out, _ = c.communicate(timeout=30)
            self.assertEqual(c.returncode, 0, self.text(c.err_path))
            seen = json.loads(out.strip().splitlines()[-1])
            self.assertEqual(seen["subprotocol"], proto)
            self.assertEqual(seen["serverInfo"]["name"], "scn-companion")
            self.assertEqual(seen["serverInfo"]["supportedEncodings"],
                             ["json"])
            topics = seen["topics"]
            self.assertEqual(
                {t: v["schemaName"] for t, v in topics.items()}, TOPICS)
            # The same streams and schemas as the recording.
            self.assertEqual(recorded, TOPICS)
            for topic, v in topics.items():
                self.assertGreater(v["count"], 0, topic)
                self.assertEqual(v["invalid"], 0,
                                 "%s: %s" % (topic, v["firstError"]))
                self.assertEqual(v["encoding"], "json")
                self.assertEqual(v["schemaEncoding"], "jsonschema")
            ids = sorted(ch["id"] for ch in seen["channels"])
            self.assertEqual(sorted(seen["unadvertised"]), ids)
            self.assertEqual(seen["closeCode"], 1001)
            self.assertEqual([s for s in seen["statuses"]
                              if s["level"] == 2], [])

    def test_slow_client_cut_off_others_unaffected(self):
        _, _, dev_port = self.sim("device", ["device", "--rate", "100"])
        _, cloud_log, cloud_port = self.sim("cloud", ["cloud"])
        live = reserve_port()
        comp = self.start(
            [COMPANION, "--device-url", "ws://127.0.0.1:%d" % dev_port,
             "--rate", "100",
             "--cloud-url", "ws://127.0.0.1:%d/v1/stream" % cloud_port,
             "--spool-dir", os.path.join(self.tmp, "spool"),
             "--state-port", "0", "--video-port", "0",
             "--live-port", str(live), "--live-queue-msgs", "64",
             "--live-queue-bytes", "32K", "--live-flush-ms", "20",
             "--no-status", "--duration", "90"], stderr="companion")
        self.wait_listening(comp)

        # A Foxglove client beside the slow one, delivering already.
        fg = self.start([self.node(), CLIENT, "ws://127.0.0.1:%d/" % live,
                         "--topic", "/olfaction"], stderr="fast-foxglove")
        self.assertEqual(read_line(fg, 60).strip(), "READY",
                         self.text(fg.err_path))
        # The slow one: subscribes to /olfaction, then stops reading with
        # a small receive buffer, so TCP pushes back at once.
        slow = rawws.RawWS.connect(live, "/", rcvbuf=4096,
                                   subprotocols=["foxglove.websocket.v1"])
        self.assertEqual(slow.status, 101)
        chan = None
        while chan is None:
            m = json.loads(slow.recv_message()[1])
            if m["op"] == "advertise":
                chan = [c["id"] for c in m["channels"]
                        if c["topic"] == "/olfaction"][0]
        slow.send_frame(0x1, json.dumps(
            {"op": "subscribe", "subscriptions": [{"id": 7,
                                                   "channelId": chan}]}))
        # A /live dashboard that reads everything.
        fast = rawws.RawWS.connect(live, "/live",
                                   subprotocols=["scentience.live.v1"])
        fast.send_frame(0x1, json.dumps({"type": "subscribe",
                                         "streams": ["olfaction"]}))
        t_end = time.monotonic() + 14
        seqs = []
        while time.monotonic() < t_end:
            m = json.loads(fast.recv_message()[1])
            if m.get("type") == "message":
                seqs.append(m["data"]["SEQ"])
        # The slow one was cut off: its stream ends without a close
        # frame (it could not read one) once its buffers drain.
        slow.sock.setblocking(True)
        self.assertIsNone(slow.close_code(timeout=30))
        slow.close()
        # The fast dashboard got every frame, in order, no gap.
        self.assertGreater(len(seqs), 300)
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(seqs))))
        fast.close()
        # The companion kept sending the cloud every record.
        self.assertEqual(self.stop(comp, signal.SIGINT, 60), 0,
                         self.text(comp.err_path))
        out, _ = fg.communicate(timeout=30)
        seen = json.loads(out.strip().splitlines()[-1])
        self.assertGreater(seen["topics"]["/olfaction"]["count"], 300)
        self.assertEqual(seen["topics"]["/olfaction"]["invalid"], 0)
        acc = [e["seq"] for e in log_events(cloud_log, "accepted")]
        self.assertGreater(len(acc), 300)
        self.assertEqual(sorted(set(acc)), list(range(1, max(acc) + 1)))


if __name__ == "__main__":
    unittest.main()
