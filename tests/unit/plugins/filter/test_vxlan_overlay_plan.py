"""The vxlan_overlay role's plan (plugins/filter/vxlan_overlay.py): pure logic.

The forwarding rules are checked by running the plans of a fleet
(overlay_fabric.py): frames sent into one host's port, carried over the
tunnel, and where they come out.
"""

import copy
import os
import re

import pytest

pytest.importorskip("ansible")
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.vswitch.odp.plugins.filter import vxlan_overlay as plan_mod
from ansible_collections.vswitch.odp.plugins.plugin_utils.overlay_declarations import default_mac
from overlay.overlay_plans import plan_all as plans
from overlay_fabric import Fabric, address, overlapping


def member(host, ip, *networks, endpoints=()):
    nets = []
    for n, v, a in networks:
        nets.append({"name": n, "vni": v} if a is None else {"name": n, "vni": v, "address": a})
    return {"host": host, "underlay_ip": ip, "networks": nets, "endpoints": list(endpoints)}


def ep(network, port, mac, **kw):
    return dict(network=network, port=port, mac=mac, **kw)


H1 = member("h1", "198.18.0.1", ("red", 100, "10.10.0.1/24"), ("green", 300, "10.30.0.1/24"))
H2 = member("h2", "198.18.0.2", ("red", 100, "10.10.0.2/24"))
H3 = member("h3", "198.18.0.3", ("red", 100, "10.10.0.3/24"), ("green", 300, "10.30.0.3/24"))
BLUE4 = member("h4", "198.18.0.4", ("blue", 200, "10.10.0.4/24"))


def plan(me, members, **kw):
    return plan_mod.vxlan_overlay_plan(me, members, "ovl", "ovl-vxlan", **kw)


# ---------------------------------------------------------------------------
# Hosts' own ports only: the inventories of before workloads, unchanged.


def test_full_mesh_flows():
    p = plan(H1, [H1, H2, H3, BLUE4])
    assert p["peers"] == {"red": ["h2", "h3"], "green": ["h3"]}
    assert [v["name"] for v in p["vports"]] == ["ovl-vxlan", "red", "green"]
    assert p["vports"][0] == {"name": "ovl-vxlan", "type": "vxlan", "port": 4789}
    # red: 2 peers x (unicast + decap) + 1 flood; green: 1 x 2 + 1
    assert len(p["flows"]) == 5 + 3
    mac2 = default_mac(100, "h2")
    flows = {f["key"]: f["actions"] for f in p["flows"]}
    assert (
        flows["recirc_id(0),in_port(red),eth(dst=%s)" % mac2]
        == "set(tunnel(tun_id=0x64,dst=198.18.0.2,ttl=64)),ovl-vxlan"
    )
    assert (
        flows[
            "recirc_id(0),tunnel(tun_id=0x64,src=198.18.0.3,dst=198.18.0.1),in_port(ovl-vxlan),eth()"
        ]
        == "red"
    )
    flood = flows["recirc_id(0),in_port(red),eth(dst=01:00:00:00:00:00/01:00:00:00:00:00)"]
    assert flood == (
        "set(tunnel(tun_id=0x64,dst=198.18.0.2,ttl=64)),ovl-vxlan,"
        "set(tunnel(tun_id=0x64,dst=198.18.0.3,ttl=64)),ovl-vxlan"
    )


def test_isolation_same_subnet_other_vni():
    # blue shares red's subnet but not its VNI: no flow of h4 mentions red's peers.
    p = plan(BLUE4, [H1, H2, H3, BLUE4])
    assert p["peers"] == {"blue": []}
    assert p["flows"] == []
    assert all(
        "0x64" not in f["key"] + f["actions"]
        for f in plan(H2, [H1, H2, H3, BLUE4])["flows"]
        if "blue" in f["key"]
    )


def test_peer_limit_and_departure():
    assert plan(H1, [H1, H2])["peers"] == {"red": ["h2"], "green": []}
    green = [
        f for f in plan(H1, [H1, H2])["flows"] if "green" in f["key"] or f["actions"] == "green"
    ]
    assert green == []


def test_macs_are_stable_unicast_and_distinct():
    mac = default_mac(100, "h1")
    assert mac == default_mac(100, "h1") != default_mac(200, "h1")
    assert mac.startswith("02:")
    links = plan(H1, [H1])["links"]
    assert links[0] == {"name": "red", "mac": mac, "mtu": 1450, "addresses": ["10.10.0.1/24"]}


