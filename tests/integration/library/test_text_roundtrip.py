"""Kernel tests of the text syntax against the kernel and ovs-dpctl.

``odp flow list > f; odp flow add --file=f`` reproduces every flow listed,
with and without in_port, installed by the library and by ovs-dpctl (with and
without a UFID); ``ovs-dpctl dump-flows`` is the judge. UFIDs read and print
as ovs-dpctl's, and the parser's nesting limits are the kernel's.
"""

import io
import json
import sys
import uuid
from contextlib import redirect_stderr, redirect_stdout

import pytest
from conftest import run
from vswitch_odp import cli, errors, flows, text
from vswitch_odp.client import Client
from vswitch_odp.flows import Flow
from vswitch_odp.text import flags

UFID_A = "ufid:00000001-0002-0003-0004-000500060007"
UFID_B = "ufid:00000001-0002-0003-0004-000500060008"
UFID_C = "ufid:0000000a-000b-000c-000d-000e000f0010"


def odp(*argv, stdin=None):
    """``odp ARGV`` in-process: its stdout; asserts success."""
    out, err = io.StringIO(), io.StringIO()
    saved, sys.stdin = sys.stdin, io.StringIO(stdin or "")
    try:
        with redirect_stdout(out), redirect_stderr(err):
            status = cli.main([str(a) for a in argv])
    finally:
        sys.stdin = saved
    assert status == 0, "odp %s: %s" % (" ".join(map(str, argv)), err.getvalue())
    return out.getvalue()


def dpctl_flows(dp, ports):
    """``ovs-dpctl dump-flows -m``, each line read back: {identity: (actions, ufid)}."""
    out = {}
    for line in run("ovs-dpctl", "dump-flows", "-m", "system@" + dp).stdout.splitlines():
        key, mask, actions, ufid = text.parse_flow(line, ports)
        out[flows.identity(key, mask)] = (actions, ufid)
    return out


@pytest.fixture
def datapath(kernel):
    """``(client, name)``: a fresh datapath with internal vports 1 and 2, ``name`` a and b."""
    with Client() as client:
        name = "t" + uuid.uuid4().hex[:8]
        client.create_datapath(name)
        client.create_vport(name, name + "a", type="internal")
        client.create_vport(name, name + "b", type="internal")
        yield client, name
        client.delete_datapath(name)


def ports_of(client, dp):
    return {v.name: v.port_no for v in client.vports(dp)}


def test_list_then_add_reproduces_every_flow(datapath):
    client, dp = datapath
    ports = ports_of(client, dp)
    a, b = dp + "a", dp + "b"
    # The library, without and with in_port.
    client.put_flow(
        dp, Flow(*text.parse_key("eth(),eth_type(0x0806),arp()", ports), [("output", 2)])
    )
    client.put_flow(
        dp,
        Flow(
            *text.parse_key("in_port(%s),eth(),eth_type(0x0800),ipv4()" % a, ports), [("output", 2)]
        ),
    )
    # ovs-dpctl, without and with in_port, without and with a UFID.
    for key in (
        "eth(),eth_type(0x86dd),ipv6()",
        UFID_A + ",eth(),eth_type(0x8847),mpls(label=5)",
        UFID_B + ",in_port(2),eth(),eth_type(0x0800),ipv4()",
        "in_port(1),eth(),eth_type(0x88cc)",
    ):
        run("ovs-dpctl", "add-flow", "system@" + dp, key, "1")
    before = dpctl_flows(dp, ports)
    assert len(before) == 6
    listed = odp("flow", "list", dp)
    # A wildcarded in_port lists as no in_port, never as the local port.
    assert "--in-port=%s " % dp not in listed and "0xffff0000" not in listed, listed
    assert sorted(w for w in listed.split() if w.startswith("--in-port=")) == sorted(
        ["--in-port=" + a, "--in-port=" + a, "--in-port=" + b]
    )
    run("ovs-dpctl", "del-flows", "system@" + dp)
    odp("flow", "add", dp, "--file=-", stdin=listed)
    after = dpctl_flows(dp, ports)
    assert sorted(after) == sorted(before)
    assert [after[i][0] for i in sorted(after)] == [before[i][0] for i in sorted(before)]
    # The library sees what ovs-dpctl sees.
    assert sorted(f.identity() for f in client.flows(dp)) == sorted(after)


def test_a_listed_line_adds_as_arguments_too(datapath):
    client, dp = datapath
    ports = ports_of(client, dp)
    run("ovs-dpctl", "add-flow", "system@" + dp, UFID_A + ",eth(),eth_type(0x0806),arp()", "2")
    (line,) = odp("flow", "list", dp).splitlines()
    assert line == "--eth-type=0x0806 --output=%sb" % dp
    run("ovs-dpctl", "del-flows", "system@" + dp)
    odp("flow", "add", dp, *line.split())
    [(identity, _rest)] = list(dpctl_flows(dp, ports).items())
    assert identity == flows.identity(*text.parse_key("eth(),eth_type(0x0806),arp()"))


