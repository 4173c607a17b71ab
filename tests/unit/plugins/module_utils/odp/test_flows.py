"""Unit tests of the flow model (vswitch_odp.flows), partly against byte vectors
captured from the real kernel (data/kernel_flows.json, Linux 6.1 UML)."""

import json
import os

import pytest
from vswitch_odp import flowcheck, flows
from vswitch_odp.client import Client
from vswitch_odp.errors import ValidationError
from vswitch_odp.families import FlowFamily
from vswitch_odp.keys import FLOW_KEY

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "data", "kernel_flows.json")) as _data:
    KERNEL = json.load(_data)["flows"]

EXACT_PORT = 0xFFFFFFFF
ZERO_ETH = {"src": 0, "dst": 0}


def decode(hexed):
    return FLOW_KEY.decode(bytes.fromhex(hexed))


def recorded(source):
    return [r for r in KERNEL if r["source"].startswith(source) and r["accepted"]]


# ---------------------------------------------------------------- kernel vectors


@pytest.mark.parametrize("record", recorded("raw"), ids=lambda r: r["note"])
def test_dump_identity_equals_completed_input(record):
    key, mask = eval(record["input"])
    (dumped,) = record["dump"]
    flow = flows.Flow(decode(dumped["key"]), decode(dumped["mask"]))
    assert flow.identity() == flows.identity(*flows.complete_key(key, mask))


@pytest.mark.parametrize("record", recorded("raw"), ids=lambda r: r["note"])
def test_encoding_of_completed_key_is_what_the_kernel_accepted(record):
    key, mask = eval(record["input"])
    ckey, cmask = flows.complete_key(key, mask)
    assert FLOW_KEY.encode(ckey.items()).hex() == record["sent_key"]
    assert FLOW_KEY.encode(cmask.items()).hex() == record["sent_mask"]


@pytest.mark.parametrize("record", recorded("ovs-dpctl"), ids=lambda r: r["text"])
def test_dump_normalizes_to_a_fixed_point(record):
    (dumped,) = record["dump"]
    norm = flows.normalize(decode(dumped["key"]), decode(dumped["mask"]))
    assert flows.normalize(*norm) == norm
    # Re-encoding the canonical key gives bytes the codec reads back the same.
    assert decode(FLOW_KEY.encode(norm[0].items()).hex()) == norm[0]


def test_wildcarded_mpls_mask_decodes():
    """6.1 dumps a wildcarded MPLS mask as an empty attribute."""
    (record,) = [r for r in KERNEL if "34887" in r.get("input", "")]
    assert decode(record["dump"][0]["mask"])["mpls"] == {"lse": 0}


# Hand-written keys equal to what ovs-dpctl installed (the dump of its text).
DPCTL_EQUIVALENTS = [
    ("in_port(1),eth()", {"in_port": 1, "eth": ZERO_ETH}, {"in_port": EXACT_PORT, "eth": ZERO_ETH}),
    (
        "in_port(1),eth(),eth_type(0x0800),ipv4()",
        {"in_port": 1, "eth": ZERO_ETH, "eth_type": 0x800},
        {"in_port": EXACT_PORT, "eth": ZERO_ETH, "eth_type": 0xFFFF},
    ),
    (
        "in_port(1),eth(),eth_type(0x0800),ipv4(proto=17,frag=no),udp(src=53)",
        {
            "in_port": 1,
            "eth": ZERO_ETH,
            "eth_type": 0x800,
            "ipv4": {"proto": 17},
            "udp": {"src": 53, "dst": 99},
        },
        {
            "in_port": EXACT_PORT,
            "eth": ZERO_ETH,
            "eth_type": 0xFFFF,
            "ipv4": {"proto": 0xFF, "frag": 0xFF},
            "udp": {"src": 0xFFFF},
        },
    ),
    (
        "tunnel(tun_id=0x2a,src=1.1.1.1,dst=2.2.2.2/0.0.0.0,ttl=64/0),in_port(1),eth()",
        {"in_port": 1, "eth": ZERO_ETH, "tunnel": {"tun_id": 0x2A, "src": 0x01010101}},
        {
            "in_port": EXACT_PORT,
            "eth": ZERO_ETH,
            "tunnel": {"tun_id": (1 << 64) - 1, "src": 0xFFFFFFFF},
        },
    ),
    (
        "eth(),eth_type(0x0800),ipv4()",
        {"eth": ZERO_ETH, "eth_type": 0x800},
        {"eth": ZERO_ETH, "eth_type": 0xFFFF},
    ),
    (
        "in_port(1),eth(),eth_type(0x8100),vlan(vid=10),encap(eth_type(0x0800),ipv4())",
        {
            "in_port": 1,
            "eth": ZERO_ETH,
            "eth_type": 0x8100,
            "vlan": 0x100A,
            "encap": {"eth_type": 0x800},
        },
        {
            "in_port": EXACT_PORT,
            "eth": ZERO_ETH,
            "eth_type": 0xFFFF,
            "vlan": 0x1FFF,
            "encap": {"eth_type": 0xFFFF},
        },
    ),
]