def test_host_ports_forward_across_the_mesh():
    fleet = [H1, H2, H3, BLUE4]
    fabric = Fabric(plans(fleet))
    m1, m2 = (default_mac(100, h) for h in ("h1", "h2"))
    assert fabric.send("h1", "red", m1, m2) == [("h2", "red")]
    assert fabric.encapsulations == [("h1", "h2", 100)]
    assert fabric.send("h1", "red", m1, "ff:ff:ff:ff:ff:ff") == [("h2", "red"), ("h3", "red")]
    assert fabric.send("h1", "red", m1, "02:00:00:00:99:99") == []  # no owner: dropped


# ---------------------------------------------------------------------------
# Workloads. red and blue share 10.10.0.0/24 on other VNIs; h1 and h3 carry
# blue for their workloads only (no address there); h3 has no workload on red
# (one stage there, two on blue); h4 declares red and has nothing on it.

A1, A1B, A2, B1, B2, B3 = (
    "02:aa:00:00:01:01",
    "02:aa:00:00:01:02",
    "02:aa:00:00:02:01",
    "02:bb:00:00:01:01",
    "02:bb:00:00:02:01",
    "02:bb:00:00:03:01",
)


def fleet(family=4):
    ip = "198.18.0.%d" if family == 4 else "2001:db8::%d"
    return [
        member(
            "h1",
            ip % 1,
            ("red", 100, "10.10.0.1/24"),
            ("blue", 200, None),
            endpoints=[
                ep("red", "tap-a1", A1, name="vm-a1", addresses=["10.10.0.11"]),
                ep("blue", "tap-b1", B1, addresses=["10.10.0.11/24"]),
                ep("red", "veth-a1b", A1B),
            ],
        ),
        member(
            "h2",
            ip % 2,
            ("red", 100, "10.10.0.2/24"),
            ("blue", 200, "10.10.0.2/24"),
            endpoints=[ep("red", "tap-a2", A2), ep("blue", "tap-b2", B2)],
        ),
        member(
            "h3",
            ip % 3,
            ("red", 100, "10.10.0.3/24"),
            ("blue", 200, None),
            endpoints=[ep("blue", "tap-b3", B3)],
        ),
        member("h4", ip % 4, ("red", 100, None)),
    ]


def host_mac(vni, host):
    return default_mac(vni, host)


RED1, RED2, RED3 = (host_mac(100, h) for h in ("h1", "h2", "h3"))
BLUE2 = host_mac(200, "h2")
RED_PORTS = [
    ("h1", "red"),
    ("h1", "tap-a1"),
    ("h1", "veth-a1b"),
    ("h2", "red"),
    ("h2", "tap-a2"),
    ("h3", "red"),
]
BLUE_PORTS = [("h1", "tap-b1"), ("h2", "blue"), ("h2", "tap-b2"), ("h3", "tap-b3")]


@pytest.fixture(params=[4, 6], ids=["ipv4-underlay", "ipv6-underlay"])
def fabric(request):
    return Fabric(plans(fleet(request.param)))


def test_vports_and_links_of_a_workload_host():
    p = plans(fleet())["h1"]
    assert p["vports"] == [
        {"name": "ovl-vxlan", "type": "vxlan", "port": 4789},
        {"name": "red", "type": "internal"},
        {"name": "tap-a1", "type": "netdev"},
        {"name": "veth-a1b", "type": "netdev"},
        {"name": "tap-b1", "type": "netdev"},
    ]
    # No address on blue: no port of the host's own there, and no link settings.
    assert [link["name"] for link in p["links"]] == ["red"]
    assert p["peers"] == {"red": ["h2", "h3"], "blue": ["h2", "h3"]}  # h4 has no port on red


def test_local_to_local_goes_straight_to_the_port(fabric):
    assert fabric.send("h1", "tap-a1", A1, A1B) == [("h1", "veth-a1b")]
    assert fabric.encapsulations == []
    assert fabric.send("h1", "veth-a1b", A1B, RED1) == [("h1", "red")]  # the host's own port
    assert fabric.send("h1", "red", RED1, A1) == [("h1", "tap-a1")]


