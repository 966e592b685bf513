"""A network namespace joined to this one by a plain veth pair (no
impairment router: netns.py has that), for tests that need a peer that
is not on loopback while the program under test stays in this namespace
(an off-board dashboard, a drone on its own link). Names carry the pid
so that parallel runs do not collide; everything is removed on exit,
also when the test fails.

    with vethns.Pair() as ns:
        ns.host_ip, ns.ns_ip      # this side's and the namespace's address
        ns.argv([...])            # a command line run inside the namespace
        ns.link(False)            # a blackout: the namespace's end down

Needs root and iproute2 (`ip`)."""

import os
import shutil
import subprocess


def ip(*args, check=True):
    return subprocess.run(["ip"] + list(args), check=check,
                          capture_output=True, text=True, timeout=30)


class Pair:
    def __init__(self, tag="scn"):
        pid = os.getpid()
        # Interface names are at most 15 characters.
        self.ns = "%sns%d" % (tag, pid)
        self.host_if = "%sh%d" % (tag, pid)
        self.ns_if = "%sn%d" % (tag, pid)
        # A /30 of our own, from the pid: 10.233.A.B.
        a, b = (pid >> 6) & 255, (pid & 63) * 4
        self.host_ip = "10.233.%d.%d" % (a, b + 1)
        self.ns_ip = "10.233.%d.%d" % (a, b + 2)

    def __enter__(self):
        if os.geteuid() != 0 or not shutil.which("ip"):
            raise AssertionError("network namespace tests need root and "
                                 "iproute2 (ip)")
        self.close()  # leftovers of an earlier run with this pid
        try:
            ip("netns", "add", self.ns)
            ip("link", "add", self.host_if, "type", "veth", "peer", "name",
               self.ns_if)
            ip("link", "set", self.ns_if, "netns", self.ns)
            ip("addr", "add", self.host_ip + "/30", "dev", self.host_if)
            ip("link", "set", self.host_if, "up")
            self.ns_ip_cmd("addr", "add", self.ns_ip + "/30", "dev",
                           self.ns_if)
            self.ns_ip_cmd("link", "set", self.ns_if, "up")
            self.ns_ip_cmd("link", "set", "lo", "up")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        ip("netns", "del", self.ns, check=False)
        # Deleting the namespace deletes its end; this one may remain.
        ip("link", "del", self.host_if, check=False)

    def ns_ip_cmd(self, *args):
        return ip("-n", self.ns, *args)

    def argv(self, argv):
        """argv run inside the namespace."""
        return ["ip", "netns", "exec", self.ns] + list(argv)

    def link(self, up):
        """Brings the namespace's end of the link up or down (a blackout
        for everything that crosses it)."""
        self.ns_ip_cmd("link", "set", self.ns_if, "up" if up else "down")
