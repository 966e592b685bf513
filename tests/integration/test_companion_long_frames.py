#!/usr/bin/python3
"""scn-companion keeps device frames of any length: a device whose frames
are about 12 KiB (a 1500-reading array under an unknown key) has every
frame recorded whole on /olfaction and submitted to the cloud. Before the
fix the companion wrote each frame into an 8 KiB buffer and dropped the
longer ones without a word."""

import json
import os
import sys

import simproc
from simproc import COMPANION, SOURCE_DIR, log_events, reserve_port

KEY = "SCN_TEST_companionlongframes1"
PEER = os.path.join(SOURCE_DIR, "tests", "integration", "frame_peer.py")
READINGS = 1500


class LongFramesTest(simproc.ProcCase):
    KEY = KEY
    LOG_PREFIX = "longframes"

    def test_long_frames_recorded_and_sent(self):
        dev = simproc.Server([sys.executable, PEER, str(READINGS)],
                             name="frame_peer")
        self.addCleanup(dev.kill)
        _, cloud_log, cloud_port = self.sim("cloud", ["cloud"])
        mcap = os.path.join(self.tmp, "long.mcap")
        p = self.start(
            [COMPANION, "--device-url", dev.origin,
             "--cloud-url", "ws://127.0.0.1:%d/v1/stream" % cloud_port,
             "--spool-dir", os.path.join(self.tmp, "spool"),
             "--live-port", str(reserve_port()),
             "--record", mcap, "--no-status", "--duration", "3"],
            stderr="companion.stderr")
        rc, _ = self.finish(p, 40)
        err = self.text(p.err_path)
        self.assertEqual(rc, 0, err)
        simproc.check_stderr(err, "scn-companion")

        frames = [json.loads(m["data"]) if isinstance(m["data"], str)
                  else m["data"] for m in self.export(mcap)
                  if m["topic"] == "/olfaction"]
        self.assertGreater(len(frames), 5, err)
        seqs = [f["SEQ"] for f in frames]
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))
        for f in frames:
            spectrum = f["SPECTRUM"]
            self.assertEqual(len(spectrum), READINGS)
            self.assertEqual(spectrum[-1],
                             round(f["SEQ"] + (READINGS - 1) / 1000, 3))
        self.assertGreater(len(json.dumps(frames[0])), 8192)
        # The companion's count is of the frames it received.
        self.assertIn("%d frames" % len(frames), err)

        # The cloud got them too (1..N, as the companion submitted them).
        accepted = [e["seq"] for e in log_events(cloud_log, "accepted")]
        self.assertGreater(len(accepted), 5)
        self.assertEqual(accepted, list(range(1, len(accepted) + 1)))


if __name__ == "__main__":
    simproc.main()
