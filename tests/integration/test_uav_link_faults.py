#!/usr/bin/python3
"""The drone command channel behind a blacked-out link (issue 9, A).

The drone (scn-sim uav) runs in its own network namespace behind
netimpair; the channel (tests/integration/drivers/uav_driver.c, the
library's scn_uav_channel driven line by line) in another. A command is
written into a blackout; the channel gives up on the link and reports it
as "may have been executed" (UAV_OUTCOME_UNKNOWN), never as lost. Then,
from the drone's own log (its "ts", the wall clock netimpair and the
driver stamp their events with):

- nothing written on an abandoned connection reaches the drone after the
  channel gave that connection up, not even once the link is back (the
  link is reset, not closed with FIN: before the fix the kernel kept
  retransmitting the command and the drone flew it seconds later);
- the client kernel holds nothing of the old connection once the loss is
  reported (ss in the client namespace);
- an emergency and a superseded move written into a second blackout never
  arrive either, and an emergency on the new link does, first thing;
- messages still queued in the session when the link died (more than the
  socket took) are dropped, never written on the next link.

Root only (network namespaces); fails, not skips, without root.
"""

import datetime
import os
import subprocess
import sys
import time

from netns import CLIENT_ADDR, SERVER_ADDR, Net, read_line, require_root
from simproc import LOG_DIR, SIM, check_stderr, read_log, run_tests
from uavdriver import DRIVER, Driver

KEY = "SCN_TEST_uavlinkfault000001"
DRONE_PORT = 8889
# The driver's keepalive: a ping after 0.5 s of silence, the link given up
# after 3 s of it. The retransmissions a graceful close leaves behind come
# 3, 6, 13 s after the write (RTO 0.2 s doubling): a 14 s watch after the
# blackout catches them.
IDLE_MS = 3000
WATCH_S = 14


