"""scn-fleet with ten scn-companions flying the simulators (a device and a
drone simulator each), all through one Debian mosquitto (docs/PROTOCOL.md
12; issue 13):

- scn-fleet sees all ten online, with their state;
- the broker is killed with -9 (once what it acknowledged has gone out:
  Broker.kill9_settled) and started again, twice, mid-flight: the
  companions reconnect by themselves, the table shows the outage and the
  return, and every QoS 1 message (events, commands) of every companion
  is in scn-fleet's recording exactly once, in order: the same documents
  as the companion's own recording, up to its last event ("stop");
- one companion killed with -9: the broker publishes its will and the
  table shows it offline within its keepalive (10 s).

The broker keeps nothing across a restart (persistence off, the worst
case), so a message a companion resends before scn-fleet has subscribed
again would reach nobody: while the broker comes back the companions are
paused (SIGSTOP) until scn-fleet is back, as a persistent broker and
session (scn-fleet --mqtt-persistent) would otherwise guarantee
(docs/PROTOCOL.md 12.6).
"""

import os
import signal
import time

import mosquitto_broker
import simproc
from fleet_station import FleetCase
from simproc import COMPANION, reserve_port, scaled, wait_until

KEY = "SCN_TEST_fleetcompanions00001"
N = 10
# scn-companion's MQTT keepalive (docs/PROTOCOL.md 12.1).
COMPANION_KEEPALIVE_S = 10