def test_local_to_remote_through_the_tunnel_of_the_owner(fabric):
    assert fabric.send("h1", "tap-a1", A1, A2) == [("h2", "tap-a2")]
    assert fabric.encapsulations == [("h1", "h2", 100)]
    assert fabric.send("h2", "tap-b2", B2, B1) == [("h1", "tap-b1")]
    assert fabric.encapsulations == [("h2", "h1", 200)]


def test_from_the_tunnel_to_the_workload_or_the_host_port(fabric):
    assert fabric.send("h1", "tap-a1", A1, RED2) == [("h2", "red")]
    assert fabric.send("h2", "red", RED2, A1B) == [("h1", "veth-a1b")]
    # h3 has no workload: its one-stage flows reach h1's workloads, and back.
    assert fabric.send("h3", "red", RED3, A1) == [("h1", "tap-a1")]
    assert fabric.send("h1", "tap-a1", A1, RED3) == [("h3", "red")]


def test_broadcast_from_a_local_port_reaches_every_other_port_once(fabric):
    for host, port in RED_PORTS:
        src = {"red": host_mac(100, host), "tap-a1": A1, "veth-a1b": A1B, "tap-a2": A2}[port]
        got = fabric.send(host, port, src, "ff:ff:ff:ff:ff:ff")
        assert got == [p for p in RED_PORTS if p != (host, port)], (host, port)
        # One copy per remote host with a port on red, never re-sent by a receiver.
        assert sorted(fabric.encapsulations) == sorted(
            (host, h, 100) for h in ("h1", "h2", "h3") if h != host
        )
    assert fabric.send("h1", "tap-b1", B1, "33:33:00:00:00:01") == [
        ("h2", "blue"),
        ("h2", "tap-b2"),
        ("h3", "tap-b3"),
    ]


def test_from_the_tunnel_local_ports_only(fabric):
    """Split horizon: what a peer sends is never sent on into the tunnel."""
    h2 = fabric.hosts["h2"].plan["underlay_ip"]
    h1 = fabric.hosts["h1"].plan["underlay_ip"]
    six = ":" in h1
    tunnel = {
        "tun_id": 100,
        "ipv6_src" if six else "src": address(h2),
        "ipv6_dst" if six else "dst": address(h1),
    }
    assert fabric.send("h1", "ovl-vxlan", A2, "ff:ff:ff:ff:ff:ff", tunnel) == [
        ("h1", "red"),
        ("h1", "tap-a1"),
        ("h1", "veth-a1b"),
    ]
    assert fabric.encapsulations == []
    # Unicast to a third host's MAC arriving here: dropped, not relayed.
    assert fabric.send("h1", "ovl-vxlan", A2, RED3, tunnel) == []
    # The same from an unknown peer, or with another VNI: nothing.
    stranger = dict(tunnel, **{"ipv6_src" if six else "src": address(h2) + 100})
    assert fabric.send("h1", "ovl-vxlan", A2, A1, stranger) == []
    assert fabric.send("h1", "ovl-vxlan", A2, A1, dict(tunnel, tun_id=300)) == []
    assert fabric.send("h1", "ovl-vxlan", A2, A1, tunnel) == [("h1", "tap-a1")]


def test_a_spoofed_source_mac_gets_nowhere(fabric):
    for spoofed in (A1B, A2, RED1, "02:66:66:66:66:66"):
        for dst in (A1B, A2, RED1, RED2, "ff:ff:ff:ff:ff:ff"):
            assert fabric.send("h1", "tap-a1", spoofed, dst) == [], (spoofed, dst)
    # A workload's MAC from another workload's port is a spoof too.
    assert fabric.send("h1", "veth-a1b", A1, A2) == []


def test_tenants_are_isolated_on_overlapping_subnets(fabric):
    blue = set(BLUE_PORTS)
    for host, port in RED_PORTS:
        src = {"red": host_mac(100, host), "tap-a1": A1, "veth-a1b": A1B, "tap-a2": A2}[port]
        for dst in (B1, B2, BLUE2, "ff:ff:ff:ff:ff:ff"):
            assert not blue & set(fabric.send(host, port, src, dst))
    for dst in (A1, A2, RED1, RED2, "ff:ff:ff:ff:ff:ff"):
        assert not set(RED_PORTS) & set(fabric.send("h2", "tap-b2", B2, dst))


