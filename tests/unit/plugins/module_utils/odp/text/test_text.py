# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The text package beyond the ovs-dpctl syntax's own tests (test_dpctl.py):
a wildcarded in_port and UFIDs on flows captured from the kernel
(data/kernel_flows.json), in both dialects, and the did-you-mean hints."""

import json
import os

import pytest
from vswitch_odp import flows, text
from vswitch_odp.client import Client
from vswitch_odp.errors import ValidationError
from vswitch_odp.keys import FLOW_KEY
from vswitch_odp.text import flags
from vswitch_odp.text.lex import closest

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "..", "data", "kernel_flows.json")) as _data:
    KERNEL = {r["note"]: r for r in json.load(_data)["flows"]}
PORTS = {"xdp": 0, "p1": 1, "p2": 2}
NAMES = {number: name for name, number in PORTS.items()}
ZERO_STATS = {"packets": 0, "bytes": 0, "used": None}


def dumped(note):
    """(key, mask, ufid) the kernel dumped for the flow of that note."""
    (dump,) = KERNEL[note]["dump"]
    ufid = bytes.fromhex(dump["ufid"]) if "ufid" in dump else None
    return (
        FLOW_KEY.decode(bytes.fromhex(dump["key"])),
        FLOW_KEY.decode(bytes.fromhex(dump["mask"])),
        ufid,
    )


# -- OVS_KEY_ATTR_IPV6_EXTHDRS (32, Linux 6.0+) --------------------------------

EXTHDRS = "ipv6_exthdrs: hop-by-hop (0x40) masked, a value bit outside the mask (NONEXT)"


def test_ipv6_exthdrs_bytes_round_trip():
    """The kernel keeps the value bit the mask leaves out (NONEXT, 0x01)."""
    (dump,) = KERNEL[EXTHDRS]["dump"]
    key, mask, _ufid = dumped(EXTHDRS)
    assert (key["ipv6_exthdrs"], mask["ipv6_exthdrs"]) == ({"hdrs": 0x41}, {"hdrs": 0x40})
    for name, value in (("key", key), ("mask", mask)):
        # The attribute byte for byte (nested ones differ by NLA_F_NESTED only).
        attr = FLOW_KEY.encode([("ipv6_exthdrs", value["ipv6_exthdrs"])])
        assert len(attr) == 8 and attr.hex() in dump[name]
        assert FLOW_KEY.decode(FLOW_KEY.encode(value.items())) == value


def test_ipv6_exthdrs_text_is_ovs_dpctls_and_reads_back():
    """ovs-dpctl (odp-util.c) has no name for attribute 32: key32(hex/hex),
    little-endian as the kernel's __u16; ours is read too, by its field."""
    key, mask, _ufid = dumped(EXTHDRS)
    dpctl = KERNEL[EXTHDRS]["dpctl_dump"]
    printed = text.format_key(key, mask, NAMES, verbose=True)
    assert "key32(41 00/40 00)" in printed and "key32(41 00/40 00)" in dpctl
    for line in (printed, dpctl.split(", packets:")[0]):
        parsed_key, parsed_mask = text.parse_key(line, PORTS)
        assert flows.identity(parsed_key, parsed_mask) == flows.identity(key, mask), line
        assert (parsed_key["ipv6_exthdrs"], parsed_mask["ipv6_exthdrs"]) == (
            {"hdrs": 0x41},
            {"hdrs": 0x40},
        )
    named = text.parse_key("eth_type(0x86dd),ipv6(),ipv6_exthdrs(hdrs=0x41/0x40)")
    assert (named[0]["ipv6_exthdrs"], named[1]["ipv6_exthdrs"]) == ({"hdrs": 0x41}, {"hdrs": 0x40})


# -- a wildcarded in_port (issue 9, defect 1) ---------------------------------

WILDCARD_PORT = ["no in_port", "no in_port, with a UFID"]


def test_the_kernel_dumps_no_in_port_two_ways():
    """Without a UFID the key has no in_port; with one it has in_port(0). The
    mask says 0xffff0000 both times: the kernel's "not matched"."""
    key, mask, _ufid = dumped("no in_port")
    assert "in_port" not in key and mask["in_port"] == 0xFFFF0000
    key, mask, ufid = dumped("no in_port, with a UFID")
    assert key["in_port"] == 0 and mask["in_port"] == 0xFFFF0000 and len(ufid) == 16


