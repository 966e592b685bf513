#!/usr/bin/python3
"""scn-companion's fleet output over MQTT (issue 13; docs/PROTOCOL.md 12),
against Debian's mosquitto on an ephemeral loopback port, with
mosquitto_sub and mosquitto_pub as the independent peers and scn-sim's
device, cloud and drone:

- every stream arrives under scentience/v1/<id>/ in envelopes (one run,
  seq per topic: QoS 1 topics complete from 1, olfaction thinned to
  --mqtt-rate), the events exactly the recording's, the retained status
  online at birth and offline at a clean stop;
- kill -9: the broker publishes the will (offline, retained);
- the broker killed and restarted mid-flight: no QoS 1 message lost;
- a wrong password (77) or CA (76): the cause named, a distinct exit code,
  no credential in any output (and the generated passwords are listed in
  a *.keys.json for scripts/check-no-keys-in-logs);
- fleet commands: refused without opt-in; with it, `land` reaches the
  drone once and its answer comes back on the reply topic; a motion
  command, takeoff, a retained request and a repeated id never reach it;
  a drone's answer longer than the library keeps (long_answer_drone.py)
  is said to be cut in the reply, the recording and on stdout.
"""

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time

import long_answer_drone
import mosquitto_broker
import simproc
from simproc import (COMPANION, LOG_DIR, SOURCE_DIR, log_events, reserve_port,
                     scaled, wait_until)

KEY = "SCN_TEST_companionmqttfleet01"
DRONE = "d1"
ROOT = "scentience/v1/%s/" % DRONE
QOS1_TOPICS = ("inference", "events", "command")
LONG_DRONE = os.path.join(SOURCE_DIR, "tests", "integration",
                          "long_answer_drone.py")


class Sub:
    """mosquitto_sub on a filter (and ROOT/probe, for wait_ready), one JSON
    object per message (-F %j), its output in a log read while written."""

    def __init__(self, case, broker, filt, name, **kw):
        self.case, self.broker, self.filt = case, broker, filt
        self.path = case.log_path(name)
        with open(self.path, "w") as out:
            self.p = broker.sub(["-t", filt, "-t", ROOT + "probe", "-q", "1",
                                 "-F", "%j"],
                                stdout=out, stderr=subprocess.STDOUT, **kw)
        case.addCleanup(self.close)

    def close(self):
        simproc.end_process(self.p, signal.SIGTERM, 5)

    def messages(self, suffix=None):
        """[{topic, retain, qos, env}] so far (env: the payload, parsed; a payload
        that is not JSON fails the test). suffix: only topics ending so."""
        out = []
        with open(self.path) as f:
            for line in f:
                if not line.endswith("\n"):
                    break
                m = json.loads(line)
                if m["topic"].endswith("/probe"):
                    continue
                if suffix and not m["topic"].endswith(suffix):
                    continue
                out.append({"topic": m["topic"], "retain": m["retain"],
                            "qos": m["qos"], "env": json.loads(m["payload"])})
        return out

    def wait_ready(self, **kw):
        """Publishes probes until one comes back: the subscription is in
        place before anything the test checks is published."""
        def seen():
            self.broker.pub(ROOT + "probe", "probe", **kw)
            with open(self.path) as f:
                return "/probe" in f.read()
        self.case.assertTrue(wait_until(seen, 10, step=0.2),
                             "mosquitto_sub did not subscribe")


def by_topic(msgs):
    out = {}
    for m in msgs:
        out.setdefault(m["topic"][len(ROOT):], []).append(m["env"])
    return out


def dedup(envs):
    """One envelope per (run, seq), in seq order."""
    seen = {}
    for e in envs:
        seen.setdefault((e["run"], e["seq"]), e)
    return [seen[k] for k in sorted(seen)]


