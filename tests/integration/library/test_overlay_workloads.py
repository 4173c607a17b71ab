"""Kernel tests of the vxlan_overlay plan with workloads: real frames through
the flows it plans, over IPv4 and IPv6 underlays.

Three hosts are network namespaces on one underlay bridge
(tests/overlay/netns_fleet.py). Each has workloads, namespaces of their own
joined to it by a veth pair, on two tenant networks sharing 10.10.0.0/24
(red VNI 100, blue VNI 200): two on h1's red, so that two workloads of one
host share a network. The plans are computed as the role computes them, by
the controller (tests/overlay/overlay_plans.py, run with the venv that has
ansible), and applied in each host with the state engine, run inside the
host's namespace as the role's module is.
"""

import json
import os
import select
import socket
import struct
import subprocess
import sys
import time

import pytest
from conftest import run, unique
from vswitch_odp import Client
from vswitch_odp.netlink import in_netns
from vswitch_odp.state.apply import apply
from vswitch_odp.state.document import parse_document
from vswitch_odp.state.show import show

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(REPO, "tests", "overlay"))
import netns_fleet  # noqa: E402  pylint: disable=wrong-import-position

ETH_P_TEST = 0x88B5  # IEEE 802 local experimental: no other traffic has it
CONTROLLER = [
    os.path.join(REPO, ".venv", "bin", "python"),
    os.path.join(REPO, "tests", "overlay", "overlay_plans.py"),
]
# host index -> its networks: (name, vni, its own address or None)
NETWORKS = {
    0: [("red", 100, "10.10.0.1/24"), ("blue", 200, None)],
    1: [("red", 100, "10.10.0.2/24"), ("blue", 200, None)],
    2: [("red", 100, None), ("blue", 200, "10.10.0.3/24")],
}
# (host index, suffix, network, address, MAC): 10.10.0.11 is on both tenants.
WORKLOADS = [
    (0, "a", "red", "10.10.0.11", "02:aa:00:00:01:01"),
    (0, "c", "red", "10.10.0.31", "02:aa:00:00:01:03"),
    (0, "b", "blue", "10.10.0.11", "02:bb:00:00:01:01"),
    (1, "a", "red", "10.10.0.12", "02:aa:00:00:02:01"),
    (1, "b", "blue", "10.10.0.22", "02:bb:00:00:02:01"),
    (2, "a", "red", "10.10.0.13", "02:aa:00:00:03:01"),
    (2, "b", "blue", "10.10.0.23", "02:bb:00:00:03:01"),
]


class Fleet:
    def __init__(self, hosts):
        self.hosts = hosts  # netns_fleet's: name, underlay_ip, underlay_ip6

    def ns(self, index, suffix=None):
        """The namespace of host INDEX, or of its workload SUFFIX."""
        name = self.hosts[index]["name"]
        return name if suffix is None else "%s-%s" % (name, suffix)

    def members(self, family=4, without=()):
        """The hosts' declarations, as the role makes them; WITHOUT: (host, suffix) left out."""
        out = []
        for i, host in enumerate(self.hosts):
            out.append(
                {
                    "host": host["name"],
                    "underlay_ip": host["underlay_ip" if family == 4 else "underlay_ip6"],
                    "networks": [
                        dict({"name": n, "vni": v}, **({"address": a} if a else {}))
                        for n, v, a in NETWORKS[i]
                    ],
                    "endpoints": [
                        {"network": net, "port": "wl-" + s, "mac": mac, "addresses": [ip]}
                        for h, s, net, ip, mac in WORKLOADS
                        if h == i and (h, s) not in without
                    ],
                }
            )
        return out

    def plan(self, *fleets):
        """Each fleet's documents, {host: document}, planned on the controller in one run."""
        done = subprocess.run(
            CONTROLLER, input=json.dumps(list(fleets)), capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    @staticmethod
    def apply(documents):
        """Apply in each host, as the role's module runs there; whether anything changed, per host."""
        return {host: in_netns(host, _apply, document) for host, document in documents.items()}

    def flows_text(self, index):
        return in_netns(self.ns(index), _shown)


def _apply(document):
    with Client() as client:
        return apply(client, parse_document(document)).changed


def _shown():
    with Client() as client:
        return json.dumps(show(client, ["ovl"]).to_dict())


@pytest.fixture(scope="module")
def fleet(kernel, tmp_path_factory):
    names = [unique("ovw") for _host in NETWORKS]
    workloads = [
        ("%s-%s" % (names[h], s), names[h], s, ip, mac) for h, s, _net, ip, mac in WORKLOADS
    ]
    try:
        hosts = netns_fleet.up(names, str(tmp_path_factory.mktemp("fleet")), sys.executable)
        netns_fleet.ip_batch(["netns add %s" % w[0] for w in workloads])
        for ns, host, suffix, ip, mac in workloads:
            netns_fleet.ip_batch(
                [
                    "link add wl-%s type veth peer name eth0 netns %s" % (suffix, ns),
                    "link set wl-%s up" % suffix,
                ],
                netns=host,
            )
            netns_fleet.ip_batch(
                [
                    "link set lo up",
                    "link set eth0 address %s" % mac,
                    "addr add %s/24 dev eth0" % ip,
                    "link set eth0 up",
                ],
                netns=ns,
            )
        fleet = Fleet(hosts)
        fleet.ipv4, fleet.removed, fleet.ipv6 = fleet.plan(
            fleet.members(), fleet.members(without=[(1, "a")]), fleet.members(family=6)
        )
        yield fleet
    finally:
        netns_fleet.ip_batch(["netns del %s" % w[0] for w in workloads], check=False)
        netns_fleet.down(names)


def ping(ns, address, answered=True):
    """Whether ADDRESS answers one ping from NS; a short wait when it should not."""
    argv = ["ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "1" if answered else "0.3", address]
    return run(*argv, check=False).returncode == 0


def neighbour(ns, address):
    out = run("ip", "-j", "-n", ns, "neigh", "show", address).stdout
    return [n.get("lladdr") for n in json.loads(out or "[]")]


# The tests run in this order, each from the state the previous one left.


def test_workloads_over_an_ipv4_underlay(fleet):
    changed = fleet.apply(fleet.ipv4)
    assert all(changed.values()), changed
    assert not any(fleet.apply(fleet.ipv4).values()), "a second run changed something"
    assert ping(fleet.ns(0, "a"), "10.10.0.31")  # same host, same network
    assert ping(fleet.ns(0, "a"), "10.10.0.12")  # across hosts
    assert ping(fleet.ns(0, "b"), "10.10.0.22")  # blue: h1 and h2 have no port of their own there
    assert ping(fleet.ns(1), "10.10.0.13")  # h2's own port to h3's workload
    # h3's own port is on blue: 10.10.0.11 there is h1's blue workload, not its red one.
    assert ping(fleet.ns(2), "10.10.0.11")
    assert neighbour(fleet.ns(2), "10.10.0.11") == ["02:bb:00:00:01:01"]
    # Tenants do not see each other: red's 10.10.0.22 does not exist.
    assert not ping(fleet.ns(0, "a"), "10.10.0.22", answered=False)
    assert not ping(fleet.ns(1, "b"), "10.10.0.12", answered=False)


def _packet_socket(ifname):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_TEST))
    sock.bind((ifname, ETH_P_TEST))
    return sock