@pytest.mark.parametrize("note", WILDCARD_PORT)
def test_wildcarded_in_port_prints_as_no_in_port(note):
    key, mask, _ufid = dumped(note)
    assert "in_port" not in text.format_key(key, mask, NAMES)
    words = flags.format_flow_words(key, mask, [("output", 2)], NAMES)
    assert not [w for w in words if w.startswith("--in-port")]


@pytest.mark.parametrize("note", [*WILDCARD_PORT, "in_port, with a UFID"])
def test_listed_flags_add_the_same_flow(note):
    key, mask, _ufid = dumped(note)
    words = flags.format_flow_words(key, mask, [("output", 2)], NAMES)
    back = flags.flow_from_options([w[2:].split("=", 1) for w in words], PORTS)
    assert flows.identity(*flows.complete_key(back.key, back.mask)) == flows.identity(key, mask)
    assert ("--in-port=p1" in words) == (note == "in_port, with a UFID")


@pytest.mark.parametrize("note", [*WILDCARD_PORT, "in_port, with a UFID"])
def test_ovs_dpctl_dump_reads_back_as_the_dumped_flow(note):
    key, mask, ufid = dumped(note)
    line = KERNEL[note]["dpctl_dump"]
    parsed_key, parsed_mask, actions, parsed_ufid = text.parse_flow(line, PORTS)
    assert flows.identity(parsed_key, parsed_mask) == flows.identity(key, mask)
    assert (parsed_ufid, actions) == (ufid, [("output", 2)])


@pytest.mark.parametrize("note", ["no in_port, with a UFID", "in_port, with a UFID"])
def test_verbose_line_is_what_ovs_dpctl_printed(note):
    key, mask, ufid = dumped(note)
    line = text.format_flow(key, mask, [("output", 2)], stats=ZERO_STATS, ufid=ufid, verbose=True)
    assert line == KERNEL[note]["dpctl_dump"].replace(", dp:ovs", "")


@pytest.mark.parametrize(
    "written",
    [
        "in_port(0/0xffff0000)",
        "in_port(xdp/0xffff0000)",
        "in_port(1/0)",
        "in_port(0/0xffff0000),eth()",
    ],
)
def test_in_port_under_a_zero_mask_is_no_in_port(written):
    key, mask = text.parse_key(written, PORTS)
    assert "in_port" not in key and "in_port" not in mask
    assert text.key_from_match({"in_port": written[8:].split(")")[0]}, PORTS) == (
        {"eth": {"src": 0, "dst": 0}},
        {"eth": {"src": 0, "dst": 0}},
    )


@pytest.mark.parametrize("written", ["in_port(1)", "in_port(1/0xffffffff)", "in_port(p1/0xffff)"])
def test_in_port_exact_masks(written):
    assert text.parse_key(written, PORTS) == ({"in_port": 1}, {"in_port": 0xFFFFFFFF})


@pytest.mark.parametrize("written", ["in_port(1/0xff)", "in_port(1/0xffff00ff)"])
def test_other_in_port_masks_are_refused(written):
    with pytest.raises(ValidationError, match="exactly or not at all"):
        text.parse_key(written, PORTS)


def test_verbose_prints_a_wildcarded_in_port_as_a_number():
    key = {"in_port": 0, "eth": {"src": 0, "dst": 0}}
    mask = {"in_port": 0xFFFF0000, "eth": {"src": 0, "dst": 0}}
    assert text.format_key(key, mask, NAMES, verbose=True).startswith("in_port(0/0xffff0000),")
    assert text.format_key(key, mask, NAMES) == "eth()"


# -- UFIDs (issue 9, defect 2) ------------------------------------------------

UFID_TEXT = "ufid:00000001-0002-0003-0004-000500060007"


def test_ufid_text_is_the_kernels_bytes():
    _key, _mask, ufid = dumped("no in_port, with a UFID")
    assert text.format_ufid(ufid) == UFID_TEXT
    assert text.parse_ufid(UFID_TEXT) == ufid == text.parse_ufid(UFID_TEXT[5:])