class MqttCase(simproc.ProcCase):
    KEY = KEY
    LOG_PREFIX = "mqtt"

    def setUp(self):
        super().setUp()
        if not mosquitto_broker.have_mosquitto():
            self.fail("mosquitto is required: scripts/install-deps")

    def broker(self, **kw):
        b = mosquitto_broker.Broker(**kw)
        self.addCleanup(b.close)
        return b

    def secret(self, name):
        """A password made for this run, listed (never printed) in
        LOG_DIR/*.keys.json so that the log scan looks for it."""
        pw = "mqtt-" + secrets.token_hex(12)
        path = os.path.join(LOG_DIR, "%s-%s-%s.keys.json"
                            % (self.LOG_PREFIX, self.tag, name))
        with open(path, "w") as f:
            json.dump({"password": pw}, f)
        return pw

    def companion(self, name, url, extra=(), drone=False, cloud=False,
                  duration=None, script=None, stderr=None, rate=20,
                  spool=None, drone_url=None):
        """scn-companion with a device simulator (rate frames a second; and
        the drone's and cloud's), publishing to url as DRONE with its MQTT
        spool in tmp/SPOOL (NAME-mqtt-spool); returns (process, uav
        log). drone_url: another drone than scn-sim's (no uav log)."""
        _, _, dev_port = self.sim("device", ["device", "--rate", str(rate)])
        argv = [COMPANION, "--device-url", "ws://127.0.0.1:%d" % dev_port,
                "--live-port", "0", "--no-status", "--mqtt-url", url,
                "--drone-id", DRONE, "--mqtt-spool-dir",
                os.path.join(self.tmp, spool or name + "-mqtt-spool")]
        uav_log = None
        if drone:
            _, uav_log, uav_port, state_port, video_port = self.uav_sim()
            argv += ["--drone-url", "ws://127.0.0.1:%d" % uav_port,
                     "--listen", "127.0.0.1", "--state-port", str(state_port),
                     "--video-port", str(video_port)]
        elif drone_url:
            argv += ["--drone-url", drone_url, "--listen", "127.0.0.1",
                     "--state-port", str(reserve_port()),
                     "--video-port", str(reserve_port())]
        if cloud:
            _, _, cloud_port = self.sim("cloud", ["cloud"])
            argv += ["--cloud-url", "ws://127.0.0.1:%d/v1/stream" % cloud_port,
                     "--spool-dir", os.path.join(self.tmp, name + "-spool")]
        if script is not None:
            path = os.path.join(self.tmp, name + ".script")
            with open(path, "w") as f:
                f.write(script)
            argv += ["--script", path]
        if duration is not None:
            argv += ["--duration", str(duration)]
        p = self.start(argv + list(extra), stdout=name + ".stdout",
                       stderr=stderr or name + ".stderr")
        return p, uav_log

    def start_with_subscriber(self, b, p, filt, name):
        """The broker started again and a subscriber on filt there before
        companion p resends: p is paused meanwhile (the broker keeps no
        session: what p resent earlier would reach nobody; PROTOCOL
        12.6). Returns the Sub."""
        p.send_signal(signal.SIGSTOP)
        try:
            b.start()
            sub = Sub(self, b, filt, name)
            sub.wait_ready()
        finally:
            p.send_signal(signal.SIGCONT)
        return sub

    def wait_status(self, sub, online, timeout=20):
        def last():
            st = [m["env"] for m in sub.messages("/status")]
            return st and st[-1]["data"]["online"] == online and st[-1]
        st = wait_until(last, timeout)
        self.assertTrue(st, sub.messages("/status"))
        return st


