"""The link-fault test bench itself (tests/netimpair and netns.py): traffic
between the namespaces really crosses netimpair, and each impairment does
what it says, measured on real sockets. Only lower bounds on time are
asserted (a busy machine makes things slower, never faster). Root only:
it fails, not skips, without root.
"""

import os
import socket
import subprocess
import sys
import textwrap
import time

from netns import NETIMPAIR, Net, require_root
from simproc import run_tests

UDP_PORT = 7000


def connect_time(net, timeout=5.0):
    """Seconds a TCP connect from the client namespace to a listener in the
    server namespace takes, or None when it fails within timeout."""
    with net.inside(net.server):
        srv = socket.create_server((net.server_addr, 0))
    port = srv.getsockname()[1]
    with net.inside(net.client):
        cli = socket.socket()
    cli.settimeout(timeout)
    t0 = time.monotonic()
    try:
        cli.connect((net.server_addr, port))
        return time.monotonic() - t0
    except OSError:
        return None
    finally:
        cli.close()
        srv.close()


def udp_pair(net):
    with net.inside(net.server):
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rx.bind((net.server_addr, UDP_PORT))
    with net.inside(net.client):
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    return tx, rx


def send_numbered(net, count, gap_s):
    """count numbered datagrams client -> server, gap_s apart; returns the
    numbers received, in arrival order."""
    tx, rx = udp_pair(net)
    try:
        for i in range(count):
            tx.sendto(b"%d" % i, (net.server_addr, UDP_PORT))
            time.sleep(gap_s)
        got = []
        rx.settimeout(1.0)
        while True:
            try:
                got.append(int(rx.recv(64)))
            except socket.timeout:
                return got
    finally:
        tx.close()
        rx.close()


def test_passes_traffic_through_the_router():
    with Net("pass") as net:
        assert connect_time(net) is not None, "no connectivity"
        st = net.stats()
        # SYN and SYN-ACK at least: both directions cross netimpair.
        assert st["passed"] >= 2, st
        assert st["link"] == "up"
        # The client's traffic is routed, not bridged: it arrives from the
        # client's own address.
        with net.inside(net.server):
            srv = socket.create_server((net.server_addr, 0))
        with net.inside(net.client):
            cli = socket.create_connection(
                (net.server_addr, srv.getsockname()[1]), 5)
        conn, peer = srv.accept()
        assert peer[0] == net.client_addr, peer
        for s in (conn, cli, srv):
            s.close()


def test_delay_holds_every_packet():
    with Net("delay") as net:
        net.set(delay=150)
        t = connect_time(net)
        assert t is not None
        # SYN and SYN-ACK each wait 150 ms.
        assert t >= 0.29, "connect took %.3f s through 150 ms delay" % t


def test_blackout_drops_everything_until_restore():
    with Net("blackout") as net:
        began = net.blackout()
        assert abs(began - time.time()) < 5
        assert connect_time(net, timeout=1.0) is None
        st = net.stats()
        assert st["link"] == "down" and st["dropped_blackout"] >= 1, st
        net.restore()
        assert connect_time(net) is not None
        # A timed blackout ends by itself.
        net.blackout(300)
        time.sleep(0.5)
        assert connect_time(net) is not None


def test_random_drop():
    with Net("drop") as net:
        net.set(drop=1)
        assert connect_time(net, timeout=1.0) is None
        assert net.stats()["dropped_random"] >= 1
        net.set(drop=0.3)
        got = send_numbered(net, 200, 0.002)
        # 30 % of 200: far from both ends even on an unlucky draw.
        assert 60 < len(got) < 190, len(got)


def test_flap_alternates_up_and_down():
    with Net("flap") as net:
        net.flap(200, 200)
        got = send_numbered(net, 100, 0.02)
        st = net.stats()
        assert 0 < len(got) < 100, len(got)
        assert st["dropped_flap"] > 0, st


def test_reorder_lets_later_packets_overtake():
    with Net("reorder") as net:
        net.set(reorder=0.5, reorder_gap=60)
        got = send_numbered(net, 40, 0.005)
        assert sorted(got) == list(range(40)), got  # nothing lost
        assert got != sorted(got), "nothing was reordered"
        assert net.stats()["reordered"] > 0


def names_of(pid):
    out = subprocess.run(["ip", "netns", "list"], capture_output=True,
                         text=True).stdout
    return [l.split()[0] for l in out.splitlines()
            if l.startswith("scnt-%d-" % pid)]


def test_teardown_on_exit_failure_and_kill():
    here = os.path.dirname(os.path.abspath(__file__))
    child = textwrap.dedent("""
        import os, sys, time
        sys.path.insert(0, %r)
        from netns import Net
        net = Net("child")
        print(os.getpid(), net.control_path, flush=True)
        if sys.argv[1] == "raise":
            raise RuntimeError("a failing test")
        time.sleep(60)
    """ % here)
    for how in ("raise", "sigterm", "sigkill"):
        p = subprocess.Popen([sys.executable, "-c", child, how],
                             stdout=subprocess.PIPE, text=True,
                             stderr=subprocess.DEVNULL)
        pid, ctl = p.stdout.readline().split()
        pid = int(pid)
        assert names_of(pid), "namespaces not made"
        if how == "sigterm":
            p.terminate()
        elif how == "sigkill":
            p.kill()
        p.wait(30)
        p.stdout.close()
        if how == "sigkill":
            # Nothing runs on SIGKILL: the next Net sweeps what is left.
            assert names_of(pid)
            Net("sweeper").close()
        else:
            assert not os.path.exists(ctl), how
        assert not names_of(pid), "%s left %r" % (how, names_of(pid))


def main():
    require_root()
    assert os.access(NETIMPAIR, os.X_OK), NETIMPAIR
    return run_tests([
        test_passes_traffic_through_the_router,
        test_delay_holds_every_packet,
        test_blackout_drops_everything_until_restore,
        test_random_drop,
        test_flap_alternates_up_and_down,
        test_reorder_lets_later_packets_overtake,
        test_teardown_on_exit_failure_and_kill,
    ])


if __name__ == "__main__":
    sys.exit(main())
