#!/usr/bin/python3
"""A device stream across a blackout (issue 9, E): frames lost in an
outage must show. SEQ restarts with every connection, so the frames the
device sent while the link was dark are no seq gap; the session reports a
discontinuity instead, and the programs say so.

scn-sim device runs in one network namespace behind netimpair; scn-stream,
scn-record and scn-companion stream from it in another. The link is
blacked out long enough for the clients to give it up (15 s without
traffic), then restored. Afterwards:

- scn-stream's summary says the stream was discontinuous and for how long
  (at least the blackout's length), beside its one reconnect;
- scn-record's and the companion's recordings hold a "discontinuity"
  event on /events with the gap, the reconnect and the SEQ before (high)
  and after (restarted);
- the frames on either side of the hole are in the recording, so a reader
  can see where it is.

Root only (network namespaces); fails, not skips, without root.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from netns import SERVER_ADDR, Net, read_line, require_root
from simproc import (BIN_DIR, COMPANION, LOG_DIR, RECORD, SIM, check_stderr,
                     env_with_key, run_tests)

KEY = "SCN_TEST_streamlinkfault0001"
PORT = 9000
BLACKOUT_S = 18  # beyond the 15 s idle timeout: the link is given up


def export(mcap):
    p = subprocess.run([RECORD, "export", mcap, "--format", "jsonl"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return [json.loads(line) for line in p.stdout.splitlines()]


def check_recording(mcap, blackout_ms, who):
    msgs = export(mcap)
    gaps = [m["data"] for m in msgs if m["topic"] == "/events" and
            m["data"].get("event") == "discontinuity"]
    assert len(gaps) == 1, "%s: %r" % (who, gaps)
    g = gaps[0]
    assert g["source"] == "device" and g["reconnects"] == 1, g
    assert g["gap_ms"] >= blackout_ms, (who, g, blackout_ms)
    # SEQ before the hole is high, after it restarted.
    assert g["last_seq"] > 20 and g["first_seq"] < g["last_seq"], g
    assert g["first_timestamp"] > g["last_timestamp"], g
    # The device's own clock saw the hole too.
    frames = [m["data"] for m in msgs if m["topic"] == "/olfaction"]
    seqs = [f["SEQ"] for f in frames]
    i = seqs.index(g["first_seq"], seqs.index(g["last_seq"]))
    assert i > 0 and seqs[i - 1] == g["last_seq"], (who, seqs[i - 3:i + 3])


def test_frames_lost_across_a_reconnect_are_visible():
    tmp = tempfile.mkdtemp()
    try:
        run_through_blackout(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_through_blackout(tmp):
    stem = os.path.join(LOG_DIR, "streamlink-%d" % os.getpid())
    url = "ws://%s:%d" % (SERVER_ADDR, PORT)
    env = env_with_key(KEY)
    duration = 3 + BLACKOUT_S + 12
    with Net("streamlink") as net:
        sim = net.popen(net.server,
                        [SIM, "device", "--host", SERVER_ADDR, "--port",
                         str(PORT), "--rate", "20", "--log",
                         stem + ".sim.log", "--quiet"],
                        stdout=subprocess.PIPE, text=True)
        read_line(sim, "listening on", 10)
        errs = {n: open("%s.%s.stderr" % (stem, n), "w")
                for n in ("stream", "record", "companion")}
        out = open(os.path.join(tmp, "frames.jsonl"), "w")
        procs = {
            "stream": net.popen(net.client,
                                [os.path.join(BIN_DIR, "scn-stream"), "--url",
                                 url, "--duration", str(duration)],
                                stdout=out, stderr=errs["stream"], env=env),
            "record": net.popen(net.client,
                                [RECORD, "record", "--url", url,
                                 "--duration", str(duration),
                                 os.path.join(tmp, "rec.mcap")],
                                stderr=errs["record"], env=env),
            "companion": net.popen(net.client,
                                   [COMPANION, "--device-url", url,
                                    "--record", os.path.join(tmp, "comp.mcap"),
                                    "--state-port", "0", "--video-port", "0",
                                    "--live-port", "0", "--no-status",
                                    "--duration", str(duration)],
                                   stdout=subprocess.DEVNULL,
                                   stderr=errs["companion"], env=env),
        }
        for f in list(errs.values()) + [out]:
            f.close()
        time.sleep(3)
        began = net.blackout()
        time.sleep(BLACKOUT_S)
        ended = net.restore()
        blackout_ms = int((ended - began) * 1000)
        for name, p in procs.items():
            assert p.wait(duration + 60) == 0, (name, p.returncode)
        texts = {}
        for name in procs:
            with open("%s.%s.stderr" % (stem, name)) as f:
                texts[name] = f.read()
            check_stderr(texts[name], name)

    summary = texts["stream"]
    assert re.search(r", 1 reconnects,", summary), summary
    m = re.search(r"stream discontinuous 1 time: ([0-9.]+) s without frames",
                  summary)
    assert m, summary
    assert float(m.group(1)) * 1000 >= blackout_ms, (m.group(1), blackout_ms)
    assert "stream discontinuous" in texts["record"], texts["record"]
    assert "stream discontinuous" in texts["companion"], texts["companion"]
    check_recording(os.path.join(tmp, "rec.mcap"), blackout_ms, "scn-record")
    check_recording(os.path.join(tmp, "comp.mcap"), blackout_ms,
                    "scn-companion")


if __name__ == "__main__":
    require_root()
    sys.exit(run_tests([test_frames_lost_across_a_reconnect_are_visible],
                       need=(SIM, RECORD, COMPANION)))
