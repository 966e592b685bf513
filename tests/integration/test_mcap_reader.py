"""scn-record's MCAP files, read by an independent implementation.

Records a real device stream from scn-sim with `scn-record record`, then
checks the file with @mcap/core (the TypeScript MCAP library, installed in
tests/peers by scripts/install-test-peers) through mcap_check.mjs: every
record parses, chunk, data section and summary CRCs hold, schemas and
channels are there, message counts match. `scn-record info` and `export`
must agree with it. A recording killed with SIGKILL after some flushes must
be a valid MCAP prefix, and `scn-record recover` must turn it into a file
the independent reader accepts, with every message up to the last flush.

A missing Node.js or @mcap/core fails the test: it is never skipped.

Environment: SCN_BIN_DIR (scn-sim, scn-record), SCN_SOURCE_DIR, SCN_LOG_DIR
(recordings and logs go there; the key scan reads it). Run with
/usr/bin/python3.
"""

import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

import simproc
from simproc import BIN_DIR, LOG_DIR, SIM, SOURCE_DIR, check_stderr, scaled

RECORD = os.path.join(BIN_DIR, "scn-record")
CHECK = os.path.join(SOURCE_DIR, "tests", "integration", "mcap_check.mjs")
# In the repository's test-key form: scripts/check-no-keys-in-logs looks
# for it in every log and recording under SCN_LOG_DIR.
KEY = "SCN_TEST_mcaprecorder0000000001"
FRAMES = 500

WORK = None  # this run's folder under LOG_DIR


class Sim(simproc.Server):
    """scn-sim in device mode on an ephemeral loopback port."""

    def __init__(self, rate=200):
        base = os.path.join(WORK, "sim-%d" % time.monotonic_ns())
        super().__init__(
            [SIM, "--host", "127.0.0.1", "--port", "0", "--rate", str(rate),
             "--log", base + ".log"], base + ".stderr")


def run_record(*args, timeout=60, expect=0):
    """Runs scn-record; returns (stdout, stderr) as text."""
    p = subprocess.run([RECORD] + list(args), capture_output=True,
                       timeout=scaled(timeout), env=simproc.env_with_key(KEY))
    out = p.stdout.decode(errors="replace")
    err = p.stderr.decode(errors="replace")
    check_stderr(err, "scn-record " + args[0])
    assert p.returncode == expect, "scn-record %s: exit %d, expected %d\n%s" % (
        " ".join(args), p.returncode, expect, err)
    return out, err


def node_check(path, prefix=False):
    """The independent reader's verdict on path, as a dict."""
    node = shutil.which("node")
    assert node, "Node.js (node) is required: run scripts/install-deps"
    args = [node, CHECK] + (["--prefix"] if prefix else []) + [path]
    p = subprocess.run(args, capture_output=True, timeout=scaled(120))
    assert p.returncode == 0, "@mcap/core rejected %s:\n%s%s" % (
        path, p.stdout.decode(errors="replace"),
        p.stderr.decode(errors="replace"))
    return json.loads(p.stdout)


def info(path):
    out, _ = run_record("info", "--json", path)
    return json.loads(out)


def jsonl(path, *extra):
    out, _ = run_record("export", path, "--format", "jsonl", *extra)
    return [json.loads(line) for line in out.splitlines()]


def iso_ns(text):
    """ISO-8601 UTC with milliseconds (as scn-sim writes) to ns."""
    dt = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    dt = dt.replace(tzinfo=timezone.utc)
    return (int(dt.timestamp()) * 1000000 + dt.microsecond) * 1000


def assert_no_key(path):
    with open(path, "rb") as f:
        data = f.read()
    assert KEY.encode() not in data, "the API key is in %s" % path


def test_usage():
    p = subprocess.run([RECORD], capture_output=True, timeout=scaled(10))
    assert p.returncode == 64
    junk = os.path.join(WORK, "junk.mcap")
    with open(junk, "w") as f:
        f.write("not an MCAP file, just text long enough to look at\n")
    run_record("info", os.path.join(WORK, "missing.mcap"), expect=66)
    run_record("info", junk, expect=65)
    run_record("export", junk, "--format", "xml", expect=64)
    run_record("recover", junk, junk, expect=64)
    run_record("record", "--url", "ws://127.0.0.1:1/", expect=64)


