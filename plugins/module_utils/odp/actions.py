# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The flow action vocabulary: every ``OVS_ACTION_ATTR_*`` of linux/openvswitch.h.

An action list is a ``list`` of ``(name, value)`` pairs, in execution order.
Names are the ones ovs-dpctl prints, except ``output`` (printed as the bare
port) and ``set_masked`` (printed as ``set(...)`` with masks).
"""

from .attrs import (
    AttrMap,
    Bytes,
    Codec,
    CodecError,
    Flag,
    IPAddr,
    Nested,
    String,
    Struct,
    iter_attrs,
    pack_attr,
)
from .keys import FLOW_KEY, HEX_BE16, HEX_U32, NSH_KEY, U16, U32


class MaskedSet(Codec):
    """``OVS_ACTION_ATTR_SET_MASKED``: one key attribute whose payload is the
    value followed by a mask of the same length. Value: ``{name: (value, mask)}``."""

    kind = "masked"

    def encode(self, value):
        if len(value) != 1:
            raise CodecError("set_masked takes exactly one key attribute, got %d" % len(value))
        ((name, (field_value, mask)),) = value.items()
        kind, codec = FLOW_KEY.lookup(name)
        if codec is None or codec.kind == "nested":
            raise CodecError("set_masked cannot carry %s" % name)
        return pack_attr(kind, codec.encode(field_value) + codec.encode(mask))

    def decode(self, raw):
        for kind, payload in iter_attrs(raw):
            entry = FLOW_KEY.by_id.get(kind)
            if entry is None or entry[1].kind == "nested":
                raise CodecError("set_masked carries unsupported key attribute %d" % kind)
            name, codec = entry
            half = len(payload) // 2
            return {name: (codec.decode(payload[:half]), codec.decode(payload[half:]))}
        raise CodecError("set_masked carries no key attribute")


ACTIONS = AttrMap("action", "action")
ACTION_LIST = Nested(ACTIONS, ordered=True)

USERSPACE = AttrMap(
    "userspace",
    "userspace_attr",
    [
        (1, "pid", U32),
        (2, "userdata", Bytes()),
        (3, "tunnel_out_port", U32),
        (4, "actions", Flag()),
    ],
)

SAMPLE = AttrMap(
    "sample",
    "sample_attr",
    [
        (1, "probability", U32),
        (2, "actions", ACTION_LIST),
    ],
)

NAT = AttrMap(
    "nat",
    "nat_attr",
    [
        (1, "src", Flag()),
        (2, "dst", Flag()),
        (3, "ip_min", IPAddr()),
        (4, "ip_max", IPAddr()),
        (5, "proto_min", U16),
        (6, "proto_max", U16),
        (7, "persistent", Flag()),
        (8, "hash", Flag()),
        (9, "random", Flag()),
    ],
)

CT = AttrMap(
    "ct",
    "ct_attr",
    [
        (1, "commit", Flag()),
        (2, "zone", U16),
        (3, "mark", Struct([("value", "I", "hex"), ("mask", "I", "hex")], byteorder="=")),
        (4, "label", Struct([("value", "16s", "hex"), ("mask", "16s", "hex")])),
        (5, "helper", String()),
        (6, "nat", Nested(NAT)),
        (7, "force_commit", Flag()),
        (8, "eventmask", HEX_U32),
        (9, "timeout", String()),
    ],
)

CHECK_PKT_LEN = AttrMap(
    "check_pkt_len",
    "check_pkt_len_attr",
    [
        (1, "size", U16),
        (2, "gt", ACTION_LIST),
        (3, "le", ACTION_LIST),
    ],
)

DEC_TTL = AttrMap(
    "dec_ttl",
    "dec_ttl_attr",
    [
        (1, "le_1", ACTION_LIST),
    ],
)

PSAMPLE = AttrMap(
    "psample",
    "psample_attr",
    [
        (1, "group", U32),
        (2, "cookie", Bytes()),
    ],
)

# OVS_HASH_ALG_*
HASH_ALGS = {0: "l4", 1: "sym_l4"}

for _kind, _name, _codec in [
    (1, "output", U32),
    (2, "userspace", Nested(USERSPACE)),
    (3, "set", Nested(FLOW_KEY)),
    (4, "push_vlan", Struct([("tpid", "H", "hex"), ("tci", "H", "hex")])),
    (5, "pop_vlan", Flag()),
    (6, "sample", Nested(SAMPLE)),
    (7, "recirc", HEX_U32),
    (8, "hash", Struct([("alg", "I", "int"), ("basis", "I", "hex")], byteorder="=")),
    (9, "push_mpls", Struct([("lse", "I", "hex"), ("eth_type", "H", "hex"), (None, "2x", None)])),
    (10, "pop_mpls", HEX_BE16),
    (11, "set_masked", MaskedSet()),
    (12, "ct", Nested(CT)),
    (13, "trunc", U32),
    (14, "push_eth", Struct([("src", "6s", "mac"), ("dst", "6s", "mac")])),
    (15, "pop_eth", Flag()),
    (16, "ct_clear", Flag()),
    (17, "push_nsh", Nested(NSH_KEY)),
    (18, "pop_nsh", Flag()),
    (19, "meter", U32),
    (20, "clone", ACTION_LIST),
    (21, "check_pkt_len", Nested(CHECK_PKT_LEN)),
    (
        22,
        "add_mpls",
        Struct([("lse", "I", "hex"), ("eth_type", "H", "hex"), ("tun_flags", "H", "hex")]),
    ),
    (23, "dec_ttl", Nested(DEC_TTL)),
    (24, "drop", U32),
    (25, "psample", Nested(PSAMPLE)),
]:
    ACTIONS.define(_kind, _name, _codec)


def actions_named(actions, name):
    """The values of the actions called ``name`` in an action list, those
    nested in clone, sample, check_pkt_len and dec_ttl included."""
    for item in actions:
        if not isinstance(item, tuple) or len(item) != 2:
            continue
        kind, value = item
        if kind == name:
            yield value
        elif isinstance(value, list):  # clone
            yield from actions_named(value, name)
        elif isinstance(value, dict):  # sample, check_pkt_len, dec_ttl
            for nested in value.values():
                if isinstance(nested, list):
                    yield from actions_named(nested, name)
