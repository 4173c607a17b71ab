"""Kernel tests of the state document: show, the links library, and plans
made against real datapaths (built with the client, and by ovs-dpctl)."""

import json
import uuid

import pytest
from conftest import run, unique
from vswitch_odp import Client, errors
from vswitch_odp.state import formats
from vswitch_odp.state.apply import execute
from vswitch_odp.state.document import Datapath, parse_document
from vswitch_odp.state.links import LinkChange, apply_links, check_link, read_links
from vswitch_odp.state.plan import plan
from vswitch_odp.state.show import show

FORMATS = ["json"] + (["yaml"] if formats.have_yaml() else [])


def ip_link(name, netns=None):
    """The link as `ip -json` reports it, in the links library's terms."""
    argv = ["ip"] + (["-n", netns] if netns else []) + ["-json", "address", "show", "dev", name]
    (link,) = json.loads(run(*argv).stdout)
    return {
        "mac": link["address"],
        "mtu": link["mtu"],
        "up": "UP" in link["flags"],
        "addresses": sorted(
            "%s/%d" % (a["local"], a["prefixlen"])
            for a in link["addr_info"]
            if a["scope"] != "link"
        ),
    }


def dumped_flows(dp):
    """The flow lines of `ovs-dpctl dump-flows` (its log lines left out)."""
    return [
        line
        for line in run("ovs-dpctl", "dump-flows", dp).stdout.splitlines()
        if " actions:" in line
    ]


def flow_set(flows):
    return sorted(repr((flow.identity(), list(flow.actions))) for flow in flows)


OVERLAY = {
    "vports": {
        "VX": {"type": "vxlan", "port": 4790},
        "RED": {
            "type": "internal",
            "link": {
                "mac": "02:00:00:00:0a:01",
                "mtu": 1450,
                "up": True,
                "addresses": ["10.77.0.1/24", "fd77::1/64"],
            },
        },
        "BLUE": {"type": "internal", "port_no": 9, "link": {"up": True, "addresses": []}},
    },
    "flows": [
        {
            "key": "in_port(RED),eth(dst=02:00:00:00:0a:02)",
            "actions": "set(tunnel(tun_id=0x2a,dst=198.18.0.2,ttl=64)),VX",
        },
        {
            "match": {"in_port": "VX", "tunnel": {"tun_id": 42, "src": "198.18.0.2"}},
            "actions": [{"output": "RED"}],
        },
        {
            "match": {"in_port": "BLUE", "eth": {"dst": "01:00:00:00:00:00/01:00:00:00:00:00"}},
            "actions": [
                {"set": {"tunnel": {"tun_id": 7, "ipv6_dst": "2001:db8::2", "ttl": 64}}},
                {"output": "VX"},
                {"output": "RED"},
            ],
        },
        {
            "match": {"in_port": "RED", "eth_type": "0x0806", "arp": {"tip": "10.77.0.9"}},
            "actions": "userspace(pid=1)",
        },
    ],
}


def overlay(dp, tag):
    """OVERLAY for datapath ``dp``, vport names made unique with ``tag``."""
    text = json.dumps(OVERLAY)
    for name in ("VX", "RED", "BLUE"):
        text = text.replace(name, name.lower() + tag)
    return {"version": 1, "datapaths": {dp: json.loads(text)}}


def test_plan_from_nothing_is_exact_and_then_empty(client, datapaths):
    dp, tag = datapaths(), uuid.uuid4().hex[:4]
    desired = parse_document(overlay(dp, tag))
    result = plan(show(client), desired)
    assert result.lines()[0] == "+ datapath %s" % dp
    execute(client, result)
    after = show(client, [dp])
    # Every vport has the number the plan gave it, in the kernel too.
    numbers = {v.name: v.port_no for v in client.vports(dp)}
    assert numbers == result.ports[dp]
    assert numbers["blue" + tag] == 9
    assert not plan(after, desired), plan(after, desired).lines()
    assert not plan(show(client), desired)
    link = ip_link("red" + tag)
    assert link == {
        "mac": "02:00:00:00:0a:01",
        "mtu": 1450,
        "up": True,
        "addresses": ["10.77.0.1/24", "fd77::1/64"],
    }
    assert after.datapaths[dp].vports["red" + tag].link == link