@pytest.mark.parametrize(
    "text, key, mask", DPCTL_EQUIVALENTS, ids=[c[0] for c in DPCTL_EQUIVALENTS]
)
def test_hand_written_key_matches_dpctl_dump(text, key, mask):
    (record,) = [r for r in KERNEL if r.get("text") == text]
    (dumped,) = record["dump"]
    assert flows.identity(decode(dumped["key"]), decode(dumped["mask"])) == flows.identity(
        *flows.complete_key(key, mask)
    )


def test_completed_in_port_matched_arp_and_ipv4_packets():
    (check,) = [r for r in KERNEL if r["source"] == "packet check"]
    assert check["arp_packets"] > 0 and check["ipv4_packets"] > 0


# ---------------------------------------------------------------- complete_key

COMPLETIONS = [
    (
        "in_port alone gets a wildcarded eth and no eth_type",
        {"in_port": 1},
        None,
        {"in_port": 1, "eth": ZERO_ETH},
        {"in_port": EXACT_PORT, "eth": ZERO_ETH},
    ),
    (
        "ipv4 added after eth_type 0x0800",
        {"eth_type": 0x800},
        None,
        {
            "eth_type": 0x800,
            "ipv4": {"src": 0, "dst": 0, "proto": 0, "tos": 0, "ttl": 0, "frag": 0},
        },
        {
            "eth_type": 0xFFFF,
            "ipv4": {"src": 0, "dst": 0, "proto": 0, "tos": 0, "ttl": 0, "frag": 0},
        },
    ),
    (
        "tcp and tcp_flags after proto 6",
        {"eth_type": 0x800, "ipv4": {"proto": 6}},
        {"eth_type": 0xFFFF, "ipv4": {"proto": 0xFF}},
        {"eth_type": 0x800, "ipv4": {"proto": 6}, "tcp": {"src": 0, "dst": 0}, "tcp_flags": 0},
        {"eth_type": 0xFFFF, "ipv4": {"proto": 0xFF}, "tcp": {"src": 0, "dst": 0}, "tcp_flags": 0},
    ),
    (
        "no layer 4 for a later fragment",
        {"eth_type": 0x800, "ipv4": {"proto": 17, "frag": 2}},
        {"eth_type": 0xFFFF},
        {"eth_type": 0x800, "ipv4": {"proto": 17, "frag": 2}},
        {"eth_type": 0xFFFF},
    ),
    (
        "icmpv6 neighbour solicitation needs nd",
        {"eth_type": 0x86DD, "ipv6": {"proto": 58}, "icmpv6": {"type": 135}},
        {"eth_type": 0xFFFF},
        {
            "eth_type": 0x86DD,
            "ipv6": {"proto": 58},
            "icmpv6": {"type": 135},
            "nd": {"target": 0, "sll": 0, "tll": 0},
        },
        {"eth_type": 0xFFFF, "nd": {"target": 0, "sll": 0, "tll": 0}},
    ),
    (
        "arp",
        {"eth_type": 0x806},
        {"eth_type": 0xFFFF},
        {"eth_type": 0x806, "arp": {"sip": 0, "tip": 0, "op": 0, "sha": 0, "tha": 0}},
        {"eth_type": 0xFFFF, "arp": {"sip": 0, "tip": 0, "op": 0, "sha": 0, "tha": 0}},
    ),
    (
        "mpls unicast",
        {"eth_type": 0x8847},
        {"eth_type": 0xFFFF},
        {"eth_type": 0x8847, "mpls": {"lse": 0}},
        {"eth_type": 0xFFFF, "mpls": {"lse": 0}},
    ),
    (
        "tunnel dst and ttl wildcarded",
        {"tunnel": {"tun_id": 5}, "eth": ZERO_ETH},
        {"tunnel": {"tun_id": 0xFF}},
        {"tunnel": {"tun_id": 5, "dst": flows.TUNNEL_ANY_DST, "ttl": 0}, "eth": ZERO_ETH},
        {"tunnel": {"tun_id": 0xFF, "dst": 0, "ttl": 0}},
    ),
    (
        "vlan without tag means any tag, with eth and an open encap",
        {"eth_type": 0x8100},
        None,
        {"eth": ZERO_ETH, "eth_type": 0x8100, "vlan": 0x1000, "encap": {}},
        {"eth": ZERO_ETH, "eth_type": 0xFFFF, "vlan": 0x1000, "encap": {"eth_type": 0}},
    ),
    (
        "vlan encap completed recursively",
        {"eth": ZERO_ETH, "eth_type": 0x8100, "vlan": 0x100A, "encap": {"eth_type": 0x86DD}},
        {"eth_type": 0xFFFF, "vlan": 0x1FFF, "encap": {"eth_type": 0xFFFF}},
        {
            "eth": ZERO_ETH,
            "eth_type": 0x8100,
            "vlan": 0x100A,
            "encap": {
                "eth_type": 0x86DD,
                "ipv6": {
                    "src": 0,
                    "dst": 0,
                    "label": 0,
                    "proto": 0,
                    "tclass": 0,
                    "hlimit": 0,
                    "frag": 0,
                },
            },
        },
        {
            "eth_type": 0xFFFF,
            "vlan": 0x1FFF,
            "encap": {
                "eth_type": 0xFFFF,
                "ipv6": {
                    "src": 0,
                    "dst": 0,
                    "label": 0,
                    "proto": 0,
                    "tclass": 0,
                    "hlimit": 0,
                    "frag": 0,
                },
            },
        },
    ),
]


