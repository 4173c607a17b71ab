# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input at the parsers (issue 15): each is refused before anything could
be sent, by a ValidationError that names the field (or option) and the value."""

import pytest
from vswitch_odp import text
from vswitch_odp.errors import ValidationError
from vswitch_odp.text import flags

pytestmark = pytest.mark.fault

PORTS = {"dp0": 0, "p1": 1, "p2": 2}
ARABIC_80 = "\u0668\u0660"  # ٨٠: int() and str.isdigit() take it as 80


def refused(parse, *args):
    with pytest.raises(ValidationError) as info:
        parse(*args)
    return info.value


def options(*words):
    return [word[2:].split("=", 1) for word in words]


# -- IPv6 scope ids -----------------------------------------------------------


@pytest.mark.parametrize(
    "parse,arg,field",
    [
        (text.parse_key, "eth_type(0x86dd),ipv6(src=fe80::1%eth0)", "ipv6.src"),
        (text.parse_key, "eth_type(0x86dd),ipv6(dst=2001:db8::/ffff::%1)", "ipv6.dst mask"),
        (text.key_from_match, {"ipv6": {"src": "fe80::1%eth0"}}, "ipv6.src"),
        (text.parse_actions, "set(ipv6(src=fe80::1%eth0))", "actions[0].ipv6.src"),
        (text.parse_actions, "ct(commit,nat(src=[fe80::1%eth0]))", "actions[0].nat.src"),
    ],
)
def test_ipv6_scope_id_is_refused(parse, arg, field):
    error = refused(parse, arg)
    assert error.field == field and "scope" in error.reason


def test_ipv6_scope_id_flag():
    error = refused(flags.key_from_options, [("ipv6-src", "fe80::1%eth0")], PORTS)
    assert error.field == "--ipv6-src" and "scope" in error.reason


# -- digits that are not ASCII ------------------------------------------------


@pytest.mark.parametrize(
    "arg,field",
    [
        ("eth(),eth_type(0x0800),ipv4(proto=6),tcp(dst=%s)" % ARABIC_80, "tcp.dst"),
        ("in_port(%s)" % ARABIC_80, "in_port"),
        ("ipv4(src=10.0.0.0/%s)" % "\u0668", "ipv4.src mask"),
        ("skb_mark(0x1/%s)" % ARABIC_80, "skb_mark mask"),
        ("ct_state(%s)" % ARABIC_80, "ct_state"),
        ("key%s(00)" % "\u0663", "key"),  # not a name: the lexer refuses it
    ],
)
def test_unicode_digits_in_a_key(arg, field):
    assert refused(text.parse_key, arg, PORTS).field == field


@pytest.mark.parametrize(
    "arg,field",
    [
        ("recirc(%s)" % ARABIC_80, "actions[0]"),
        ("sample(sample=%s%%,actions(1))" % ARABIC_80, "actions[0].sample"),
        ("ct(commit,nat(dst=10.0.0.1:%s))" % ARABIC_80, "actions[0].nat.dst"),
        ("hash(alg%s(0))" % "\u0661", "actions[0]"),
        (ARABIC_80, "actions[0]"),
    ],
)
def test_unicode_digits_in_actions(arg, field):
    assert refused(text.parse_actions, arg, PORTS).field == field


def test_unicode_digits_in_a_flag():
    error = refused(
        flags.flow_from_options, options("--tcp-dst=" + ARABIC_80, "--output=p1"), PORTS
    )
    assert (error.field, error.value) == ("--tcp-dst", ARABIC_80)


def test_unicode_digits_in_the_structured_forms():
    assert refused(text.key_from_match, {"tcp": {"dst": ARABIC_80}}).field == "tcp.dst"
    assert refused(text.actions_from_list, [{"recirc": ARABIC_80}]).field == "actions[0]"


# -- the odp flow options -----------------------------------------------------


@pytest.mark.parametrize("key", ["", "  ", "ufid:00000001-0002-0003-0004-000500060007,"])
def test_empty_key_option(key):
    error = refused(flags.flow_from_options, [("key", key), ("output", "p1")], PORTS)
    assert error.field == "--key" and "empty" in error.reason


def test_empty_actions_option():
    error = refused(flags.flow_from_options, [("in-port", "p1"), ("actions", "")], PORTS)
    assert error.field == "--actions"


@pytest.mark.parametrize(
    "words,field,value",
    [
        (("--in-port=p1", "--in-port=p2"), "--in-port", "p2"),
        (
            ("--eth-src=02:00:00:00:00:01", "--eth-src=02:00:00:00:00:02"),
            "--eth-src",
            "02:00:00:00:00:02",
        ),
        (
            (
                "--in-port=p1",
                "--set-tunnel-ttl=64",
                "--set-tunnel-ttl=1",
                "--set-tunnel-ipv4-dst=10.0.0.1",
            ),
            "--set-tunnel-ttl",
            "1",
        ),
    ],
)
def test_a_flag_given_twice_is_refused(words, field, value):
    error = refused(flags.flow_from_options, options(*words), PORTS)
    assert (error.field, error.value) == (field, value) and "more than once" in error.reason


@pytest.mark.parametrize(
    "output,value", [("nosuch", "nosuch"), ("p1,", "p1,"), (",p1", ",p1"), ("p1,,p2", "p1,,p2")]
)
def test_output_errors_name_output(output, value):
    error = refused(flags.flow_from_options, options("--in-port=p1", "--output=" + output), PORTS)
    assert error.field == "--output" and error.value in (value, "nosuch")


def test_unknown_vport_lists_the_vports_or_guesses():
    error = refused(flags.flow_from_options, options("--in-port=p1", "--output=nosuch"), PORTS)
    assert "dp0, p1, p2" in error.reason
    error = refused(flags.flow_from_options, options("--in-port=p3", "--output=p1"), PORTS)
    assert "did you mean" in error.reason


@pytest.mark.parametrize(
    "key,field",
    [
        ("garbage", "--key: garbage"),
        ("in_port(1),eth(", "--key"),
        ("ipv4(sorc=1.2.3.4)", "--key: ipv4.sorc"),
        ("ufid:nonsense,in_port(1)", "--key: ufid"),
    ],
)
def test_garbage_key_names_the_key_option(key, field):
    error = refused(flags.flow_from_options, [("key", key), ("output", "p1")], PORTS)
    assert error.field == field and str(error).startswith("--key")


def test_garbage_actions_name_the_actions_option():
    error = refused(
        flags.flow_from_options, [("in-port", "p1"), ("actions", "ct(zone=70000)")], PORTS
    )
    assert error.field == "--actions[0].zone"


# -- numbers out of range name their action -----------------------------------


@pytest.mark.parametrize(
    "arg,name",
    [
        ("recirc(0x100000000)", "recirc"),
        ("meter(4294967296)", "meter"),
        ("trunc(x)", "trunc"),
        ("drop(-1)", "drop"),
    ],
)
def test_number_errors_name_the_action(arg, name):
    error = refused(text.parse_actions, arg)
    assert error.field == "actions[0]" and error.reason.startswith(name + ":")


def test_bare_action_that_needs_arguments():
    error = refused(text.parse_actions, "recirc")
    assert error.field == "actions[0]" and "recirc(...)" in error.reason


# -- nesting deeper than the kernel's limits ----------------------------------


def nested(outer, inner, depth):
    for _level in range(depth):
        inner = outer % inner
    return inner


@pytest.mark.parametrize(
    "outer",
    [
        "clone(%s)",
        "sample(sample=50%%,actions(%s))",
        "check_pkt_len(size=64,gt(%s),le(drop))",
        "dec_ttl(le_1(%s))",
    ],
)
def test_action_lists_nest_16_deep(outer):
    text.parse_actions(nested(outer, "1", 16))
    error = refused(text.parse_actions, nested(outer, "1", 17))
    assert "16 deep" in error.reason


@pytest.mark.parametrize("depth", [17, 3000])
def test_deep_clone_is_a_clear_error(depth):
    error = refused(text.parse_actions, nested("clone(%s)", "1", depth))
    assert "OVS_COPY_ACTIONS_MAX_DEPTH" in error.reason and len(str(error)) < 500


def test_deep_structured_actions():
    actions = [1]
    for _level in range(3000):
        actions = [{"clone": actions}]
    error = refused(text.actions_from_list, actions)
    assert "16 deep" in error.reason and len(str(error)) < 500
    assert refused(text.actions_from_list, [{"sample": {"actions": actions}}])


@pytest.mark.parametrize("depth", [3, 2000])
def test_deep_encap_is_a_clear_error(depth):
    key = nested("eth_type(0x8100),vlan(vid=1),encap(%s)", "eth_type(0x0800)", depth)
    error = refused(text.parse_key, key)
    assert "2 deep" in error.reason and len(str(error)) < 500
    match = {"eth_type": "0x0800"}
    for _level in range(depth):
        match = {"eth_type": "0x8100", "vlan": {"vid": 1}, "encap": match}
    assert "2 deep" in refused(text.key_from_match, match).reason


def test_two_vlan_headers_are_fine():
    key, _mask = text.parse_key(
        nested("eth_type(0x8100),vlan(vid=1),encap(%s)", "eth_type(0x0800)", 2)
    )
    assert key["encap"]["encap"] == {"eth_type": 0x0800}


def test_deep_set_encap_counts_too():
    encaps = nested("encap(eth_type(0x8100),vlan(vid=1),%s)", "encap(eth_type(0x0800))", 2)
    assert "2 deep" in refused(text.parse_actions, "set(%s)" % encaps).reason