class StreamsTest(MqttCase):
    def test_every_stream_in_envelopes_and_status(self):
        b = self.broker()
        sub = Sub(self, b, ROOT + "#", "all.sub")
        sub.wait_ready()
        mcap = os.path.join(self.tmp, "rec.mcap")
        p, uav_log = self.companion(
            "streams", b.url, ["--record", mcap], drone=True, cloud=True,
            duration=round(scaled(6)), script="takeoff\nwait 1\nland\n",
            rate=50)
        rc, _ = self.finish(p, scaled(6) + 40)
        err = self.text(p.err_path)
        self.assertEqual(rc, 0, err)
        simproc.check_stderr(err, "scn-companion")
        self.assertIn("acknowledged", err)  # the MQTT summary line
        topics = by_topic(sub.messages())
        for t in ("olfaction", "state", "inference", "events", "command",
                  "status"):
            self.assertIn(t, topics, sorted(topics))
        runs = {e["run"] for envs in topics.values() for e in envs}
        self.assertEqual(len(runs), 1, runs)
        self.assertTrue(re.fullmatch(r"[0-9a-f]{16}", runs.pop()))
        # QoS 1: spooled from the first, so complete from seq 1.
        for t in QOS1_TOPICS:
            seqs = [e["seq"] for e in dedup(topics[t])]
            self.assertEqual(seqs, list(range(1, len(seqs) + 1)), t)
        # QoS 0: those before the first connection were dropped (counted),
        # none after it.
        for t in ("olfaction", "state"):
            seqs = [e["seq"] for e in topics[t]]
            self.assertEqual(seqs, list(range(seqs[0], seqs[-1] + 1)), t)
        self.assertEqual({m["qos"] for m in sub.messages("/olfaction")}, {0})
        # The same documents as the recording's channels, in order, up to
        # the companion's "stop" at least (what the MQTT link's own close
        # records comes after its last publish).
        rec = self.export(mcap)
        rec_events = [m["data"] for m in rec if m["topic"] == "/events"]
        events = [e["data"] for e in dedup(topics["events"])]
        self.assertEqual(events, rec_events[:len(events)])
        self.assertIn("stop", [e["event"] for e in events])
        rec_cmds = [m["data"] for m in rec if m["topic"] == "/uav/command"]
        cmds = [e["data"] for e in dedup(topics["command"])]
        self.assertEqual(cmds, rec_cmds)
        self.assertIn({"command": "takeoff"}, rec_cmds)
        rec_frames = [m["data"] for m in rec if m["topic"] == "/olfaction"]
        for e in topics["olfaction"]:
            self.assertIn(e["data"], rec_frames)
        # Thinned to 10 Hz (the device sends 50): about one per 100 ms of
        # frame time (a turn's message may be held up to one interval).
        ts = [e["ts"] for e in topics["olfaction"]]
        span_s = (ts[-1] - ts[0]) / 1e9
        self.assertLessEqual(len(ts), span_s * 10 + 5, (len(ts), span_s))
        self.assertLess(len(ts), 0.6 * len(rec_frames))
        # Status: birth (online, what the companion has), then stopped.
        st = [e["data"] for e in topics["status"]]
        self.assertTrue(st[0]["online"], st)
        self.assertEqual(st[0]["drone_id"], DRONE)
        self.assertTrue(st[0]["drone"] and st[0]["cloud"], st[0])
        self.assertEqual(st[0]["commands"], [])
        self.assertTrue(any(s.get("device_uid") for s in st), st)
        self.assertTrue(any(s.get("drone_serial") for s in st), st)
        self.assertEqual(st[-1], {"online": False, "reason": "stopped"})
        # Retained: a ground station that comes later learns it at once.
        late = Sub(self, b, ROOT + "status", "late.sub")
        got = wait_until(lambda: late.messages(), 10)
        self.assertTrue(got)
        self.assertEqual(got[0]["retain"], 1)
        self.assertEqual(got[0]["env"]["data"]["online"], False)


class DataQosTest(MqttCase):
    def test_data_qos_1_spools_olfaction_and_state(self):
        """--mqtt-data-qos 1: the thinned streams at QoS 1, spooled from
        the first, so complete from seq 1 although the companion starts
        before its first connection to the broker is up."""
        b = self.broker()
        sub = Sub(self, b, ROOT + "#", "dataqos.sub")
        sub.wait_ready()
        p, _ = self.companion("dataqos", b.url, ["--mqtt-data-qos", "1"],
                              duration=round(scaled(4)), rate=50)
        rc, _ = self.finish(p, scaled(4) + 40)
        self.assertEqual(rc, 0, self.text(p.err_path))
        for t in ("olfaction", "state"):
            msgs = sub.messages("/" + t)
            if t == "state" and not msgs:
                continue  # no drone here: no state to publish
            self.assertEqual({m["qos"] for m in msgs}, {1}, t)
            seqs = [e["seq"] for e in dedup([m["env"] for m in msgs])]
            self.assertEqual(seqs, list(range(1, len(seqs) + 1)), t)
        self.assertTrue(sub.messages("/olfaction"))


class WillTest(MqttCase):
    def test_kill9_publishes_the_retained_will(self):
        b = self.broker()
        sub = Sub(self, b, ROOT + "status", "status.sub")
        sub.wait_ready()
        p, _ = self.companion("will", b.url)
        birth = self.wait_status(sub, True)
        p.kill()
        p.wait()
        p.checked = True
        will = self.wait_status(sub, False)
        self.assertEqual(will["data"], {"online": False, "reason": "lost"})
        self.assertEqual(will["seq"], 0)
        self.assertEqual(will["run"], birth["run"])
        late = Sub(self, b, ROOT + "status", "late.sub")
        got = wait_until(lambda: late.messages(), 10)
        self.assertTrue(got and got[0]["retain"] == 1, got)
        self.assertEqual(got[0]["env"]["data"]["reason"], "lost")