@pytest.mark.parametrize("bad", ["ufid:", "00000001-0002-0003-0004-00050006000", "nope", 7])
def test_bad_ufid(bad):
    with pytest.raises(ValidationError) as info:
        text.parse_ufid(bad, "--ufid")
    assert info.value.field == "--ufid"


def test_key_option_takes_a_ufid():
    _key, _mask, ufid = dumped("no in_port, with a UFID")
    parsed = flags.flow_from_options(
        [("key", UFID_TEXT + ",in_port(1),eth()"), ("output", "p2")], PORTS
    )
    key, mask, actions = parsed
    assert parsed.ufid == ufid and key == {"in_port": 1, "eth": {"src": 0, "dst": 0}}
    assert actions == [("output", 2)] and parsed.key is key and parsed.mask is mask
    assert flags.flow_from_options([("in-port", "p1"), ("output", "p2")], PORTS).ufid is None


def test_flow_words_print_the_ufid():
    key, mask, ufid = dumped("no in_port, with a UFID")
    words = flags.format_flow_words(key, mask, [("output", 2)], NAMES, ufid=ufid)
    assert words[0].startswith("--key=" + UFID_TEXT + ",eth(),eth_type(0x0806)")
    back = flags.flow_from_options([w[2:].split("=", 1) for w in words], PORTS)
    assert back.ufid == ufid
    assert flows.identity(*flows.complete_key(back.key, back.mask)) == flows.identity(key, mask)


def test_parse_flow_and_format_flow_share_the_ufid_form():
    key, mask, actions, ufid = text.parse_flow(UFID_TEXT + ", eth(),eth_type(0x0806) 2")
    assert text.format_flow(key, mask, actions, ufid=ufid).startswith(UFID_TEXT + ", ")


def test_client_errors_name_a_ufid_the_same_way():
    _key, _mask, ufid = dumped("no in_port, with a UFID")
    # pylint: disable=protected-access
    assert Client._flow_what("dp0", None, None, ufid) == "flow %s in datapath dp0" % UFID_TEXT


# -- did you mean --------------------------------------------------------------


@pytest.mark.parametrize(
    "written,meant,choices",
    [
        ("dts", "dst", ("src", "dst", "proto", "tos", "ttl", "frag")),
        ("sorc", "src", ("src", "dst", "proto", "tos", "ttl", "frag")),
        ("in-prot", "in-port", ("in-port", "eth-src", "eth-type", "ipv4-proto")),
        ("outptu", "output", ("output", "key", "actions")),
        ("ouptut", "output", ("output", "userspace", "set")),
        ("comit", "commit", ("commit", "force_commit", "zone")),
        ("ipv5", "ipv4", ("eth", "ipv4", "ipv6")),
        ("tun_di", "tun_id", ("tun_id", "src", "dst", "tos", "ttl")),
    ],
)
def test_closest_prefers_fewest_edits(written, meant, choices):
    assert closest(written, choices) == meant


@pytest.mark.parametrize("written,choices", [("zz", ("df", "csum")), ("nope", ("dp0", "p1", "p2"))])
def test_closest_guesses_nothing_far(written, choices):
    assert closest(written, choices) is None


@pytest.mark.parametrize(
    "parse,arg,meant",
    [
        (text.parse_key, "ipv4(dts=10.0.0.1)", "dst"),
        (text.parse_key, "eth(),eth_type(0x0800),ipv4(),tcp(dts=80)", "dst"),
        (text.parse_key, "tunnel(tun_di=1)", "tun_id"),
        (text.parse_key, "ipv5(src=1.2.3.4)", "ipv4"),
        (text.parse_key, "ct_state(+trk+ets)", "est"),
        (text.parse_key, "vlan(vdi=1)", "vid"),
        (text.parse_actions, "ct(comit)", "commit"),
        (text.parse_actions, "ouptut(1)", "output"),
        (text.parse_actions, "ct(nat(sorc=10.0.0.1))", "src"),
        (text.key_from_match, {"ipv4": {"dts": "10.0.0.1"}}, "dst"),
    ],
)
def test_errors_suggest_the_closest_name(parse, arg, meant):
    with pytest.raises(ValidationError) as info:
        parse(arg)
    assert "did you mean %r?" % meant in str(info.value)


def test_vport_names_are_guessed():
    with pytest.raises(ValidationError, match="did you mean 'p1'"):
        text.parse_actions("p11", PORTS)
