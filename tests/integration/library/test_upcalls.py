"""Kernel tests of upcalls (Listener) and packet execution (execute).

A datapath with two netdev vports over veth pairs into two namespaces and no
flows: traffic from a namespace misses and comes up to the listener.
"""

import ctypes
import json
import os
import socket
import struct
import subprocess
import threading
import uuid

import pytest
from conftest import run
from vswitch_odp import Client, errors
from vswitch_odp.families import DatapathFamily, FlowFamily, VportFamily
from vswitch_odp.netlink import NLM_F_CREATE, NLM_F_ECHO, NLM_F_EXCL, Transport
from vswitch_odp.upcalls import Listener, execute

CLONE_NEWNET = 0x40000000
ETH_P_TEST = 0x88B5  # IEEE local experimental: nothing else in the namespace sends it
CREATOR_PID = 4242  # upcall pid the vports are created with, to check the restore
BASE_FEATURES = DatapathFamily.F_UNALIGNED | DatapathFamily.F_VPORT_PIDS


class Topology:
    """Datapath + vports over veths; ``ns1``/``ns2`` hold the peers."""

    def __init__(self, transport, name, features):
        self.transport = transport
        self.name = name
        attrs = DatapathFamily.attrs.encode(
            [("name", name), ("upcall_pid", CREATOR_PID), ("user_features", features)]
        )
        reply = transport.request(
            DatapathFamily, DatapathFamily.CMD_NEW, 0, attrs, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO
        )
        self.ifindex = reply[0][0]
        self.features = reply[0][1]["user_features"]
        self.ports = {}

    def add_vport(self, device):
        attrs = VportFamily.attrs.encode(
            [("name", device), ("type", 1), ("upcall_pids", struct.pack("=I", CREATOR_PID))]
        )
        reply = self.transport.request(
            VportFamily,
            VportFamily.CMD_NEW,
            self.ifindex,
            attrs,
            NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO,
        )
        self.ports[device] = reply[0][1]["port_no"]
        return self.ports[device]

    def upcall_pids(self, device):
        attrs = VportFamily.attrs.encode([("name", device)])
        reply = self.transport.request(VportFamily, VportFamily.CMD_GET, self.ifindex, attrs)
        return struct.unpack("=I", reply[0][1]["upcall_pids"][:4])[0]

    def put_flow(self, key, mask, actions):
        attrs = FlowFamily.attrs.encode([("key", key), ("mask", mask), ("actions", actions)])
        self.transport.request(FlowFamily, FlowFamily.CMD_NEW, self.ifindex, attrs, NLM_F_CREATE)

    def delete(self):
        self.transport.request(DatapathFamily, DatapathFamily.CMD_DEL, self.ifindex, b"")


@pytest.fixture
def transport(kernel):
    with Transport() as t:
        yield t


@pytest.fixture
def topology(transport, veth):
    """Factory: topology(per_cpu) -> (Topology, veth1, veth2) with 10.9.0.1/.2 in ns1/ns2.

    Each namespace knows the other's MAC (static neighbour), so a ping is one
    unicast IPv4 packet, no ARP.
    """
    made = []

    def make(per_cpu, attach_second=True):
        features = BASE_FEATURES | (DatapathFamily.F_DISPATCH_UPCALL_PER_CPU if per_cpu else 0)
        topo = Topology(transport, "odpu" + uuid.uuid4().hex[:8], features)
        made.append(topo)
        v1, v2 = veth(addr="10.9.0.1/24"), veth(addr="10.9.0.2/24")
        for near, far, address in ((v1, v2, "10.9.0.2"), (v2, v1, "10.9.0.1")):
            run(
                "ip",
                "-n",
                near.netns,
                "neigh",
                "replace",
                address,
                "lladdr",
                mac_text(far),
                "dev",
                near.peer,
            )
        topo.add_vport(v1.host)
        if attach_second:
            topo.add_vport(v2.host)
        return topo, v1, v2

    yield make
    for topo in made:
        topo.delete()


def mac(veth):
    return int(mac_text(veth).replace(":", ""), 16)


def mac_text(veth):
    out = run("ip", "-j", "-n", veth.netns, "link", "show", "dev", veth.peer).stdout
    return json.loads(out)[0]["address"]


