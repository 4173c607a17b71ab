"""Kernel tests of vswitch_odp.client: datapaths, vports and flows with real traffic.

Tunnel vports take the datapath's own vport types in a normal boot; with
ODP_SANDBOX_MODPROBE_DENY=vport-vxlan,vport-geneve,vport-gre (see
tests/run-kernel-tests) they must fall back to metadata-mode netdevs.
"""

import os
import re
import subprocess
import uuid

import pytest
from conftest import unique
from vswitch_odp import errors
from vswitch_odp.client import Client
from vswitch_odp.flows import Flow

DENIED = os.environ.get("ODP_SANDBOX_MODPROBE_DENY", "")
TUNNEL_BACKING = "netdev" if "vport-vxlan" in DENIED else "ovs-vport"


def run(*argv, check=True):
    return subprocess.run(
        list(argv),
        check=check,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def ping(ns, addr):
    return (
        run("ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "1", addr, check=False).returncode
        == 0
    )


@pytest.fixture
def datapath(client):
    """A fresh datapath, deleted at teardown (with its vports and flows)."""
    dp = client.create_datapath(unique("dp"))
    yield dp
    try:
        client.delete_datapath(dp.name)
    except errors.NoSuchDatapath:
        pass


# -- datapaths --------------------------------------------------------------


def test_datapath_lifecycle(client):
    name = unique("dp")
    dp = client.create_datapath(name)
    try:
        assert dp.name == name and dp.ifindex > 0
        # Linux 6.1 takes per-CPU dispatch: dpif-netlink's preferred mode.
        assert "dispatch_upcall_per_cpu" in dp.features and "unaligned" in dp.features
        assert dp.dispatch == "per-cpu"
        assert set(dp.stats) == {"hit", "missed", "lost", "flows", "masks", "mask_hit", "cache_hit"}
        got = client.get_datapath(name)
        assert (got.ifindex, got.features) == (dp.ifindex, dp.features)
        assert name in [d.name for d in client.datapaths()]
        assert name in run("ovs-dpctl", "show").stdout
        with pytest.raises(errors.AlreadyExists, match="datapath %s already exists" % name):
            client.create_datapath(name)
        # A duplicate create must not reset the negotiated features.
        assert client.get_datapath(name).features == dp.features
        # The internal port named after the datapath is port 0.
        (local,) = client.vports(name)
        assert (local.name, local.type, local.port_no) == (name, "internal", 0)
    finally:
        client.delete_datapath(name)
    with pytest.raises(errors.NoSuchDatapath, match="datapath %s does not exist" % name):
        client.get_datapath(name)
    with pytest.raises(errors.NoSuchDatapath, match=name):
        client.delete_datapath(name)
    assert name not in [d.name for d in client.datapaths()]


def test_datapath_per_vport_dispatch(client):
    dp = client.create_datapath(unique("dp"), dispatch="per-vport")
    try:
        assert dp.dispatch == "per-vport" and "vport_pids" in dp.features
    finally:
        client.delete_datapath(dp.name)


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda c: c.create_datapath("a/b"), "datapath"),
        (lambda c: c.create_datapath("x" * 16), "datapath"),
        (lambda c: c.create_datapath("dp", dispatch="sometimes"), "dispatch"),
        (lambda c: c.create_vport("nodp", "v0", type="tap"), "type"),
        (lambda c: c.create_vport("nodp", "v0", port=4789), "port"),
        (lambda c: c.create_vport("nodp", "v0", type="vxlan", port=70000), "port"),
        (lambda c: c.create_vport("nodp", "v0", port_no=0), "port_no"),
        (lambda c: c.create_vport("nodp", "v0", upcall_pids=[-1]), "upcall_pids"),
        (lambda c: c.put_flow("nodp", Flow({"in_port": 1}), mode="replace"), "mode"),
    ],
)
def test_validation_before_sending(client, call, field):
    # "nodp" does not exist: a validation error proves nothing was sent.
    with pytest.raises(errors.ValidationError) as info:
        call(client)
    assert info.value.field == field


# -- vports -----------------------------------------------------------------