@pytest.mark.parametrize(
    "_name, key, mask, want_key, want_mask", COMPLETIONS, ids=[c[0] for c in COMPLETIONS]
)
def test_complete_key(_name, key, mask, want_key, want_mask):
    before = json.dumps([key, mask], sort_keys=True)
    got_key, got_mask = flows.complete_key(key, mask)
    assert got_key == want_key
    # Attributes the completion did not add keep the caller's mask.
    assert {n: got_mask[n] for n in want_mask} == want_mask
    assert json.dumps([key, mask], sort_keys=True) == before, "inputs are not modified"
    flowcheck.validate_flow(got_key, got_mask)


def test_completion_keeps_attribute_id_order():
    key, mask = flows.complete_key({"eth_type": 0x800, "in_port": 3}, None)
    ids = [FLOW_KEY.lookup(name)[0] for name in key]
    assert ids == sorted(ids) and list(mask) == list(key)


# ---------------------------------------------------------------- normalize

NORMALIZE_EQUAL = [
    (
        "value bits outside the mask do not count",
        (
            {"eth_type": 0x800, "ipv4": {"src": 0x0A000005}},
            {"eth_type": 0xFFFF, "ipv4": {"src": 0xFF000000}},
        ),
        (
            {"eth_type": 0x800, "ipv4": {"src": 0x0A000000}},
            {"eth_type": 0xFFFF, "ipv4": {"src": 0xFF000000}},
        ),
    ),
    (
        "a zero mask is the same as no attribute",
        (
            {"eth": ZERO_ETH, "skb_mark": 7, "ipv4": {"ttl": 3}},
            {"eth": ZERO_ETH, "skb_mark": 0, "ipv4": {}},
        ),
        ({"eth": ZERO_ETH}, {}),
    ),
    (
        "any in_port mask is exact; the dump's 0xffff0000 is a wildcard",
        ({"in_port": 4, "eth": ZERO_ETH}, {"in_port": 0xF}),
        ({"in_port": 4, "eth": ZERO_ETH}, {"in_port": EXACT_PORT}),
    ),
    (
        "wildcarded in_port as dumped",
        ({"eth": ZERO_ETH}, {"in_port": 0xFFFF0000}),
        ({"eth": ZERO_ETH}, {}),
    ),
    (
        "any eth_type mask is exact",
        ({"eth": ZERO_ETH, "eth_type": 0x800}, {"eth_type": 0x0F00}),
        ({"eth": ZERO_ETH, "eth_type": 0x800}, {"eth_type": 0xFFFF}),
    ),
    (
        "no mask means exact",
        ({"in_port": 1, "eth": {"src": 1, "dst": 2}}, None),
        (
            {"in_port": 1, "eth": {"src": 1, "dst": 2}},
            {"in_port": EXACT_PORT, "eth": {"src": 0xFFFFFFFFFFFF, "dst": 0xFFFFFFFFFFFF}},
        ),
    ),
    (
        "attribute order does not count",
        ({"eth_type": 0x800, "eth": ZERO_ETH, "in_port": 1}, None),
        ({"in_port": 1, "eth": ZERO_ETH, "eth_type": 0x800}, None),
    ),
    (
        "a tunnel the mask leaves out is no tunnel match",
        ({"eth": ZERO_ETH, "tunnel": {"tun_id": 1, "dst": 2, "ttl": 3}}, {"skb_mark": 0}),
        ({"eth": ZERO_ETH}, {}),
    ),
    (
        "a tunnel match with zero masks is any tunnelled packet",
        ({"eth": ZERO_ETH, "tunnel": {"tun_id": 1, "dst": 2, "ttl": 3}}, {"tunnel": {"ttl": 0}}),
        ({"eth": ZERO_ETH, "tunnel": {"ttl": 64}}, {"tunnel": {"dst": 0}}),
    ),
    (
        "a dumped untagged flow has no vlan",
        ({"eth": ZERO_ETH}, {"vlan": 0xFFFF}),
        ({"eth": ZERO_ETH}, {}),
    ),
]