def test_missing_peer_fails():
    """Without @mcap/core the check fails loudly; it never passes."""
    empty = tempfile.mkdtemp(dir=WORK)
    env = dict(os.environ, SCN_PEERS_DIR=empty)
    node = shutil.which("node")
    assert node, "Node.js (node) is required: run scripts/install-deps"
    p = subprocess.run([node, CHECK, "/dev/null"], capture_output=True,
                       env=env, timeout=scaled(60))
    assert p.returncode == 1, p
    assert b"install-test-peers" in p.stderr, p.stderr


def test_record_and_read():
    out = os.path.join(WORK, "recording.mcap")
    sim = Sim()
    try:
        _, err = run_record("record", "--url", sim.url(), "--count",
                            str(FRAMES), out)
    finally:
        sim.close()
    assert "%d frames" % FRAMES in err, err

    ind = node_check(out)
    assert ind["topics"].get("/olfaction") == FRAMES, ind
    assert ind["topics"].get("/events", 0) >= 3, ind  # start, open, stop
    assert sorted(ind["schemas"]) == ["scentience.Event",
                                      "scentience.Olfaction"], ind
    assert ind["channels"]["/olfaction"]["schema"] == "scentience.Olfaction"
    assert ind["data_crc_checked"], ind
    assert ind["records"]["Chunk"] == ind["chunks"] >= 1, ind
    assert ind["records"]["MessageIndex"] >= ind["chunks"], ind
    assert ind["records"]["Footer"] == 1 and ind["records"]["DataEnd"] == 1

    # info agrees with the independent reader.
    me = info(out)
    assert me["complete"] is True and me["status"] == "complete", me
    assert me["messages"] == ind["messages"], (me, ind)
    assert me["chunks"] == ind["chunks"], (me, ind)
    assert {c["topic"]: c["messages"] for c in me["channels"]} == \
        ind["topics"], (me, ind)
    assert str(me["start_ns"]) == ind["start_ns"], (me, ind)
    assert str(me["end_ns"]) == ind["end_ns"], (me, ind)
    text, _ = run_record("info", out)
    assert re.search(r"/olfaction\s+%d\s" % FRAMES, text), text

    # export: every message once, in log time order.
    rows = jsonl(out)
    assert len(rows) == ind["messages"], (len(rows), ind)
    times = [r["log_time_ns"] for r in rows]
    assert times == sorted(times)
    frames = [r for r in rows if r["topic"] == "/olfaction"]
    assert len(frames) == FRAMES
    seqs = [r["data"]["SEQ"] for r in frames]
    assert seqs == sorted(seqs) and len(set(seqs)) == FRAMES, seqs[:10]
    for r in frames:
        assert set(r) == {"topic", "log_time_ns", "publish_time_ns", "data"}
        assert r["publish_time_ns"] == iso_ns(r["data"]["TIMESTAMP"]), r
        assert r["log_time_ns"] >= r["publish_time_ns"] - 10**9, r
    events = [r["data"] for r in rows if r["topic"] == "/events"]
    assert events[0]["event"] == "start" and events[-1]["event"] == "stop"
    assert any(e.get("state") == "open" for e in events), events
    assert all(e.get("key", "****0001").startswith("****") for e in events)
    assert any(e.get("key") == "****" + KEY[-4:] for e in events), events
    assert len(jsonl(out, "--channel", "/olfaction")) == FRAMES

    text, _ = run_record("export", out, "--format", "csv", "--channel",
                         "/olfaction")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][:3] == ["topic", "log_time_ns", "publish_time_ns"]
    for col in ("UID", "TIMESTAMP", "SEQ"):
        assert col in table[0], table[0]
    assert len(table) == FRAMES + 1
    seq_col = table[0].index("SEQ")
    assert [int(row[seq_col]) for row in table[1:]] == seqs
    assert_no_key(out)


def last_chunk(data):
    """(start, end) of the last whole Chunk record: walks the records
    (opcode u8, length u64 little-endian) after the 8-byte magic."""
    pos, found = 8, None
    while pos + 9 <= len(data):
        opcode = data[pos]
        end = pos + 9 + int.from_bytes(data[pos + 1:pos + 9], "little")
        if end > len(data):
            break
        if opcode == 0x06:
            found = (pos, end)
        pos = end
    assert found, "no chunk in the recording"
    return found