def test_netdev_and_internal_vports(client, datapath, veth):
    link = veth()
    vport = client.create_vport(datapath, link.host, port_no=7, upcall_pids=[4242])
    assert (vport.name, vport.type, vport.port_no, vport.backing) == (
        link.host,
        "netdev",
        7,
        "ovs-vport",
    )
    assert vport.upcall_pids == [4242] and vport.ifindex > 0
    assert set(vport.stats) >= {"rx_packets", "tx_packets", "rx_bytes", "tx_bytes"}
    internal = client.create_vport(datapath, unique("in"), type="internal")
    assert internal.type == "internal" and os.path.isdir("/sys/class/net/" + internal.name)
    assert [v.port_no for v in client.vports(datapath)] == [0, internal.port_no, 7]
    found = client.find_vport(link.host)
    assert (found.datapath, found.port_no) == (datapath.name, 7)
    assert client.set_upcall_pids(datapath, link.host, [99]).upcall_pids == [99]
    assert client.get_vport(datapath.name, link.host).upcall_pids == [99]
    with pytest.raises(errors.AlreadyExists):
        client.create_vport(datapath, link.host)
    client.delete_vport(datapath, link.host)
    with pytest.raises(
        errors.NoSuchVport, match="vport %s in datapath %s" % (link.host, datapath.name)
    ):
        client.get_vport(datapath, link.host)
    with pytest.raises(errors.NoSuchVport):
        client.find_vport(link.host)


def test_vport_errors(client, datapath, veth):
    with pytest.raises(errors.NotFound, match="network device nosuchdev0"):
        client.create_vport(datapath, "nosuchdev0")
    link = veth()
    client.create_vport(datapath, link.host)
    other = client.create_datapath(unique("dp"))
    try:
        with pytest.raises(errors.PortBusy, match=link.host):
            client.create_vport(other, link.host)
    finally:
        client.delete_datapath(other.name)
    with pytest.raises(errors.NoSuchDatapath, match="nodp0"):
        client.vports("nodp0")
    # Several upcall pids need per-vport dispatch (and enough CPUs).
    with pytest.raises(errors.ValidationError, match="vport_pids"):
        client.set_upcall_pids(datapath, link.host, [1, 2])


@pytest.mark.parametrize(
    "vport_type, port, expected",
    [("vxlan", None, 4789), ("vxlan", 4790, 4790), ("geneve", None, 6081), ("gre", None, None)],
)
def test_tunnel_vports(client, datapath, vport_type, port, expected):
    name = unique("t" + vport_type[:2])
    vport = client.create_vport(datapath, name, type=vport_type, port=port)
    assert (vport.type, vport.port, vport.backing) == (vport_type, expected, TUNNEL_BACKING)
    listed = {v.name: v for v in client.vports(datapath)}[name]
    assert (listed.type, listed.port, listed.backing) == (vport_type, expected, TUNNEL_BACKING)
    client.delete_vport(datapath, name)
    # Deleting the vport deletes the tunnel device, however it was made.
    assert not os.path.exists("/sys/class/net/" + name)


@pytest.mark.tunnel_fallback
def test_tunnel_fallback_netdev_details(client, datapath):
    """Without vport-vxlan the tunnel is a metadata-mode vxlan netdev, up, MTU 65000."""
    name = unique("tvx")
    client.create_vport(datapath, name, type="vxlan", port=4791)
    details = run("ip", "-d", "link", "show", name).stdout
    assert "vxlan external" in details and "dstport 4791" in details
    assert "mtu 65000" in details and ",UP" in details
    assert not os.path.isdir("/sys/module/vport_vxlan")
    client.delete_datapath(datapath.name)
    assert not os.path.exists("/sys/class/net/" + name)


# -- flows ------------------------------------------------------------------


def match_all(port):
    """Key and mask matching every Ethernet frame from ``port``."""
    return {"in_port": port, "eth": {}}, {"in_port": 0xFFFFFFFF, "eth": {}}


def both_ways(port_a, port_b):
    """Flows port_a <-> port_b for every Ethernet frame."""
    return [
        Flow(*match_all(port_a), actions=[("output", port_b)]),
        Flow(*match_all(port_b), actions=[("output", port_a)]),
    ]