def test_show_reads_what_the_client_built(client, datapaths, veth):
    dp = datapaths()
    tag = uuid.uuid4().hex[:4]
    pipe = veth()
    client.create_datapath(dp)
    client.create_vport(dp, "vx" + tag, "vxlan", port=4791)
    client.create_vport(dp, "in" + tag, "internal", port_no=7)
    client.create_vport(dp, pipe.host)
    apply_links(
        [
            LinkChange(
                "in" + tag,
                None,
                check_link(
                    {
                        "mac": "02:00:00:00:0b:01",
                        "mtu": 1400,
                        "up": True,
                        "addresses": ["10.78.0.1/24"],
                    },
                    "l",
                ),
            )
        ]
    )
    entries = [
        {"key": "in_port(in%s),eth()" % tag, "actions": pipe.host},
        {
            "key": "in_port(%s),eth(),eth_type(0x0800),ipv4(src=10.78.0.2)" % pipe.host,
            "actions": "set(tunnel(tun_id=0x5,dst=198.18.0.9,ttl=64)),vx" + tag,
        },
    ]
    ports = {v.name: v.port_no for v in client.vports(dp)}
    flows = Datapath(dp, vports={}, entries=entries).flows(ports)
    assert not any(client.put_flows(dp, flows))

    state = show(client, [dp]).to_dict()["datapaths"][dp]
    assert state["vports"] == {
        "vx" + tag: {"type": "vxlan", "port": 4791, "port_no": 1},
        "in" + tag: {
            "type": "internal",
            "port_no": 7,
            "link": {
                "mac": "02:00:00:00:0b:01",
                "mtu": 1400,
                "up": True,
                "addresses": ["10.78.0.1/24"],
            },
        },
        pipe.host: {"type": "netdev", "port_no": 2},
    }
    assert state["link"] == ip_link(dp)  # the local port
    assert sorted(e["key"] for e in state["flows"]) == [e["key"] for e in state["flows"]]
    assert all(set(entry) == {"key", "actions"} for entry in state["flows"])
    # The entries read back to the kernel's flows.
    reread = parse_document({"version": 1, "datapaths": {dp: state}}).datapaths[dp]
    assert flow_set(reread.flows()) == flow_set(client.flows(dp))
    assert "tun_id=0x5" in "".join(e["actions"] for e in state["flows"])


def test_show_of_what_ovs_dpctl_made(client, datapaths, veth):
    dp, tag = datapaths("dpctl"), uuid.uuid4().hex[:4]
    pipe = veth()
    run("ovs-dpctl", "add-dp", dp)
    # ovs-dpctl names a vxlan vport after its UDP port.
    run(
        "ovs-dpctl",
        "add-if",
        dp,
        "i%s,type=internal" % tag,
        "v%s,type=vxlan,remote_ip=flow,dst_port=4792" % tag,
        pipe.host,
    )
    for key, actions in [
        ("in_port(1),eth(),eth_type(0x0806),arp()", "2"),
        (
            "in_port(3),eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02),eth_type(0x0800),"
            "ipv4(src=10.1.0.0/255.255.0.0,proto=6,frag=no),tcp(dst=80),tcp_flags(0/0)",
            "set(tunnel(tun_id=0x10,dst=198.18.0.5,ttl=64,flags(key))),2",
        ),
        (
            "tunnel(tun_id=0x10,src=198.18.0.5,dst=198.18.0.1,ttl=64,flags(key)),in_port(2),eth()",
            "push_vlan(vid=10,pcp=0),1",
        ),
        (
            "recirc_id(0),in_port(1),eth(),eth_type(0x86dd),ipv6(dst=2001:db8::/ffff:ffff::,"
            "frag=no)",
            "2,1",
        ),
        ("in_port(4),eth()", "0"),
    ]:  # port 4 has no vport: kept as a number
        run("ovs-dpctl", "add-flow", dp, key, actions)
    current = show(client, [dp])
    state = current.to_dict()["datapaths"][dp]
    assert state["vports"]["vxlan_sys_4792"] == {"type": "vxlan", "port": 4792, "port_no": 2}
    assert state["vports"][pipe.host] == {"type": "netdev", "port_no": 3}
    assert set(state["vports"]["i" + tag]["link"]) == {"mac", "mtu", "up", "addresses"}
    assert len(state["flows"]) == 5 == len(dumped_flows(dp))
    assert {"key": "in_port(4),eth()", "actions": dp} in state["flows"]
    assert not plan(current, current)
    for fmt in FORMATS:
        text = formats.dump(current.to_dict(), fmt)
        again = parse_document(formats.load(text, "show." + fmt))
        assert not plan(current, again), (fmt, plan(current, again).lines())
        assert formats.dump(again.to_dict(), fmt) == text


