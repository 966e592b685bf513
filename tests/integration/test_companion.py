#!/usr/bin/python3
"""scn-companion against the three simulators on loopback: a scripted
flight (takeoff, wait, land) with --follow. Fused records reach the cloud
in order (seqs 1..N, no gap, no duplicate) carrying the nearest drone
state, inference pushes arrive, --follow sends exactly one valid `oio`,
and the MCAP recording holds every stream. The recording's /cloud/record
(what was sent) is checked against its /uav/state: each record carries
the state received nearest in time to its frame, among those received
before the frame was fused."""

import os
import re
import subprocess
import time
import unittest

import simproc
from simproc import COMPANION, RECORD, free_port, log_events

KEY = "SCN_TEST_companion0000000001"


class CompanionTest(simproc.ProcCase):
    # Leftovers get SIGTERM, SIGKILL after 5 s; the sims' stderr is ours.
    KEY = KEY
    LOG_PREFIX = "companion"

    def companion(self, name, args, timeout):
        """Runs scn-companion to its end; returns (exit code, stdout,
        stderr)."""
        p = self.start([COMPANION] + args, stderr=name + ".stderr")
        out, _ = p.communicate(timeout=timeout)
        return p.returncode, out, self.text(p.err_path)

    def test_scripted_flight_with_follow(self):
        _, _, dev_port = self.sim("device", ["device", "--rate", "20"])
        _, cloud_log, cloud_port = self.sim("cloud", ["cloud"])
        _, uav_log, uav_port, state_port, video_port = self.uav_sim()
        base = ["--device-url", "ws://127.0.0.1:%d" % dev_port,
                "--cloud-url", "ws://127.0.0.1:%d/v1/stream" % cloud_port,
                "--no-status"]

        # The device sim's plume drifts, so which compound the toy model
        # names changes over time: follow whichever it names first.
        script = os.path.join(self.tmp, "flight.txt")
        with open(script, "w") as f:
            f.write("takeoff\nwait 3\nland\n")
        mcap = os.path.join(self.tmp, "out.mcap")
        args = base + ["--spool-dir", os.path.join(self.tmp, "spool"),
                       "--drone-url", "ws://127.0.0.1:%d" % uav_port,
                       "--listen", "127.0.0.1",
                       "--state-port", str(state_port),
                       "--video-port", str(video_port),
                       "--live-port", str(free_port()),
                       "--script", script, "--follow", "any",
                       "--follow-threshold", "0.05",
                       "--record", mcap, "--duration", "6"]
        t0 = time.monotonic()
        rc, out, err = self.companion("flight", args, 40)
        self.assertEqual(rc, 0, err)
        self.assertLess(time.monotonic() - t0, 20)
        self.assertIn("recording " + mcap, err)

        # Cloud: the flight's records (a new stream id) 1..N, in order.
        flight_acc = log_events(cloud_log, "accepted")
        flight = [e["seq"] for e in flight_acc]
        self.assertGreater(len(flight), 20)
        self.assertEqual(flight, list(range(1, len(flight) + 1)))
        self.assertEqual(log_events(cloud_log, "duplicate"), [])

        # Inference pushes reported; states fused (the toy model gives a
        # bearing only when the record carried a state with x/y).
        self.assertIn("inference seq", out)
        self.assertIn(" bearing ", out)

        # Exactly one oio, valid, besides the script's commands.
        cmds = log_events(uav_log, "command")
        oio = [c for c in cmds if c.get("raw", "").startswith("oio")]
        self.assertEqual(len(oio), 1, cmds)
        self.assertTrue(oio[0]["valid"])
        named = re.findall(r"^inference seq \d+: (\S+) ", out, re.M)
        self.assertIn(oio[0]["raw"].split()[1].upper(),
                      {n.upper() for n in named})
        raws = [c["raw"] for c in cmds]
        self.assertIn("takeoff", raws)
        self.assertIn("land", raws)

        # Inferences older than --max-age are reported, never acted on
        # (--max-age 0: every answer is older than its frame).
        rc, out, err = self.companion(
            "stale", args[:args.index("--script")] +
            ["--follow", "any", "--follow-threshold", "0",
             "--max-age", "0", "--duration", "2"], 30)
        self.assertEqual(rc, 0, err)
        self.assertIn("inference seq", out)
        oio = [c for c in log_events(uav_log, "command")
               if c.get("raw", "").startswith("oio")]
        self.assertEqual(len(oio), 1, oio)

        # The recording lists every stream.
        info = subprocess.run([RECORD, "info", mcap],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(info.returncode, 0, info.stderr)
        counts = dict(re.findall(r"^\s*\d+\s+(/\S+)\s+(\d+)\s", info.stdout,
                                 re.M))
        for topic in ("/olfaction", "/uav/state", "/uav/command",
                      "/inference", "/events", "/cloud/record"):
            self.assertGreater(int(counts.get(topic, 0)), 0, info.stdout)
        with open(mcap, "rb") as f:
            self.assertNotIn(KEY.encode(), f.read())

        # The independent reader (@mcap/core) accepts the flight recording
        # and counts the same messages per topic.
        verdict = simproc.mcap_check(self, mcap)
        for topic, n in counts.items():
            self.assertEqual(verdict["topics"][topic], int(n), topic)

        self.check_fused_records(mcap, flight_acc)

    def check_fused_records(self, mcap, cloud_accepted):
        """Every fused record of the flight carries the nearest state, and
        the cloud received exactly that state."""
        accepted = [e["seq"] for e in cloud_accepted]
        received = {e["seq"]: e.get("state") for e in cloud_accepted}
        received_age = {e["seq"]: e.get("state_age_ms")
                        for e in cloud_accepted}
        msgs = self.export(mcap)
        # Only the flight is recorded (the second run has no --record).
        records = [m for m in msgs if m["topic"] == "/cloud/record"]
        states = [m for m in msgs if m["topic"] == "/uav/state"]
        inferences = [m["data"] for m in msgs if m["topic"] == "/inference"]
        self.assertEqual([r["data"]["seq"] for r in records],
                         list(range(1, len(records) + 1)))
        # What the cloud accepted is what the companion says it sent (the
        # last few may still have been in the spool at exit).
        self.assertEqual(len({r["data"]["stream"] for r in records}), 1)
        self.assertEqual([r["data"]["seq"] for r in records][:len(accepted)],
                         accepted)
        sent = {r["data"]["seq"] for r in records}
        for i in inferences:
            self.assertIn(i["seq"], sent)
        frames = {(m["data"]["UID"], m["data"]["TIMESTAMP"])
                  for m in msgs if m["topic"] == "/olfaction"}
        keep_ns = 10 * 10**9  # the companion's ring window
        with_state = 0
        for r in records:
            d, ts = r["data"], r["publish_time_ns"]
            self.assertIn((d["uid"], d["timestamp"]), frames)
            # States the companion had when it fused this frame: those it
            # received (and recorded, same clock) before this record.
            known = [s for s in states
                     if s["publish_time_ns"] <= r["log_time_ns"]
                     and abs(s["publish_time_ns"] - ts) <= keep_ns]
            if d["seq"] in received:
                # The cloud got the recorded state as the drone sent it
                # (PROTOCOL.md 9.3), its age beside it.
                self.assertEqual(received[d["seq"]], d.get("state"), d)
                self.assertEqual(received_age[d["seq"]], d.get("age_ms"), d)
            if "state" not in d:
                self.assertEqual(known, [], d)
                continue
            with_state += 1
            best = min(abs(s["publish_time_ns"] - ts) for s in known)
            nearest = [s for s in known
                       if abs(s["publish_time_ns"] - ts) == best]
            self.assertIn(d["state"], [s["data"] for s in nearest],
                          (d, [s["data"] for s in nearest]))
            # age_ms = frame time minus state time, in whole ms toward 0.
            ages = [int((ts - s["publish_time_ns"]) / 10**6)
                    for s in nearest if s["data"] == d["state"]]
            self.assertIn(d["age_ms"], ages, d)
        # The drone's state flowed for most of the flight.
        self.assertGreater(with_state, len(records) // 2)


if __name__ == "__main__":
    unittest.main()
