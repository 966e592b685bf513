"""Name resolution under a test's control, for a program started in a mount
namespace of its own: in_mount_ns() bind-mounts files of the test over
/etc/resolv.conf or /etc/hosts there (the machine's stay as they are), and
FakeDns is a nameserver on a loopback address of the run that holds every
query until told to answer (a DNS server that does not answer, as on
flaky Wi-Fi). Root only, like the suite's network namespaces. Standard
library only, for Debian's /usr/bin/python3.

    dns = FakeDns(loopback_addr(), "broker.test")   # silent
    argv = in_mount_ns({"/etc/resolv.conf": conf}) + [program, ...]
    dns.answer()        # answers what it holds, and from then on
    dns.close()
"""

import os
import socket
import struct
import threading
import time


def loopback_addr():
    """A loopback address of this run (127.53.x.y from the pid), for a
    nameserver, which resolv.conf can only name on port 53."""
    pid = os.getpid()
    return "127.53.%d.%d" % ((pid >> 8) & 255, pid & 255 or 1)


def in_mount_ns(files):
    """The words that run a program (appended after them) in a new mount
    namespace where each of files' keys (a path) shows the file at its
    value. unshare and sh exec it: its pid is the program's."""
    script = " && ".join('mount --bind "$%d" %s' % (i + 1, target)
                         for i, target in enumerate(files))
    return (["unshare", "-m", "--propagation", "private", "sh", "-c",
             script + ' && shift %d && exec "$@"' % len(files), "sh"] +
            list(files.values()))


class FakeDns:
    """A nameserver on addr:53 that answers A queries for name with
    127.0.0.1 (and any other with no address) once answer() is called;
    until then it only records the queries (self.queries: (monotonic
    time, name))."""

    def __init__(self, addr, name):
        self.name = name.lower()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((addr, 53))
        self.queries = []
        self.pending = []
        self.answering = False
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self):
        self.sock.close()  # ends _serve's recvfrom
        self.thread.join(10)

    def answer(self):
        """From now on answer; the queries waiting are answered now."""
        with self.lock:
            self.answering = True
            pending, self.pending = self.pending, []
        for q, peer in pending:
            self.sock.sendto(self._reply(q), peer)

    def _serve(self):
        while True:
            try:
                q, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            name, _ = self._question(q)
            with self.lock:
                self.queries.append((time.monotonic(), name))
                if not self.answering:
                    self.pending.append((q, peer))
                    continue
            self.sock.sendto(self._reply(q), peer)

    @staticmethod
    def _question(q):
        """(name, offset past the question) of a query."""
        labels, i = [], 12
        while i < len(q) and q[i]:
            labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace"))
            i += 1 + q[i]
        return ".".join(labels).lower(), i + 5

    def _reply(self, q):
        name, end = self._question(q)
        qtype = struct.unpack("!H", q[end - 4:end - 2])[0]
        answers = b""
        if name == self.name and qtype == 1:  # A
            answers = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + \
                socket.inet_aton("127.0.0.1")
        # Same id; a response, recursion desired and available, no error.
        head = q[:2] + struct.pack("!HHHHH", 0x8180, 1,
                                   1 if answers else 0, 0, 0)
        return head + q[12:end] + answers