def test_no_two_flows_of_a_host_overlap():
    """No flow priorities in the kernel datapath: overlapping flows would make
    forwarding depend on the order of the kernel's mask list."""
    for family in (4, 6):
        for host, h in Fabric(plans(fleet(family))).hosts.items():
            for i, a in enumerate(h.flows):
                for b in h.flows[i + 1 :]:
                    assert not overlapping(a, b), (host, a, b)


def test_an_endpoint_removed_disappears_from_every_host():
    before = fleet()
    after = copy.deepcopy(before)
    after[1]["endpoints"] = [e for e in after[1]["endpoints"] if e["port"] != "tap-a2"]
    assert any(A2 in f["key"] for f in plans(before)["h1"]["flows"])
    for host, p in plans(after).items():
        texts = [f["key"] + " " + f["actions"] for f in p["flows"]]
        assert not [t for t in texts if A2 in t or "tap-a2" in t], host
    assert "tap-a2" not in [v["name"] for v in plans(after)["h2"]["vports"]]
    fabric = Fabric(plans(after))
    assert fabric.send("h1", "tap-a1", A1, A2) == []
    assert fabric.send("h1", "tap-a1", A1, "ff:ff:ff:ff:ff:ff") == [
        p for p in RED_PORTS if p[1] not in ("tap-a1", "tap-a2")
    ]


def test_ipv6_underlay_tunnels():
    p = plans(fleet(6))["h1"]
    texts = " ".join(f["key"] + " " + f["actions"] for f in p["flows"])
    assert "tunnel(tun_id=0x64,ipv6_src=2001:db8::2,ipv6_dst=2001:db8::1)" in texts
    assert "set(tunnel(tun_id=0x64,ipv6_dst=2001:db8::2,ttl=64))" in texts
    assert not re.search(r"[^6_](src|dst)=2001", texts)
    assert p["underlay_ip"] == "2001:db8::1"


def test_ipv6_underlay_host_ports_only():
    a = member("v1", "2001:db8::1", ("red", 100, "fd00::1/64"))
    b = member("v2", "2001:db8::2", ("red", 100, "fd00::2/64"))
    fabric = Fabric(plans([a, b]))
    assert fabric.send("v1", "red", host_mac(100, "v1"), host_mac(100, "v2")) == [("v2", "red")]


def flow_count(members, host):
    """docs/vxlan-overlay.md's formula, network by network."""
    me = next(m for m in members if m["host"] == host)
    total = 0
    for net in me["networks"]:
        name = net["name"]
        own = 1 if "address" in net else 0
        endpoints = sum(1 for e in me["endpoints"] if e["network"] == name)
        ports = own + endpoints
        remote, peers = 0, 0
        for m in members:
            theirs = [n for n in m["networks"] if n["name"] == name]
            if m["host"] == host or not theirs:
                continue
            r = (1 if "address" in theirs[0] else 0) + sum(
                1 for e in m["endpoints"] if e["network"] == name
            )
            remote += r
            peers += 1 if r else 0
        if endpoints and peers:
            total += 4 * ports + remote + peers + 1
        elif endpoints:
            total += 2 * ports + (ports if ports > 1 else 0)
        elif own:
            total += remote + peers + (1 if peers else 0)
    return total


def test_flow_count_formula():
    members = fleet()
    for host, p in plans(members).items():
        assert len(p["flows"]) == flow_count(members, host), host
    # L local ports, R remote ports, P peers: 4L + R + P + 1 with workloads.
    assert len(plans(members)["h1"]["flows"]) == (4 * 3 + 3 + 2 + 1) + (4 * 1 + 3 + 2 + 1)


# ---------------------------------------------------------------------------
# Validation: before any host changes, naming the host, the field and the value.


