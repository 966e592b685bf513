#!/usr/bin/python3
"""scn-companion and SIGHUP, with the three simulators sharing a key store:

1. rotation: the key file gets a new key, SIGHUP; the companion moves every
   link to it (device and cloud at once, the drone between commands) and
   says so; the key store then revokes the old key and every sim reloads
   it. Nothing is cut by the revocation, the companion keeps working on
   the new key (commands answered, records accepted), and the cloud got
   every seq of its stream;
2. a broken key file + SIGHUP is reported (stderr, /events, counter) and
   the current key stays in use: links dropped afterwards reconnect.

The keys never reach a log, an output or the recording. Key files live
outside the log directory (like the C harness's test_secret_path).

stdlib only. Env: SCN_BIN_DIR, SCN_LOG_DIR."""

import json
import os
import signal

import simproc
from simproc import COMPANION, log_events as events, wait_until

OLD_KEY = "SCN_TEST_companionold00000001"
NEW_KEY = "SCN_TEST_companionnew00000002"


def secret_dir():
    d = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                     "scn-test-secrets-%d" % os.getuid())
    os.makedirs(d, mode=0o700, exist_ok=True)
    return d


def write_secret(path, text):
    """Atomically, mode 0600: a reader sees the old or the new file."""
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.rename(tmp, path)


def write_store(path, old_revoked=False):
    write_secret(path, json.dumps({"keys": [
        {"name": "old", "key": OLD_KEY, "revoked": old_revoked},
        {"name": "new", "key": NEW_KEY}]}))