def ping(ns, address):
    """Start one ping (it fails: there are no flows; we only want its packet)."""
    return subprocess.Popen(
        ["ip", "netns", "exec", ns, "ping", "-n", "-c", "1", "-W", "1", address],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_upcall(listener, predicate, timeout=10.0):
    """The first upcall matching ``predicate`` (other traffic, e.g. IPv6 RS, skipped)."""
    seen = []
    while True:
        upcall = listener.recv(timeout=timeout)
        assert upcall is not None, "no matching upcall; got %r" % seen
        if predicate(upcall):
            return upcall
        seen.append(upcall)


def is_icmp_echo(upcall):
    return upcall.key.get("eth_type") == 0x0800 and upcall.key.get("ipv4", {}).get("proto") == 1


def icmpv6_type(upcall):
    return upcall.key.get("ipv6", {}).get("proto") == 58 and upcall.key["icmpv6"]["type"]


def test_miss_upcall_ipv6_exthdrs(topology):
    """The kernel (6.0+) says which IPv6 extension headers a packet had: an
    MLDv2 report carries a hop-by-hop header (its router alert), a neighbour
    solicitation none."""
    topo, v1, _v2 = topology(True)
    with Listener(topo.name) as listener:
        # A new address: DAD's solicitation, and the report joining its group.
        run("ip", "-n", v1.netns, "addr", "add", "2001:db8:9::1/64", "dev", v1.peer)
        first = {}  # icmpv6 type -> its first upcall, whichever comes first
        while len(first) < 2:
            upcall = wait_upcall(listener, lambda u: icmpv6_type(u) in (135, 143))
            first.setdefault(icmpv6_type(upcall), upcall)
    assert first[143].key["ipv6_exthdrs"] == {"hdrs": 0x40}  # OFPIEH12_HOP
    assert first[135].key["ipv6_exthdrs"] == {"hdrs": 0}


@pytest.mark.parametrize("per_cpu", [True, False], ids=["per-cpu", "per-vport"])
def test_miss_upcall(topology, per_cpu):
    topo, v1, v2 = topology(per_cpu)
    assert bool(topo.features & DatapathFamily.F_DISPATCH_UPCALL_PER_CPU) == per_cpu
    with Listener(topo.name) as listener:
        assert listener.per_cpu == per_cpu
        if not per_cpu:
            assert topo.upcall_pids(v1.host) == listener.portid
        proc = ping(v1.netns, "10.9.0.2")
        try:
            upcall = wait_upcall(listener, is_icmp_echo)
        finally:
            proc.wait()
    assert upcall.cmd == "miss"
    assert upcall.datapath == topo.name
    assert upcall.in_port == topo.ports[v1.host]
    assert upcall.key["eth"] == {"src": mac(v1), "dst": mac(v2)}
    assert upcall.key["ipv4"]["src"] == 0x0A090001 and upcall.key["ipv4"]["dst"] == 0x0A090002
    assert upcall.packet[:12] == mac(v2).to_bytes(6, "big") + mac(v1).to_bytes(6, "big")
    assert upcall.userdata is None
    if not per_cpu:
        # The vports point at their creator's port id again.
        assert topo.upcall_pids(v1.host) == CREATOR_PID


def test_vport_added_while_listening(topology):
    topo, _v1, v2 = topology(per_cpu=False, attach_second=False)
    with Listener(topo.name) as listener:
        topo.add_vport(v2.host)
        # The listener takes the new vport when it reads the vport notification
        # (other traffic, e.g. IPv6 router solicitations of vport 1, may come first).
        for _attempt in range(50):
            listener.recv(timeout=0.1)
            if topo.upcall_pids(v2.host) == listener.portid:
                break
        else:
            pytest.fail("the listener did not take the vport created while it listened")
        proc = ping(v2.netns, "10.9.0.1")
        try:
            upcall = wait_upcall(listener, is_icmp_echo)
        finally:
            proc.wait()
        assert upcall.in_port == topo.ports[v2.host]
    assert topo.upcall_pids(v2.host) == CREATOR_PID


def test_userspace_action_upcall(topology):
    topo, v1, _v2 = topology(per_cpu=True)
    with Listener(topo.name) as listener:
        zero_ipv4 = {"src": 0, "dst": 0, "proto": 0, "tos": 0, "ttl": 0, "frag": 0}
        topo.put_flow(
            {
                "in_port": topo.ports[v1.host],
                "eth": {"src": 0, "dst": 0},
                "eth_type": 0x0800,
                "ipv4": zero_ipv4,
            },
            {
                "in_port": 0xFFFFFFFF,
                "eth": {"src": 0, "dst": 0},
                "eth_type": 0xFFFF,
                "ipv4": zero_ipv4,
            },
            [("userspace", {"pid": listener.portid, "userdata": b"odp-test"})],
        )
        proc = ping(v1.netns, "10.9.0.2")
        try:
            upcall = wait_upcall(listener, lambda u: u.cmd == "action" and is_icmp_echo(u))
        finally:
            proc.wait()
    assert upcall.userdata == b"odp-test"
    assert upcall.in_port == topo.ports[v1.host]
    assert upcall.key["eth"]["src"] == mac(v1)


def packet_socket(ns, device, ethertype):
    """An AF_PACKET socket on ``device`` inside namespace ``ns``.

    setns() moves only the calling thread, so a helper thread opens the socket
    there; the socket stays in that namespace.
    """
    result = {}

    def opener():
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open("/run/netns/" + ns, os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns " + ns)
        finally:
            os.close(fd)
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ethertype))
        sock.bind((device, ethertype))
        result["sock"] = sock

    thread = threading.Thread(target=opener)
    thread.start()
    thread.join()
    return result["sock"]