NORMALIZE_DIFFERENT = [
    (
        "eth present matters (Ethernet vs layer 3 packets)",
        ({"eth_type": 0x800}, None),
        ({"eth_type": 0x800, "eth": ZERO_ETH}, {"eth_type": 0xFFFF}),
    ),
    (
        "different masked values",
        ({"eth": ZERO_ETH, "skb_mark": 1}, None),
        ({"eth": ZERO_ETH, "skb_mark": 2}, None),
    ),
    (
        "different masks",
        ({"eth": ZERO_ETH, "skb_mark": 1}, {"skb_mark": 1}),
        ({"eth": ZERO_ETH, "skb_mark": 1}, {"skb_mark": 3}),
    ),
    (
        "tunnelled packets only vs any packet",
        ({"eth": ZERO_ETH, "tunnel": {"dst": 2}}, {"tunnel": {"ttl": 0}}),
        ({"eth": ZERO_ETH}, {}),
    ),
    (
        "tun_id presence is matched (TUNNEL_KEY flag)",
        ({"eth": ZERO_ETH, "tunnel": {"dst": 2}}, {"tunnel": {"dst": 0xFFFFFFFF}}),
        ({"eth": ZERO_ETH, "tunnel": {"dst": 2}}, {"tunnel": {"dst": 0xFFFFFFFF, "tun_id": 0}}),
    ),
]


@pytest.mark.parametrize("_name, one, other", NORMALIZE_EQUAL, ids=[c[0] for c in NORMALIZE_EQUAL])
def test_equivalent_spellings_normalize_equal(_name, one, other):
    assert flows.normalize(*one) == flows.normalize(*other)
    assert flows.identity(*one) == flows.identity(*other)
    assert hash(flows.identity(*one)) == hash(flows.identity(*other))


@pytest.mark.parametrize(
    "_name, one, other", NORMALIZE_DIFFERENT, ids=[c[0] for c in NORMALIZE_DIFFERENT]
)
def test_different_matches_normalize_different(_name, one, other):
    assert flows.identity(*one) != flows.identity(*other)