def test_ufid_text_is_ovs_dpctls(datapath):
    client, dp = datapath
    ports = ports_of(client, dp)
    # --key=ufid:... gives the UFID; the library installs by it ...
    options = flags.flow_from_options(
        [("key", UFID_C + ",in_port(1),eth(),eth_type(0x0800),ipv4()"), ("output", "2")], ports
    )
    client.put_flow(dp, Flow(*options, ufid=options.ufid))
    # ... ovs-dpctl prints that UFID as we do ...
    [(_actions, ufid)] = list(dpctl_flows(dp, ports).values())
    assert ufid == options.ufid and text.format_ufid(ufid) == UFID_C
    assert run("ovs-dpctl", "dump-flows", "-m", "system@" + dp).stdout.startswith(UFID_C + ", ")
    # ... and a UFID ovs-dpctl gave reads back as the kernel's bytes.
    run("ovs-dpctl", "add-flow", "system@" + dp, UFID_A + ",in_port(2),eth()", "1")
    dumped = {f.ufid: f for f in client.flows(dp)}
    assert text.parse_ufid(UFID_A) in dumped
    flow = dumped[text.parse_ufid(UFID_A)]
    words = flags.format_flow_words(flow.key, flow.mask, flow.actions, ufid=flow.ufid)
    assert words[0].startswith("--key=" + UFID_A + ",")
    # A missing flow named by UFID says so in ovs-dpctl's form.
    client.delete_flow(dp, ufid=text.parse_ufid(UFID_A))
    with pytest.raises(errors.NoSuchFlow, match=UFID_A):
        client.delete_flow(dp, ufid=text.parse_ufid(UFID_A))


def clones(depth):
    actions = [("output", 2)]
    for _level in range(depth):
        actions = [("clone", actions)]
    return actions


def test_action_nesting_limit_is_the_kernels(datapath):
    client, dp = datapath
    ports = ports_of(client, dp)
    key, mask = text.parse_key("in_port(1),eth()", ports)
    deepest = text.parse_actions(text.format_actions(clones(16)), ports)
    client.put_flow(dp, Flow(key, mask, deepest))
    assert client.flows(dp)[0].actions == clones(16)
    # One more level: the parser refuses it, and so does the kernel.
    with pytest.raises(errors.ValidationError, match="16 deep"):
        text.parse_actions(text.format_actions(clones(17)), ports)
    with pytest.raises(errors.KernelRejected, match="Value too large"):  # EOVERFLOW
        client.put_flow(dp, Flow(key, mask, clones(17)))
    assert client.flows(dp)[0].actions == clones(16)


def test_encap_nesting_limit_is_the_kernels(datapath):
    client, dp = datapath
    ports = ports_of(client, dp)
    qinq = "in_port(1),eth(),eth_type(0x88a8),vlan(vid=1),encap(eth_type(0x8100),vlan(vid=2),encap(%s))"
    client.put_flow(
        dp, Flow(*text.parse_key(qinq % "eth_type(0x0800),ipv4()", ports), [("output", 2)])
    )
    assert len(client.flows(dp)) == 1
    with pytest.raises(errors.ValidationError, match="2 deep"):
        text.parse_key(qinq % "eth_type(0x8100),vlan(vid=3),encap(eth_type(0x0800))", ports)
    key, mask = text.parse_key(qinq % "eth_type(0x0800),ipv4()", ports)
    key["encap"]["encap"] = {"eth_type": 0x8100, "vlan": 0x1003, "encap": {"eth_type": 0x0800}}
    mask["encap"]["encap"] = {"eth_type": 0xFFFF, "vlan": 0xFFFF, "encap": {"eth_type": 0xFFFF}}
    with pytest.raises(errors.KernelRejected):
        client.put_flow(dp, Flow(key, mask, [("output", 2)]))