@pytest.fixture
def wire(client, datapath, veth):
    """Two namespaces (10.99.0.1, 10.99.0.2) whose veths are vports 1 and 2."""
    a = veth(addr="10.99.0.1/24")
    b = veth(addr="10.99.0.2/24")
    client.create_vport(datapath, a.host, port_no=1)
    client.create_vport(datapath, b.host, port_no=2)
    return a, b


def test_flows_with_traffic(client, datapath, wire):
    a, _b = wire
    assert not ping(a.netns, "10.99.0.2")  # no flows: misses go nowhere
    forward, backward = both_ways(1, 2)
    client.put_flow(datapath, forward, mode="create")
    assert (
        client.put_flows(datapath, [backward, forward], mode="create")[1].__class__
        is errors.AlreadyExists
    )
    assert ping(a.netns, "10.99.0.2")
    flows = client.flows(datapath)
    assert len(flows) == 2 and all(f.packets > 0 for f in flows)
    got = client.get_flow(datapath, *match_all(1))
    assert got.actions == [("output", 2)] and got.packets > 0 and got.used
    # Modify in place keeps the statistics; clearing zeroes them.
    client.put_flow(datapath, Flow(forward.key, forward.mask, [("output", 2)]), mode="modify")
    assert client.get_flow(datapath, *match_all(1)).packets >= got.packets
    client.clear_flow_stats(datapath, *match_all(1))
    assert client.get_flow(datapath, *match_all(1)).packets == 0
    client.delete_flow(datapath, *match_all(1))
    with pytest.raises(errors.NoSuchFlow, match="in datapath %s" % datapath.name):
        client.get_flow(datapath, *match_all(1))
    assert not ping(a.netns, "10.99.0.2")
    client.flush_flows(datapath)
    assert client.flows(datapath) == []
    with pytest.raises(errors.NoSuchFlow):
        client.put_flow(datapath, forward, mode="modify")


def test_ufid_flows(client, datapath, wire):
    a, _b = wire
    flows = both_ways(1, 2)
    for index, flow in enumerate(flows):
        flow.ufid = bytes([index + 1]) * 16
    assert client.put_flows(datapath, flows) == [None, None]
    assert ping(a.netns, "10.99.0.2")
    assert sorted(f.ufid for f in client.flows(datapath)) == [b"\x01" * 16, b"\x02" * 16]
    assert client.get_flow(datapath, ufid=b"\x01" * 16).actions == [("output", 2)]
    assert client.delete_flows(datapath, flows) == [None, None]
    errs = client.delete_flows(datapath, flows)
    assert all(isinstance(e, errors.NoSuchFlow) for e in errs)


def test_many_flows_batched(client, datapath):
    flows = [
        Flow(
            {
                "in_port": 1,
                "eth": {},
                "eth_type": 0x0800,
                "ipv4": {
                    "src": 0x0A000000 + i,
                    "dst": 1,
                    "proto": 0,
                    "tos": 0,
                    "ttl": 0,
                    "frag": 0,
                },
            },
            {"in_port": 0xFFFFFFFF, "eth": {}, "eth_type": 0xFFFF, "ipv4": {"src": 0xFFFFFFFF}},
            [],
        )
        for i in range(2000)
    ]
    assert not any(client.put_flows(datapath, flows, mode="create"))
    dumped = client.flows(datapath)
    assert len(dumped) == 2000
    assert len({f.key["ipv4"]["src"] for f in dumped}) == 2000
    assert client.get_datapath(datapath.name).stats["flows"] == 2000
    assert not any(client.delete_flows(datapath, flows[:1000]))
    assert len(client.flows(datapath)) == 1000