class OutageTest(MqttCase):
    def test_broker_killed_and_restarted_loses_no_qos1(self):
        b = self.broker()
        sub = Sub(self, b, ROOT + "#", "before.sub")
        subs = [sub]
        sub.wait_ready()
        p, _ = self.companion("outage", b.url, stderr="outage.stderr")
        self.wait_status(sub, True)
        for outage in range(2):
            before = self.text(p.err_path).count("mqtt link:")
            b.kill9_settled([p])
            # The companion notices, and keeps making events (its own
            # reconnection attempts) that wait in its spool.
            self.assertTrue(wait_until(
                lambda: self.text(p.err_path).count("mqtt link:") > before,
                30), self.text(p.err_path))
            time.sleep(scaled(1))
            sub = self.start_with_subscriber(b, p, ROOT + "#",
                                             "after%d.sub" % outage)
            subs.append(sub)
            self.wait_status(sub, True)
        time.sleep(scaled(1))
        self.assertEqual(self.stop(p), 0, self.text(p.err_path))
        envs = [m["env"] for s in subs for m in s.messages("/events")]
        seqs = [e["seq"] for e in dedup(envs)]
        self.assertGreater(len(seqs), 5)
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))
        reconnects = [e["data"] for e in dedup(envs)
                      if e["data"].get("source") == "mqtt" and
                      e["data"].get("state") == "open"]
        self.assertGreaterEqual(len(reconnects), 3, reconnects)

    def test_killed_while_the_broker_is_away_spool_goes_out_next_run(self):
        b = self.broker()
        sub = Sub(self, b, ROOT + "#", "first.sub")
        subs = [sub]
        sub.wait_ready()
        p, _ = self.companion("first", b.url, stderr="first.stderr",
                              spool="spool")
        run = self.wait_status(sub, True)["run"]
        b.kill9_settled([p])
        self.assertTrue(wait_until(
            lambda: "mqtt link:" in self.text(p.err_path), 30))
        time.sleep(scaled(1))
        p.kill()  # a power cut: what waits in the spool is all there is
        p.wait()
        p.checked = True
        b.start()
        sub = Sub(self, b, ROOT + "#", "second.sub")
        subs.append(sub)
        sub.wait_ready()
        p, _ = self.companion("second", b.url, stderr="second.stderr",
                              spool="spool")
        self.wait_status(sub, True)
        self.assertEqual(self.stop(p), 0, self.text(p.err_path))
        envs = [m["env"] for s in subs for m in s.messages("/events")
                if m["env"]["run"] == run]
        seqs = [e["seq"] for e in dedup(envs)]
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))
        # Some of them were made during the outage, after the kill of the
        # broker: they came with the next run.
        late = [m["env"]["seq"] for m in sub.messages("/events")
                if m["env"]["run"] == run]
        self.assertTrue(late, "nothing of the first run came later")
        self.assertTrue(any(e["data"].get("source") == "mqtt" and
                            e["data"].get("state") == "reconnecting"
                            for e in envs), envs)

    def test_spool_cap_drops_oldest_said_and_seen_as_a_gap(self):
        b = self.broker()
        before = Sub(self, b, ROOT + "inference", "before.sub")
        before.wait_ready()
        p, _ = self.companion("cap", b.url, ["--mqtt-spool-cap", "16K"],
                              cloud=True, rate=50, stderr="cap.stderr")
        self.assertTrue(wait_until(
            lambda: len(before.messages("/inference")) >= 10, 30))
        b.kill9_settled([p])
        # 50 inferences a second at QoS 1 overflow 16 KiB in a second or
        # two: the oldest go, said on stderr.
        self.assertTrue(wait_until(
            lambda: "mqtt spool: over its cap" in self.text(p.err_path), 30),
            self.text(p.err_path))
        sub = self.start_with_subscriber(b, p, ROOT + "inference",
                                         "cap.sub")
        got = wait_until(lambda: len(sub.messages("/inference")) > 20, 30)
        self.assertTrue(got)
        # Messages it was asked to keep were lost: not a clean exit.
        self.assertEqual(self.stop(p), 74, self.text(p.err_path))
        self.assertRegex(self.text(p.err_path),
                         r"\d+ QoS 1 fleet messages will never reach")
        seqs = {m["env"]["seq"] for s in (before, sub)
                for m in s.messages("/inference")}
        missing = set(range(1, max(seqs) + 1)) - seqs
        # The oldest of the outage were dropped: a hole in the seqs, and
        # every message missing is one the companion said it dropped.
        self.assertTrue(missing, sorted(seqs))
        said = sum(int(n) for n in re.findall(
            r"mqtt spool: over its cap: dropped (\d+)", self.text(p.err_path)))
        self.assertLessEqual(len(missing), said, (sorted(missing), said))

    def test_full_disk_drops_oldest_said_and_exits_74(self):
        """The MQTT spool on a 128 KiB tmpfs while the broker is away: the
        oldest QoS 1 messages go to make room (said, with the disk named),
        the companion keeps publishing to the spool, sends what is left
        when the broker is back and exits 74."""
        mnt = self.mount_tmpfs("128k", "mqtt-disk")
        b = self.broker()
        before = Sub(self, b, ROOT + "inference", "disk-before.sub")
        before.wait_ready()
        p, _ = self.companion("disk", b.url, cloud=True, rate=50,
                              spool=os.path.join(mnt, "mqtt-spool"),
                              stderr="disk.stderr")
        self.assertTrue(wait_until(
            lambda: len(before.messages("/inference")) >= 10, 30))
        b.kill9_settled([p])
        self.assertTrue(wait_until(
            lambda: "mqtt spool: the disk is full" in self.text(p.err_path),
            60), self.text(p.err_path))
        self.assertIsNone(p.poll(), "the companion must keep running")
        sub = self.start_with_subscriber(b, p, ROOT + "inference",
                                         "disk.sub")
        self.assertTrue(wait_until(
            lambda: len(sub.messages("/inference")) > 20, 30))
        self.assertEqual(self.stop(p), 74, self.text(p.err_path))
        err = self.text(p.err_path)
        seqs = {m["env"]["seq"] for s in (before, sub)
                for m in s.messages("/inference")}
        missing = set(range(1, max(seqs) + 1)) - seqs
        self.assertTrue(missing, sorted(seqs))
        said = sum(int(n) for n in re.findall(
            r"mqtt spool: the disk is full: dropped (\d+)", err))
        self.assertLessEqual(len(missing), said, (sorted(missing), said))
        self.assertRegex(err, r"\d+ QoS 1 fleet messages will never reach")