class CompanionKeysTest(simproc.ProcCase):
    # No SCENTIENCE_API_KEY (the file must decide: the environment would
    # win over it); leftovers get SIGKILL.
    KEY = None
    LOG_PREFIX = "ckeys"
    END_SIGNAL = signal.SIGKILL
    END_WAIT = 10

    def setUp(self):
        super().setUp()
        tag = self.tag
        self.store = os.path.join(secret_dir(), "ckeys-%s.keys.json" % tag)
        self.keyfile = os.path.join(secret_dir(), "ckeys-%s.key" % tag)
        write_store(self.store)
        write_secret(self.keyfile, OLD_KEY + "\n")
        self.sim_args = ["--keys", self.store]  # every sim: this store

    def tearDown(self):
        super().tearDown()
        for path in (self.store, self.keyfile):
            for p in (path, path + ".tmp"):
                if os.path.exists(p):
                    os.unlink(p)

    def companion(self, args):
        return self.start([COMPANION] + args +
                          ["--key-file", self.keyfile, "--no-status",
                           "--live-port", "0"],
                          stdout="stdout", stderr="stderr")

    def stop(self, p):
        return super().stop(p, timeout=30)

    def no_keys_anywhere(self, *paths):
        for path in paths:
            with open(path, "rb") as f:
                data = f.read()
            for k in (OLD_KEY, NEW_KEY):
                self.assertNotIn(k.encode(), data, path)

    # ------------------------------------------------------------ 1
    def test_rotation_then_revocation(self):
        dev, dev_log, dev_port = self.sim("device", ["device", "--rate", "20"])
        cloud, cloud_log, cloud_port = self.sim("cloud", ["cloud"])
        uav, uav_log, uav_port, state_port, video_port = self.uav_sim()
        # Reads between waits: the drone link is idle now and then, and
        # commands keep flowing before and after the switch.
        script = os.path.join(self.tmp, "flight.txt")
        with open(script, "w") as f:
            f.write("takeoff\n" + "battery?\nwait 0.3\n" * 300)
        mcap = os.path.join(self.tmp, "keys.mcap")
        comp = self.companion([
            "--device-url", "ws://127.0.0.1:%d" % dev_port,
            "--cloud-url", "ws://127.0.0.1:%d/v1/stream" % cloud_port,
            "--spool-dir", os.path.join(self.tmp, "spool"),
            "--drone-url", "ws://127.0.0.1:%d" % uav_port,
            "--listen", "127.0.0.1", "--state-port", str(state_port),
            "--video-port", str(video_port), "--script", script,
            "--record", mcap, "--duration", "90"])

        self.assertTrue(wait_until(
            lambda: len(events(cloud_log, "accepted")) >= 20 and
            len(events(uav_log, "answer")) >= 4, 20),
            self.text(comp.err_path))

        write_secret(self.keyfile, NEW_KEY + "\n")
        comp.send_signal(signal.SIGHUP)
        self.assertTrue(wait_until(
            lambda: "key ****0002 in use on every link"
            in self.text(comp.err_path), 20), self.text(comp.err_path))
        self.assertIn("new key from the file: ****0001 -> ****0002",
                      self.text(comp.err_path))

        # The old key is revoked: a session still on it would be closed
        # with 4001 and fail for good.
        write_store(self.store, old_revoked=True)
        n_reload = {log: len(events(log, "reload"))
                    for log in (dev_log, cloud_log, uav_log)}
        for p in (dev, cloud, uav):
            p.send_signal(signal.SIGHUP)
        for log, n in n_reload.items():
            self.assertTrue(wait_until(
                lambda: len(events(log, "reload")) > n, 10), log)
        n_acc = len(events(cloud_log, "accepted"))
        n_ans = len(events(uav_log, "answer"))
        self.assertTrue(wait_until(
            lambda: len(events(cloud_log, "accepted")) >= n_acc + 40 and
            len(events(uav_log, "answer")) >= n_ans + 5, 20),
            self.text(comp.err_path))
        self.assertIsNone(comp.poll(), self.text(comp.err_path))
        self.assertEqual(self.stop(comp), 0, self.text(comp.err_path))
        err = self.text(comp.err_path)
        self.assertIn("key reloads 1 (0 failed, 1 new keys)", err)

        # Every sim: connections on the old key first, then on the new
        # one, and the revocation cut nothing.
        for log in (dev_log, cloud_log, uav_log):
            keys = [c["key"] for c in events(log, "connect")]
            self.assertEqual(keys[0], "old", log)
            self.assertEqual(keys[-1], "new", log)
            self.assertNotIn("old", keys[keys.index("new"):], log)
            cut = [e for e in events(log, "close") + events(log, "closed")
                   if e.get("code") in (4001, 4002)]
            self.assertEqual(cut, [], log)
            refused = events(log, "refused")
            self.assertEqual(refused, [], log)

        # The cloud: one stream, every seq accepted (1..N, no gap); only a
        # record in flight at the switch can come twice (the sim keeps
        # acks per key and stream).
        acc = events(cloud_log, "accepted")
        self.assertEqual(len({e["stream"] for e in acc}), 1)
        seqs = [e["seq"] for e in acc]
        self.assertEqual(sorted(set(seqs)), list(range(1, max(seqs) + 1)))
        self.assertLessEqual(len(seqs) - len(set(seqs)), 8)
        late = [e for e in acc if e["key"] == "old"
                and e["conn"] in {c["conn"] for c in events(cloud_log,
                                                            "connect")
                                  if c["key"] == "new"}]
        self.assertEqual(late, [])

        # The drone answered normally on both keys; commands after the
        # revocation went over the new link.
        answers = events(uav_log, "answer")
        new_conns = {c["conn"] for c in events(uav_log, "connect")
                     if c["key"] == "new"}
        self.assertTrue(any(a["conn"] in new_conns and a["cmd"] == "battery?"
                            for a in answers), answers[-5:])
        cmds = [m["data"] for m in self.export(mcap)
                if m["topic"] == "/uav/command" and "answer" in m["data"]]
        self.assertTrue(cmds)
        self.assertEqual([c for c in cmds if c.get("error")], [])

        # The companion's own account of it, keys redacted.
        ev = [m["data"] for m in self.export(mcap)
              if m["topic"] == "/events"]
        names = [e["event"] for e in ev]
        self.assertIn("key_rotated", names)
        in_use = {e["source"] for e in ev if e["event"] == "key_in_use"}
        self.assertEqual(in_use, {"device", "cloud", "drone"})
        self.assertIn("key_rotation_done", names)
        self.assertLess(names.index("key_rotated"),
                        names.index("key_rotation_done"))
        self.no_keys_anywhere(comp.err_path, comp.out_path, mcap, dev_log,
                              cloud_log, uav_log)

        # After each sim revoked the old key (its reload), all it
        # saw was on the new key: records accepted and commands answered
        # on connections made with it, nothing on the old one.
        for log, kinds in ((dev_log, ()), (cloud_log, ("accepted",)),
                           (uav_log, ("answer",))):
            evs = simproc.read_log(log)
            reloads = [i for i, e in enumerate(evs)
                       if e.get("event") == "reload"]
            self.assertEqual(len(reloads), 1, log)
            after = evs[reloads[0] + 1:]
            key_of = {e["conn"]: e["key"] for e in evs
                      if e.get("event") == "connect"}
            for e in after:
                if e.get("event") == "connect":
                    self.assertEqual(e["key"], "new", (log, e))
                if e.get("event") in kinds:
                    self.assertEqual(key_of.get(e["conn"]), "new", (log, e))
            if kinds:
                self.assertTrue([e for e in after
                                 if e.get("event") in kinds], log)

    # ------------------------------------------------------------ 2
    def test_broken_key_file_keeps_current_key(self):
        dev, dev_log, dev_port = self.sim("device", ["device", "--rate", "20"])
        cloud, cloud_log, cloud_port = self.sim("cloud", ["cloud"])
        mcap = os.path.join(self.tmp, "broken.mcap")
        comp = self.companion([
            "--device-url", "ws://127.0.0.1:%d" % dev_port,
            "--cloud-url", "ws://127.0.0.1:%d/v1/stream" % cloud_port,
            "--spool-dir", os.path.join(self.tmp, "spool"),
            "--record", mcap, "--duration", "60"])
        self.assertTrue(wait_until(
            lambda: len(events(cloud_log, "accepted")) >= 10, 15),
            self.text(comp.err_path))

        write_secret(self.keyfile, "not a key\n")
        comp.send_signal(signal.SIGHUP)
        self.assertTrue(wait_until(
            lambda: "the links keep the current key ****0001"
            in self.text(comp.err_path), 10), self.text(comp.err_path))
        # Open to others: refused as well.
        write_secret(self.keyfile, NEW_KEY + "\n")
        os.chmod(self.keyfile, 0o644)
        comp.send_signal(signal.SIGHUP)
        self.assertTrue(wait_until(
            lambda: self.text(comp.err_path).count(
                "the links keep the current key ****0001") >= 2, 10),
            self.text(comp.err_path))

        # Both links dropped: they come back on the key they had (a
        # session reading the file itself would fail here for good).
        n_dev = len(events(dev_log, "connect"))
        n_cloud = len(events(cloud_log, "connect"))
        dev.send_signal(signal.SIGUSR2)
        cloud.send_signal(signal.SIGUSR2)
        self.assertTrue(wait_until(
            lambda: len(events(dev_log, "connect")) > n_dev and
            len(events(cloud_log, "connect")) > n_cloud, 20),
            self.text(comp.err_path))
        n_acc = len(events(cloud_log, "accepted"))
        self.assertTrue(wait_until(
            lambda: len(events(cloud_log, "accepted")) >= n_acc + 20, 20),
            self.text(comp.err_path))
        self.assertIsNone(comp.poll(), self.text(comp.err_path))
        self.assertEqual(self.stop(comp), 0, self.text(comp.err_path))
        err = self.text(comp.err_path)
        self.assertIn("key reloads 2 (2 failed, 0 new keys)", err)
        for log in (dev_log, cloud_log):
            self.assertEqual({c["key"] for c in events(log, "connect")},
                             {"old"}, log)
        ev = [m["data"] for m in self.export(mcap)
              if m["topic"] == "/events"]
        failed = [e for e in ev if e["event"] == "key_reload_failed"]
        self.assertEqual(len(failed), 2, failed)
        self.assertEqual(failed[0]["detail"],
                         "the API key is empty or contains invalid "
                         "characters")
        self.no_keys_anywhere(comp.err_path, comp.out_path, mcap, dev_log,
                              cloud_log)


if __name__ == "__main__":
    simproc.main()