def wait_for_messages(path, topic, at_least, timeout=20):
    """Polls info on a file being written until topic has at_least
    messages in complete chunks; returns the count seen."""
    deadline = time.monotonic() + scaled(timeout)
    while time.monotonic() < deadline:
        if os.path.exists(path):
            p = subprocess.run([RECORD, "info", "--json", path],
                               capture_output=True, timeout=scaled(10))
            if p.returncode == 0:
                counts = {c["topic"]: c["messages"]
                          for c in json.loads(p.stdout)["channels"]}
                if counts.get(topic, 0) >= at_least:
                    return counts[topic]
        time.sleep(0.1)
    raise AssertionError("no %d messages on %s in %s" % (at_least, topic,
                                                        path))


def test_kill_and_recover():
    killed = os.path.join(WORK, "killed.mcap")
    fixed = os.path.join(WORK, "recovered.mcap")
    # The key file lives outside SCN_LOG_DIR: the key scan would rightly
    # flag it there.
    key_dir = tempfile.mkdtemp(prefix="scn-mcap-key-")
    key_file = os.path.join(key_dir, "api-key")
    with open(key_file, "w") as f:
        f.write(KEY + "\n")
    os.chmod(key_file, 0o600)
    env = dict(os.environ)
    env.pop("SCENTIENCE_API_KEY", None)
    sim = Sim()
    rec = None
    try:
        rec = subprocess.Popen(
            [RECORD, "record", "--url", sim.url(), "--key-file", key_file,
             "--flush-ms", "200", "--count", "1000000", "--quiet", killed],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
            preexec_fn=simproc.die_with_parent)
        flushed = wait_for_messages(killed, "/olfaction", 150)
        time.sleep(0.3)  # kill between flushes, with a chunk under way
        rec.send_signal(signal.SIGKILL)
        assert rec.wait(scaled(10)) == -signal.SIGKILL
        check_stderr(rec.stderr.read().decode(errors="replace"), "record")
    finally:
        if rec and rec.poll() is None:
            rec.kill()
            rec.wait(scaled(5))
        if rec:
            rec.stderr.close()
        sim.close()
        shutil.rmtree(key_dir, ignore_errors=True)

    # The killed file: a valid MCAP prefix for the independent reader,
    # holding at least what had been flushed when we looked.
    pre = node_check(killed, prefix=True)
    assert not pre["done"], pre
    assert pre["topics"].get("/olfaction", 0) >= flushed, (pre, flushed)
    me = info(killed)
    assert me["complete"] is False and me["status"] == "incomplete", me
    assert {c["topic"]: c["messages"] for c in me["channels"]} == \
        pre["topics"], (me, pre)

    _, err = run_record("recover", killed, fixed)
    assert "recovered %d messages" % pre["messages"] in err, err
    ind = node_check(fixed)
    assert ind["topics"] == pre["topics"], (ind, pre)
    assert ind["messages"] == pre["messages"], (ind, pre)
    assert info(fixed)["complete"] is True
    # Nothing changed on the way: same messages, times and payloads.
    assert jsonl(fixed) == jsonl(killed)
    assert_no_key(killed)
    assert_no_key(fixed)

    # A kill during a write leaves a record cut short (the kernel had only
    # part of it): cut the last chunk in two. Both readers stop before it.
    cut = os.path.join(WORK, "cut.mcap")
    cut_fixed = os.path.join(WORK, "cut-recovered.mcap")
    with open(killed, "rb") as f:
        data = f.read()
    start, end = last_chunk(data)
    with open(cut, "wb") as f:
        f.write(data[:(start + end) // 2])
    pre_cut = node_check(cut, prefix=True)
    assert pre_cut["messages"] < pre["messages"], (pre_cut, pre)
    assert info(cut)["messages"] == pre_cut["messages"]
    run_record("recover", cut, cut_fixed)
    assert node_check(cut_fixed)["topics"] == pre_cut["topics"]


TESTS = [test_usage, test_missing_peer_fails, test_record_and_read,
         test_kill_and_recover]


def main():
    global WORK
    if not simproc.have_programs(SIM, RECORD):
        return 1
    os.makedirs(LOG_DIR, exist_ok=True)
    WORK = tempfile.mkdtemp(prefix="mcap-", dir=LOG_DIR)
    return simproc.run_tests(TESTS)


if __name__ == "__main__":
    sys.exit(main())
