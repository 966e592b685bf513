"""tests/integration/drivers/uav_driver.c from Python: the library's UAV
command channel, driven a line at a time by a test that must time its
commands (against link faults, late answers), with every callback back as
a JSON event stamped with the wall clock (CLOCK_REALTIME, the clock of
scn-sim's log "ts").

    drv = Driver(subprocess.Popen, url, key, err_path, "--short-ms", "500")
    drv.active()                         # SDK mode entered
    drv.roundtrip("takeoff")             # send, wait for the reply, ok
    drv.send("send up 50"); drv.reply("up 50")
    drv.quit()                           # exit 0, stderr clean
"""

import os
import subprocess

from eventdriver import EventDriver
from simproc import BIN_DIR, check_stderr, die_with_parent, env_with_key

DRIVER = os.environ.get("SCN_UAV_DRIVER", os.path.join(
    os.path.dirname(BIN_DIR.rstrip("/")), "tests", "integration",
    "uav_driver"))


class Driver(EventDriver):
    """One uav_driver: commands in, JSON events out (self.events, all of
    them so far). start(argv, **popen_kw) starts it (subprocess.Popen, or
    Net.popen in a namespace); its stderr goes to err_path."""

    def __init__(self, start, url, key, err_path, *extra):
        self.NAME = "uav_driver"
        self.err_path = err_path
        with open(err_path, "w") as err:
            self.proc = start(
                [DRIVER, "--url", url] + list(extra),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                text=True, env=env_with_key(key),
                preexec_fn=die_with_parent)
        EventDriver.__init__(self)

    def reply(self, line, timeout=30, after=0.0):
        return self.wait(lambda e: e["event"] == "reply" and
                         e["line"] == line and e["t"] > after, timeout,
                         "reply to %r" % line)

    def active(self, after=0.0, timeout=30):
        return self.wait(lambda e: e["event"] == "active" and e["active"] and
                         e["t"] > after, timeout, "SDK mode")

    def roundtrip(self, line, after=0.0):
        self.send("emergency" if line == "emergency" else "send " + line)
        r = self.reply(line, after=after)
        assert r["err"] == "OK", r
        return r

    def quit(self):
        self.send("quit")
        rc = self.proc.wait(20)
        assert rc == 0, "uav_driver exit %r" % rc
        with open(self.err_path) as f:
            check_stderr(f.read(), "uav_driver")