def test_dpctl_cross_check(client, datapath):
    name = datapath.name
    client.put_flow(
        datapath,
        Flow(
            {
                "in_port": 1,
                "eth": {},
                "eth_type": 0x0800,
                "ipv4": {"src": 0x0A630001, "dst": 0, "proto": 0, "tos": 0, "ttl": 0, "frag": 0},
            },
            {"in_port": 0xFFFFFFFF, "eth": {}, "eth_type": 0xFFFF, "ipv4": {"src": 0xFFFFFFFF}},
            [("output", 2)],
        ),
    )
    text = run("ovs-dpctl", "dump-flows", name).stdout
    assert re.search(r"in_port\(1\).*ipv4\(src=10\.99\.0\.1.*actions:2", text), text
    client.flush_flows(datapath)
    run("ovs-dpctl", "add-flow", name, "in_port(1),eth(),eth_type(0x0806),arp()", "2")
    (flow,) = client.flows(datapath)
    assert flow.key["in_port"] == 1 and flow.key["eth_type"] == 0x0806
    assert flow.actions == [("output", 2)]
    client.delete_flow(datapath, flow.key, flow.mask)
    assert run("ovs-dpctl", "dump-flows", name).stdout.strip() == ""


# -- a VXLAN overlay between two namespaces, one datapath each --------------


def test_vxlan_overlay(netns):
    ns1, ns2 = netns("ovl"), netns("ovl")
    u1, u2 = unique("u"), unique("u")
    run("ip", "link", "add", u1, "netns", ns1, "type", "veth", "peer", "name", u2, "netns", ns2)
    for ns, dev, addr in ((ns1, u1, "198.18.0.1/24"), (ns2, u2, "198.18.0.2/24")):
        run("ip", "-n", ns, "addr", "add", addr, "dev", dev)
        run("ip", "-n", ns, "link", "set", dev, "up")
        run("ip", "-n", ns, "link", "set", "lo", "up")
    sides = (
        (ns1, "198.18.0.1", "198.18.0.2", "10.99.1.1/24"),
        (ns2, "198.18.0.2", "198.18.0.1", "10.99.1.2/24"),
    )
    clients = []
    try:
        for ns, _local, remote, overlay in sides:
            client = Client(netns=ns)
            clients.append(client)
            dp = client.create_datapath("ovl")
            tun = client.create_vport(dp, "vx", type="vxlan")
            host = client.create_vport(dp, "ovlport", type="internal")
            run("ip", "-n", ns, "addr", "add", overlay, "dev", "ovlport")
            run("ip", "-n", ns, "link", "set", "ovlport", "up")
            remote_int = int.from_bytes(bytes(int(x) for x in remote.split(".")), "big")
            client.put_flow(
                dp,
                Flow(
                    *match_all(host.port_no),
                    actions=[
                        ("set", {"tunnel": {"tun_id": 42, "dst": remote_int, "ttl": 64}}),
                        ("output", tun.port_no),
                    ],
                ),
            )
            client.put_flow(
                dp,
                Flow(
                    {
                        "tunnel": {"tun_id": 42, "src": remote_int},
                        "in_port": tun.port_no,
                        "eth": {},
                    },
                    {
                        "tunnel": {"tun_id": 0xFFFFFFFFFFFFFFFF, "src": 0xFFFFFFFF},
                        "in_port": 0xFFFFFFFF,
                        "eth": {},
                    },
                    [("output", host.port_no)],
                ),
            )
        capture = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                ns2,
                "tcpdump",
                "-c",
                "1",
                "-nn",
                "-i",
                u2,
                "udp",
                "port",
                "4789",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert ping(ns1, "10.99.1.2") or ping(ns1, "10.99.1.2"), [
                (f.key, f.packets) for c in clients for f in c.flows("ovl")
            ]
            out = capture.communicate(timeout=10)[0]
        finally:
            if capture.poll() is None:
                capture.kill()
        assert "vni 42" in out, out
        assert all(f.packets > 0 for f in clients[0].flows("ovl"))
    finally:
        for client in clients:
            try:
                client.delete_datapath("ovl")
            finally:
                client.close()


def test_delete_by_name_after_another_program_re_created_the_datapath(client):
    """A client's cached ifindex goes stale when another program deletes and
    re-creates the datapath: deleting it by name must still delete it."""
    name = "stale" + uuid.uuid4().hex[:6]
    client.create_datapath(name)
    client.vports(name)  # cached now
    with Client() as other:
        other.delete_datapath(name)
        other.create_datapath(name)
    client.delete_datapath(name)
    assert name not in [dp.name for dp in client.datapaths()]
