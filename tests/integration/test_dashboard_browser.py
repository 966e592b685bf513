#!/usr/bin/python3
"""The built-in dashboard in a real browser: Debian's chromium, headless,
driven by puppeteer-core (tests/integration/test_dashboard_browser.mjs),
on the page a companion flying the three simulators serves.

- live: the plot and the values change over time, compounds are drawn
  (the plot has their colours), the inference arrow appears, the drone's
  and the links' state are shown; the layout fits a tablet's width;
- the companion killed: the page shows the "disconnected" banner; the
  companion started again on the same port: the banner goes, the page
  reconnected by itself and the values move again;
- off the board (a network namespace's address, vethns.py): with a
  dashboard token, the page without it is refused (401); opened with
  ?token= it is redirected (303) to itself without the token, the token
  becomes an HttpOnly cookie and the page's WebSocket, which carries
  nothing but that cookie, gets live data;
- every request the page made went to its own origin (HTTP and
  WebSocket), and no script error or CSP violation was reported.

The browser test's screenshot is LOG_DIR/dashboard.png (and
SCN_DASHBOARD_SCREENSHOT when set: docs/dashboard.png is made so).
"""

import json
import os
import re
import select
import shutil
import subprocess
import time
import unittest
from urllib.parse import urlsplit

import vethns
import simproc
from simproc import COMPANION, LOG_DIR, SOURCE_DIR, reserve_port

KEY = "SCN_TEST_dashboard0000000001"
TOKEN = "dash-browser-0123456789-abcdef"
DRIVER = os.path.join(SOURCE_DIR, "tests", "integration",
                      "test_dashboard_browser.mjs")
FLIGHT = """takeoff
up 60
cw 45
forward 150
ccw 90
forward 150
up 40
cw 120
forward 200
"""


