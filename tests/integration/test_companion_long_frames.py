#!/usr/bin/python3
"""scn-companion keeps device frames of any length: a device whose frames
are about 12 KiB (a 1500-reading array under an unknown key) has every
frame recorded whole on /olfaction and submitted to the cloud. Before the
fix the companion wrote each frame into an 8 KiB buffer and dropped the
longer ones without a word.

Long cloud messages too: with a 1200-byte device UID (scn-sim device
--devices) and inferences of 16 labels of 63 control characters each
(scn-sim cloud --control-labels: over 5 KiB of JSON), every inference the
companion counts is recorded on /inference and reaches a /live dashboard
whole, and every fused record names the long UID. Before the fix the
inference went through a 4 KiB buffer and was skipped without a word."""

import json
import os
import sys

import rawws
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

    def test_long_inferences_recorded_and_published(self):
        uid = ("U" * 1199) + "Z"
        _, _, dev_port = self.sim("device", ["device", "--rate", "20",
                                             "--devices", uid])
        _, cloud_log, cloud_port = self.sim("cloud", ["cloud",
                                                      "--control-labels"])
        mcap = os.path.join(self.tmp, "labels.mcap")
        live = reserve_port()
        p = self.start(
            [COMPANION, "--device-url", "ws://127.0.0.1:%d" % dev_port,
             "--cloud-url", "ws://127.0.0.1:%d/v1/stream" % cloud_port,
             "--spool-dir", os.path.join(self.tmp, "spool"),
             "--live-port", str(live),
             "--record", mcap, "--no-status", "--duration", "5"],
            stderr="labels.stderr")
        ok = simproc.wait_until(
            lambda: p.poll() is not None or
            "live fan-out on" in self.text(p.err_path), 20)
        self.assertIsNone(p.poll(), self.text(p.err_path))
        self.assertTrue(ok)
        watch = rawws.LiveWatch(live, "inference")
        self.addCleanup(watch.close)
        rc, _ = self.finish(p, 40)
        err = self.text(p.err_path)
        self.assertEqual(rc, 0, err)
        simproc.check_stderr(err, "scn-companion")

        want = ["".join(chr(1 + (i + j) % 31) for j in range(63))
                for i in range(16)]
        msgs = self.export(mcap)
        infs = [m["data"] for m in msgs if m["topic"] == "/inference"]
        self.assertGreater(len(infs), 5, err)
        # Every inference the companion counted is recorded, whole.
        self.assertIn(" %d inferences," % len(infs), err)
        for i in infs:
            self.assertEqual([l["label"] for l in i["labels"]], want)
        # Longer than the 4 KiB buffer that was.
        self.assertGreater(len(json.dumps(infs[0], separators=(",", ":"))),
                           5120)
        self.assertEqual(sorted(i["seq"] for i in infs),
                         list(range(1, len(infs) + 1)))
        # A dashboard got them whole too.
        self.assertTrue(simproc.wait_until(lambda: watch.data, 10),
                        "no inference on /live")
        for i in watch.data:
            self.assertEqual([l["label"] for l in i["labels"]], want)
        # Every record the cloud accepted is recorded, with the long UID.
        records = [m["data"] for m in msgs if m["topic"] == "/cloud/record"]
        accepted = [e["seq"] for e in log_events(cloud_log, "accepted")]
        self.assertEqual([r["seq"] for r in records][:len(accepted)],
                         accepted)
        self.assertEqual({r["uid"] for r in records}, {uid})


if __name__ == "__main__":
    simproc.main()