def ts_of(ev):
    """scn-sim's ISO-8601 'ts' as wall-clock seconds."""
    return datetime.datetime.strptime(
        ev["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()


def commands(log, conn):
    """The commands the drone received on connection conn."""
    return [e for e in read_log(log)
            if e.get("event") == "command" and e.get("conn") == conn]


def conn_of(log, since):
    """The drone's newest connection opened after since: (id, port)."""
    conns = [e for e in read_log(log)
             if e.get("event") == "connect" and ts_of(e) >= since - 0.01]
    assert conns, "no connection since %.3f" % since
    return conns[-1]["conn"], conns[-1]["peer_port"]


def leftovers(net, port):
    """What the client's kernel still holds of its connection from port."""
    return [s for s in net.tcp_sockets(net.client)
            if s[3] == "%s:%d" % (CLIENT_ADDR, port)]


def blackout_then_give_up(net, drv, lines, log):
    """Blacks out the link, writes lines into it (a command, or
    'emergency'), waits until the channel gives the link up, checks the
    client kernel dropped the connection, restores the link. Returns (the
    old connection, when the blackout began, when the loss was first
    reported, the replies)."""
    conn, port = conn_of(log, 0)
    began = net.blackout()
    for line in lines:
        drv.send("emergency" if line == "emergency" else "send " + line)
        drv.wait(lambda e, l=line: e["event"] == "queued" and e["line"] == l,
                 10, "queued %s" % line)
        time.sleep(0.3)
    lost = drv.wait(lambda e: e["event"] == "state" and
                    e["state"] == "reconnecting" and e["t"] > began,
                    IDLE_MS / 1000 + 20, "link given up")
    replies = {l: drv.reply(l, after=began, timeout=5) for l in lines}
    # Reset before the report: nothing left in any state, no bytes queued.
    held = leftovers(net, port)
    assert not held, "old connection still in the kernel: %r" % held
    net.restore()
    reported = min([lost["t"]] + [r["t"] for r in replies.values()
                                  if r["err"] == "UAV_OUTCOME_UNKNOWN"])
    return conn, began, reported, replies


def assert_nothing_after(log, conn, began, given_up, lines):
    """Of conn's commands, none arrived after the channel gave conn up,
    and none of lines (written into the blackout that began at began)
    ever did."""
    got = commands(log, conn)
    late = [e for e in got if ts_of(e) > given_up]
    assert not late, "arrived on the abandoned connection after it was " \
        "given up at %.3f: %r" % (given_up, late)
    flown = [e for e in got if e["raw"] in lines and ts_of(e) >= began]
    assert not flown, "written into the blackout, yet received: %r" % flown


def test_command_written_into_a_blackout_never_flies_later():
    stem = os.path.join(LOG_DIR, "uavlink-%d" % os.getpid())
    log = stem + ".sim.log"
    if os.path.exists(log):
        os.unlink(log)
    with Net("uavlink") as net:
        with open(stem + ".sim.stderr", "w") as err:
            sim = net.popen(
                net.server,
                [SIM, "uav", "--host", SERVER_ADDR, "--port", str(DRONE_PORT),
                 "--time-scale", "20", "--state-host", CLIENT_ADDR, "--log",
                 log, "--quiet"], stdout=subprocess.PIPE, stderr=err,
                text=True)
        read_line(sim, "listening on", 10)
        # Long answers wait longer than the link: it is given up first.
        drv = Driver(lambda argv, **kw: net.popen(net.client, argv, **kw),
                     "ws://%s:%d" % (SERVER_ADDR, DRONE_PORT), KEY,
                     stem + ".driver.stderr", "--ping-ms", "500",
                     "--idle-ms", str(IDLE_MS), "--short-ms", "8000")
        drv.active()
        drv.roundtrip("takeoff")

        # 1. A turn written into a blackout.
        conn1, dark1, lost1, r1 = blackout_then_give_up(net, drv, ["cw 91"],
                                                        log)
        assert r1["cw 91"]["err"] == "UAV_OUTCOME_UNKNOWN", r1
        back = drv.active(after=lost1)["t"]
        time.sleep(WATCH_S)
        assert_nothing_after(log, conn1, dark1, lost1, ["cw 91"])
        # An emergency on the new link reaches the drone.
        conn2, _ = conn_of(log, back - 5)
        assert conn2 != conn1
        drv.roundtrip("emergency", after=back)
        assert [e["raw"] for e in commands(log, conn2)][-1] == "emergency"

        # 2. A move, then an emergency, written into a second blackout
        # (issue 9: both reached the drone 31 s later on the old link).
        drv.roundtrip("takeoff", after=back)
        conn2b, dark2, lost2, r2 = blackout_then_give_up(
            net, drv, ["ccw 45", "emergency"], log)
        assert conn2b == conn2
        assert r2["ccw 45"]["err"] == "UAV_SUPERSEDED", r2
        assert r2["emergency"]["err"] == "UAV_OUTCOME_UNKNOWN", r2
        assert any(e["event"] == "error" and
                   "EMERGENCY NOT CONFIRMED" in e["detail"]
                   for e in drv.events), "no loud emergency report"
        back2 = drv.active(after=lost2)["t"]
        time.sleep(WATCH_S)
        assert_nothing_after(log, conn2, dark2, lost2,
                             ["ccw 45", "emergency"])
        conn3, _ = conn_of(log, back2 - 5)
        drv.roundtrip("emergency", after=back2)
        assert [e["raw"] for e in commands(log, conn3)] == \
            ["hello_scentience", "emergency"], commands(log, conn3)

        # 3. More than the socket takes, queued into a third blackout.
        dark3 = net.blackout()
        drv.send("flood 200 1000")
        assert drv.wait(lambda e: e["event"] == "flooded", 10,
                        "flood")["queued"] == 200
        lost3 = drv.wait(lambda e: e["event"] == "state" and
                         e["state"] == "reconnecting" and e["t"] > dark3,
                         IDLE_MS / 1000 + 20, "link given up")["t"]
        net.restore()
        back3 = drv.active(after=lost3)["t"]
        drv.roundtrip("battery?", after=back3)
        time.sleep(2)
        late = [e for e in read_log(log) if e.get("event") == "command" and
                e["raw"].startswith("flood-") and
                (e["conn"] != conn3 or ts_of(e) > lost3)]
        assert not late, "%d queued before the outage, sent after: %r..." % (
            len(late), [(e["conn"], e["raw"][:12]) for e in late[:3]])

        drv.send("stats")
        st = drv.wait(lambda e: e["event"] == "stats" and e["t"] > back3, 10,
                      "stats")
        # Some were still queued when the link died: dropped, counted.
        assert st["dropped_unsent"] > 0, st
        assert st["links_aborted"] >= 3 and st["unknown_outcome"] == 2, st
        drv.quit()
        sim.terminate()
        assert sim.wait(10) == 0
        with open(stem + ".sim.stderr") as f:
            check_stderr(f.read(), "scn-sim")


if __name__ == "__main__":
    require_root()
    sys.exit(run_tests([test_command_written_into_a_blackout_never_flies_later],
                       need=(SIM, DRIVER)))