def test_plan_takes_a_foreign_datapath_to_the_document(client, datapaths, veth):
    """A datapath ovs-dpctl made, with vports and flows the document does
    not declare: the plan removes those, renumbers, and keeps what matches."""
    dp, tag = datapaths("own"), uuid.uuid4().hex[:4]
    pipe = veth()
    run("ovs-dpctl", "add-dp", dp)
    run(
        "ovs-dpctl",
        "add-if",
        dp,
        "red%s,type=internal" % tag,
        pipe.host,
        "old%s,type=internal" % tag,
    )
    run("ovs-dpctl", "add-flow", dp, "in_port(3),eth()", "1")
    run("ovs-dpctl", "add-flow", dp, "in_port(1),eth()", "")  # drop
    desired = parse_document(overlay(dp, tag))
    result = plan(show(client), desired)
    lines = result.lines()
    assert "- vport %s/%s: netdev, port_no 2" % (dp, pipe.host) in lines
    assert "- vport %s/old%s: internal, port_no 3" % (dp, tag) in lines
    assert not any(line.startswith("+ vport %s/red" % dp) for line in lines)  # kept
    assert lines.index(
        "- flow %s: in_port(old%s),eth(), actions:red%s" % (dp, tag, tag)
    ) < lines.index("- vport %s/old%s: internal, port_no 3" % (dp, tag))
    execute(client, result)
    assert not plan(show(client), desired)
    assert len(dumped_flows(dp)) == len(OVERLAY["flows"])
    ports = run("ovs-dpctl", "show", dp).stdout
    assert "port 9: blue%s (internal)" % tag in ports
    assert "port 1: red%s (internal)" % tag in ports
    assert pipe.host not in ports


def test_replacements_in_the_kernel(client, datapaths, veth):
    """Vports replaced, renumbered and swapped, made as planned: the plan
    after is empty and the numbers are the planned ones."""
    dp, tag = datapaths(), uuid.uuid4().hex[:4]
    pipe = veth()
    names = {key: key + tag for key in ("a", "b", "t", "x")}
    first = {
        "vports": {
            names["a"]: {"type": "internal", "port_no": 1},
            names["b"]: {"type": "internal", "port_no": 2},
            names["t"]: {"type": "vxlan", "port": 4794, "port_no": 3},
            names["x"]: {"type": "internal", "port_no": 4},
            pipe.host: {"type": "netdev", "port_no": 5},
        },
        "flows": [{"match": {"in_port": names["a"]}, "actions": [{"output": names["b"]}]}],
    }
    second = {
        "vports": {
            names["a"]: {"type": "internal", "port_no": 2},
            names["b"]: {"type": "internal", "port_no": 1},
            names["t"]: {"type": "vxlan", "port": 4795},
            names["x"]: {"type": "geneve", "port": 6090},
            pipe.host: {"type": "netdev", "port_no": 8},
        },
        "flows": [{"match": {"in_port": names["a"]}, "actions": [{"output": names["b"]}]}],
    }
    for spec in (first, second):
        desired = parse_document({"version": 1, "datapaths": {dp: spec}})
        result = plan(show(client), desired)
        execute(client, result)
        assert not plan(show(client), desired), plan(show(client), desired).lines()
        assert {v.name: v.port_no for v in client.vports(dp)} == result.ports[dp]
    kinds = {v.name: (v.type, v.port, v.port_no) for v in client.vports(dp)}
    assert kinds[names["t"]] == ("vxlan", 4795, 3) and kinds[names["x"]] == ("geneve", 6090, 4)
    assert kinds[pipe.host] == ("netdev", None, 8)
    (flow,) = client.flows(dp)
    assert flow.key["in_port"] == 2 and flow.actions == [("output", 1)]


def test_plan_refuses_what_another_datapath_holds(client, datapaths):
    other, dp = datapaths("oth"), datapaths()
    client.create_datapath(other)
    client.create_vport(other, "vx" + other[3:], "vxlan", port=4793)
    desired = parse_document(
        {"version": 1, "datapaths": {dp: {"vports": {"v" + dp: {"type": "vxlan", "port": 4793}}}}}
    )
    with pytest.raises(errors.ValidationError) as caught:
        plan(show(client), desired)
    assert caught.value.field == "datapaths.%s.vports.v%s.port" % (dp, dp)
    assert "taken by datapath %s" % other in str(caught.value)


def test_show_everything_named_and_missing(client, datapaths):
    one, two = datapaths(), datapaths()
    client.create_datapath(one)
    client.create_datapath(two)
    assert {one, two} <= set(show(client).datapaths)
    assert list(show(client, [two, two]).datapaths) == [two]
    with pytest.raises(errors.NoSuchDatapath):
        show(client, [one, unique("none")])