def _frame(dst, src, tag):
    return (
        bytes.fromhex(dst.replace(":", "") + src.replace(":", ""))
        + struct.pack("!H", ETH_P_TEST)
        + tag.encode().ljust(46, b"\0")
    )


def _received(socks, seconds):
    """For each name, the tags of the test frames its socket gets within SECONDS."""
    tags = {name: [] for name in socks}
    names = {sock: name for name, sock in socks.items()}
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        ready = select.select(list(names), [], [], left)[0] if left > 0 else []
        if not ready:
            return tags
        for sock in ready:
            tags[names[sock]].append(sock.recv(2048)[14:].rstrip(b"\0").decode())


def test_a_spoofed_source_mac_gets_nowhere(fleet):
    """Frames from h1's red workload, with its MAC and with others, to a
    workload of the same host, of another host, and to everyone."""
    own, a2, c1 = "02:aa:00:00:01:01", "02:aa:00:00:02:01", "02:aa:00:00:01:03"
    sender = in_netns(fleet.ns(0, "a"), _packet_socket, "eth0")
    receivers = {
        name: in_netns(fleet.ns(*name), _packet_socket, "eth0") for name in ((0, "c"), (1, "a"))
    }
    try:
        for src in (own, a2, "02:aa:00:00:02:99"):
            for dst in (a2, c1, "ff:ff:ff:ff:ff:ff"):
                sender.send(_frame(dst, src, "%s>%s" % (src, dst)))
        got = _received(receivers, 1.0)
    finally:
        for sock in [sender, *list(receivers.values())]:
            sock.close()
    assert got == {
        (0, "c"): ["%s>%s" % (own, c1), "%s>ff:ff:ff:ff:ff:ff" % own],
        (1, "a"): ["%s>%s" % (own, a2), "%s>ff:ff:ff:ff:ff:ff" % own],
    }


def test_a_removed_endpoint_is_gone_from_every_host(fleet):
    assert "02:aa:00:00:02:01" in fleet.flows_text(0)
    changed = fleet.apply(fleet.removed)
    assert all(changed.values()), changed
    for index in range(len(fleet.hosts)):
        assert "02:aa:00:00:02:01" not in fleet.flows_text(index), index
    assert '"wl-a"' not in fleet.flows_text(1)  # h2's vport is gone (its veth stays)
    assert '"wl-a"' in fleet.flows_text(0)
    assert not ping(fleet.ns(0, "a"), "10.10.0.12", answered=False)


def test_workloads_over_an_ipv6_underlay(fleet):
    assert all(fleet.apply(fleet.ipv6).values())  # and h2's workload is back
    assert not any(fleet.apply(fleet.ipv6).values()), "a second run changed something"
    h1, h2 = fleet.hosts[0]["underlay_ip6"], fleet.hosts[1]["underlay_ip6"]
    # VXLAN from h1 to h2 with VNI 200 (blue): the VNI is at bytes 4-6 of the
    # VXLAN header, after the IPv6 (40 bytes) and UDP (8) headers. Workloads
    # and hosts send IPv6 multicast of their own, on other VNIs too.
    capture = subprocess.Popen(
        [
            "tcpdump",
            "-nn",
            "-l",
            "-c",
            "1",
            "-i",
            netns_fleet.BRIDGE,
            "ip6 src %s and ip6 dst %s and udp dst port 4789 and ip6[52:4] = 0x0000c800" % (h1, h2),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_listening(capture)
        assert ping(fleet.ns(0, "b"), "10.10.0.22")
        line = capture.communicate(timeout=10)[0]
    finally:
        capture.kill()
        capture.wait()
    assert "IP6 %s." % h1 in line and " > %s.4789: VXLAN" % h2 in line and "vni 200" in line, line
    assert ping(fleet.ns(0, "a"), "10.10.0.12")
    assert not ping(fleet.ns(0, "a"), "10.10.0.22", answered=False)


def _wait_listening(capture):
    """tcpdump says so on stderr once its filter is on the socket."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        readable = select.select([capture.stderr], [], [], deadline - time.monotonic())[0]
        if readable and "listening on" in capture.stderr.readline():
            return
    raise AssertionError("tcpdump did not start")
