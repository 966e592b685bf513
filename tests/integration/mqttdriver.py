"""tests/integration/drivers/mqtt_driver.c from Python: the library's MQTT
client (scn_mqtt) driven a line at a time, its callbacks back as JSON
events; and Subscriber, mosquitto_sub as the independent peer that says
what reached the broker's subscribers.

    drv = Driver(broker.url, err_path, "--client-id", "d1", ...)
    drv.opened()                              # state OPEN
    drv.send("seq 1 t/x m 1 100")             # 100 QoS 1 publishes
    drv.stats()["acked_qos1"]
    drv.quit()                                # exit 0, stderr clean
"""

import os
import signal
import subprocess
import threading
import time

import mosquitto_broker
from eventdriver import EventDriver
from simproc import (BIN_DIR, check_no_report, check_stderr, die_with_parent,
                     scaled)

DRIVER = os.environ.get("SCN_MQTT_DRIVER", os.path.join(
    os.path.dirname(BIN_DIR.rstrip("/")), "tests", "integration",
    "mqtt_driver"))


class Driver(EventDriver):
    """One mqtt_driver: commands in, JSON events out (self.events, all of
    them so far); its stderr goes to err_path. spawn: a Popen-like callable
(one that starts it in a network namespace)."""

    def __init__(self, url, err_path, *extra, spawn=subprocess.Popen):
        self.NAME = "mqtt_driver"
        self.err_path = err_path
        with open(err_path, "w") as err:
            self.proc = spawn(
                [DRIVER, "--url", url] + list(extra),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                text=True, preexec_fn=die_with_parent)
        EventDriver.__init__(self)

    def state(self, name, timeout=20, start=0):
        return self.wait(lambda e: e["event"] == "state" and
                         e["state"] == name.lower(), timeout, "state " + name,
                         start)

    def opened(self, timeout=20, start=0):
        return self.state("open", timeout, start)

    def stats(self):
        start = self.mark()
        self.send("stats")
        return self.wait(lambda e: e["event"] == "stats", 10, "stats", start)

    def stats_until(self, pred, timeout, what):
        """Asks for the counters until pred accepts them."""
        deadline = time.monotonic() + scaled(timeout)
        while True:
            st = self.stats()
            if pred(st):
                return st
            if time.monotonic() >= deadline:
                raise AssertionError("%s: stats %r" % (what, st))
            time.sleep(0.05)

    def publish(self, line):
        """A pub/seq/sub command; returns its 'published' event."""
        start = self.mark()
        self.send(line)
        return self.wait(lambda e: e["event"] == "published", 10,
                         "answer to %r" % line, start)

    def quit(self, timeout=20):
        self.send("quit")
        rc = self.proc.wait(scaled(timeout))
        assert rc == 0, "mqtt_driver exit %r" % rc
        self.check_stderr()
        check_no_report(self.proc.pid, "mqtt_driver")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(scaled(10))

    def check_stderr(self):
        with open(self.err_path) as f:
            text = f.read()
        check_stderr(text, "mqtt_driver")
        return text

    def close(self):
        """For finally blocks: SIGKILL if still running. A sanitizer
        report (of one that exited) still fails."""
        self.kill()
        check_no_report(self.proc.pid, "mqtt_driver")
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass


class Subscriber:
    """mosquitto_sub -v on filter at QoS 1 as the broker's independent
    peer; lines() is every "topic payload" line it printed, over all its
    runs (restart() after the broker's). ready() publishes probes with
    mosquitto_pub until one comes back: then it is subscribed."""

    def __init__(self, broker, filter_, user=None, probe_topic=None):
        self.broker = broker
        self.filter = filter_
        self.user = user
        self.probe_topic = probe_topic
        self._lines = []
        self._lock = threading.Lock()
        self._probes = 0
        self.proc = None
        self.restart()

    def restart(self):
        self.stop()
        self.proc = self.broker.sub(["-t", self.filter, "-q", "1", "-v"],
                                    user=self.user)
        self._thread = threading.Thread(target=self._pump,
                                        args=(self.proc,), daemon=True)
        self._thread.start()

    def _pump(self, proc):
        for raw in proc.stdout:
            with self._lock:
                self._lines.append(raw.decode(errors="replace").rstrip("\n"))

    def lines(self):
        with self._lock:
            return list(self._lines)

    def payloads(self, topic):
        prefix = topic + " "
        return [ln[len(prefix):] for ln in self.lines()
                if ln.startswith(prefix)]

    def ready(self, timeout=10):
        """Subscribed: a probe published now comes back."""
        deadline = time.monotonic() + scaled(timeout)
        while time.monotonic() < deadline:
            self._probes += 1
            probe = "probe-%d" % self._probes
            r = self.broker.pub(self.probe_topic, probe, qos=1,
                                user=self.user)
            assert r.returncode == 0, r.stderr
            until = time.monotonic() + 0.5
            while time.monotonic() < until:
                if probe in self.payloads(self.probe_topic):
                    return
                time.sleep(0.02)
        raise AssertionError("mosquitto_sub never subscribed: %r"
                             % self.lines()[-5:])

    def wait_payloads(self, topic, want, timeout):
        """Waits until every payload in want arrived on topic; returns
        what arrived (duplicates included)."""
        deadline = time.monotonic() + scaled(timeout)
        while True:
            got = self.payloads(topic)
            if set(want) <= set(got) or time.monotonic() >= deadline:
                return got
            time.sleep(0.05)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(scaled(5))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._thread.join(scaled(5))  # it reads to the end first
        self.proc.stdout.close()
        self.proc = None


def have_all():
    """The driver and Debian's mosquitto are there."""
    if not os.access(DRIVER, os.X_OK):
        print("%s not found (set SCN_MQTT_DRIVER)" % DRIVER)
        return False
    return mosquitto_broker.have_mosquitto()