def test_show_in_a_network_namespace(netns, kernel):
    ns = netns("state")
    with Client(netns=ns) as client:
        client.create_datapath("nsdp")
        client.create_vport("nsdp", "nsport", "internal")
        apply_links(
            [LinkChange("nsport", None, {"mtu": 1300, "up": True, "addresses": ["10.79.0.1/24"]})],
            ns,
        )
        state = show(client).to_dict()["datapaths"]["nsdp"]
        assert state["vports"]["nsport"]["link"] == ip_link("nsport", ns)
        assert state["vports"]["nsport"]["link"]["mtu"] == 1300
        client.delete_datapath("nsdp")


def test_links_library_on_internal_ports(client, datapaths):
    dp, port = datapaths(), unique("lk")
    client.create_datapath(dp)
    client.create_vport(dp, port, "internal")
    (have,) = read_links([port]).values()
    assert have == ip_link(port) and have["up"] is False
    want = check_link(
        {
            "mac": "02:00:00:00:0c:01",
            "mtu": 1450,
            "up": True,
            "addresses": ["10.80.0.1/24", "10.80.1.1/24", "fd80::1/64"],
        },
        "l",
    )
    apply_links([LinkChange(port, have, want)])
    now = read_links([port])[port]
    assert now == ip_link(port) == want
    assert not LinkChange(port, now, want)
    # Exact addresses: one removed, one added; the link-local one stays.
    want = dict(want, addresses=["10.80.0.1/24", "10.80.2.1/24", "fd80::1/64"])
    change = LinkChange(port, now, want)
    assert change.commands() == [
        "address del 10.80.1.1/24 dev %s" % port,
        "address add 10.80.2.1/24 dev %s" % port,
    ]
    apply_links([change])
    assert read_links([port])[port] == ip_link(port) == want
    link_local = run("ip", "-6", "address", "show", "dev", port, "scope", "link").stdout
    assert "fe80::" in link_local
    # Down: the kernel drops the IPv6 addresses; the ones wanted are put back.
    down = {"up": False, "addresses": ["10.80.2.1/24", "fd80::1/64"]}
    apply_links([LinkChange(port, want, down)])
    assert read_links([port])[port] == ip_link(port) == dict(want, **down)
    apply_links([LinkChange(port, dict(want, **down), {"up": True, "addresses": []})])
    assert read_links([port])[port] == dict(want, up=True, addresses=[])
    assert read_links([unique("none")]) == {}


def test_links_library_names_the_device_it_cannot_change(client):
    missing = unique("none")
    with pytest.raises(errors.NotFound) as caught:
        apply_links([LinkChange(missing, None, {"up": True})])
    assert "network device %s does not exist" % missing in str(caught.value)


def test_links_library_reports_the_kernel_refusal(client, datapaths, veth):
    pipe = veth(addr="10.81.0.2/24")
    apply_links([LinkChange(pipe.host, None, {"addresses": ["10.81.0.1/24"]})])
    # The same address once more is the kernel's EEXIST, with the address named.
    with pytest.raises(errors.AlreadyExists) as caught:
        apply_links([LinkChange(pipe.host, {"addresses": []}, {"addresses": ["10.81.0.1/24"]})])
    assert "address 10.81.0.1/24 of network device %s" % pipe.host in str(caught.value)


def test_flow_plan_of_an_unchanged_show_is_empty(client, datapaths):
    """Many flows: the flows shown read back to exactly the kernel's."""
    dp = datapaths()
    client.create_datapath(dp)
    port = client.create_vport(dp, unique("m"), "internal").port_no
    key = "in_port(%d),eth(src=02:00:00:%02x:%02x:01),eth_type(0x0800),ipv4(dst=10.%d.%d.0/24)"
    actions = "set(tunnel(tun_id=%#x,dst=198.18.0.%d,ttl=64)),%d"
    entries = [
        {
            "key": key % (port, i // 256, i % 256, i // 256, i % 256),
            "actions": actions % (i, i % 250 + 1, port),
        }
        for i in range(2000)
    ]
    flows = Datapath(dp, entries=entries).flows({dp: 0})
    assert not any(client.put_flows(dp, flows))
    current = show(client, [dp])
    again = parse_document(formats.load(formats.dump(current.to_dict(), "json")))
    assert not plan(current, again)
    assert len(again.datapaths[dp].flows()) == 2000
