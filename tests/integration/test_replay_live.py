#!/usr/bin/python3
"""scn-replay --live-port: a recording watched as if live, through the same
listener as the companion's.

A short flight of the companion with the three simulators is recorded,
then replayed with --live-port:
- the built-in dashboard is served (the same bytes as web/dashboard/);
- with no device client, a /live dashboard starts the playback;
- @foxglove/ws-protocol's client (foxglove_client.mjs) sees every recorded topic advertised with its recorded schema
  name, gets messages on each that validate against the recorded JSON
  Schema, then every channel unadvertised and a clean close (1001) at
  end of the recording; the replay exits 0;
- a /live dashboard gets the streams under the companion's names
  (olfaction, uav.state, inference, events) with the recorded payloads;
- off loopback, --live-port is refused (no token for it).
"""

import json
import os
import shutil
import signal
import subprocess
import threading
import time
import unittest

import rawws
import simproc
from simproc import BIN_DIR, COMPANION, SOURCE_DIR, reserve_port

KEY = "SCN_TEST_replaylive000000001"
REPLAY = os.path.join(BIN_DIR, "scn-replay")
CLIENT = os.path.join(SOURCE_DIR, "tests", "integration",
                      "foxglove_client.mjs")
DASHBOARD = os.path.join(SOURCE_DIR, "web", "dashboard")


class ReplayLiveTest(simproc.ProcCase):
    KEY = KEY
    LOG_PREFIX = "replay-live"
    END_WAIT = 10

    def record_flight(self):
        _, _, dev = self.sim("device", ["device", "--rate", "20"])
        _, _, cloud = self.sim("cloud", ["cloud"])
        _, _, uav, state_port, video_port = self.uav_sim()
        script = os.path.join(self.tmp, "flight.txt")
        with open(script, "w") as f:
            f.write("takeoff\nup 50\ncw 90\nland\n")
        mcap = os.path.join(self.tmp, "flight.mcap")
        comp = self.start(
            [COMPANION, "--device-url", "ws://127.0.0.1:%d" % dev,
             "--cloud-url", "ws://127.0.0.1:%d/v1/stream" % cloud,
             "--spool-dir", os.path.join(self.tmp, "spool"),
             "--drone-url", "ws://127.0.0.1:%d" % uav,
             "--listen", "127.0.0.1", "--state-port", str(state_port),
             "--video-port", str(video_port), "--live-port", "0",
             "--script", script, "--record", mcap, "--no-status",
             "--duration", "5"], stdout=subprocess.DEVNULL,
            stderr="companion")
        self.assertEqual(comp.wait(60), 0, self.text(comp.err_path))
        topics = {m["topic"] for m in self.export(mcap)}
        self.assertEqual(topics, {"/olfaction", "/uav/state", "/uav/command",
                                  "/inference", "/events", "/cloud/record"})
        return mcap

    def replay(self, mcap, live_port, *extra):
        p = self.start([REPLAY, mcap, "--port", "0", "--live-port",
                        str(live_port), "--speed", "2"] + list(extra),
                       stderr="replay")
        line = p.stdout.readline()
        self.assertIn("listening on 127.0.0.1:", line, self.text(p.err_path))
        ok = simproc.wait_until(
            lambda: "Foxglove on" in self.text(p.err_path) or
            p.poll() is not None, 10)
        self.assertTrue(ok and p.poll() is None, self.text(p.err_path))
        return p

    def test_replay_as_live(self):
        mcap = self.record_flight()
        recorded = simproc.mcap_check(self, mcap)["channels"]
        live = reserve_port()
        rp = self.replay(mcap, live, "--loop")
        # The page, from the binary: the same files as in the tree.
        for name in ("index.html", "app.js", "chart.js", "live.js",
                     "style.css"):
            status, hdrs, body = rawws.http("127.0.0.1", live,
                                            "/" + name)
            self.assertEqual(status, 200, name)
            with open(os.path.join(DASHBOARD, name), "rb") as f:
                self.assertEqual(body, f.read(), name)
        # No device client at all: a dashboard is enough to start the
        # playback (--loop: one that joins late sees the next pass).
        dash = rawws.RawWS.connect(live, "/live",
                                   subprotocols=["scentience.live.v1"])
        self.assertEqual(dash.status, 101)
        dash.send_frame(0x1, json.dumps(
            {"type": "subscribe",
             "streams": ["olfaction", "uav.state", "inference", "events"]}))
        node = shutil.which("node")
        self.assertTrue(node, "Node.js is required: scripts/install-deps")
        fg = self.start([node, CLIENT, "ws://127.0.0.1:%d/" % live],
                        stderr="foxglove")
        want = {"olfaction", "uav.state", "inference", "events"}
        streams = {}
        deadline = time.monotonic() + 60
        while set(streams) != want and time.monotonic() < deadline:
            m = json.loads(dash.recv_message()[1])
            if m.get("type") == "message":
                streams.setdefault(m["stream"], []).append(m["data"])
        self.assertEqual(set(streams), want)
        self.assertTrue(all("UID" in f and "TIMESTAMP" in f
                            for f in streams["olfaction"]))
        self.assertTrue(all("model" in r for r in streams["inference"]))
        # The dashboard goes on reading while Foxglove catches up (slow
        # under ASan): one that stops reading for 5 s is cut off without
        # a close frame (docs/PROTOCOL.md 10.5), which is not what this
        # test is about.
        closed = []

        def drain():
            try:
                while True:
                    dash.recv_message()
            except rawws.Closed as e:
                closed.append(e.code)
        dash.sock.settimeout(None)  # scn-replay's exit ends it
        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        # Every channel delivered to Foxglove too.
        self.assertEqual(fg.stdout.readline().strip(), "READY",
                         self.text(fg.err_path))
        # Stopped: both see the end, a clean close.
        rp.send_signal(signal.SIGINT)
        self.assertEqual(rp.wait(30), 0, self.text(rp.err_path))
        reader.join(simproc.scaled(30))
        self.assertEqual(closed, [1001])
        dash.close()
        out, _ = fg.communicate(timeout=30)
        self.assertEqual(fg.returncode, 0, self.text(fg.err_path))
        lines = out.strip().splitlines()
        seen = json.loads(lines[-1])
        self.assertEqual(seen["serverInfo"]["name"], "scn-replay")
        self.assertEqual(
            {t: v["schemaName"] for t, v in seen["topics"].items()},
            {t: ch["schema"] for t, ch in recorded.items()})
        for topic, v in seen["topics"].items():
            self.assertGreater(v["count"], 0, topic)
            self.assertEqual(v["invalid"], 0,
                             "%s: %s" % (topic, v["firstError"]))
        ids = sorted(ch["id"] for ch in seen["channels"])
        self.assertEqual(sorted(seen["unadvertised"]), ids)
        self.assertEqual(seen["closeCode"], 1001)

    def test_loopback_only(self):
        p = subprocess.run([REPLAY, "no-such.mcap", "--host", "0.0.0.0",
                            "--live-port", "0"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 64)
        self.assertIn("loopback only", p.stderr)


if __name__ == "__main__":
    unittest.main()
