#!/usr/bin/python3
"""An inference answering a record the cloud accepted just before its link
dropped is still delivered (issue 9, G; docs/PROTOCOL.md 9.4: inferences
are delivered at least once while the client runs).

scn-sim cloud --drop-after-accept N accepts record N (it is acknowledged
on the cloud's side) and drops the connection before its inference or ack
go out. After the reconnect the hello's ack covers N, so the record is not
sent again; the client asks for N's answer ("resend") and gets it. Checked
on scn-record --cloud-url's recording (every accepted record has exactly
one inference) and on the cloud simulator's log (the fault, the resend).
A resend the cloud can no longer answer comes back as "gone", counted.
"""

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import websockets.client

import simproc
from simproc import LOG_DIR, RECORD, SIM, read_log

KEY = "SCN_TEST_inferencedelivery01"


def export(mcap):
    p = subprocess.run([RECORD, "export", mcap, "--format", "jsonl"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return [json.loads(line) for line in p.stdout.splitlines()]


class InferenceDeliveryTest(unittest.TestCase):
    def setUp(self):
        os.makedirs(LOG_DIR, exist_ok=True)
        self.tmp = tempfile.mkdtemp()
        self.sims = []
        self.env = simproc.env_with_key(KEY)

    def tearDown(self):
        for s in self.sims:
            s.kill(timeout=10)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def sim(self, name, args):
        log = os.path.join(LOG_DIR, "inference-delivery-%s-%d.log"
                           % (name, os.getpid()))
        if os.path.exists(log):
            os.unlink(log)
        s = simproc.Server([SIM] + args + ["--port", "0", "--log", log,
                                           "--quiet"],
                           err_path=log + ".stderr", env=self.env)
        self.sims.append(s)
        return log, s.port

    def test_answer_lost_with_the_link_is_asked_for_again(self):
        _, dev_port = self.sim("device", ["device", "--rate", "20"])
        cloud_log, cloud_port = self.sim(
            "cloud", ["cloud", "--drop-after-accept", "5"])
        mcap = os.path.join(self.tmp, "out.mcap")
        p = subprocess.run(
            [RECORD, "record", "--url", "ws://127.0.0.1:%d" % dev_port,
             "--cloud-url", "ws://127.0.0.1:%d/v1/stream" % cloud_port,
             "--spool-dir", os.path.join(self.tmp, "spool"), "--count", "30",
             "--drain", "10", mcap],
            capture_output=True, text=True, timeout=90, env=self.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        simproc.check_stderr(p.stderr, "scn-record")

        log = read_log(cloud_log)
        faults = [e for e in log if e.get("event") == "fault"]
        self.assertEqual([(e["seq"], e["kind"]) for e in faults],
                         [(5, "drop-after-accept")])
        accepted = [e["seq"] for e in log if e.get("event") == "accepted"]
        self.assertIn(5, accepted)
        self.assertEqual(accepted, sorted(set(accepted)))  # none twice
        resends = [e for e in log if e.get("event") == "resend"]
        self.assertEqual(len(resends), 1, resends)
        self.assertEqual((resends[0]["seqs"], resends[0]["found"]), ([5], 1))

        inferences = [m["data"]["seq"] for m in export(mcap)
                      if m["topic"] == "/inference"]
        # Every accepted record answered, exactly once: 5 too.
        self.assertEqual(sorted(inferences), accepted)

    def test_answer_not_kept_is_gone(self):
        # A seq the cloud holds no inference for (never accepted, or long
        # past its keep) is answered "gone", naming the seq.
        cloud_log, cloud_port = self.sim("cloud", ["cloud"])

        async def ask():
            async with websockets.client.connect(
                    "ws://127.0.0.1:%d/v1/stream?stream=s1" % cloud_port,
                    subprotocols=["scentience.cloud.v1"],
                    extra_headers={"Authorization": "Bearer " + KEY},
                    open_timeout=10, ping_interval=None) as ws:
                hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
                await ws.send(json.dumps({"type": "resend", "seqs": [7]}))
                err = json.loads(await asyncio.wait_for(ws.recv(), 10))
                return hello, err

        hello, err = asyncio.run(ask())
        self.assertEqual(hello["type"], "hello")
        self.assertEqual((err["type"], err["code"], err["seq"]),
                         ("error", "gone", 7))
        self.assertEqual([(e["seqs"], e["gone"]) for e in read_log(cloud_log)
                          if e.get("event") == "resend"], [([7], 1)])

if __name__ == "__main__":
    unittest.main()
