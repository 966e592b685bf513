#!/usr/bin/python3
"""scn-companion keeps drone states of any length: a drone (scn-sim uav
--state-extra) whose every state carries nine firmware keys full of
quotes and backslashes sends state strings under the parser's 1024 bytes
whose JSON is over 1.5 KiB. Every state the companion counts is recorded
whole on /uav/state and reaches a /live dashboard, and frames are fused
with them: each /cloud/record carries the nearest such state, and the
cloud received exactly that. Before the fix the companion wrote each
state into a 1 KiB buffer and dropped the longer ones without a word (not
counted, recorded, published or fused), and its cloud record buffer
(1.5 KiB) could not hold one either."""

import json
import os

import rawws
import simproc
import test_companion
from simproc import COMPANION, reserve_port

KEY = "SCN_TEST_companionlongstates1"

# Nine unknown pairs, distinct keys of 20 bytes, values of 60, mostly '"'
# and '\' (two bytes each in JSON). With the simulator's own fields
# (about 200 bytes) the state string stays under 1024 bytes.
EXTRA = {}
for i in range(9):
    EXTRA["fw%d" % i + ('"\\' * 9)[:17]] = 'say "hi" ' + ('"\\' * 26)[:51]
EXTRA_ARG = "".join("%s:%s;" % kv for kv in EXTRA.items())


class LongStatesTest(simproc.ProcCase):
    KEY = KEY
    LOG_PREFIX = "longstates"

    def assert_long_state(self, st):
        for k, v in EXTRA.items():
            self.assertEqual(st.get(k), v, st)
        self.assertIn("bat", st)
        # Longer than the 1 KiB state and 1.5 KiB record buffers that were.
        self.assertGreater(len(json.dumps(st, separators=(",", ":"))), 1536)

    def test_long_states_recorded_published_and_fused(self):
        self.assertLessEqual(len(EXTRA_ARG), 800)
        _, _, dev_port = self.sim("device", ["device", "--rate", "20"])
        _, cloud_log, cloud_port = self.sim("cloud", ["cloud"])
        _, _, uav_port, state_port, video_port = self.uav_sim(
            "--state-extra", EXTRA_ARG)
        mcap = os.path.join(self.tmp, "long.mcap")
        live = reserve_port()
        p = self.start(
            [COMPANION, "--device-url", "ws://127.0.0.1:%d" % dev_port,
             "--cloud-url", "ws://127.0.0.1:%d/v1/stream" % cloud_port,
             "--spool-dir", os.path.join(self.tmp, "spool"),
             "--drone-url", "ws://127.0.0.1:%d" % uav_port,
             "--listen", "127.0.0.1", "--state-port", str(state_port),
             "--video-port", str(video_port), "--live-port", str(live),
             "--record", mcap, "--no-status", "--duration", "8"],
            stderr="companion.stderr")
        ok = simproc.wait_until(
            lambda: p.poll() is not None or
            "live fan-out on" in self.text(p.err_path), 20)
        self.assertIsNone(p.poll(), self.text(p.err_path))
        self.assertTrue(ok)
        watch = rawws.LiveWatch(live, "uav.state")
        self.addCleanup(watch.close)
        rc, _ = self.finish(p, 60)
        err = self.text(p.err_path)
        self.assertEqual(rc, 0, err)
        simproc.check_stderr(err, "scn-companion")

        msgs = self.export(mcap)
        states = [m for m in msgs if m["topic"] == "/uav/state"]
        self.assertGreater(len(states), 10, err)
        for m in states:
            self.assert_long_state(m["data"])
        # Every state the companion counted was recorded.
        self.assertIn(" %d states " % len(states), err)
        events = [m for m in msgs if m["topic"] == "/events"]
        # Nothing was reported lost or left unfused.
        self.assertEqual([m for m in events if m["data"].get("event") in
                          ("state_lost", "state_unfused",
                           "cloud_record_lost")], [])

        # A dashboard got them whole too.
        self.assertTrue(simproc.wait_until(lambda: watch.data, 10),
                        "no uav.state on /live")
        for st in watch.data:
            self.assert_long_state(st)

        # Fused: the records carry the nearest long state, the cloud got
        # exactly that (test_companion's check), and most records have one.
        test_companion.CompanionTest.check_fused_records(
            self, mcap, simproc.log_events(cloud_log, "accepted"))
        records = [m["data"] for m in msgs if m["topic"] == "/cloud/record"]
        for r in records:
            if "state" in r:
                self.assert_long_state(r["state"])


if __name__ == "__main__":
    simproc.main()
