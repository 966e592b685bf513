#!/usr/bin/python3
"""The drone's state stream across a blackout, through netns.py (issue 9,
D's setting): scn-sim uav in the server namespace pushes state to scn-uav's
state server in the client namespace, across netimpair. During a blackout
scn-uav reports the state STALE; once the link is back, it flows again.

The blackout here is short (the TCP connection survives it); how fast the
stream recovers after a long one is item D's, whose test can start from
this one (a longer net.blackout(), a bound on the time to "flowing again"
measured from the time net.restore() returns).

Root only (network namespaces); fails, not skips, without root.
"""

import os
import subprocess
import sys
import time

from netns import CLIENT_ADDR, SERVER_ADDR, Net, read_line, require_root
from simproc import BIN_DIR, LOG_DIR, SIM, check_stderr, env_with_key, run_tests

KEY = "SCN_TEST_uavstateblackout001"
UAV = os.path.join(BIN_DIR, "scn-uav")


def wait_for(path, needle, after_bytes, timeout):
    """Polls the file until needle appears past after_bytes; returns when
    (monotonic), or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path) as f:
            f.seek(after_bytes)
            if needle in f.read():
                return time.monotonic()
        time.sleep(0.05)
    return None


def test_state_goes_stale_in_a_blackout_and_flows_after():
    stem = os.path.join(LOG_DIR, "uavstate-%d" % os.getpid())
    err_path = stem + ".uav.stderr"
    with Net("uavstate") as net:
        sim = net.popen(net.server,
                        [SIM, "uav", "--host", SERVER_ADDR, "--port", "8889",
                         "--state-host", CLIENT_ADDR, "--state-rate", "20",
                         "--log", stem + ".sim.log", "--quiet"],
                        stdout=subprocess.PIPE, text=True)
        read_line(sim, "listening on", 10)
        # Its output to files: nothing must block scn-uav's loop.
        with open(err_path, "w") as err, open(stem + ".uav.out", "w") as out:
            uav = net.popen(net.client,
                            [UAV, "--drone", "ws://%s:8889" % SERVER_ADDR,
                             "--listen", "0.0.0.0", "--state-port", "8890",
                             "--video-port", "0", "--state", "jsonl",
                             "--linger", "40"],
                            stdout=out, stderr=err, env=env_with_key(KEY))
        # State flows: scn-uav prints it as JSON lines.
        assert wait_for(stem + ".uav.out", '"bat":', 0, 20), "no state"
        mark = os.path.getsize(err_path)
        net.blackout()
        stale = wait_for(err_path, "drone state STALE", mark, 20)
        assert stale, "no STALE report during the blackout"
        mark = os.path.getsize(err_path)
        back = time.monotonic()
        net.restore()
        flowing = wait_for(err_path, "drone state flowing again", mark, 60)
        assert flowing, "state never flowed again after the blackout"
        print("state flowing again %.1f s after the link came back"
              % (flowing - back))
        assert net.stats()["dropped_blackout"] > 0
        uav.terminate()
        assert uav.wait(20) in (0, 130), uav.returncode
        with open(err_path) as f:
            check_stderr(f.read(), "scn-uav")


if __name__ == "__main__":
    require_root()
    sys.exit(run_tests([test_state_goes_stale_in_a_blackout_and_flows_after],
                       need=(SIM, UAV)))