def test_normalize_is_idempotent_on_completed_keys():
    for _name, key, mask, _k, _m in COMPLETIONS:
        norm = flows.normalize(*flows.complete_key(key, mask))
        assert flows.normalize(*norm) == norm


# ---------------------------------------------------------------- Flow


def dumped_flow(items):
    """The Flow the client makes of one ovs_flow message with these attributes."""
    (flow,) = Client.decode_flows([FlowFamily.attrs.encode(items)])
    return flow


def test_a_dumped_flow_takes_every_field():
    key, mask = {"in_port": 1, "eth": ZERO_ETH}, {"in_port": EXACT_PORT, "eth": ZERO_ETH}
    flow = dumped_flow(
        [
            ("key", key),
            ("mask", mask),
            ("actions", [("output", 2)]),
            ("stats", {"packets": 3, "bytes": 180}),
            ("used", 12345),
            ("tcp_flags", 0x12),
            ("ufid", b"\x01" * 16),
        ]
    )
    assert (flow.key["in_port"], flow.mask["in_port"], flow.actions, flow.ufid) == (
        1,
        EXACT_PORT,
        [("output", 2)],
        b"\x01" * 16,
    )
    assert (flow.packets, flow.bytes, flow.used, flow.tcp_flags) == (3, 180, 12345, 0x12)


def test_a_bare_dumped_flow_has_the_defaults():
    flow = dumped_flow([("key", {"in_port": 1})])
    assert (
        flow.mask,
        flow.actions,
        flow.ufid,
        flow.packets,
        flow.bytes,
        flow.used,
        flow.tcp_flags,
    ) == (None, [], None, 0, 0, None, 0)


def test_a_flow_of_a_kernel_message():
    (record,) = [r for r in KERNEL if r.get("text") == "in_port(1),eth()"]
    dumped = record["dump"][0]
    flow = dumped_flow(
        [
            ("key", decode(dumped["key"])),
            ("mask", decode(dumped["mask"])),
            ("actions", [("output", 2)]),
            ("stats", {"packets": 9, "bytes": 900}),
        ]
    )
    assert flow.identity() == flows.identity(*flows.complete_key({"in_port": 1}, None))
    assert flow.packets == 9 and flow.actions == [("output", 2)]


def test_flow_equality_is_match_plus_actions():
    desired = flows.Flow(*flows.complete_key({"in_port": 1}, None), actions=[("output", 2)])
    dumped = flows.Flow(
        {"in_port": 1, "eth": ZERO_ETH, "skb_mark": 0},
        {"in_port": EXACT_PORT, "skb_mark": 0},
        actions=[("output", 2)],
        packets=5,
    )
    assert desired == dumped and desired.same_match(dumped)
    modified = flows.Flow(dumped.key, dumped.mask, actions=[("output", 3)])
    assert desired != modified and desired.same_match(modified)
    assert not desired.same_actions(modified)


def test_flow_has_slots_and_is_cheap():
    flow = flows.Flow({})
    assert not hasattr(flow, "__dict__")
    with pytest.raises(AttributeError):
        flow.color = "red"


# ---------------------------------------------------------------- validate_flow

VALID = {"in_port": 1, "eth": ZERO_ETH}