class Browser:
    """The line-driven chromium of test_dashboard_browser.mjs; the case's
    tearDown ends it if the test does not."""

    def __init__(self, case):
        node = shutil.which("node")
        case.assertTrue(node, "Node.js is required: scripts/install-deps")
        # ProcCase.tearDown judges it: it must end with exit 0.
        self.p = case.start([node, DRIVER], stdin=subprocess.PIPE,
                            stderr="browser")
        self.buf = b""
        hello = self._read(120)
        case.assertTrue(hello.get("ok"), hello)

    def _read(self, timeout):
        fd = self.p.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise AssertionError("the browser driver did not answer "
                                     "within %d s" % timeout)
            chunk = os.read(fd, 65536)
            if not chunk:
                raise AssertionError("the browser driver exited: %r"
                                     % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def __call__(self, cmd, timeout=60, **args):
        args["cmd"] = cmd
        self.p.stdin.write(json.dumps(args) + "\n")
        self.p.stdin.flush()
        out = self._read(timeout)
        if not out.get("ok"):
            raise AssertionError("browser: %s: %s" % (cmd, out.get("error")))
        return out

    def quit(self):
        try:
            self.p.stdin.write('{"cmd":"quit"}\n')
            self.p.stdin.close()
            self.p.wait(30)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass


class DashboardBrowserTest(simproc.ProcCase):
    KEY = KEY
    LOG_PREFIX = "dashboard-browser"
    END_WAIT = 10

    def companion(self, args, live_port, name):
        comp = self.start([COMPANION] + args + ["--live-port", str(live_port)],
                          stdout=subprocess.DEVNULL, stderr=name)
        ok = simproc.wait_until(
            lambda: comp.poll() is not None or
            "live fan-out on" in self.text(comp.err_path), 30)
        self.assertIsNone(comp.poll(), self.text(comp.err_path))
        self.assertTrue(ok, "the companion did not start its listener")
        return comp

    def snap_until(self, b, pred, timeout, what):
        """Snapshots until pred(snapshot) holds; fails with the last one."""
        deadline = time.monotonic() + timeout
        while True:
            s = b("snapshot")
            if pred(s):
                return s
            if time.monotonic() > deadline:
                self.fail("%s: not within %d s; the page shows %s"
                          % (what, timeout, json.dumps(s, indent=1)))
            time.sleep(0.2)

    def assert_moving(self, b, first, keys, timeout=20):
        """The plot's pixels and each of keys' text change after first."""
        return self.snap_until(
            b, lambda s: s["plot"]["hash"] != first["plot"]["hash"] and
            all(s["values"][k] != first["values"][k] for k in keys),
            timeout, "the plot and %s changing" % ", ".join(keys))

    def assert_same_origin(self, b, origins):
        """Every request the pages made (HTTP and WebSocket) went to one of
        origins, a WebSocket to each; no script error, no CSP report."""
        out = b("requests")
        hosts = {urlsplit(o).netloc for o in origins}
        # Expected: the reconnection attempts while the companion was down
        # and the 401 of the page opened without the token.
        expected = re.compile(
            r"console: (WebSocket connection to 'ws://(%s)/live' failed: .*"
            r"ERR_CONNECTION_REFUSED|Failed to load resource: the server "
            r"responded with a status of 401.*)$"
            % "|".join(re.escape(h) for h in hosts))
        self.assertEqual([p for p in out["problems"]
                          if not expected.match(p)], [])
        ws_hosts = set()
        for r in out["requests"]:
            u = urlsplit(r["url"])
            if u.scheme == "data":  # the empty icon, inline
                continue
            self.assertIn(u.scheme, ("http", "ws"), r)
            self.assertIn(u.netloc, hosts, r)
            if r["type"] == "websocket":
                ws_hosts.add(u.netloc)
        self.assertEqual(ws_hosts, hosts)
        return out["requests"]

    def test_dashboard(self):
        _, _, dev_port = self.sim("device", ["device", "--rate", "50"])
        self.dev_port = dev_port
        _, _, cloud_port = self.sim("cloud", ["cloud"])
        _, _, uav_port, state_port, video_port = self.uav_sim(
            "--time-scale", "2")
        script = os.path.join(self.tmp, "flight.txt")
        with open(script, "w") as f:
            f.write(FLIGHT)
        self.flight_args = [
            "--device-url", "ws://127.0.0.1:%d" % dev_port, "--rate", "50",
            "--cloud-url", "ws://127.0.0.1:%d/v1/stream" % cloud_port,
            "--spool-dir", os.path.join(self.tmp, "spool"),
            "--drone-url", "ws://127.0.0.1:%d" % uav_port,
            "--listen", "127.0.0.1", "--state-port", str(state_port),
            "--video-port", str(video_port), "--no-status",
            "--duration", "120"]
        live = reserve_port()
        # The browser first (it takes seconds to start), so that the page
        # is open from the start of the flight.
        b = Browser(self)
        comp = self.companion(self.flight_args + ["--script", script], live,
                              "companion")
        try:
            self.live_page(b, live)
            self.stop_and_restart(b, comp, live)
            origin = "http://127.0.0.1:%d" % live
            self.assert_same_origin(b, [origin])
            self.off_board(b, origin)
        finally:
            b.quit()

    def live_page(self, b, live):
        url = "http://127.0.0.1:%d/" % live
        out = b("open", url=url, width=1280, height=900)
        self.assertEqual(out["status"], 200)
        # Data arrives: compounds are listed and drawn, the drone and the
        # inference are shown, the arrow points somewhere, the flight's
        # commands are among the events.
        first = self.snap_until(
            b, lambda s: s["compounds"] > 0 and s["plot"]["ink"] > 50 and
            s["values"]["o-seq"] not in ("\u2013", None) and
            s["values"]["d-height"] != "\u2013" and s["arrow"]["visible"] and
            s["events"] > 0,
            30, "the first data, plot lines, the arrow and events")
        self.assertFalse(first["banner"]["visible"], first["banner"])
        self.assertEqual(first["values"]["conn"], "live")
        self.assertRegex(first["arrow"]["transform"],
                         r"^rotate\(\d+(\.\d)? 50 50\)$")
        self.assertRegex(first["values"]["i-model"], r"\S")
        self.assertRegex(first["values"]["i-prob"], r"^\d+\.\d %$")
        # The values and the plot move on by themselves.
        self.assert_moving(b, first, ["o-seq", "picker"])
        # The companion's status fills the link rows.
        self.snap_until(
            b, lambda s: all(s["links"][l]["state"] == "connected"
                             for l in ("page", "device", "drone", "cloud"))
            and s["values"]["spool"].endswith(("record", "records")),
            20, "every link connected and the spool's backlog")
        # The screenshot, once the plot has some history (the drone is
        # still flying its script).
        want = os.environ.get("SCN_DASHBOARD_SCREENSHOT")
        b("select", selector="#window", value="30000")
        # For docs/, a full window of history.
        time.sleep(30 if want else 6)
        shot = os.path.join(LOG_DIR, "dashboard.png")
        b("screenshot", path=shot, fullPage=True)
        if want:
            shutil.copyfile(shot, want)
        # A tablet in portrait: nothing wider than the screen.
        b("open", url=url, width=768, height=1024)
        s = self.snap_until(b, lambda s: s["plot"]["ink"] > 50, 20,
                            "the plot on a tablet")
        self.assertLessEqual(s["overflowX"], 0)

    def stop_and_restart(self, b, comp, live):
        before = b("snapshot")
        # The way a board fails: no close frame, the socket just dies.
        comp.kill()
        comp.wait(10)
        comp.checked = True  # killed on purpose
        s = self.snap_until(b, lambda s: s["banner"]["visible"], 20,
                            "the disconnected banner")
        self.assertIn("Disconnected", s["banner"]["text"])
        self.assertEqual(s["values"]["conn"], "disconnected")
        self.assertNotEqual(s["links"]["page"]["state"], "connected")
        # Frozen while down: the last values stay (dimmed), nothing moves.
        frozen = s["values"]["o-seq"]
        time.sleep(1)
        self.assertEqual(b("snapshot")["values"]["o-seq"], frozen)
        # Back on the same port: the page finds it by itself.
        self.companion(self.flight_args, live, "companion-again")
        s = self.snap_until(
            b, lambda s: not s["banner"]["visible"] and
            s["values"]["conn"] == "live" and
            s["values"]["o-seq"] != frozen, 30,
            "the banner cleared after the companion came back")
        self.assertGreater(s["stats"]["connects"], before["stats"]["connects"])
        self.assert_moving(b, s, ["o-seq", "picker"])

    def off_board(self, b, loopback_origin):
        net = vethns.Pair("db")
        net.__enter__()
        self.addCleanup(net.close)
        token_file = os.path.join(self.tmp, "token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        os.chmod(token_file, 0o600)
        port = reserve_port()
        self.companion(["--device-url", "ws://127.0.0.1:%d" % self.dev_port,
                        "--state-port", "0", "--video-port", "0",
                        "--no-status", "--duration", "60",
                        "--live-bind", net.host_ip,
                        "--live-token-file", token_file],
                       port, "companion-token")
        # This machine's address on the link: the companion sees a peer
        # that is not on loopback, as a ground station would be.
        origin = "http://%s:%d" % (net.host_ip, port)
        out = b("open", url=origin + "/")
        self.assertEqual(out["status"], 401)
        out = b("open", url=origin + "/?token=" + TOKEN)
        self.assertEqual(out["status"], 200)
        self.assertEqual([c["status"] for c in out["chain"]], [303])
        self.assertEqual(out["url"], origin + "/")  # the token is gone
        cookies = b("cookies")["cookies"]
        self.assertEqual([(c["name"], c["httpOnly"]) for c in cookies],
                         [("scn_token_%d" % port, True)])
        first = self.snap_until(
            b, lambda s: s["values"]["o-seq"] not in ("\u2013", None) and
            s["values"]["conn"] == "live", 30, "live data off the board")
        self.assert_moving(b, first, ["o-seq"])
        seen = self.assert_same_origin(b, [loopback_origin, origin])
        # The token was only ever in the address first opened.
        for r in seen:
            if TOKEN in r["url"]:
                self.assertEqual(r["url"], origin + "/?token=" + TOKEN)


if __name__ == "__main__":
    unittest.main()
