# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ovs-dpctl text syntax: spec examples, every key attribute and action,
real ovs-dpctl dump lines, the structured forms and the error paths."""

import os

import pytest
from vswitch_odp import text as dpctl
from vswitch_odp.actions import ACTIONS
from vswitch_odp.attrs import Unknown
from vswitch_odp.errors import ValidationError
from vswitch_odp.keys import FLOW_KEY

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "ovs_dpctl_dump_flows.txt")

SPEC_KEY = (
    "in_port(1),eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:00/ff:ff:ff:00:00:00),"
    "eth_type(0x0800),ipv4(src=10.0.0.0/255.0.0.0,proto=6),tcp(dst=80)"
)
SPEC_ACTIONS = [
    "set(tunnel(tun_id=0x2a,src=198.18.0.1,dst=198.18.0.2,ttl=64,flags(df|key))),2",
    "ct(commit,zone=1,nat(src=192.0.2.1-192.0.2.9:1000-2000)),recirc(0x1)",
]


def _key_bytes(key, mask):
    return FLOW_KEY.encode(key.items()), FLOW_KEY.encode(mask.items())


def test_spec_key_round_trip():
    key, mask = dpctl.parse_key(SPEC_KEY)
    assert dpctl.format_key(key, mask) == SPEC_KEY
    assert _key_bytes(*dpctl.parse_key(dpctl.format_key(key, mask))) == _key_bytes(key, mask)
    assert key["eth"]["dst"] == 0x020000000000 and mask["eth"]["dst"] == 0xFFFFFF000000
    assert mask["ipv4"] == {
        "src": 0xFF000000,
        "dst": 0,
        "proto": 0xFF,
        "tos": 0,
        "ttl": 0,
        "frag": 0,
    }


@pytest.mark.parametrize("text", SPEC_ACTIONS)
def test_spec_actions_round_trip(text):
    actions = dpctl.parse_actions(text)
    assert dpctl.format_actions(actions) == text
    assert ACTIONS.encode(dpctl.parse_actions(dpctl.format_actions(actions))) == ACTIONS.encode(
        actions
    )


# One line per key attribute (and per field kind): text -> parse -> same text.
KEY_TEXTS = [
    "skb_priority(0x7)",
    "skb_priority(0x7/0xf)",
    "in_port(3)",
    "skb_mark(0x5/0xff)",
    "eth(src=02:00:00:00:00:01)",
    "eth()",
    "eth_type(0x86dd)",
    "eth_type(0x8100),vlan(vid=10,pcp=3),encap(eth_type(0x0800),ipv4(dst=10.0.0.1,frag=no))",
    "vlan(vid=10/0xf00)",
    "vlan(vid=0,pcp=0,cfi=0)",
    "vlan(pcp=5)",
    "ipv4(src=10.1.2.3,dst=10.4.5.6,proto=6,tos=0x10,ttl=64,frag=no)",
    "ipv4(tos=0x4/0xfc,ttl=64/0xf0,frag=later)",
    "ipv4(frag=first)",
    "ipv6(src=2001:db8::1,dst=2001:db8::/ffff:ffff::,label=0x12345,proto=17,tclass=0x20,"
    "hlimit=64,frag=no)",
    "ipv6(src=::ffff:10.0.0.1)",
    "tcp(src=1234,dst=80)",
    "udp(dst=1000/0xfff0)",
    "sctp(src=1,dst=2)",
    "icmp(type=8,code=0)",
    "icmpv6(type=135,code=0)",
    "arp(sip=10.0.0.1,tip=10.0.0.2,op=1/0xff,sha=02:00:00:00:00:01,tha=00:00:00:00:00:00)",
    "nd(target=2001:db8::1,sll=02:00:00:00:00:01)",
    "tunnel(tun_id=0x2a,src=198.18.0.1,dst=198.18.0.2,tos=0x3/0x3,ttl=64,tp_dst=4789,"
    "flags(-df+csum+key))",
    "tunnel(tun_id=0x2a/0xff,ipv6_src=2001:db8::1,ipv6_dst=2001:db8::2,ttl=64,flags(df|csum|key))",
    "tunnel(dst=198.18.0.2,vxlan(gbp(id=10,flags=0x1)),flags(+df))",
    "tunnel(dst=198.18.0.2,geneve({class=0x102,type=0x80,len=4,0xa}))",
    "tcp_flags(syn|ack)",
    "tcp_flags(+syn-ack)",
    "dp_hash(0x1/0xf)",
    "recirc_id(0x1)",
    "mpls(label=10,tc=0,ttl=64,bos=1)",
    "ct_state(+est+trk)",
    "ct_state(-new+est-inv+trk)",
    "ct_state(est|trk)",
    "ct_zone(0x5/0xff)",
    "ct_mark(0x1/0xff)",
    "ct_label(0x1/0xff)",
    "ct_tuple4(src=10.0.0.1,dst=10.0.0.2,proto=6,tp_src=1,tp_dst=2)",
    "ct_tuple6(src=2001:db8::1,dst=2001:db8::2,proto=17,src_port=1,dst_port=2)",
    "nsh(flags=0,ttl=63,mdtype=1,np=3,spi=0x100,si=255,c1=0x1)",
    "packet_type(ns=1,id=0x800)",
    "nd_ext(nd_reserved=0x1,nd_options_type=2)",
    "key32(00 00/00 00)",
    "key63(01 02 03)",
    "key63(01 02/ff 00)",
]


@pytest.mark.parametrize("text", KEY_TEXTS)
def test_key_attribute_round_trip(text):
    key, mask = dpctl.parse_key(text)
    assert dpctl.format_key(key, mask) == text
    again = dpctl.parse_key(dpctl.format_key(key, mask))
    assert again == (key, mask)
    assert _key_bytes(*again) == _key_bytes(key, mask)


def test_every_key_attribute_is_covered():
    covered = set()
    for text in KEY_TEXTS:
        covered.update(dpctl.parse_key(text)[0])
    assert set(FLOW_KEY.names()) <= covered


ACTION_TEXTS = [
    "1",
    "2,3",
    "userspace(pid=1234,userdata(0102030400000000),actions)",
    "userspace(pid=7,tunnel_out_port=3)",
    "set(tunnel(tun_id=0x1,dst=198.18.0.9,tos=0x4,ttl=64,tp_dst=4789,flags(csum|key)))",
    "set(ipv4(src=1.2.3.4,dst=5.6.7.8,proto=0,tos=0,ttl=64,frag=no))",
    "set(ipv4(src=10.0.0.0/255.0.0.0))",
    "set(skb_mark(0x3/0xf))",
    "set(skb_mark(0x3))",
    "set(eth(dst=02:00:00:00:00:09))",
    "push_vlan(vid=20,pcp=5)",
    "push_vlan(tpid=0x88a8,vid=20,pcp=0)",
    "pop_vlan",
    "sample(sample=50.0%,actions(1,2))",
    "sample(sample=0.0%,actions(drop))",
    "recirc(0x1)",
    "hash(l4(0))",
    "hash(sym_l4(5))",
    "push_mpls(label=10,tc=0,ttl=64,bos=1,eth_type=0x8847)",
    "pop_mpls(eth_type=0x800)",
    "ct(commit,zone=1,mark=0x1/0xff,label=0x1/0xff,helper=ftp,timeout=tmo1)",
    "ct(force_commit,zone=2)",
    "ct",
    "ct(nat)",
    "ct(commit,nat(src))",
    "ct(commit,nat(src=10.0.0.1,hash))",
    "ct(commit,nat(dst=10.0.0.1:80))",
    "ct(commit,nat(src=[2001:db8::1]-[2001:db8::9]:80,persistent,random))",
    "ct(commit,eventmask=0x3)",
    "ct_clear",
    "trunc(100)",
    "push_eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02)",
    "pop_eth",
    "push_nsh(flags=0,ttl=63,mdtype=1,np=3,spi=0x100,si=255,c1=0x1,c2=0x0,c3=0x0,c4=0x0)",
    "pop_nsh",
    "meter(0)",
    "clone(push_vlan(vid=5,pcp=0),1),2",
    "clone(drop)",
    "check_pkt_len(size=200,gt(1),le(2))",
    "check_pkt_len(size=1500,gt(drop),le(clone(1),2))",
    "add_mpls(label=10,tc=0,ttl=64,bos=1,eth_type=0x8847)",
    "add_mpls(label=10,tc=0,ttl=64,bos=1,eth_type=0x8847,tun_flags=0x1)",
    "dec_ttl(le_1(drop))",
    "dec_ttl(le_1(userspace(pid=1))),1",
    "drop",
    "1,drop(0)",
    "drop(3)",
    "psample(group=5,cookie=0x01020304)",
    "action30(01 02 03 04)",
]


@pytest.mark.parametrize("text", ACTION_TEXTS)
def test_action_round_trip(text):
    actions = dpctl.parse_actions(text)
    assert dpctl.format_actions(actions) == text
    assert dpctl.parse_actions(text) == actions
    assert ACTIONS.encode(actions) == ACTIONS.encode(dpctl.parse_actions(text))


def test_every_action_is_covered():
    covered = set()
    for text in ACTION_TEXTS:
        covered.update(name for name, _v in dpctl.parse_actions(text))
    assert set(ACTIONS.names()) <= covered


def test_set_versus_set_masked():
    # Every field exact -> set; anything less -> set_masked (as ovs-dpctl).
    assert dpctl.parse_actions("set(skb_mark(0x3))") == [("set", {"skb_mark": 3})]
    assert dpctl.parse_actions("set(skb_mark(0x3/0xf))") == [("set_masked", {"skb_mark": (3, 15)})]
    ((name, value),) = dpctl.parse_actions("set(ipv4(src=1.2.3.4))")
    assert name == "set_masked" and value["ipv4"][1]["src"] == 0xFFFFFFFF
    # An all-ones set_masked reads back as the equivalent set.
    full = [("set_masked", {"skb_mark": (3, 0xFFFFFFFF)})]
    assert dpctl.parse_actions(dpctl.format_actions(full)) == [("set", {"skb_mark": 3})]


def test_drop_is_the_empty_list():
    assert dpctl.parse_actions("drop") == []
    assert dpctl.format_actions([]) == "drop"
    assert dpctl.parse_actions("drop(2)") == [("drop", 2)]


def test_ports_by_name():
    ports = {"p1": 1, "p2": 2}
    key, _mask = dpctl.parse_key("in_port(p1)", ports)
    assert key == {"in_port": 1}
    assert dpctl.parse_actions("p2,3", ports) == [("output", 2), ("output", 3)]
    assert dpctl.format_actions([("output", 2)], {2: "p2"}) == "p2"
    assert dpctl.format_key(key, None, {1: "p1"}) == "in_port(p1)"


def test_cidr_and_masks():
    key, mask = dpctl.parse_key("ipv4(src=10.0.0.0/8),ipv6(dst=2001:db8::/32)")
    assert mask["ipv4"]["src"] == 0xFF000000
    assert (
        dpctl.format_key(key, mask)
        == "ipv4(src=10.0.0.0/255.0.0.0),ipv6(dst=2001:db8::/ffff:ffff::)"
    )
    _key, mask = dpctl.parse_key("ipv4(dst=10.0.0.1/255.0.255.0)")  # non-contiguous is fine
    assert mask["ipv4"]["dst"] == 0xFF00FF00


def test_unknown_attribute_bytes_preserved():
    key, mask = dpctl.parse_key("key63(0102)")
    assert key == {"key63": Unknown(63, b"\x01\x02")}
    assert FLOW_KEY.encode(key.items()) == b"\x06\x00\x3f\x00\x01\x02\x00\x00"
    assert mask == {"key63": Unknown(63, b"\xff\xff")}


# --------------------------------------------------------------------------
# Real ovs-dpctl output.


def _dump_lines():
    section = None
    with open(DATA) as data:
        lines = data.read().splitlines()
    for line in lines:
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        yield section, line


@pytest.mark.parametrize("section,line", list(_dump_lines()))
def test_ovs_dpctl_dump_line(section, line):
    verbose = section == "verbose"
    key, mask, actions, ufid = dpctl.parse_flow(line, {"tap1": 1})
    assert ufid is None
    FLOW_KEY.encode(key.items())
    FLOW_KEY.encode(mask.items())
    ACTIONS.encode(actions)
    text = dpctl.format_flow(
        key,
        mask,
        actions,
        port_names={1: "tap1"} if verbose else None,
        stats={"packets": 0, "bytes": 0, "used": None},
        verbose=verbose,
    )
    # The only normalisation: the "dp:ovs" statistic, which parse_flow ignores.
    assert text == line.replace(", dp:ovs", "")


def test_parse_flow_forms():
    ufid = "ufid:01020304-0506-0708-090a-0b0c0d0e0f10"
    key, mask, actions, raw = dpctl.parse_flow(
        ufid + ", in_port(1),eth(), packets:3, bytes:180, used:0.5s, flags:S, actions:2"
    )
    assert key["in_port"] == 1 and actions == [("output", 2)] and len(raw) == 16
    line = dpctl.format_flow(key, mask, actions, ufid=raw)
    assert line.startswith(ufid + ", ")
    assert dpctl.parse_flow(line)[3] == raw
    assert dpctl.parse_flow("in_port(1),eth() 2")[2] == [("output", 2)]
    assert dpctl.parse_flow("in_port(1) drop")[2] == []


# --------------------------------------------------------------------------
# Structured forms (Ansible).


def test_key_from_match_matches_text():
    match = {
        "in_port": "p1",
        "eth": {"src": "02:00:00:00:00:01", "dst": "02:00:00:00:00:00/ff:ff:ff:00:00:00"},
        "eth_type": "0x0800",
        "ipv4": {"src": "10.0.0.0/8", "proto": 6},
        "tcp": {"dst": 80},
    }
    assert dpctl.key_from_match(match, {"p1": 1}) == dpctl.parse_key(SPEC_KEY)
    match = {
        "eth_type": 0x8100,
        "vlan": {"vid": 10, "pcp": 0},
        "encap": {"eth_type": "0x0800", "ipv4": {"frag": "no"}},
        "tunnel": {"tun_id": "0x2a", "dst": "198.18.0.9", "ttl": 64, "flags": ["df", "csum"]},
        "ct_state": "+trk+est",
        "recirc_id": 1,
        "dp_hash": "0x1/0xf",
    }
    key, mask = dpctl.key_from_match(match)
    assert (key, mask) == dpctl.parse_key(dpctl.format_key(key, mask))
    assert dpctl.key_from_match(dpctl.format_match(key, mask)) == (key, mask)


def test_actions_from_list():
    items = [
        {"set": {"tunnel": {"tun_id": "0x2a", "dst": "198.18.0.9", "ttl": 64}}},
        {"push_vlan": {"vid": 10}},
        "pop_vlan",
        {"ct": {"commit": True, "zone": 1, "nat": {"src": "192.0.2.1-192.0.2.9"}}},
        {"recirc": 1},
        {"userspace": {"pid": 0}},
        {"output": "p2"},
        "ct(commit)",
        {"clone": ["pop_vlan", {"output": 3}]},
        {"check_pkt_len": {"size": 100, "gt": [1], "le": []}},
    ]
    actions = dpctl.actions_from_list(items, {"p2": 2})
    assert dpctl.format_actions(actions) == (
        "set(tunnel(tun_id=0x2a,dst=198.18.0.9,ttl=64,flags(key))),push_vlan(vid=10,pcp=0),"
        "pop_vlan,ct(commit,zone=1,nat(src=192.0.2.1-192.0.2.9)),recirc(0x1),userspace(pid=0),2,"
        "ct(commit),clone(pop_vlan,3),check_pkt_len(size=100,gt(1),le(drop))"
    )
    assert dpctl.actions_from_list([]) == [] == dpctl.actions_from_list(["drop"])


# --------------------------------------------------------------------------
# Errors: every malformed input names the field and the value.

BAD_KEYS = [
    ("eth(src=02:00:00:00:00)", "eth.src", "02:00:00:00:00"),
    ("ipv4(src=10.0.0.300)", "ipv4.src", "10.0.0.300"),
    ("ipv6(dst=2001:db8::g)", "ipv6.dst", "2001:db8::g"),
    ("eth(dst=02:00:00:00:00:00/ff:ff)", "eth.dst mask", "ff:ff"),
    ("in_port(1/0xff)", "in_port", "1/0xff"),
    ("vlan(vid=4096)", "vlan.vid", "4096"),
    ("tcp(dst=65536)", "tcp.dst", "65536"),
    ("tunnel(ttl=256)", "tunnel.ttl", "256"),
    ("ipv4(src=10.0.0.0/33)", "ipv4.src mask", "33"),
    ("ipv5(src=1.2.3.4)", "ipv5", "src=1.2.3.4"),
    ("ipv4(sorc=1.2.3.4)", "ipv4.sorc", "1.2.3.4"),
    ("in_port(1),eth(", "key", "in_port(1),eth("),
    ("in_port(1))", "key", "in_port(1))"),
    ("in_port(1)x", "key", "in_port(1)x"),
    ("in_port(nosuch)", "in_port", "nosuch"),
    ("in_port(1),in_port(2)", "in_port", "2"),
    ("ct_state(+trk+bogus)", "ct_state", "bogus"),
    ("ipv4(frag=maybe)", "ipv4.frag", "maybe"),
    ("tunnel(flags(df|nope))", "tunnel.flags", "nope"),
    ("eth_type", "eth_type", "eth_type"),
    ("key63(0g)", "key63", "0g"),
]


@pytest.mark.parametrize("text,field,value", BAD_KEYS)
def test_bad_key(text, field, value):
    with pytest.raises(ValidationError) as info:
        dpctl.parse_key(text, {"p1": 1})
    assert (info.value.field, str(info.value.value)) == (field, value)
    assert field in str(info.value) and repr(value) in str(info.value)


BAD_ACTIONS = [
    ("1,ouptut(2)", "actions[1]", "ouptut"),
    ("nosuchport", "actions[0]", "nosuchport"),
    ("push_vlan(vid=5000)", "actions[0].vid", "5000"),
    ("ct(commit,zone=70000)", "actions[0].zone", "70000"),
    ("ct(commit,force_commit)", "actions[0]", "commit,force_commit"),
    ("ct(commit,nat(src=1.2.3.4-))", "actions[0].nat.src", "1.2.3.4-"),
    ("ct(comit)", "actions[0].comit", "None"),
    ("sample(sample=150%,actions(1))", "actions[0].sample", "150%"),
    (
        "set(ipv4(src=1.2.3.4),ipv4(dst=1.2.3.4))",
        "actions[0]",
        "ipv4(src=1.2.3.4),ipv4(dst=1.2.3.4)",
    ),
    ("hash(l5(0))", "actions[0]", "l5(0)"),
    ("recirc(0x1/0xf)", "actions[0]", "0x1/0xf"),
    ("clone(1", "actions", "clone(1"),
    ("1,,2", "actions", "1,,2"),
]


@pytest.mark.parametrize("text,field,value", BAD_ACTIONS)
def test_bad_action(text, field, value):
    with pytest.raises(ValidationError) as info:
        dpctl.parse_actions(text, {"p1": 1})
    assert (info.value.field, str(info.value.value)) == (field, value)


@pytest.mark.parametrize(
    "match",
    [
        {"eth": ["02:00:00:00:00:01"]},
        {"vlan": {"vid": 10, "colour": 1}},
        "in_port(1)",
        {"ipv4": {"src": True}},
        {"tunnel": {"flags": ["df", "zz"]}},
    ],
)
def test_bad_match(match):
    with pytest.raises(ValidationError):
        dpctl.key_from_match(match)


@pytest.mark.parametrize(
    "items",
    [
        [{"output": "p9"}],
        [{"output": 1, "recirc": 2}],
        [3.5],
        "1",
        [{"ct": {"zone": "x"}}],
    ],
)
def test_bad_action_list(items):
    with pytest.raises(ValidationError):
        dpctl.actions_from_list(items, {"p1": 1})
