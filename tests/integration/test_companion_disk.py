#!/usr/bin/python3
"""scn-companion's cloud path on a small disk and under hostile input, on
loopback with the simulators (issue 9: B, C, 17):

1. the spool on a 512 KiB tmpfs the test mounts itself while the cloud
   is down, then a file that takes every free block: the companion keeps
   taking frames, drops its oldest records (each drop an /events entry,
   stderr rate-limited), and when the cloud comes back it receives the
   newest data; the dropped seqs are exactly the oldest, and exactly
   those the cloud never got. With no room at all, records are refused
   (reported), and upload resumes, without a restart, once the filler is
   deleted. Exit 74 (data lost); a restart on the same directory goes on
   above every seq handed out;
2. the cloud is down long enough to overflow --spool-cap: the drops are
   reported (stderr, /events) and count exactly the seqs the cloud never
   received;
3. a drone whose state names members as the companion names its own
   (age_ms, state_age_ms, seq...): every fused record still reaches the
   cloud, the drone's members intact inside "state";
4. the recording (--record) on a tmpfs that fills: the failure is said
   (stderr rate-limited, a record_failed /events entry that a /live
   dashboard receives), the messages not recorded are counted in the
   summary line, the run goes on and exits 74; what reached the disk
   reads back. Before, the companion ignored the recorder's errors: it
   exited 0 having said at most "recording incomplete".

Needs root (mount). stdlib only. Env: SCN_BIN_DIR, SCN_LOG_DIR."""

import errno
import os
import re
import signal
import subprocess
import threading
import time

import rawws
import simproc
from simproc import (COMPANION, log_events as events, reserve_port, scaled,
                     spool_seqs, wait_until)

KEY = "SCN_TEST_companiondisk0000001"
RATE = 200
# The companion's stderr lines about the cloud path that a full disk or a
# bad record repeat with every frame: rate-limited (5 s each of three).
REPEATED = re.compile(r"^scn-companion: cloud (spool|submit):", re.M)


