"""What the test drivers (tests/integration/drivers/) share on the Python
side: a child process that takes commands on stdin, one per line, and
prints its events as JSON lines (drivers/json_events.h). Subclasses
start the process (self.proc, text-mode pipes) and set NAME."""

import json
import os
import select
import time

from simproc import scaled


class EventDriver:
    NAME = "driver"

    def __init__(self):
        self.events = []
        self.pending = b""  # read, not yet a whole line

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def _read(self, timeout):
        """The next event, or None after timeout. Read from the descriptor,
        not the buffered file: select() cannot see what a buffer holds."""
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.pending:
            r, _, _ = select.select([fd], [], [], max(0, timeout))
            if not r:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                raise AssertionError("%s exited: %r" % (self.NAME,
                                                        self.events[-5:]))
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        ev = json.loads(line)
        self.events.append(ev)
        return ev

    def wait(self, pred, timeout, what, start=0):
        """The first event from index start (already seen or new) pred
        accepts, within timeout seconds (scaled)."""
        for ev in self.events[start:]:
            if pred(ev):
                return ev
        deadline = time.monotonic() + scaled(timeout)
        while time.monotonic() < deadline:
            ev = self._read(deadline - time.monotonic())
            if ev is not None and pred(ev):
                return ev
        raise AssertionError("no %s within %d s; last events %r" %
                             (what, timeout, self.events[-8:]))

    def mark(self):
        """An index for wait(start=): only events after now."""
        while self._read(0) is not None:
            pass
        return len(self.events)