class RefusalTest(MqttCase):
    def assert_output_off_and_lands_once(self, p, uav_log):
        """The refusal turned the MQTT output off, and the companion is
        still running: the drone keeps it, and it lands the drone once
        when told to stop."""
        self.assertTrue(wait_until(
            lambda: "is off for the rest of this run" in
            self.text(p.err_path), 60), self.text(p.err_path))
        time.sleep(scaled(1))
        self.assertIsNone(p.poll(), self.text(p.err_path))
        self.assertEqual(self.stop(p), 0, self.text(p.err_path))
        got = [c["raw"] for c in log_events(uav_log, "command")]
        self.assertEqual(got.count("land"), 1, got)

    def assert_no_secret(self, p, broker, *secrets_):
        texts = [self.text(p.err_path), self.text(p.out_path),
                 broker.log_text()]
        for s in secrets_:
            for t in texts:
                self.assertNotIn(s, t)

    def test_wrong_password_exit_77(self):
        good, bad = self.secret("good"), self.secret("bad")
        b = self.broker(users={DRONE: good})
        wrong = b.write_password_file(DRONE, os.path.join(self.tmp, "wrong"),
                                      password=bad)
        p, _ = self.companion("badpw", b.url, ["--mqtt-username", DRONE,
                                               "--mqtt-password-file", wrong])
        rc, _ = self.finish(p, 30)
        err = self.text(p.err_path)
        self.assertEqual(rc, 77, err)
        self.assertIn("refused the username or password", err)
        self.assertIn("--mqtt-password-file", err)
        self.assert_no_secret(p, b, good, bad)
        # A password file others may read is refused before any connect.
        os.chmod(wrong, 0o644)
        p, _ = self.companion("openpw", b.url, ["--mqtt-username", DRONE,
                                                "--mqtt-password-file", wrong])
        rc, _ = self.finish(p, 30)
        self.assertEqual(rc, 78, self.text(p.err_path))
        self.assertIn("--mqtt-password-file", self.text(p.err_path))
        # The right one connects: the refusal was the password's.
        right = b.write_password_file(DRONE)
        sub = Sub(self, b, ROOT + "status", "status.sub", user=DRONE)
        p, _ = self.companion("goodpw", b.url, ["--mqtt-username", DRONE,
                                                "--mqtt-password-file", right])
        self.wait_status(sub, True)
        self.assertEqual(self.stop(p), 0, self.text(p.err_path))
        self.assert_no_secret(p, b, good, bad)

    def test_refused_mid_flight_the_companion_keeps_flying(self):
        good, new = self.secret("good"), self.secret("new")
        b = self.broker(users={DRONE: good})
        right = b.write_password_file(DRONE)
        sub = Sub(self, b, ROOT + "status", "status.sub", user=DRONE)
        p, uav_log = self.companion("midflight", b.url,
                                    ["--mqtt-username", DRONE,
                                     "--mqtt-password-file", right],
                                    drone=True, script="takeoff\n")
        self.wait_status(sub, True)
        self.assertTrue(wait_until(
            lambda: "takeoff" in [c["raw"] for c in
                                  log_events(uav_log, "command")], 30))
        # The broker comes back with another password for the drone.
        b.kill9()
        subprocess.run([mosquitto_broker.MOSQUITTO_PASSWD, "-b",
                        os.path.join(b.dir, "passwd"), DRONE, new],
                       check=True, capture_output=True, timeout=scaled(30))
        b.start()
        self.assert_output_off_and_lands_once(p, uav_log)
        err = self.text(p.err_path)
        self.assertIn("refused the username or password", err)
        self.assert_no_secret(p, b, good, new)

    def test_refused_first_while_flying_the_companion_keeps_flying(self):
        good, bad = self.secret("good"), self.secret("bad")
        b = self.broker(users={DRONE: good}, start=False)
        wrong = b.write_password_file(DRONE, os.path.join(self.tmp, "wrong"),
                                      password=bad)
        p, uav_log = self.companion("late", b.url,
                                    ["--mqtt-username", DRONE,
                                     "--mqtt-password-file", wrong],
                                    drone=True, script="takeoff\n")
        self.assertTrue(wait_until(
            lambda: [a for a in log_events(uav_log, "answer")
                     if a.get("cmd") == "takeoff" and a["answer"] == "ok"],
            30))
        b.start()  # reachable only now, refusing the password
        self.assert_output_off_and_lands_once(p, uav_log)
        self.assert_no_secret(p, b, good, bad)

    def test_wrong_ca_exit_76(self):
        b = self.broker(tls=True)
        p, _ = self.companion("badca", b.tls_url, ["--mqtt-ca", b.other_ca])
        rc, _ = self.finish(p, 30)
        err = self.text(p.err_path)
        self.assertEqual(rc, 76, err)
        self.assertIn("TLS", err)
        self.assertIn("--mqtt-ca", err)
        # The broker's own CA: it connects over TLS.
        sub = Sub(self, b, ROOT + "status", "status.sub", tls=True)
        p, _ = self.companion("goodca", b.tls_url, ["--mqtt-ca", b.ca_file])
        self.wait_status(sub, True)
        self.assertEqual(self.stop(p), 0, self.text(p.err_path))


