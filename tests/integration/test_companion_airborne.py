#!/usr/bin/python3
"""Nothing that moves or points the drone leaves scn-companion before the
drone is airborne (issue 9, item 12: --follow sent `oio` 0.2 ms before
`takeoff` was answered), whatever the script and the inference timing.
Checked on what the drone simulator received and when:

- --follow with inferences flowing long before the script's takeoff: the
  one `oio` reaches the drone after its `takeoff` answer, not before (an
  inference before that is not spent: a later one acts);
- a script that moves before any takeoff: the move never reaches the
  drone, the companion says why and the script stops there.
"""

import datetime
import os
import unittest

import simproc
from simproc import COMPANION, free_port, log_events

KEY = "SCN_TEST_companionairborne01"


def ts(ev):
    return datetime.datetime.strptime(ev["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")


class AirborneTest(simproc.ProcCase):
    KEY = KEY
    LOG_PREFIX = "airborne"

    def fly(self, name, script_text, duration):
        """scn-companion with the three simulators, --follow any and the
        script; returns (uav log, exit code, stdout, stderr)."""
        _, _, dev_port = self.sim("device", ["device", "--rate", "20"])
        _, _, cloud_port = self.sim("cloud", ["cloud"])
        _, uav_log, uav_port, state_port, video_port = self.uav_sim()
        script = os.path.join(self.tmp, name + ".txt")
        with open(script, "w") as f:
            f.write(script_text)
        p = self.start(
            [COMPANION, "--device-url", "ws://127.0.0.1:%d" % dev_port,
             "--cloud-url", "ws://127.0.0.1:%d/v1/stream" % cloud_port,
             "--spool-dir", os.path.join(self.tmp, name + "-spool"),
             "--drone-url", "ws://127.0.0.1:%d" % uav_port,
             "--listen", "127.0.0.1", "--state-port", str(state_port),
             "--video-port", str(video_port), "--live-port", str(free_port()),
             "--no-status", "--script", script, "--follow", "any",
             "--follow-threshold", "0.05", "--max-age", "5",
             "--duration", str(duration)], stderr=name + ".stderr")
        out, _ = p.communicate(timeout=duration + 40)
        err = self.text(p.err_path)
        simproc.check_stderr(err, "scn-companion")
        return uav_log, p.returncode, out, err

    def test_follow_waits_for_the_takeoff_answer(self):
        # Inferences arrive within a second; takeoff goes out after 3 s.
        uav_log, rc, out, err = self.fly("follow", "wait 3\ntakeoff\n", 8)
        self.assertEqual(rc, 0, err)
        answers = [a for a in log_events(uav_log, "answer")
                   if a.get("cmd") == "takeoff" and a["answer"] == "ok"]
        self.assertEqual(len(answers), 1, answers)
        airborne = ts(answers[0])
        cmds = log_events(uav_log, "command")
        oio = [c for c in cmds if c["raw"].startswith("oio")]
        self.assertEqual(len(oio), 1, cmds)
        # Inferences were there before the takeoff: the rule waited.
        first = out.index("inference seq")
        self.assertLess(first, out.index("> takeoff"), out)
        self.assertGreaterEqual(ts(oio[0]), airborne, (oio, answers))

    def test_script_cannot_move_before_takeoff(self):
        uav_log, rc, out, err = self.fly("early", "up 50\ntakeoff\n", 4)
        raws = [c["raw"] for c in log_events(uav_log, "command")]
        self.assertNotIn("up 50", raws)
        self.assertNotIn("takeoff", raws)  # the script stopped at "up 50"
        self.assertFalse(any(r.startswith("oio") for r in raws), raws)
        self.assertIn("not known to be airborne", err)


if __name__ == "__main__":
    unittest.main()
