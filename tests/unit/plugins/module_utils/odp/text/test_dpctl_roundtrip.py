# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property test: keys, masks and set actions built from the schema survive
format -> parse unchanged (as dicts and as netlink bytes)."""

import pytest

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

from vswitch_odp import text as dpctl  # noqa: E402  pylint: disable=wrong-import-position
from vswitch_odp.actions import ACTIONS  # noqa: E402  pylint: disable=wrong-import-position
from vswitch_odp.attrs import Struct, Unknown  # noqa: E402  pylint: disable=wrong-import-position
from vswitch_odp.keys import FLOW_KEY  # noqa: E402  pylint: disable=wrong-import-position

# Attributes with their own syntax get dedicated tests in test_dpctl.py.
SKIP = ("encap", "tunnel", "nsh")
FLAT = [(name, codec) for name, codec in FLOW_KEY.by_id.values() if name not in SKIP]


def _masked(bits):
    """(value, mask) with the value inside the mask, as the kernel keeps it."""
    return st.tuples(st.integers(0, (1 << bits) - 1), st.integers(0, (1 << bits) - 1)).map(
        lambda vm: (vm[0] & vm[1], vm[1])
    )


def _attr(codec):
    if isinstance(codec, Struct):
        return st.fixed_dictionaries({f: _masked(codec.widths[f]) for f in codec.names}).map(
            lambda d: ({f: vm[0] for f, vm in d.items()}, {f: vm[1] for f, vm in d.items()})
        )
    return _masked(codec.bits)


KEYS = st.lists(st.sampled_from(FLAT), unique_by=lambda nc: nc[0], max_size=8).flatmap(
    lambda attrs: st.tuples(*[st.tuples(st.just(n), _attr(c)) for n, c in attrs])
)


def _split(pairs):
    return ({n: vm[0] for n, vm in pairs}, {n: vm[1] for n, vm in pairs})


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(KEYS)
def test_key_round_trip_verbose(pairs):
    key, mask = _split(pairs)
    hypothesis.assume(not ("in_port" in mask and mask["in_port"] != 0xFFFFFFFF))
    text = dpctl.format_key(key, mask, verbose=True)
    assert dpctl.parse_key(text) == (key, mask), text
    assert FLOW_KEY.encode(dpctl.parse_key(text)[0].items()) == FLOW_KEY.encode(key.items())


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(KEYS)
def test_key_round_trip_terse(pairs):
    key, mask = _split(pairs)
    hypothesis.assume(not ("in_port" in mask and mask["in_port"] != 0xFFFFFFFF))
    # Non-verbose output leaves out wildcarded attributes (not eth, and not
    # what ovs-dpctl prints raw); wildcarded fields read back as zero anyway.
    kept = [
        n
        for n in key
        if n in ("eth", "ipv6_exthdrs")
        or any(mask[n].values() if isinstance(mask[n], dict) else [mask[n]])
    ]
    text = dpctl.format_key(key, mask)
    assert dpctl.parse_key(text) == ({n: key[n] for n in kept}, {n: mask[n] for n in kept}), text


SETTABLE = [(n, c) for n, c in FLAT if n not in ("in_port", "ct_state", "tcp_flags")]


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(
    st.sampled_from(SETTABLE).flatmap(lambda nc: st.tuples(st.just(nc[0]), _attr(nc[1])))
)
def test_set_masked_round_trip(attr):
    name, (value, mask) = attr
    actions = [("set_masked", {name: (value, mask)}), ("set", {name: value})]
    text = dpctl.format_actions(actions)
    parsed = dpctl.parse_actions(text)
    assert parsed[1] == actions[1], text
    # A set_masked whose every field is exact reads back as a set (documented).
    assert parsed[0] == actions[0] or parsed[0] == ("set", {name: value}), text
    assert ACTIONS.encode(dpctl.parse_actions(dpctl.format_actions(parsed))) == ACTIONS.encode(
        parsed
    )


# --------------------------------------------------------------------------
# The nested attributes and the actions (odp/text's registries): generated
# values in the form the kernel dumps them, format -> parse is the identity.


def _flags_of(pairs):
    """Tunnel flags: matched (in the mask) and, when matched, maybe set."""
    key = {name: True for name, (matched, on) in pairs.items() if matched and on}
    return key, {name: True for name, (matched, _on) in pairs.items() if matched}


TUNNEL_SCALARS = st.fixed_dictionaries(
    {},
    optional={
        "tun_id": _masked(64),
        "src": _masked(32),
        "dst": _masked(32),
        "tos": _masked(8),
        "ttl": _masked(8),
        "tp_src": _masked(16),
        "tp_dst": _masked(16),
    },
)
TUNNEL_FLAGS = st.fixed_dictionaries(
    {name: st.tuples(st.booleans(), st.booleans()) for name in ("df", "csum", "oam")}
)


@st.composite
def tunnels(draw):
    scalars = draw(TUNNEL_SCALARS)
    flag_key, flag_mask = _flags_of(draw(TUNNEL_FLAGS))
    key = {name: vm[0] for name, vm in scalars.items()}
    mask = {name: vm[1] for name, vm in scalars.items()}
    key.update(flag_key)
    mask.update(flag_mask)
    return key, mask


VLAN_KEYS = st.tuples(_masked(16), KEYS).map(lambda tci_inner: (tci_inner[0], _split(tci_inner[1])))


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(tunnels(), st.booleans())
def test_tunnel_round_trip(tunnel, verbose):
    key, mask = {"tunnel": tunnel[0]}, {"tunnel": tunnel[1]}
    text = dpctl.format_key(key, mask, verbose=verbose)
    assert dpctl.parse_key(text) == (key, mask), text


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(VLAN_KEYS, VLAN_KEYS)
def test_vlan_encap_round_trip(outer, inner):
    """Two VLAN headers, each with its encap(), as the kernel matches them."""
    (tci, tci_mask), (inner_key, inner_mask) = inner
    (otci, otci_mask), (outer_key, outer_mask) = outer
    hypothesis.assume("in_port" not in inner_key and "in_port" not in outer_key)
    encap = (
        dict(inner_key, vlan=tci, eth_type=0x8100),
        dict(inner_mask, vlan=tci_mask, eth_type=0xFFFF),
    )
    key = dict(outer_key, eth_type=0x8100, vlan=otci, encap=encap[0])
    mask = dict(outer_mask, eth_type=0xFFFF, vlan=otci_mask, encap=encap[1])
    text = dpctl.format_key(key, mask, verbose=True)
    assert dpctl.parse_key(text) == (key, mask), text


NSH_KEYS = st.tuples(
    st.fixed_dictionaries(
        dict(
            [(f, _masked(8)) for f in ("flags", "ttl", "mdtype", "np")] + [("spi_si", _masked(32))]
        )
    ),
    st.one_of(st.none(), st.fixed_dictionaries({c: _masked(32) for c in ("c1", "c2", "c3", "c4")})),
)


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(NSH_KEYS)
def test_nsh_round_trip_verbose(nsh):
    base, md1 = nsh
    key = {"nsh": {"base": {f: vm[0] for f, vm in base.items()}}}
    mask = {"nsh": {"base": {f: vm[1] for f, vm in base.items()}}}
    if md1 is not None:
        key["nsh"]["md1"] = {f: vm[0] for f, vm in md1.items()}
        mask["nsh"]["md1"] = {f: vm[1] for f, vm in md1.items()}
    text = dpctl.format_key(key, mask, verbose=True)
    assert dpctl.parse_key(text) == (key, mask), text


def _u(bits):
    return st.integers(0, (1 << bits) - 1)


def _exact_value(codec):
    if isinstance(codec, Struct):
        return st.fixed_dictionaries({f: _u(codec.widths[f]) for f in codec.names})
    return _u(codec.bits)


def _not_exact(codec, mask):
    if isinstance(codec, Struct):
        return any(mask[f] != (1 << codec.widths[f]) - 1 for f in codec.names)
    return mask != (1 << codec.bits) - 1


NAT = st.one_of(
    st.just({}),
    st.fixed_dictionaries(
        {}, optional={"persistent": st.just(True), "hash": st.just(True), "random": st.just(True)}
    ),
    st.tuples(
        st.sampled_from(["src", "dst"]),
        st.sampled_from([4, 6]),
        st.booleans(),
        st.booleans(),
        st.booleans(),
        st.booleans(),
    )
    .flatmap(
        lambda t: st.tuples(
            st.just(t), _u(32 if t[1] == 4 else 128), _u(32 if t[1] == 4 else 128), _u(16), _u(16)
        )
    )
    .map(
        lambda t: dict(
            [(t[0][0], True)]
            + ([("ip_min", (t[0][1], t[1]))] if t[0][2] else [])
            + ([("ip_max", (t[0][1], t[2]))] if t[0][2] and t[0][3] else [])
            + ([("proto_min", t[3])] if t[0][4] else [])
            + ([("proto_max", t[4])] if t[0][4] and t[0][5] else [])
        )
    ),
)
NAME = st.text("abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=12)
CT = st.fixed_dictionaries(
    {},
    optional={
        "zone": _u(16),
        "mark": st.fixed_dictionaries({"value": _u(32), "mask": _u(32)}),
        "label": st.fixed_dictionaries({"value": _u(128), "mask": _u(128)}),
        "helper": NAME,
        "timeout": NAME,
        "eventmask": _u(32),
        "nat": NAT,
    },
).flatmap(
    lambda ct: st.sampled_from([{}, {"commit": True}, {"force_commit": True}]).map(
        lambda commit: dict(commit, **ct)
    )
)
SETTABLE_KEYS = [(n, c) for n, c in SETTABLE if n != "vlan"]


def _simple_actions():
    return st.one_of(
        _u(32).map(lambda port: ("output", port)),
        st.sampled_from(["pop_vlan", "pop_eth", "ct_clear", "pop_nsh"]).map(lambda n: (n, True)),
        st.tuples(st.sampled_from(["recirc", "trunc", "meter", "drop"]), _u(32)),
        st.fixed_dictionaries({"tpid": _u(16), "tci": _u(16)}).map(lambda v: ("push_vlan", v)),
        st.fixed_dictionaries({"alg": _u(32), "basis": _u(32)}).map(lambda v: ("hash", v)),
        st.fixed_dictionaries({"lse": _u(32), "eth_type": _u(16)}).map(lambda v: ("push_mpls", v)),
        st.fixed_dictionaries({"lse": _u(32), "eth_type": _u(16), "tun_flags": _u(16)}).map(
            lambda v: ("add_mpls", v)
        ),
        _u(16).map(lambda v: ("pop_mpls", v)),
        st.fixed_dictionaries({"src": _u(48), "dst": _u(48)}).map(lambda v: ("push_eth", v)),
        st.sampled_from(SETTABLE_KEYS).flatmap(
            lambda nc: _exact_value(nc[1]).map(lambda v, n=nc[0]: ("set", {n: v}))
        ),
        st.sampled_from(SETTABLE_KEYS).flatmap(
            lambda nc: (
                _attr(nc[1])
                .filter(lambda vm, c=nc[1]: _not_exact(c, vm[1]))
                .map(lambda vm, n=nc[0]: ("set_masked", {n: vm}))
            )
        ),
        tunnels().map(lambda t: ("set", {"tunnel": t[0]})),
        st.fixed_dictionaries(
            {},
            optional={
                "pid": _u(32),
                "userdata": st.binary(max_size=8),
                "actions": st.just(True),
                "tunnel_out_port": _u(32),
            },
        ).map(lambda v: ("userspace", v)),
        CT.map(lambda v: ("ct", v)),
        st.fixed_dictionaries({}, optional={"group": _u(32), "cookie": st.binary(max_size=8)}).map(
            lambda v: ("psample", v)
        ),
        st.tuples(
            st.fixed_dictionaries(
                dict([(f, _u(8)) for f in ("flags", "ttl", "mdtype", "np")] + [("spi_si", _u(32))])
            ),
            st.fixed_dictionaries({c: _u(32) for c in ("c1", "c2", "c3", "c4")}),
        ).map(lambda bm: ("push_nsh", {"base": bm[0], "md1": bm[1]})),
        st.tuples(st.integers(26, 200), st.binary(max_size=8)).map(
            lambda nb: ("action%d" % nb[0], Unknown(nb[0], nb[1]))
        ),
    )


def _nested(lists):
    return st.one_of(
        lists.map(lambda actions: ("clone", actions)),
        st.tuples(_u(32), lists).map(
            lambda pa: ("sample", {"probability": pa[0], "actions": pa[1]})
        ),
        st.tuples(_u(16), lists, lists).map(
            lambda sgl: ("check_pkt_len", {"size": sgl[0], "gt": sgl[1], "le": sgl[2]})
        ),
        lists.map(lambda actions: ("dec_ttl", {"le_1": actions})),
    )


ACTION_LISTS = st.recursive(
    st.lists(_simple_actions(), max_size=4),
    lambda lists: st.lists(st.one_of(_simple_actions(), _nested(lists)), max_size=4),
    max_leaves=12,
)


@hypothesis.settings(max_examples=400, deadline=None)
@hypothesis.given(ACTION_LISTS)
def test_action_list_round_trip(actions):
    text = dpctl.format_actions(actions)
    parsed = dpctl.parse_actions(text)
    assert parsed == actions, text
    # Options read back in the printed order, which dicts do not compare.
    assert dpctl.format_actions(parsed) == text
    assert ACTIONS.encode(dpctl.parse_actions(dpctl.format_actions(parsed))) == ACTIONS.encode(
        parsed
    )
