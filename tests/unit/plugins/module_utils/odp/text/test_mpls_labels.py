"""MPLS keys with several label stack entries (OVS_KEY_ATTR_MPLS as an
array): the key the 6.1 kernel dumped for a flow ovs-dpctl installed with
three labels, decoded, printed as ovs-dpctl printed it, and encoded back."""

import pytest
from vswitch_odp import flows, parse_flow, text
from vswitch_odp.attrs import CodecError, iter_attrs
from vswitch_odp.errors import ValidationError
from vswitch_odp.keys import FLOW_KEY

# ovs-dpctl add-flow system@mp 'in_port(1),eth(),eth_type(0x8847),mpls(label=5,tc=1,ttl=9,bos=0,
# label=6,tc=2,ttl=8,bos=0,label=7,tc=3,ttl=7,bos=1)' 1, then the kernel's dump of its key.
DUMPED_KEY = bytes.fromhex(
    "0800140000000000080013000000000008000200000000000800030001000000"
    "08000f0000000000080016000000000008001800000000001400190000000000"
    "0000000000000000000000001000040000000000000000000000000006000600"
    "8847000010001500000052090000640800007707"
)
OVS_DPCTL_TEXT = "mpls(label=5,tc=1,ttl=9,bos=0,label=6,tc=2,ttl=8,bos=0,label=7,tc=3,ttl=7,bos=1)"
MPLS = FLOW_KEY.by_name["mpls"][0]


def test_dumped_three_labels_decode_print_and_encode_back():
    key = FLOW_KEY.decode(DUMPED_KEY)
    assert key["mpls"] == {"lse": 0x5209, "lse2": 0x6408, "lse3": 0x7707}
    assert text.format_key({"mpls": key["mpls"]}) == OVS_DPCTL_TEXT
    dumped = dict(iter_attrs(DUMPED_KEY))[MPLS]
    assert FLOW_KEY.encode([("mpls", key["mpls"])])[4:] == dumped


def test_one_label_keeps_its_form():
    assert FLOW_KEY.decode(FLOW_KEY.encode([("mpls", {"lse": 0x5209})])) == {
        "mpls": {"lse": 0x5209}
    }
    assert len(FLOW_KEY.encode([("mpls", {"lse": 1})])) == 8


@pytest.mark.parametrize(
    "line",
    [
        "in_port(1),eth(),eth_type(0x8847),mpls(label=1,tc=0,ttl=64,bos=0,label=2,tc=0,ttl=64,bos=1)",
        "in_port(1),eth(),eth_type(0x8847),mpls(label=3,tc=0/0,ttl=0/0,bos=0/0,label=4,tc=0/0,"
        "ttl=0/0,bos=1)",
        "in_port(1),eth(),eth_type(0x8847),mpls(label=5,tc=1,ttl=9,bos=1)",
    ],
)
def test_text_round_trip(line):
    key, mask, _actions, _ufid = parse_flow(line + " actions:1")
    assert text.format_key(key, mask) == line
    # The same flow as the kernel would dump it compares equal.
    raw_key, raw_mask = FLOW_KEY.encode(list(key.items())), FLOW_KEY.encode(list(mask.items()))
    again = flows.Flow(FLOW_KEY.decode(raw_key), FLOW_KEY.decode(raw_mask))
    assert again.identity() == flows.Flow(key, mask).identity()


def test_masks_keep_the_entry_count():
    _key, mask, _actions, _ufid = parse_flow(
        "in_port(1),eth(),eth_type(0x8847),mpls(label=1,tc=0,ttl=64,bos=0,label=2,tc=0/0,"
        "ttl=0/0,bos=0/0) actions:1"
    )
    assert set(mask["mpls"]) == {"lse", "lse2"}
    assert mask["mpls"]["lse2"] == 0xFFFFF000
    assert flows.exact_mask({"mpls": {"lse": 1, "lse2": 2}})["mpls"] == {
        "lse": 0xFFFFFFFF,
        "lse2": 0xFFFFFFFF,
    }
    assert flows.exact_mask({"mpls": {"lse": 1}})["mpls"] == {"lse": 0xFFFFFFFF}


def test_four_labels_and_bad_lengths_are_refused():
    with pytest.raises(ValidationError, match="at most 3 label stack entries"):
        parse_flow(
            "eth(),eth_type(0x8847),mpls("
            + ",".join("label=%d,tc=0,ttl=1,bos=0" % n for n in range(4))
            + ") actions:1"
        )
    codec = FLOW_KEY.by_name["mpls"][1]
    for raw in (b"\0\0\0", bytes(16), bytes(6)):
        with pytest.raises(CodecError):
            codec.decode(raw)
    with pytest.raises(CodecError, match="unknown field lse4"):
        codec.encode({"lse": 1, "lse4": 2})
