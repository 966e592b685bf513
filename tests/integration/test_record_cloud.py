#!/usr/bin/python3
"""scn-record records a device's cloud inference stream without a drone:
scn-sim device and scn-sim cloud on loopback, `scn-record record --url
--cloud-url --spool-dir`. Every recorded frame went to the cloud exactly
once (/cloud/record: seq, frame UID and TIMESTAMP, no drone state), the
cloud sim accepted exactly those seqs, and /inference holds an answer for
every one of them; `info`, `export` and the independent reader
(@mcap/core) agree. Long input is kept whole: a 1200-byte device UID
(whose /cloud/record went unrecorded, without a word, from a 1 KiB
buffer) and inferences of 16 labels of escaped control characters (over
5 KiB, skipped from a 4 KiB one).

stdlib only. Env: SCN_BIN_DIR, SCN_LOG_DIR, SCN_SOURCE_DIR."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import simproc
from simproc import BIN_DIR, LOG_DIR, SIM, read_log, scaled, spool_seqs

KEY = "SCN_TEST_recordcloud00000001"


def export(mcap):
    p = subprocess.run([os.path.join(BIN_DIR, "scn-record"), "export", mcap,
                        "--format", "jsonl"],
                       capture_output=True, text=True, timeout=scaled(60))
    assert p.returncode == 0, p.stderr
    return [json.loads(line) for line in p.stdout.splitlines()]


class RecordCloudTest(unittest.TestCase):
    def setUp(self):
        os.makedirs(LOG_DIR, exist_ok=True)
        self.tmp = tempfile.mkdtemp()
        self.sims = []
        self.env = dict(os.environ, SCENTIENCE_API_KEY=KEY)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)
        simproc.stop_all(self.sims)

    def sim(self, name, args):
        log = os.path.join(LOG_DIR, "record-cloud-%s-%d.log"
                           % (name, os.getpid()))
        if os.path.exists(log):
            os.unlink(log)
        s = simproc.Server([SIM] + args +
                           ["--port", "0", "--log", log, "--quiet"],
                           log[:-len(".log")] + ".stderr", env=self.env)
        self.sims.append(s)
        return log, s.port

    def record(self, args, timeout=60):
        p = subprocess.run([os.path.join(BIN_DIR, "scn-record"), "record"] + args,
                           capture_output=True, text=True,
                           timeout=scaled(timeout),
                           env=self.env)
        with open(os.path.join(LOG_DIR, "record-cloud-%d.stderr.log"
                               % os.getpid()), "a") as f:
            f.write(p.stderr)
        return p

    def record_cloud(self, device_args, cloud_args, mcap, count):
        """scn-record of count frames from a device sim to mcap, through a
        cloud sim: (the record run, the cloud's log)."""
        _, dev_port = self.sim("device", ["device"] + device_args)
        cloud_log, cloud_port = self.sim("cloud", ["cloud"] + cloud_args)
        p = self.record(["--url", "ws://127.0.0.1:%d" % dev_port,
                         "--cloud-url",
                         "ws://127.0.0.1:%d/v1/stream" % cloud_port,
                         "--spool-dir", os.path.join(self.tmp, "spool"),
                         "--count", str(count), mcap])
        self.assertEqual(p.returncode, 0, p.stderr)
        return p, cloud_log, dev_port, cloud_port

    def test_usage(self):
        # A cloud stream needs its spool, and a spool a cloud: refused as
        # usage errors before anything is created.
        out = os.path.join(self.tmp, "x.mcap")
        p = self.record(["--url", "ws://127.0.0.1:9", "--cloud-url",
                         "ws://127.0.0.1:9/v1/stream", out])
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("scn-record record: --cloud-url needs --spool-dir",
                      p.stderr)
        p = self.record(["--url", "ws://127.0.0.1:9", "--spool-dir",
                         os.path.join(self.tmp, "spool"), out])
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("scn-record record: --spool-dir is for --cloud-url",
                      p.stderr)
        self.assertEqual(os.listdir(self.tmp), [])

    def test_device_and_cloud_stream(self):
        mcap = os.path.join(self.tmp, "cloud.mcap")
        count = 40
        p, cloud_log, dev_port, cloud_port = self.record_cloud(
            ["--rate", "20"], [], mcap, count)
        self.assertNotIn(KEY, p.stderr)

        msgs = export(mcap)
        by_topic = {}
        for m in msgs:
            by_topic.setdefault(m["topic"], []).append(m)
        frames = [m["data"] for m in by_topic.get("/olfaction", [])]
        records = [m["data"] for m in by_topic.get("/cloud/record", [])]
        inferences = [m["data"] for m in by_topic.get("/inference", [])]
        self.assertEqual(len(frames), count)

        # Each frame went up once, in order, without a drone state.
        self.assertEqual([(r["uid"], r["timestamp"]) for r in records],
                         [(f["UID"], f["TIMESTAMP"]) for f in frames])
        seqs = [r["seq"] for r in records]
        self.assertEqual(seqs, list(range(1, count + 1)))
        for r in records:
            self.assertNotIn("state", r)
        streams = {r["stream"] for r in records}
        self.assertEqual(len(streams), 1)
        self.assertRegex(streams.pop(), r"^[0-9a-f]{32}$")

        # The cloud sim accepted exactly those seqs, once each.
        accepted = [e for e in read_log(cloud_log)
                    if e.get("event") == "accepted"]
        self.assertEqual([e["seq"] for e in accepted], seqs)
        self.assertEqual([e for e in read_log(cloud_log)
                          if e.get("event") == "duplicate"], [])

        # An inference for every recorded frame (the recorder waits for
        # the acks at the end), naming its input by seq, labelled as the
        # cloud sim logged it.
        inf_seqs = sorted(i["seq"] for i in inferences)
        self.assertEqual(inf_seqs, seqs)
        label = {e["seq"]: e["label"] for e in accepted}
        for i in inferences:
            self.assertEqual(i["labels"][0]["label"], label[i["seq"]])
            self.assertEqual(i["model"], "olfa-toy-1")

        # Connection events of both links, with the key only redacted.
        events = [m["data"] for m in by_topic.get("/events", [])]
        sources = {(e.get("source"), e.get("state")) for e in events}
        self.assertIn(("device", "open"), sources)
        self.assertIn(("cloud", "open"), sources)
        stop = [e for e in events if e.get("event") == "stop"]
        self.assertEqual(stop[-1]["cloud_submitted"], count)
        self.assertEqual(stop[-1]["cloud_acked"], count)
        self.assertEqual(stop[-1]["inferences"], count)
        with open(mcap, "rb") as f:
            self.assertNotIn(KEY.encode(), f.read())
        self.assertIn("****0001".encode(),
                      json.dumps(events).encode())

        # info and the independent reader agree on the counts.
        info = subprocess.run([os.path.join(BIN_DIR, "scn-record"), "info", mcap],
                              capture_output=True, text=True,
                              timeout=scaled(30))
        self.assertEqual(info.returncode, 0, info.stderr)
        counts = dict(re.findall(r"^\s*\d+\s+(/\S+)\s+(\d+)\s", info.stdout,
                                 re.M))
        self.assertEqual(int(counts["/cloud/record"]), count)
        self.assertEqual(int(counts["/inference"]), count)
        verdict = simproc.mcap_check(self, mcap)
        for topic, n in counts.items():
            self.assertEqual(verdict["topics"][topic], int(n), topic)
        self.assertEqual(verdict["channels"]["/cloud/record"]["schema"],
                         "scentience.CloudRecord")

        # A second run on the same spool continues the same stream.
        mcap2 = os.path.join(self.tmp, "cloud2.mcap")
        p = self.record(["--url", "ws://127.0.0.1:%d" % dev_port,
                         "--cloud-url",
                         "ws://127.0.0.1:%d/v1/stream" % cloud_port,
                         "--spool-dir", os.path.join(self.tmp, "spool"),
                         "--count", "5", mcap2])
        self.assertEqual(p.returncode, 0, p.stderr)
        recs2 = [m["data"] for m in export(mcap2)
                 if m["topic"] == "/cloud/record"]
        self.assertEqual([r["seq"] for r in recs2],
                         list(range(count + 1, count + 6)))
        self.assertEqual({r["stream"] for r in recs2},
                         {r["stream"] for r in records})

    def test_spool_cap_drops_recorded(self):
        # The cloud never answers (nothing listens): a 16 KiB spool keeps
        # only the newest records; every one dropped is an /events entry,
        # the oldest first, and the exit code says data was lost.
        _, dev_port = self.sim("device", ["device", "--rate", "100"])
        spool = os.path.join(self.tmp, "spool")
        mcap = os.path.join(self.tmp, "cap.mcap")
        count = 300
        p = self.record(["--url", "ws://127.0.0.1:%d" % dev_port,
                         "--cloud-url",
                         "ws://127.0.0.1:%d/v1/stream" %
                         simproc.reserve_port(),
                         "--spool-dir", spool, "--spool-cap", "16K",
                         "--drain", "0", "--count", str(count), mcap])
        self.assertEqual(p.returncode, 74, p.stderr)
        self.assertIn("over its cap", p.stderr)
        msgs = export(mcap)
        seqs = [m["data"]["seq"] for m in msgs
                if m["topic"] == "/cloud/record"]
        self.assertEqual(seqs, list(range(1, count + 1)))
        events = [m["data"] for m in msgs if m["topic"] == "/events"]
        drops = [e for e in events if e.get("event") == "spool_drop"]
        self.assertTrue(drops)
        dropped = []
        for d in drops:
            self.assertEqual(d["reason"], "spool_cap")
            self.assertEqual(d["sent"], 0)
            self.assertEqual(d["count"], d["last_seq"] - d["first_seq"] + 1)
            dropped += range(d["first_seq"], d["last_seq"] + 1)
        held = spool_seqs(spool)
        self.assertEqual(dropped + held, seqs)
        stop = [e for e in events if e.get("event") == "stop"][-1]
        self.assertEqual(stop["cloud_dropped"], len(dropped))

    def test_long_uid_and_labels_recorded(self):
        uid = ("U" * 1199) + "Z"
        mcap = os.path.join(self.tmp, "long.mcap")
        count = 20
        _, cloud_log, _, _ = self.record_cloud(
            ["--rate", "20", "--devices", uid], ["--control-labels"], mcap,
            count)
        msgs = export(mcap)
        frames = [m["data"] for m in msgs if m["topic"] == "/olfaction"]
        records = [m["data"] for m in msgs if m["topic"] == "/cloud/record"]
        inferences = [m["data"] for m in msgs if m["topic"] == "/inference"]
        self.assertEqual([f["UID"] for f in frames], [uid] * count)
        # Every frame sent is recorded as sent, the long UID whole.
        self.assertEqual([r["seq"] for r in records],
                         list(range(1, count + 1)))
        self.assertEqual([r["uid"] for r in records], [uid] * count)
        accepted = [e["seq"] for e in read_log(cloud_log)
                    if e.get("event") == "accepted"]
        self.assertEqual(accepted, list(range(1, count + 1)))
        # Every inference, its 16 labels as the cloud sent them.
        self.assertEqual(sorted(i["seq"] for i in inferences),
                         list(range(1, count + 1)))
        want = ["".join(chr(1 + (i + j) % 31) for j in range(63))
                for i in range(16)]
        for i in inferences:
            self.assertEqual([l["label"] for l in i["labels"]], want)
        self.assertGreater(len(json.dumps(inferences[0],
                                          separators=(",", ":"))), 5120)
        stop = [m["data"] for m in msgs if m["topic"] == "/events"
                and m["data"].get("event") == "stop"][-1]
        self.assertEqual(stop["inferences"], count)


if __name__ == "__main__":
    simproc.main()