class CommandsTest(MqttCase):
    def request(self, b, rid, command, retain=False):
        r = b.pub(ROOT + "command/request",
                  json.dumps({"id": rid, "command": command}), qos=1,
                  retain=retain)
        self.assertEqual(r.returncode, 0, r.stderr)

    def reply(self, sub, rid, timeout=30):
        def find():
            return [m["env"]["data"] for m in sub.messages("/command/reply")
                    if m["env"]["data"]["id"] == rid]
        got = wait_until(find, timeout)
        self.assertTrue(got, sub.messages("/command/reply"))
        return got

    def flying_companion(self, name, b, extra=()):
        """A companion whose script took off; (process, uav log, replies)."""
        sub = Sub(self, b, ROOT + "command/reply", name + ".sub")
        sub.wait_ready()
        p, uav_log = self.companion(name, b.url, ["--no-land-on-exit"] +
                                    list(extra), drone=True,
                                    script="takeoff\n")
        ok = wait_until(lambda: [a for a in log_events(uav_log, "answer")
                                 if a.get("cmd") == "takeoff" and
                                 a["answer"] == "ok"], 30)
        self.assertTrue(ok, self.text(p.err_path))
        return p, uav_log, sub

    def drone_got(self, uav_log):
        return [c["raw"] for c in log_events(uav_log, "command")]

    def test_refused_without_opt_in(self):
        b = self.broker()
        p, uav_log, sub = self.flying_companion("noopt", b)
        self.request(b, "n1", "land")
        r = self.reply(sub, "n1")
        self.assertEqual(r[0]["result"], "refused")
        self.assertEqual(r[0]["reason"], "not_enabled")
        self.assertEqual(self.stop(p), 0, self.text(p.err_path))
        self.assertNotIn("land", self.drone_got(uav_log))

    def test_land_once_motion_never(self):
        b = self.broker()
        # Published before the companion starts: retained, old news.
        self.request(b, "r1", "land", retain=True)
        p, uav_log, sub = self.flying_companion(
            "opt", b, ["--mqtt-commands", "land,follow"])
        self.assertEqual(self.reply(sub, "r1")[0]["reason"], "retained")
        for rid, command, reason in (("m1", "forward 100", "never"),
                                     ("m2", "takeoff", "never"),
                                     ("m3", "cw 90", "never"),
                                     ("m4", "rc 0 0 10 0", "never"),
                                     ("m5", "forward 99999", "invalid"),
                                     ("m6", "emergency", "not_enabled"),
                                     ("f0", "follow nowhere", "invalid")):
            self.request(b, rid, command)
            r = self.reply(sub, rid)
            self.assertEqual((r[0]["result"], r[0].get("reason")),
                             ("refused", reason), r)
        # follow is the companion's own rule: answered by it.
        self.request(b, "f1", "follow nh3")
        r = self.reply(sub, "f1")
        self.assertEqual((r[0]["result"], r[0]["answer"]), ("answered", "nh3"))
        self.request(b, "l1", "land")
        r = self.reply(sub, "l1")
        self.assertEqual(r[0]["result"], "answered", r)
        self.assertEqual(r[0]["answer"], "ok")
        self.assertTrue(r[0]["ok"])
        # A redelivery (same id) is not a second landing.
        self.request(b, "l1", "land")
        self.assertTrue(wait_until(lambda: len(self.reply(sub, "l1")) == 2,
                                   30))
        self.assertEqual(self.reply(sub, "l1")[1]["reason"], "duplicate")
        self.assertEqual(self.stop(p), 0, self.text(p.err_path))
        got = self.drone_got(uav_log)
        self.assertEqual(got.count("land"), 1, got)
        self.assertEqual(got.count("takeoff"), 1, got)  # the script's
        for never in ("forward 100", "cw 90", "rc 0 0 10 0", "emergency"):
            self.assertNotIn(never, got)
        self.assertFalse([g for g in got if g.startswith("forward")], got)

    def test_emergency_goes_ahead_of_a_landing(self):
        b = self.broker()
        p, uav_log, sub = self.flying_companion(
            "emergency", b, ["--mqtt-commands", "land,emergency"])
        self.request(b, "l1", "land")
        self.assertTrue(wait_until(lambda: "land" in self.drone_got(uav_log),
                                   30))
        self.request(b, "e1", "emergency")
        r = self.reply(sub, "e1")
        self.assertEqual((r[0]["result"], r[0]["answer"]), ("answered", "ok"))
        # The landing in flight was superseded, or had ended already.
        r = self.reply(sub, "l1")
        self.assertIn(r[0]["result"], ("failed", "answered"), r)
        self.assertEqual(self.stop(p), 0, self.text(p.err_path))
        got = self.drone_got(uav_log)
        self.assertEqual((got.count("land"), got.count("emergency")), (1, 1),
                         got)

    def test_a_long_answer_is_said_to_be_cut(self):
        """The library keeps an answer's first 128 bytes: a longer one is
        relayed as kept and said to be cut, in the reply, the recording
        and on stdout, never passed on as if whole."""
        b = self.broker()
        peer = simproc.Server(
            [sys.executable, LONG_DRONE], name="long_answer_drone",
            err_path=self.log_path("long.peer.stderr"))
        self.addCleanup(peer.kill)
        sub = Sub(self, b, ROOT + "#", "long.sub")
        sub.wait_ready()
        mcap = os.path.join(self.tmp, "long.mcap")
        p, _ = self.companion("long", b.url, ["--mqtt-commands", "land",
                                              "--record", mcap],
                              drone_url=peer.origin)
        # Online: its subscription to requests is in place (a request
        # before it would reach nobody).
        self.wait_status(sub, True)
        self.request(b, "x1", "land")
        r = self.reply(sub, "x1")[0]
        kept = long_answer_drone.ANSWER[:128]
        self.assertEqual((r["result"], r["answer"], r["ok"]),
                         ("answered", kept, False), r)
        self.assertIs(r.get("answer_truncated"), True, r)
        self.assertEqual(self.stop(p), 0, self.text(p.err_path))
        cmds = [m["data"] for m in self.export(mcap)
                if m["topic"] == "/uav/command"
                and m["data"]["command"] == "land" and "answer" in m["data"]]
        self.assertEqual([(c["answer"], c.get("answer_truncated"))
                          for c in cmds], [(kept, True)], cmds)
        self.assertIn("< land: %s [answer cut: first 128 bytes kept]\n"
                      % kept, self.text(p.out_path))