@pytest.mark.parametrize(
    "bad, message",
    [
        (member("h9", "198.18.0.9", ("red", 0, "10.10.0.9/24")), "vxlan_overlay_networks[0].vni=0"),
        (member("h9", "198.18.0.9", ("red", 1 << 24, "10.10.0.9/24")), "must be an integer from 1"),
        (member("h9", "198.18.0.9", ("a-name-far-too-long", 7, "10.10.0.9/24")), ".name="),
        (
            member("h9", "198.18.0.9", ("drop", 7, "10.10.0.9/24")),
            "reads as a port number or an action",
        ),
        (member("h9", "198.18.0.9", ("red", 100, "10.10.0.9")), "needs a prefix length"),
        (member("h9", "198.18.0.9", ("red", 100, "10.10.0.300/24")), "address='10.10.0.300/24'"),
        (member("h9", "", ("red", 100, "10.10.0.9/24")), "vxlan_overlay_underlay_ip=''"),
        (
            member("h9", "fe80::9", ("red", 100, "10.10.0.9/24")),
            "vxlan_overlay_underlay_ip='fe80::9'",
        ),
        (
            member("h9", "198.18.0.9", ("red", 101, "10.10.0.9/24")),
            "h2 declares this network with vni 100",
        ),
        (
            member("h9", "198.18.0.9", ("pink", 100, "10.10.0.9/24")),
            "h2 uses this vni for network red",
        ),
        (member("h9", "198.18.0.9", ("red", 100, "10.10.0.2/24")), "also used by h2"),
        (
            member("h9", "198.18.0.2", ("red", 100, "10.10.0.9/24")),
            "also the underlay address of h2",
        ),
        (
            member("h9", "198.18.0.9", ("red", 100, "10.10.0.9/24"), ("red", 100, "10.10.0.8/24")),
            "declared twice",
        ),
        (member("h9", "198.18.0.9", ("ovl", 900, "10.10.0.9/24")), "collides"),
        (
            member("h9", "2001:db8::9", ("red", 100, "10.10.0.9/24")),
            "vxlan_overlay_underlay_ip='2001:db8::9': network red: h2 reaches it over IPv4",
        ),
    ],
)
def test_bad_input_names_host_field_and_value(bad, message):
    with pytest.raises(AnsibleFilterError) as exc:
        plan(bad, [bad, H2])
    assert "host h9" in str(exc.value)
    assert message in str(exc.value)


def test_multicast_mac_refused():
    bad = member("h9", "198.18.0.9", ("red", 100, "10.10.0.9/24"))
    bad["networks"][0]["mac"] = "01:00:5e:00:00:01"
    with pytest.raises(AnsibleFilterError, match="unicast, non-zero MAC"):
        plan(bad, [bad])


RED9 = ("red", 100, "10.10.0.9/24")
H2W = member("h2", "198.18.0.2", ("red", 100, "10.10.0.2/24"), endpoints=[ep("red", "tap-a2", A2)])


@pytest.mark.parametrize(
    "endpoints, networks, message",
    [
        (
            [ep("red", "tap1", A2)],
            [RED9],
            "vxlan_overlay_endpoints[0].mac='02:aa:00:00:02:01': is also used on network red by h2",
        ),
        (
            [ep("red", "tap1", A1), ep("red", "tap2", A1)],
            [RED9],
            "vxlan_overlay_endpoints[1].mac='02:aa:00:00:01:01': is also used on network red by h9",
        ),
        (
            [ep("red", "tap1", RED2)],
            [RED9],
            "vxlan_overlay_endpoints[0].mac='%s': is also used on network red by h2" % RED2,
        ),
        ([ep("red", "tap1", host_mac(100, "h9"))], [RED9], "is also used on network red by h9"),
        (
            [ep("blue", "tap1", A1)],
            [RED9],
            "vxlan_overlay_endpoints[0].network='blue': is not one of this "
            "host's vxlan_overlay_networks (red)",
        ),
        (
            [ep("red", "tap1", A1), ep("green", "tap1", B1)],
            [RED9, ("green", 300, None)],
            "vxlan_overlay_endpoints[1].port='tap1': is already the port of vxlan_overlay_endpoints[0] "
            "(network red): a port is on one network only",
        ),
        (
            [ep("red", "tap1", "01:00:5e:00:00:01")],
            [RED9],
            "vxlan_overlay_endpoints[0].mac='01:00:5e:00:00:01': must be a unicast, non-zero MAC",
        ),
        (
            [ep("red", "tap1", "00:00:00:00:00:00")],
            [RED9],
            "mac='00:00:00:00:00:00': must be a unicast, non-zero",
        ),
        ([ep("red", "tap1", "02:00:00:00:00:0g")], [RED9], "mac='02:00:00:00:00:0g'"),
        (
            [{"network": "red", "port": "tap1"}],
            [RED9],
            "vxlan_overlay_endpoints[0].mac=None: is required",
        ),
        ([ep("red", "tap1", A1, prot="x")], [RED9], "vxlan_overlay_endpoints[0].prot='x': unknown"),
        (
            [ep("red", "red", A1)],
            [RED9],
            "vxlan_overlay_endpoints[0].port='red': is the name of a network's port",
        ),
        ([ep("red", "ovl-vxlan", A1)], [RED9], "port='ovl-vxlan': collides"),
        ([ep("red", "17", A1)], [RED9], "port='17': reads as a port number or an action"),
        (
            [ep("red", "pop_vlan", A1)],
            [RED9],
            "port='pop_vlan': reads as a port number or an action",
        ),
        ([ep("red", "tap 1", A1)], [RED9], "port='tap 1'"),
        (
            [ep("red", "tap1", A1, addresses=["10.10.0.2"])],
            [RED9],
            "vxlan_overlay_endpoints[0].addresses[0]='10.10.0.2': is also used on network red by h2",
        ),
        (
            [ep("red", "tap1", A1, addresses=["10.10.0.x"])],
            [RED9],
            "addresses[0]='10.10.0.x': must be an IP",
        ),
        (
            [ep("red", "tap1", A1, addresses="10.10.0.5")],
            [RED9],
            "addresses='10.10.0.5': must be a list",
        ),
        (
            [ep("red", "tap1", A1, name=5)],
            [RED9],
            "vxlan_overlay_endpoints[0].name=5: must be text",
        ),
        ("tap1", [RED9], "vxlan_overlay_endpoints='tap1': must be a list"),
        ([], [("red", 100, None)], None),
    ],
)
def test_bad_endpoints_name_host_field_and_value(endpoints, networks, message):
    bad = member("h9", "198.18.0.9", *networks)
    bad["endpoints"] = endpoints
    if message is None:  # the control case: valid
        plan(bad, [bad, H2W])
        return
    with pytest.raises(AnsibleFilterError) as exc:
        plan(bad, [bad, H2W])
    assert "host h9" in str(exc.value)
    assert message in str(exc.value)