class Filler(threading.Thread):
    """Takes every block that is free on a file system, and keeps taking
    those that become free, until stopped; then deletes its file."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.full = threading.Event()  # the disk was full once
        self.halt = threading.Event()
        self.error = None

    def run(self):
        block = b"f" * 4096
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            try:
                while not self.halt.is_set():
                    try:
                        os.write(fd, block)
                    except OSError as e:
                        if e.errno != errno.ENOSPC:
                            raise
                        self.full.set()
                        time.sleep(0.002)
            finally:
                os.close(fd)
        except Exception as e:  # reported by the test
            self.error = repr(e)

    def stop(self):
        self.halt.set()
        self.join(10)
        if os.path.exists(self.path):
            os.unlink(self.path)


def seq_ranges(drops):
    """(every seq the spool_drop events name, those never sent): checks
    each event's count against its range (the spool held every seq in it:
    no crash repair here) and that no seq is dropped twice."""
    out, unsent = set(), set()
    for d in drops:
        span = set(range(d["first_seq"], d["last_seq"] + 1))
        assert len(span) == d["count"], d
        assert 0 <= d["sent"] <= d["count"], d
        assert not out & span, ("a seq dropped twice", d)
        out |= span
        unsent |= set(range(d["first_seq"] + d["sent"], d["last_seq"] + 1))
    return out, unsent


class CompanionDiskTest(simproc.ProcCase):
    KEY = KEY
    LOG_PREFIX = "cdisk"
    END_SIGNAL = signal.SIGKILL
    END_WAIT = 10

    def companion(self, name, args):
        return self.start([COMPANION] + args, stdout=name + ".stdout",
                          stderr=name + ".stderr")

    def base_args(self, dev_port, cloud_port, spool):
        return ["--device-url", "ws://127.0.0.1:%d" % dev_port,
                "--rate", str(RATE),
                "--cloud-url", "ws://127.0.0.1:%d/v1/stream" % cloud_port,
                "--spool-dir", spool, "--live-port", "0", "--no-status"]

    def recorded(self, mcap):
        """(events, seqs of /cloud/record) of a finished recording."""
        msgs = self.export(mcap)
        evs = [m["data"] for m in msgs if m["topic"] == "/events"]
        recs = [m["data"]["seq"] for m in msgs
                if m["topic"] == "/cloud/record"]
        return evs, recs

    def assert_rate_limited(self, err, seconds):
        lines = REPEATED.findall(err)
        # Three limits of one line per 5 s, the first at once, and the
        # summary at exit.
        self.assertLessEqual(len(lines), 3 * (seconds / 5 + 1) + 2,
                             "%d lines in %.0f s:\n%s" % (len(lines),
                                                          seconds, err))

    # ------------------------------------------------------------ 1
    def test_small_disk_degrades_and_recovers(self):
        mnt = self.mount_tmpfs("512k")
        spool = os.path.join(mnt, "spool")
        _, _, dev_port = self.sim("device", ["device", "--rate", str(RATE)])
        cloud_port = reserve_port()  # the cloud is down at first
        mcap1 = os.path.join(self.tmp, "run1.mcap")
        args = self.base_args(dev_port, cloud_port, spool)
        t0 = time.monotonic()
        run1 = self.companion("run1", args + ["--record", mcap1,
                                              "--duration", "120"])

        # Down: the spool fills the disk and drops its oldest.
        self.assertTrue(wait_until(
            lambda: "the disk is full" in self.text(run1.err_path), 40),
            self.text(run1.err_path))
        time.sleep(2)
        self.assertIsNone(run1.poll(), self.text(run1.err_path))
        held = spool_seqs(spool)
        self.assertGreater(len(held), 500)
        self.assertNotIn("meta.tmp", os.listdir(spool))

        # Up (once the companion's backoff lets it try again): what the
        # spool holds then arrives, the newest included, and the live
        # records after it.
        _, cloud_log, port = self.sim("cloud", ["cloud"], port=cloud_port,
                                      tries=6)
        self.assertEqual(port, cloud_port)
        self.assertTrue(wait_until(
            lambda: len(events(cloud_log, "accepted")) >=
            len(held) + 2 * RATE, 60), self.text(run1.err_path))
        acc = [e["seq"] for e in events(cloud_log, "accepted")]
        first_up = acc[0]
        self.assertGreater(first_up, 1, "nothing was dropped")
        # The backlog went first, in seq order, from the oldest record
        # still held (a gap in it must be a reported drop: checked below).
        backlog = acc[:len(held) // 2]
        self.assertEqual(backlog, sorted(set(backlog)))

        # No room at all: a filler takes every free block. Records are
        # refused (nothing left to drop), the companion stays up.
        filler = Filler(os.path.join(mnt, "filler"))
        filler.start()
        self.addCleanup(filler.stop)
        self.assertTrue(filler.full.wait(scaled(20)), filler.error)
        self.assertTrue(wait_until(
            lambda: "no room on its disk" in self.text(run1.err_path), 30),
            self.text(run1.err_path))
        self.assertIsNone(run1.poll(), self.text(run1.err_path))
        # Room returns: upload resumes without a restart.
        squeezed = max(e["seq"] for e in events(cloud_log, "accepted"))
        filler.stop()
        self.assertIsNone(filler.error)
        self.assertTrue(wait_until(
            lambda: max(e["seq"] for e in events(cloud_log, "accepted")) >=
            squeezed + 2 * RATE, 30), self.text(run1.err_path))

        rc1 = self.stop(run1)
        elapsed = time.monotonic() - t0
        err1 = self.text(run1.err_path)
        self.assertEqual(rc1, 74, err1)
        self.assertIn("will never reach the cloud", err1)
        self.assert_rate_limited(err1, elapsed)
        self.assertNotIn("meta.tmp", os.listdir(spool))
        run1_max = max([0] + spool_seqs(spool) + [
            e["seq"] for e in events(cloud_log, "accepted")])

        # Restart on the same directory: it goes on above every seq.
        mcap2 = os.path.join(self.tmp, "run2.mcap")
        run2 = self.companion("run2", args + ["--record", mcap2,
                                              "--duration", "4"])
        self.assertEqual(self.finish(run2, 60)[0], 0,
                         self.text(run2.err_path))
        left = set(spool_seqs(spool))  # for the next run: not lost

        ev1, rec1 = self.recorded(mcap1)
        ev2, rec2 = self.recorded(mcap2)
        self.assertEqual(rec1, list(range(1, len(rec1) + 1)))
        self.assertTrue(rec2)
        self.assertGreater(rec2[0], run1_max)
        self.assertEqual(rec2, list(range(rec2[0], rec2[0] + len(rec2))))
        accepted = [e["seq"] for e in events(cloud_log, "accepted")]
        self.assertEqual(len(accepted), len(set(accepted)), "a seq twice")
        self.assertEqual(events(cloud_log, "duplicate"), [])
        drops = [e for e in ev1 + ev2 if e.get("event") == "spool_drop"]
        dropped, unsent = seq_ranges(drops)
        self.assertTrue(all(d["reason"] == "disk_full" for d in drops), drops)
        # While the cloud was down: the oldest, 1 up to the first seq it
        # received, all dropped unsent (so none of them arrived).
        self.assertEqual(set(range(1, first_up)),
                         {s for s in unsent if s < first_up})
        # Nothing lost silently: every record submitted was accepted,
        # reported dropped, or is still in the spool; a dropped record
        # that was never sent never arrived (one dropped in flight may).
        missing = set(rec1 + rec2) - set(accepted) - left
        self.assertEqual(missing - dropped, set())
        self.assertEqual(set(range(first_up, backlog[-1])) - set(backlog) -
                         dropped, set())
        self.assertEqual(unsent & set(accepted), set())
        self.assertEqual(set(accepted) - set(rec1 + rec2), set())
        refused = [e for e in ev1 if e.get("event") == "cloud_submit_failed"]
        self.assertTrue(refused, "no refusal recorded")

    # ------------------------------------------------------------ 2
    def test_spool_cap_drops_are_reported(self):
        _, _, dev_port = self.sim("device", ["device", "--rate", str(RATE)])
        cloud_port = reserve_port()
        mcap = os.path.join(self.tmp, "cap.mcap")
        args = self.base_args(dev_port, cloud_port,
                              os.path.join(self.tmp, "spool"))
        t0 = time.monotonic()
        comp = self.companion("cap", args + ["--spool-cap", "64K",
                                             "--record", mcap,
                                             "--duration", "120"])
        self.assertTrue(wait_until(
            lambda: "over its cap" in self.text(comp.err_path), 30),
            self.text(comp.err_path))
        time.sleep(3)  # several more drops
        _, cloud_log, _ = self.sim("cloud", ["cloud"], port=cloud_port,
                                   tries=6)
        self.assertTrue(wait_until(
            lambda: len(events(cloud_log, "accepted")) >= 4 * RATE, 40),
            self.text(comp.err_path))
        rc = self.stop(comp)
        err = self.text(comp.err_path)
        self.assertEqual(rc, 74, err)
        self.assert_rate_limited(err, time.monotonic() - t0)

        evs, recs = self.recorded(mcap)
        drops = [e for e in evs if e.get("event") == "spool_drop"]
        self.assertGreater(len(drops), 1, evs)
        self.assertTrue(all(d["reason"] == "spool_cap" for d in drops))
        self.assertEqual(drops[-1]["total"], sum(d["count"] for d in drops))
        accepted = {e["seq"] for e in events(cloud_log, "accepted")}
        # What the cloud never received of what was submitted (what is
        # left in the spool goes at the next run): the drops, seq for
        # seq. Those dropped while the cloud was down, the oldest, were
        # never sent; one dropped in flight may have arrived all the same.
        self.assertEqual(recs, list(range(1, len(recs) + 1)))
        left = set(spool_seqs(os.path.join(self.tmp, "spool")))
        never = set(recs) - accepted - left
        dropped, unsent = seq_ranges(drops)
        self.assertEqual(never - dropped, set())
        self.assertEqual(unsent - never, set())
        self.assertEqual(set(range(1, min(accepted))), never & unsent &
                         set(range(1, min(accepted))))
        self.assertGreater(min(accepted), 1)
        self.assertIn("%d records will never reach the cloud" % len(dropped),
                      err)

    # ------------------------------------------------------------ 3
    def test_drone_state_names_never_collide(self):
        _, _, dev_port = self.sim("device", ["device", "--rate", "20"])
        _, cloud_log, cloud_port = self.sim("cloud", ["cloud"])
        extra = "age_ms:7;state_age_ms:8;seq:9;frame:abc;"
        _, _, uav_port, state_port, video_port = self.uav_sim(
            "--state-extra", extra)
        args = self.base_args(dev_port, cloud_port,
                              os.path.join(self.tmp, "spool"))
        args[args.index("--rate") + 1] = "20"
        comp = self.companion("names", args + [
            "--drone-url", "ws://127.0.0.1:%d" % uav_port,
            "--listen", "127.0.0.1", "--state-port", str(state_port),
            "--video-port", str(video_port), "--duration", "60"])

        def fused():
            return [e for e in events(cloud_log, "accepted")
                    if "state" in e]
        self.assertTrue(wait_until(lambda: len(fused()) >= 40, 30),
                        self.text(comp.err_path))
        self.assertEqual(self.stop(comp), 0, self.text(comp.err_path))
        err = self.text(comp.err_path)
        self.assertNotIn("cloud submit", err)
        for e in fused():
            st = e["state"]
            self.assertEqual((st["age_ms"], st["state_age_ms"], st["seq"],
                              st["frame"]), (7, 8, 9, "abc"), e)
            self.assertIn("bat", st)
            self.assertIsInstance(e["state_age_ms"], (int, float))
        # Every record after the first fused one carried a state.
        acc = events(cloud_log, "accepted")
        first = next(i for i, e in enumerate(acc) if "state" in e)
        self.assertTrue(all("state" in e for e in acc[first:]),
                        [e["seq"] for e in acc[first:] if "state" not in e])

    # ------------------------------------------------------------ 4
    def test_full_recording_disk_is_reported(self):
        mnt = self.mount_tmpfs("512k", "rec-disk")
        with open(os.path.join(mnt, "filler"), "wb") as f:
            f.write(b"f" * (320 * 1024))  # about 190 KiB left
        mcap = os.path.join(mnt, "full.mcap")
        _, _, dev_port = self.sim("device", ["device", "--rate", str(RATE)])
        live = reserve_port()
        t0 = time.monotonic()
        comp = self.companion("recfull", [
            "--device-url", "ws://127.0.0.1:%d" % dev_port,
            "--rate", str(RATE), "--live-port", str(live), "--no-status",
            "--record", mcap, "--duration", "60"])
        self.assertTrue(wait_until(
            lambda: comp.poll() is not None or
            "live fan-out on" in self.text(comp.err_path), 20))
        self.assertIsNone(comp.poll(), self.text(comp.err_path))
        watch = rawws.LiveWatch(live, "events")
        self.addCleanup(watch.close)
        self.assertTrue(wait_until(
            lambda: "scn-companion: recording %s: " % mcap
            in self.text(comp.err_path), 60), self.text(comp.err_path))
        time.sleep(6)  # more refused writes, a second stderr line
        self.assertIsNone(comp.poll(), self.text(comp.err_path))
        rc = self.stop(comp)
        err = self.text(comp.err_path)
        self.assertEqual(rc, 74, err)
        self.assertIn("no space left on the device", err)
        lines = re.findall(r"^scn-companion: recording .*$", err, re.M)
        self.assertLessEqual(len(lines),
                             (time.monotonic() - t0) / 5 + 2, err)
        lost = re.search(r"recording %s \(failed: no space left on the "
                         r"device; (\d+) messages not recorded\)$"
                         % re.escape(mcap), err, re.M)
        self.assertIsNotNone(lost, err)
        self.assertGreater(int(lost.group(1)), RATE, err)
        # The dashboard saw it said.
        self.assertTrue(wait_until(lambda: any(
            e.get("event") == "record_failed" for e in watch.data), 10),
            watch.data)
        failed = [e for e in watch.data if e.get("event") == "record_failed"]
        self.assertEqual(failed[0]["source"], "recorder")
        self.assertIn("no space left on the device", failed[0]["detail"])
        # What reached the disk is a valid MCAP prefix: recover reads it.
        fixed = os.path.join(self.tmp, "fixed.mcap")
        r = subprocess.run([simproc.RECORD, "recover", mcap, fixed],
                           capture_output=True, text=True,
                           timeout=scaled(60))
        self.assertEqual(r.returncode, 0, r.stderr)
        frames = [m for m in self.export(fixed) if m["topic"] == "/olfaction"]
        self.assertGreater(len(frames), 10)
        total = int(re.search(r"scn-companion: (\d+) frames", err).group(1))
        self.assertLess(len(frames), total)
        # Nothing lost silently: every frame counted is on the disk or
        # among the messages said not recorded (those count events too).
        self.assertGreaterEqual(len(frames) + int(lost.group(1)), total)


if __name__ == "__main__":
    simproc.main()