class FleetCompanionsTest(FleetCase):
    KEY = KEY

    def setUp(self):
        super().setUp()
        if not mosquitto_broker.have_mosquitto():
            self.fail("mosquitto is required: scripts/install-deps")
        self.broker = mosquitto_broker.Broker()
        self.addCleanup(self.broker.close)

    def companion(self, n):
        """Drone dN: device and drone simulators and its companion, which
        takes off, hovers, lands, records itself and publishes to the
        broker."""
        _, _, dev_port = self.sim("device%d" % n, ["device", "--rate", "10",
                                                   "--seed", str(n)])
        state_port, video_port = reserve_port(), reserve_port()
        _, _, uav_port = self.sim(
            "uav%d" % n, ["uav", "--time-scale", "20", "--state-host",
                          "127.0.0.1", "--state-port", str(state_port),
                          "--video-port", str(video_port)])
        script = os.path.join(self.tmp, "flight%d" % n)
        with open(script, "w") as f:
            f.write("takeoff\nwait 2\nland\n")
        mcap = os.path.join(self.tmp, "d%d.mcap" % n)
        p = self.start(
            [COMPANION, "--device-url", "ws://127.0.0.1:%d" % dev_port,
             "--drone-url", "ws://127.0.0.1:%d" % uav_port, "--listen",
             "127.0.0.1", "--state-port", str(state_port), "--video-port",
             str(video_port), "--live-port", "0", "--no-status",
             "--script", script, "--record", mcap,
             "--mqtt-url", self.broker.url, "--drone-id", "d%d" % n,
             "--mqtt-spool-dir", os.path.join(self.tmp, "spool%d" % n)],
            stdout="companion%d.out" % n, stderr="companion%d.err" % n)
        return p, mcap

    def all_online(self, t, drones):
        return all(t["rows"].get(d, {}).get("online") == "yes"
                   for d in drones)

    def all_fresh(self, t, drones):
        """Every drone's newest message less than 2 s old: each one is
        publishing (its own link is up), not merely still marked online."""
        return all(t["rows"].get(d, {}).get("age", "-").endswith("s") and
                   t["rows"][d]["age"][:-1].replace(".", "", 1).isdigit() and
                   float(t["rows"][d]["age"][:-1]) < 2 for d in drones)

    def test_ten_companions_two_broker_restarts_and_a_kill(self):
        fleet_mcap = os.path.join(self.tmp, "fleet.mcap")
        fleet = self.start_fleet(self.broker, "--record", fleet_mcap,
                                 table_ms=300)
        self.wait_err(fleet, "scn-fleet: broker link open", 10)
        comps = [self.companion(n) for n in range(1, N + 1)]
        ids = ["d%d" % n for n in range(1, N + 1)]
        t = self.wait_table(
            fleet, lambda t: self.all_online(t, ids) and all(
                t["rows"][d]["battery"] != "-" for d in ids), 60,
            "ten drones online with their state")
        for outage in (1, 2):
            # Once what the broker acknowledged has reached scn-fleet: a
            # broker without persistence loses what it acknowledged but
            # had not forwarded (QoS 1 is hop by hop), a loss no client
            # can prevent (mosquitto_broker.py).
            self.broker.kill9_settled([p for p, _ in comps])
            self.wait_err(fleet, "scn-fleet: broker link lost", 10,
                          count=outage)
            self.wait_table(fleet, lambda t: "broker open" not in
                            t["heading"] and "outages %d" % outage in
                            t["heading"], 10, "outage %d shown" % outage)
            time.sleep(scaled(1))  # the companions spool meanwhile
            for p, _ in comps:
                p.send_signal(signal.SIGSTOP)
            mark = self.broker.log_mark()
            try:
                self.broker.start()
                self.wait_err(fleet, "scn-fleet: broker link back after", 30,
                              count=outage)
            finally:
                for p, _ in comps:
                    p.send_signal(signal.SIGCONT)
            # Every companion reconnected by itself (its backoff may be
            # seconds long), as the broker saw it: an age under 2 s alone
            # does not say so when the outage was shorter than that, and
            # a companion killed before its return leaves no will.
            ok = wait_until(lambda: set(ids) <= self.broker.clients_connected(
                since=mark), 60)
            self.assertTrue(ok, "not reconnected after outage %d: %s" % (
                outage, sorted(set(ids) - self.broker.clients_connected(
                    since=mark))))
            # All ten publishing again.
            self.wait_table(fleet, lambda t: "broker open" in t["heading"]
                            and "outages %d" % outage in t["heading"]
                            and self.all_online(t, ids)
                            and self.all_fresh(t, ids), 60,
                            "the return after outage %d" % outage)
        # d10 vanishes: its will.
        victim, _ = comps[-1]
        victim.kill()
        victim.wait()
        victim.checked = True
        self.wait_err(fleet, "scn-fleet: drone d10 OFFLINE",
                      COMPANION_KEEPALIVE_S)
        t = self.wait_table(fleet, lambda t: t["rows"].get("d10", {}).get(
            "online") == "NO", 5, "d10 offline in the table")
        self.assertTrue(self.all_online(t, ids[:-1]), t)
        # The others stop cleanly (their spools drained, "stopped" last).
        for p, _ in comps[:-1]:
            self.assertEqual(self.stop(p, timeout=40), 0,
                             self.text(p.err_path)[-2000:])
        self.wait_table(fleet, lambda t: all(
            t["rows"].get(d, {}).get("online") == "NO" for d in ids), 20,
            "every drone offline after the stops")
        self.assertEqual(self.stop(fleet), 0)
        err = self.text(fleet.err_path)
        self.assertIn("%d drones" % N, err)
        self.assertIn("2 broker outages", err)
        # Every QoS 1 message exactly once: the fleet's recording against
        # each companion's own.
        fleet_msgs = self.export(fleet_mcap)
        for n, (_, mcap) in enumerate(comps[:-1], 1):
            own = self.export(mcap)
            own_events = [m["data"] for m in own if m["topic"] == "/events"]
            own_cmds = [m["data"] for m in own
                        if m["topic"] == "/uav/command"]
            got_events = [m["data"] for m in fleet_msgs
                          if m["topic"] == "/d%d/events" % n]
            got_cmds = [m["data"] for m in fleet_msgs
                        if m["topic"] == "/d%d/command" % n]
            self.assertIn("stop", [e.get("event") for e in got_events],
                          "d%d: its events did not all arrive" % n)
            # What the companion recorded after its MQTT link closed
            # cannot have been published.
            self.assertEqual(got_events, own_events[:len(got_events)],
                             "d%d's events" % n)
            self.assertEqual(got_cmds, own_cmds, "d%d's commands" % n)
            self.assertIn({"command": "takeoff"}, [
                {"command": c.get("command")} for c in got_cmds])
        verdict = simproc.mcap_check(self, fleet_mcap)
        self.assertIn("/d1/olfaction", verdict["topics"])


if __name__ == "__main__":
    simproc.main()