# Flows of the kinds ovs-vswitchd installs, written by ovs-dpctl: the
# printed list must add back every one of them.
DPCTL_FLOWS = [
    (
        "in_port(1),eth(src=00:01:02:03:04:05,dst=10:11:12:13:14:15),eth_type(0x0800),"
        "ipv4(src=10.0.0.1,dst=10.0.0.2,frag=no)",
        "2",
    ),
    (
        "in_port(1),eth(),eth_type(0x0800),ipv4(src=10.0.0.0/255.0.0.0,proto=17,frag=no),udp(dst=53)",
        "set(ipv4(ttl=5)),2",
    ),
    (
        "in_port(2),eth(),eth_type(0x8100),vlan(vid=10,pcp=0),encap(eth_type(0x0800),ipv4(frag=no))",
        "pop_vlan,1",
    ),
    (
        "in_port(2),eth(),eth_type(0x0806),arp(sip=10.0.0.1,tip=10.0.0.2,op=1)",
        "push_vlan(vid=5,pcp=1),1",
    ),
    (
        "in_port(1),eth(),eth_type(0x86dd),ipv6(src=fe80::1,dst=ff02::1,proto=58,frag=no),"
        "icmpv6(type=135,code=0),nd(target=fe80::2)",
        "2",
    ),
    (
        "in_port(1),skb_mark(0x5),eth(),eth_type(0x0800),ipv4(proto=6,frag=no),tcp()",
        "ct(zone=5),recirc(1)",
    ),
    ("recirc_id(0x1),ct_state(+trk+est),in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)", "2"),
    (
        "tunnel(tun_id=0x2a,src=192.0.2.1,dst=192.0.2.2,ttl=64,flags(-df+csum+key)),in_port(1),eth()",
        "2",
    ),
    (
        "in_port(1),eth(),eth_type(0x0800),ipv4(proto=1,frag=no),icmp(type=8,code=0)",
        "set(tunnel(tun_id=0x5,dst=192.0.2.9,ttl=64,tp_dst=4789,flags(df|key))),2",
    ),
    ("in_port(2),eth(),eth_type(0x88cc)", "sample(sample=50.0%,actions(1))"),
    ("in_port(2),eth(),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(),tcp_flags(syn)", "1"),
    ("in_port(2),eth(),eth_type(0x0800),ipv4(proto=132,frag=no),sctp(dst=9)", "trunc(100),1"),
    ("in_port(2),eth(),eth_type(0x0800),ipv4(proto=17,frag=no),udp()", "recirc(2)"),
    ("in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)", "drop"),
    ("skb_priority(0x7),in_port(2),eth(dst=01:00:00:00:00:00/01:00:00:00:00:00)", "1,2"),
    (
        "in_port(1),eth(),eth_type(0x0800),ipv4(dst=192.0.2.0/255.255.255.0,frag=no)",
        "set(eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02)),2",
    ),
    ("in_port(2),eth(),eth_type(0x86dd),ipv6(dst=2001:db8::/ffff:ffff::,frag=no)", "meter(0),1"),
]


def test_list_then_add_reproduces_ovs_dpctl_flows(datapath):
    client, dp = datapath
    ports = ports_of(client, dp)
    refused = []
    for key, actions in DPCTL_FLOWS:
        if run("ovs-dpctl", "add-flow", "system@" + dp, key, actions, check=False).returncode:
            refused.append(key)
    before = dpctl_flows(dp, ports)
    # What this kernel (or ovs-dpctl) does not take is no test of ours; most must be taken.
    assert len(before) == len(DPCTL_FLOWS) - len(refused) >= len(DPCTL_FLOWS) - 2, refused
    listed = odp("flow", "list", dp)
    run("ovs-dpctl", "del-flows", "system@" + dp)
    odp("flow", "add", dp, "--file=-", stdin=listed)
    after = dpctl_flows(dp, ports)
    assert sorted(after) == sorted(before)
    assert [after[i][0] for i in sorted(after)] == [before[i][0] for i in sorted(before)]


def test_ipv6_exthdrs_between_odp_and_ovs_dpctl(datapath):
    """OVS_KEY_ATTR_IPV6_EXTHDRS (32, Linux 6.0+). odp matches it by name;
    ovs-dpctl (odp-util.c) has no name for it: it prints key32(hex/hex) and
    refuses to parse that, so what it writes is an IPv6 flow, to which the
    kernel adds the attribute wildcarded."""
    client, dp = datapath
    ports = ports_of(client, dp)
    hop = "in_port(%sa),eth(),eth_type(0x86dd),ipv6(proto=58),ipv6_exthdrs(hdrs=0x40/0x40)" % dp
    odp("flow", "add", dp, "--key=" + hop, "--output=%sb" % dp)
    dumped = run("ovs-dpctl", "dump-flows", "system@" + dp).stdout
    assert "ipv6(proto=58),key32(40 00/40 00)," in dumped, dumped
    (listed,) = json.loads(odp("flow", "list", dp, "--json"))
    assert listed["key"].endswith("ipv6(proto=58),key32(40 00/40 00)"), listed
    (flow,) = client.flows(dp)
    assert (flow.key["ipv6_exthdrs"], flow.mask["ipv6_exthdrs"]) == ({"hdrs": 0x40}, {"hdrs": 0x40})
    # ovs-dpctl cannot write it; its IPv6 flow comes back with it wildcarded.
    refused = run(
        "ovs-dpctl", "add-flow", "system@" + dp, dumped.split(", packets:")[0], "2", check=False
    )
    assert refused.returncode and "syntax error at key32" in refused.stdout, refused.stdout
    run("ovs-dpctl", "del-flows", "system@" + dp)
    run(
        "ovs-dpctl",
        "add-flow",
        "system@" + dp,
        "in_port(1),eth(),eth_type(0x86dd),ipv6(proto=58),icmpv6(type=128)",
        "2",
    )
    (flow,) = client.flows(dp)
    assert flow.mask["ipv6_exthdrs"] == {"hdrs": 0}
    assert "key32(00 00/00 00)" in run("ovs-dpctl", "dump-flows", "system@" + dp).stdout
    # odp's listing of it adds the same flow again.
    before = dpctl_flows(dp, ports)
    listed = odp("flow", "list", dp)
    run("ovs-dpctl", "del-flows", "system@" + dp)
    odp("flow", "add", dp, "--file=-", stdin=listed)
    assert dpctl_flows(dp, ports) == before