class SettingsTest(MqttCase):
    """What the --mqtt-* settings need of each other, refused before
    anything connects (usage 64; --check-config 78)."""

    def run_companion(self, args):
        p = subprocess.run([COMPANION, "--device-url", "ws://127.0.0.1:9"] +
                           args, capture_output=True, text=True,
                           env=self.env, timeout=scaled(30))
        return p.returncode, p.stderr

    def test_refused_settings(self):
        url = ["--mqtt-url", "mqtt://127.0.0.1:9", "--mqtt-spool-dir",
               os.path.join(self.tmp, "s")]
        cases = [
            (url, "--drone-id"),
            (url + ["--drone-id", "a/b"], "drone id"),
            (url + ["--drone-id", "x" * 24], "drone id"),
            (url[:2] + ["--drone-id", DRONE], "--mqtt-spool-dir"),
            (url + ["--drone-id", DRONE, "--mqtt-commands", "land,forward"],
             "never"),
            (url + ["--drone-id", DRONE, "--mqtt-commands", "takeoff"],
             "never"),
            (url + ["--drone-id", DRONE, "--mqtt-commands", "fly"],
             "not a command"),
            (url + ["--drone-id", DRONE, "--mqtt-ca", "/etc/hostname"],
             "mqtts://"),
            (url + ["--drone-id", DRONE, "--mqtt-password-file", "/x"],
             "--mqtt-username"),
            (["--mqtt-commands", "land"], "needs --mqtt-url"),
            (["--mqtt-url", "ws://127.0.0.1:9", "--drone-id", DRONE,
              "--mqtt-spool-dir", "/tmp/x"], "mqtt://"),
        ]
        for args, want in cases:
            rc, err = self.run_companion(args)
            self.assertEqual(rc, 64, (args, err))
            self.assertIn(want, err, args)

    def test_check_config(self):
        conf = os.path.join(self.tmp, "c.conf")
        with open(conf, "w") as f:
            f.write("device-url = ws://127.0.0.1:9\n"
                    "mqtt-url = mqtt://127.0.0.1:9\n"
                    "mqtt-commands = land,go\n")
        p = subprocess.run([COMPANION, "--check-config", conf],
                           capture_output=True, text=True, env=self.env,
                           timeout=scaled(30))
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn(":3: bad value for 'mqtt-commands'", p.stderr)
        self.assertIn("needs --drone-id", p.stderr)
        with open(conf, "w") as f:
            f.write("device-url = ws://127.0.0.1:9\n"
                    "mqtt-url = mqtt://127.0.0.1:9\n"
                    "drone-id = d7\n"
                    "mqtt-spool-dir = %s\n"
                    "mqtt-rate = 2.5\n"
                    "mqtt-commands = land,emergency,follow\n"
                    % os.path.join(self.tmp, "spool"))
        p = subprocess.run([COMPANION, "--check-config", conf],
                           capture_output=True, text=True, env=self.env,
                           timeout=scaled(30))
        self.assertEqual(p.returncode, 0, p.stderr)


if __name__ == "__main__":
    simproc.main()