def test_a_bad_declaration_fails_every_host():
    """Nothing changes anywhere: each host's plan checks every member."""
    members = fleet()
    members[2]["endpoints"] = [ep("red", "tap-x", A1)]
    for m in members:
        with pytest.raises(AnsibleFilterError, match=r"host h3: vxlan_overlay_endpoints.0..mac"):
            plan(m, members)


def test_mac_needs_an_address():
    bad = member("h9", "198.18.0.9", ("red", 100, None))
    bad["networks"][0]["mac"] = "02:00:00:00:00:09"
    with pytest.raises(
        AnsibleFilterError,
        match=r"vxlan_overlay_networks\[0\].mac='02:00:00:00:00:09': needs an address",
    ):
        plan(bad, [bad])


# ---------------------------------------------------------------------------
# The inventories of docs/examples, planned as the role plans them.


def example_members(name, default_underlay="192.0.2.99"):
    path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "docs", "examples", name)
    with open(path) as f:
        hosts = yaml.safe_load(f)["overlay"]["hosts"]
    return [
        {
            "host": host,
            "underlay_ip": v.get("vxlan_overlay_underlay_ip", default_underlay),
            "networks": v.get("vxlan_overlay_networks", []),
            "endpoints": v.get("vxlan_overlay_endpoints", []),
        }
        for host, v in hosts.items()
    ]


def test_example_inventory_without_workloads():
    members = example_members("inventory.yml")
    fabric = Fabric(plans(members))
    a1, a2 = (default_mac(1001, h) for h in ("hv1.example.net", "hv2.example.net"))
    assert fabric.send("hv1.example.net", "tenant-a", a1, a2) == [("hv2.example.net", "tenant-a")]


def test_example_inventory_with_workloads():
    members = example_members("workloads.yml")
    fabric = Fabric(plans(members))
    web1, db1, web2, db2 = (
        "52:54:00:6b:3c:58",
        "52:54:00:1f:0a:02",
        "02:42:0a:64:00:0c",
        "02:42:0a:64:00:0d",
    )
    assert fabric.send("hv1.example.net", "vnet3", web1, web2) == [("hv2.example.net", "veth-web2")]
    assert fabric.send("hv3.example.net", "veth-db2", db2, db1) == [("hv1.example.net", "vnet4")]
    assert fabric.send("hv1.example.net", "vnet3", web1, "ff:ff:ff:ff:ff:ff") == [
        ("hv1.example.net", "tenant-a"),
        ("hv2.example.net", "tenant-a"),
        ("hv2.example.net", "veth-web2"),
    ]
    assert fabric.send("hv1.example.net", "vnet3", web1, db1) == []