INVALID = [
    ("in_port too big", dict(VALID, in_port=65535), None, (), "key.in_port"),
    ("eth_type below 0x600", dict(VALID, eth_type=0x5FF), None, (), "key.eth_type"),
    ("no eth and no eth_type", {"in_port": 1}, None, (), "key"),
    ("eth_type 0x0800 without ipv4", dict(VALID, eth_type=0x800), None, (), "key"),
    (
        "tcp without tcp_flags",
        dict(VALID, eth_type=0x800, ipv4={"proto": 6}, tcp={}),
        None,
        (),
        "key",
    ),
    ("frag out of range", dict(VALID, eth_type=0x800, ipv4={"frag": 3}), None, (), "key.ipv4.frag"),
    (
        "ipv6 label over 20 bits",
        dict(VALID, eth_type=0x86DD, ipv6={"label": 1 << 20}),
        None,
        (),
        "key.ipv6.label",
    ),
    ("arp opcode over 255", dict(VALID, eth_type=0x806, arp={"op": 256}), None, (), "key.arp.op"),
    ("tunnel without dst", dict(VALID, tunnel={"tun_id": 1, "ttl": 1}), None, (), "key.tunnel.dst"),
    ("tunnel without ttl", dict(VALID, tunnel={"dst": 1}), None, (), "key.tunnel.ttl"),
    (
        "tunnel mixing families",
        dict(VALID, tunnel={"dst": 1, "ipv6_src": 1, "ttl": 1}),
        None,
        (),
        "key.tunnel",
    ),
    ("vlan without encap", dict(VALID, eth_type=0x8100, vlan=0x1001), None, (), "key"),
    (
        "vlan tci without CFI",
        dict(VALID, eth_type=0x8100, vlan=0x0001, encap={}),
        None,
        (),
        "key.vlan",
    ),
    (
        "vlan mask without CFI",
        dict(VALID, eth_type=0x8100, vlan=0x1001, encap={}),
        {"vlan": 0x0FFF},
        (),
        "mask.vlan",
    ),
    ("mask on an attribute the key lacks", VALID, {"skb_mark": 1}, (), "mask.skb_mark"),
    (
        "ipv4 mask without exact eth_type",
        dict(VALID, eth_type=0x800, ipv4={}),
        {"ipv4": {"src": 1}},
        (),
        "mask.ipv4",
    ),
    (
        "tcp mask without exact proto",
        dict(VALID, eth_type=0x800, ipv4={"proto": 6}, tcp={}, tcp_flags=0),
        {"eth_type": 0xFFFF, "ipv4": {"proto": 0xF}, "tcp": {"dst": 1}},
        (),
        "mask.tcp",
    ),
    ("output port too big", VALID, None, [("output", 70000)], "actions[0].output"),
    ("empty set", VALID, None, [("set", {})], "actions[0].set"),
    (
        "set tunnel without dst",
        VALID,
        None,
        [("set", {"tunnel": {"tun_id": 1}})],
        "actions[0].set.dst",
    ),
    (
        "bad port inside clone",
        VALID,
        None,
        [("clone", [("output", -1)])],
        "actions[0].clone[0].output",
    ),
]


@pytest.mark.parametrize("_name, key, mask, actions, field", INVALID, ids=[c[0] for c in INVALID])
def test_validate_flow_refuses(_name, key, mask, actions, field):
    with pytest.raises(ValidationError) as caught:
        flowcheck.validate_flow(key, mask, actions)
    assert caught.value.field == field


@pytest.mark.parametrize(
    "key, mask, actions",
    [
        (VALID, None, [("output", 2)]),
        (
            dict(VALID, eth_type=0x800, ipv4={"proto": 6}, tcp={"dst": 80}, tcp_flags=0),
            {
                "in_port": EXACT_PORT,
                "eth_type": 0xFFFF,
                "ipv4": {"proto": 0xFF},
                "tcp": {"dst": 0xFFFF},
            },
            [("set", {"tunnel": {"tun_id": 1, "dst": 1, "ttl": 64}}), ("output", 3)],
        ),
        ({"eth": ZERO_ETH}, {"eth_type": 0xFFFF}, ()),  # 802.2 frames: eth_type only in the mask
    ],
)
def test_validate_flow_accepts(key, mask, actions):
    flowcheck.validate_flow(key, mask, actions)


def test_kernel_padding_attribute_is_dropped_on_decode():
    """Dumps of set(tunnel) carry OVS_TUNNEL_KEY_ATTR_PAD (14) before tun_id."""
    from vswitch_odp.attrs import pack_attr
    from vswitch_odp.keys import TUNNEL_KEY

    raw = pack_attr(14, b"") + TUNNEL_KEY.encode([("tun_id", 5), ("ttl", 64)])
    assert TUNNEL_KEY.decode(raw) == {"tun_id": 5, "ttl": 64}
    assert TUNNEL_KEY.decode_list(raw) == [("tun_id", 5), ("ttl", 64)]