def test_execute_delivers_packet(topology):
    topo, v1, v2 = topology(per_cpu=True)
    frame = (
        mac(v2).to_bytes(6, "big")
        + bytes.fromhex("020000000abc")
        + struct.pack(">H", ETH_P_TEST)
        + b"odp-execute".ljust(46, b"\0")
    )
    with packet_socket(v2.netns, v2.peer, ETH_P_TEST) as sock:
        sock.settimeout(5)
        # Entering by vport 1 (key metadata) and entering by the local port.
        execute(
            topo.name,
            frame,
            [("output", topo.ports[v2.host])],
            key={"in_port": topo.ports[v1.host]},
        )
        assert sock.recv(2048)[: len(frame)] == frame
        with Transport() as transport:
            execute(topo.name, frame, [("output", topo.ports[v2.host])], transport=transport)
            assert sock.recv(2048)[: len(frame)] == frame
            # The ack was read: the next request on this transport works.
            assert transport.request(DatapathFamily, DatapathFamily.CMD_GET, topo.ifindex)


def test_execute_errors(topology):
    topo, _v1, _v2 = topology(per_cpu=True)
    frame = bytes(60)
    with pytest.raises(errors.ValidationError) as info:
        execute(topo.name, b"short", [("output", 1)])
    assert info.value.field == "packet"
    with pytest.raises(errors.ValidationError) as info:
        execute(topo.name, frame, [("outptu", 1)])
    assert info.value.field == "actions"
    with pytest.raises(errors.NoSuchDatapath) as info:
        execute("odpu-missing", frame, [("output", 1)])
    assert "odpu-missing" in str(info.value)
    # A userspace action without its pid: the kernel refuses, the error names the datapath.
    with pytest.raises(errors.KernelRejected) as info:
        execute(topo.name, frame, [("userspace", {})])
    assert topo.name in str(info.value)


def test_listener_in_a_network_namespace(kernel, netns):
    """A datapath of another namespace: the listener's socket must be there
    too, or the kernel finds no socket of that port id and counts the upcall
    lost (odp -n NS datapath listen saw nothing)."""
    ns = netns()
    with Client(netns=ns) as client:
        client.create_datapath("nsdp")
        try:
            client.create_vport("nsdp", "nsp1", type="internal")
            run("ip", "-n", ns, "addr", "add", "10.81.0.1/24", "dev", "nsp1")
            run("ip", "-n", ns, "link", "set", "nsp1", "up")
            with client.listen("nsdp") as listener:
                run(
                    "ip",
                    "netns",
                    "exec",
                    ns,
                    "ping",
                    "-c",
                    "1",
                    "-W",
                    "1",
                    "10.81.0.2",
                    check=False,
                )
                upcall = wait_upcall(listener, lambda u: u.key.get("eth_type") == 0x0806, timeout=3)
        finally:
            client.delete_datapath("nsdp")
        assert (upcall.cmd, upcall.key["arp"]["tip"]) == ("miss", 0x0A510002)
