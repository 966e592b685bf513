"""scn-fleet as the fleet tests drive it: started against a test broker
(mosquitto_broker.py), its table read from its stdout (a block per table
interval when stdout is not a terminal: a heading line, the header, one
row per drone, an empty line), its stderr lines waited for, and fleet
envelopes (docs/PROTOCOL.md 12.2) for drones played by mosquitto_pub.
Not a test itself (its name does not start with test_)."""

import json
import os
import subprocess

import mosquitto_broker
import simproc

FLEET = os.path.join(simproc.BIN_DIR, "scn-fleet")


def envelope(run, seq, data, ts=None):
    """One fleet message: {"run","seq","ts","data"} (seq None: none)."""
    env = {"run": run}
    if seq is not None:
        env["seq"] = seq
    if ts is not None:
        env["ts"] = ts
    env["data"] = data
    return json.dumps(env, separators=(",", ":"))


def parse_tables(text):
    """The complete table blocks in text: [{"heading", "rows": {id: row}}],
    a row being {"online", "battery", "position", "inference", "age",
    "gaps"} as printed."""
    blocks = []
    for chunk in text.split("\n\n"):
        lines = chunk.strip("\n").split("\n")
        if len(lines) < 2 or not lines[0].startswith("scn-fleet: broker") \
                or not lines[1].startswith("DRONE"):
            continue
        rows = {}
        for line in lines[2:]:
            w = line.split()
            if len(w) < 7:
                break
            # The inference is "-" or "LABEL SCORE".
            inference = " ".join(w[4:-2])
            rows[w[0]] = {"online": w[1], "battery": w[2], "position": w[3],
                          "inference": inference, "age": w[-2],
                          "gaps": int(w[-1])}
        blocks.append({"heading": lines[0], "rows": rows})
    # The last block may be cut short while it is written: keep only
    # those followed by the empty line.
    if blocks and not text.endswith("\n\n"):
        blocks.pop()
    return blocks


class FleetCase(simproc.ProcCase):
    """A ProcCase that runs scn-fleet (its stdout and stderr in logs)."""

    LOG_PREFIX = "fleet"

    def start_fleet(self, broker, *extra, table_ms=200, live_port=0,
                    name="fleet"):
        p = self.start([FLEET, "--mqtt-url", broker.url, "--table-ms",
                        str(table_ms), "--live-port", str(live_port)] +
                       list(extra), stdout=name + "-out",
                       stderr=name + "-err")
        return p

    def tables(self, p):
        return parse_tables(self.text(p.out_path))

    def wait_table(self, p, pred, timeout, what):
        """Waits for a table block that pred accepts; returns it."""
        def found():
            for t in reversed(self.tables(p)):
                if pred(t):
                    return t
            return None
        t = simproc.wait_until(found, timeout, step=0.1)
        self.assertTrue(t, "%s: no such table within %d s; last:\n%s\n%s"
                        % (what, simproc.scaled(timeout),
                           self.text(p.out_path)[-1500:],
                           self.text(p.err_path)[-1500:]))
        return t

    def wait_err(self, p, text, timeout, count=1):
        """Waits until p's stderr holds text count times."""
        ok = simproc.wait_until(
            lambda: self.text(p.err_path).count(text) >= count, timeout)
        self.assertTrue(ok, "%r (x%d) not on stderr within %d s:\n%s"
                        % (text, count, simproc.scaled(timeout),
                           self.text(p.err_path)[-3000:]))

    def pub(self, broker, topic, payload, qos=1, retain=False):
        r = broker.pub(topic, payload, qos=qos, retain=retain)
        self.assertEqual(r.returncode, 0, r.stderr)

    def pub_lines(self, broker, topic, payloads, qos=1):
        """Many messages on one topic through one mosquitto_pub -l."""
        argv = [mosquitto_broker.MOSQUITTO_PUB] + broker.client_args() + ["-t", topic, "-q", str(qos), "-l"]
        r = subprocess.run(argv, input="\n".join(payloads) + "\n",
                           capture_output=True, text=True,
                           timeout=simproc.scaled(30))
        self.assertEqual(r.returncode, 0, r.stderr)
