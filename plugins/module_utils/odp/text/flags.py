# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``odp flow`` options (go-odp's flags and more) <-> key, mask and actions.

Each key flag names one field of the flow key (``--eth-src`` is ``eth.src``)
and matches it exactly, or under a mask given after ``/`` or ``&`` (a MAC
mask may also follow the MAC after ``:``, twelve groups in all, as go-odp's
document wrote it). Fields without a flag are wildcarded, as in go-odp.
Values read and print with the scalar kinds of :mod:`.scalar`, as in the
ovs-dpctl text; the mask forms above are all this dialect adds.

The action flags are go-odp's: every ``--set-tunnel-*`` together make one
``set(tunnel(...))`` action, which comes before the ``--output`` ports.

Anything outside the flags is written ``--key=`` / ``--actions=`` in
ovs-dpctl syntax (the key may start with ``ufid:UUID,``, as for ovs-dpctl);
:func:`format_flow_words` falls back to those, so every flow prints as
options that recreate it.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ValidationError
from ..keys import FLOW_KEY, TUNNEL_KEY
from .action import format_actions, parse_actions
from .context import Ctx
from .flow import format_ufid, split_ufid
from .key import ethernet_by_default, format_key, is_wildcard, parse_key
from .scalar import format_mask, format_value, parse_mask, parse_value

_HEX_GROUP = "[0-9A-Fa-f]{1,2}"
_MAC_MASK_RE = re.compile(r"^(%s):(%s)$" % (":".join([_HEX_GROUP] * 6), ":".join([_HEX_GROUP] * 6)))

# How ``--help`` shows each kind of value.
METAVARS = {
    "port": "VPORT",
    "mac": "MAC[:MASK]",
    "ipv4": "ADDR[/MASK]",
    "ipv6": "ADDR[/LEN]",
    "int": "N[/MASK]",
    "tunid": "HEX",
    "bool": "BOOL",
}
# The scalar kind (.scalar.KINDS) each kind of flag reads and prints with.
_SCALARS = {"int": "int", "tunid": "hexdigits"}


class FieldFlag:
    """One option naming one field: ``attr`` (a key attribute, ``tunnel`` for
    the tunnel sub-attributes) and ``field`` (a struct field or tunnel
    attribute, None for a plain attribute); ``kind`` is one of
    :data:`METAVARS`, ``scalar`` the scalar kind of its values."""

    def __init__(
        self,
        name: str,
        attr: str,
        field: str | None,
        kind: str,
        help_text: str,
        scalar: str | None = None,
    ):
        self.name = name
        self.attr = attr
        self.field = field
        self.kind = kind
        self.help = help_text
        self.scalar = scalar or _SCALARS.get(kind, kind)
        if attr == "tunnel":
            codec = TUNNEL_KEY.lookup(field)[1]
        else:
            codec = FLOW_KEY.lookup(attr)[1]
            if field is not None:
                self.bits = codec.widths[field]
                return
        self.bits = getattr(codec, "bits", 0)

    @property
    def full(self) -> int:
        return (1 << self.bits) - 1


# Tunnel fields: matched by --tunnel-<suffix>, set by --set-tunnel-<suffix>.
_TUNNEL_FIELDS = [
    ("id", "tun_id", "tunid", "tunnel id (VNI), up to 8 hex bytes: 0000000000000005"),
    ("ipv4-src", "src", "ipv4", "tunnel IPv4 source address"),
    ("ipv4-dst", "dst", "ipv4", "tunnel IPv4 destination address"),
    ("tos", "tos", "int", "tunnel IPv4 ToS byte"),
    ("ttl", "ttl", "int", "tunnel IPv4 TTL"),
    ("df", "df", "bool", "tunnel don't-fragment flag (true/false)"),
    ("csum", "csum", "bool", "tunnel checksum flag (true/false)"),
    ("tp-src", "tp_src", "int", "tunnel UDP source port"),
    ("tp-dst", "tp_dst", "int", "tunnel UDP destination port"),
]

KEY_FLAGS = [
    FieldFlag("in-port", "in_port", None, "port", "vport the packet came in on"),
    FieldFlag(
        "eth-src",
        "eth",
        "src",
        "mac",
        "Ethernet source; MAC:MASK is 12 groups, MAC&MASK, MAC/MASK too",
    ),
    FieldFlag("eth-dst", "eth", "dst", "mac", "Ethernet destination"),
    FieldFlag("eth-type", "eth_type", None, "int", "Ethertype, e.g. 0x0800", scalar="ethertype"),
    FieldFlag("ipv4-src", "ipv4", "src", "ipv4", "IPv4 source (/MASK or /LEN)"),
    FieldFlag("ipv4-dst", "ipv4", "dst", "ipv4", "IPv4 destination (/MASK or /LEN)"),
    FieldFlag("ipv4-proto", "ipv4", "proto", "int", "IPv4 protocol number"),
    FieldFlag("ipv4-tos", "ipv4", "tos", "int", "IPv4 ToS byte"),
    FieldFlag("ipv4-ttl", "ipv4", "ttl", "int", "IPv4 TTL"),
    FieldFlag("ipv6-src", "ipv6", "src", "ipv6", "IPv6 source"),
    FieldFlag("ipv6-dst", "ipv6", "dst", "ipv6", "IPv6 destination"),
    FieldFlag("tcp-src", "tcp", "src", "int", "TCP source port"),
    FieldFlag("tcp-dst", "tcp", "dst", "int", "TCP destination port"),
    FieldFlag("udp-src", "udp", "src", "int", "UDP source port"),
    FieldFlag("udp-dst", "udp", "dst", "int", "UDP destination port"),
    FieldFlag("icmp-type", "icmp", "type", "int", "ICMP type"),
    FieldFlag("icmp-code", "icmp", "code", "int", "ICMP code"),
    FieldFlag("skb-mark", "skb_mark", None, "int", "packet mark"),
] + [
    FieldFlag("tunnel-" + suffix, "tunnel", field, kind, help_text)
    for suffix, field, kind, help_text in _TUNNEL_FIELDS
]

SET_TUNNEL_FLAGS = [
    FieldFlag("set-tunnel-" + suffix, "tunnel", field, kind, "set " + help_text)
    for suffix, field, kind, help_text in _TUNNEL_FIELDS
]

KEY_FLAG_NAMES = {f.name: f for f in KEY_FLAGS}
SET_TUNNEL_FLAG_NAMES = {f.name: f for f in SET_TUNNEL_FLAGS}
_KEY_FLAG_BY_FIELD = {(f.attr, f.field): f for f in KEY_FLAGS}
_SET_TUNNEL_BY_FIELD = {f.field: f for f in SET_TUNNEL_FLAGS}

# What a layer 3 or 4 field implies, as ovs-ofctl's "tcp" implies "ip,nw_proto=6":
# the EtherType for each layer 3 header, the IP protocol for each layer 4 one.
ETH_TYPES = {"ipv4": 0x0800, "ipv6": 0x86DD}
IP_PROTOS = {"tcp": 6, "udp": 17, "icmp": 1}

# Options that take ovs-dpctl text instead of flags, and the output list.
TEXT_KEY = "key"
TEXT_ACTIONS = "actions"
OUTPUT = "output"
FLOW_OPTION_NAMES = frozenset(
    list(KEY_FLAG_NAMES) + list(SET_TUNNEL_FLAG_NAMES) + [TEXT_KEY, TEXT_ACTIONS, OUTPUT]
)


class FlowOptions(tuple):
    """``(key, mask, actions)`` of a flow's options, and the ``ufid`` (16
    bytes) its ``--key=ufid:UUID,...`` gave, or None."""

    ufid: bytes | None

    def __new__(cls, key, mask, actions, ufid=None):
        self = tuple.__new__(cls, (key, mask, actions))
        self.ufid = ufid
        return self

    key = property(lambda self: self[0])
    mask = property(lambda self: self[1])
    actions = property(lambda self: self[2])


def _invalid(flag, text, reason):
    return ValidationError("--" + flag, text, reason)


def _split_mask(flag, text):
    """``VALUE`` -> (VALUE, None); ``VALUE/MASK``, ``VALUE&MASK`` (and a
    twelve-group MAC:MASK) -> both."""
    if flag.kind == "mac":
        text = text.replace("-", ":")  # go-odp also took 02-00-00-00-00-01
        pair = _MAC_MASK_RE.match(text)
        if pair:
            return pair.groups()
    parts = re.split("[/&]", text)
    if len(parts) == 1:
        return text, None
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise _invalid(flag.name, text, "expected VALUE, VALUE/MASK or VALUE&MASK")
    return parts[0], parts[1]


def parse_field(flag: FieldFlag, text: str, ports: dict | None = None):
    """``(value, mask)`` for one field option; mask None when exact.

    A bool's value is True/False; a port's value is its number, looked up
    by vport name in ``ports`` (a number is taken as it is).
    """
    option = "--" + flag.name
    if flag.kind in ("bool", "port"):
        return parse_value(flag.scalar, flag.bits, text, option, Ctx(ports)), None
    value, mask = _split_mask(flag, text)
    return (
        parse_value(flag.scalar, flag.bits, value, option),
        None if mask is None else parse_mask(flag.scalar, flag.bits, mask, option),
    )


def format_field(flag: FieldFlag, value, mask=None, port_names: dict | None = None) -> str:
    """The option word ``--name=value[/mask]`` that :func:`parse_field` reads back."""
    text = format_value(flag.scalar, value, Ctx(port_names=port_names), flag.bits)
    return "--%s=%s%s" % (flag.name, text, mask_text(flag, mask))


def mask_text(flag: FieldFlag, mask) -> str:
    """What follows a flag's value under ``mask`` (None: exact)."""
    if mask is None or mask == flag.full or flag.kind in ("bool", "port"):
        return ""
    # The seed's document writes a masked MAC as twelve groups.
    return (":" if flag.kind == "mac" else "/") + format_mask(flag.scalar, flag.bits, mask)


def _put(key, mask, flag, value, field_mask):
    """Store one parsed key field into ``key``/``mask`` (dicts of the contract)."""
    if flag.field is None:
        key[flag.attr] = value
        mask[flag.attr] = field_mask
        return
    key_part = key.setdefault(flag.attr, {})
    mask_part = mask.setdefault(flag.attr, {})
    if flag.kind == "bool":
        # A flag attribute: present in the key when set; the mask says "matched".
        if value:
            key_part[flag.field] = True
        mask_part[flag.field] = True
        return
    key_part[flag.field] = value
    mask_part[flag.field] = field_mask


def _once(options):
    """Refuse an option given twice: which one would win is anyone's guess."""
    seen = set()
    for name, text in options:
        if name in seen:
            raise _invalid(name, text, "given more than once")
        seen.add(name)


def key_from_options(options, ports: dict | None = None):
    """``(key, mask)`` from ``[(flag name, text)]`` of key flags; mask explicit."""
    _once(options)
    key: dict[str, Any] = {}
    mask: dict[str, Any] = {}
    for name, text in options:
        flag = KEY_FLAG_NAMES[name]
        value, field_mask = parse_field(flag, text, ports)
        # Bits outside the mask are dropped, as the kernel, ovs-dpctl and go-odp do.
        field_mask = flag.full if field_mask is None else field_mask & flag.full
        _put(key, mask, flag, value & field_mask if flag.kind != "bool" else value, field_mask)
    _imply_lower_layers(key, mask)
    return ethernet_by_default(key, mask)


def _imply_lower_layers(key, mask):
    """Match exactly the IP protocol and EtherType that the given layer 4 and
    3 fields need (the kernel refuses them otherwise), unless given."""
    for layer4, proto in IP_PROTOS.items():
        if layer4 in key:
            layer3 = "ipv6" if "ipv6" in key and layer4 != "icmp" else "ipv4"
            if "proto" not in mask.get(layer3, {}):
                key.setdefault(layer3, {})["proto"] = proto
                mask.setdefault(layer3, {})["proto"] = 0xFF
    for layer3, eth_type in ETH_TYPES.items():
        if layer3 in key and "eth_type" not in mask:
            key["eth_type"] = eth_type
            mask["eth_type"] = 0xFFFF


def actions_from_options(set_tunnel, outputs, ports: dict | None = None) -> list:
    """go-odp's actions: one ``set(tunnel(...))`` of every ``--set-tunnel-*``
    (``[(flag name, text)]``), then an output per ``--output`` vport."""
    _once(set_tunnel)
    actions = []
    if set_tunnel:
        tunnel = {}
        for name, text in set_tunnel:
            flag = SET_TUNNEL_FLAG_NAMES[name]
            value, mask = parse_field(flag, text)
            if mask is not None:
                raise _invalid(name, text, "a set action takes no mask")
            if value is not False:
                tunnel[flag.field] = value
        actions.append(("set", {"tunnel": tunnel}))
    ctx = Ctx(ports)
    for text in outputs:
        for name in text.split(","):
            if not name.strip():
                raise _invalid(OUTPUT, text, "an empty vport name in the list")
            actions.append(("output", parse_value("port", 32, name, "--" + OUTPUT, ctx)))
    return actions


def key_flag_fields(key, mask):
    """``(flag, attr, field, mask)`` of each key flag for (key, mask), in
    print order (mask None: exact), or None when some matched field has no
    flag. A None mask (exact match) counts as a full mask of every present
    field. A key without ``eth`` (a layer 3 packet) has no flags: they mean
    Ethernet."""
    if "eth" not in key:
        return None
    fields = []
    for attr, value in (mask if mask is not None else key).items():
        if isinstance(value, dict):
            masks = [(f, m if mask is not None else True) for f, m in value.items()]
        elif mask is not None and is_wildcard(attr, value):
            continue  # matches as if absent: in_port under 0xffff0000 is no in_port
        else:
            masks = [(None, value if mask is not None else True)]
        for field, field_mask in masks:
            if not field_mask:
                continue
            flag = _KEY_FLAG_BY_FIELD.get((attr, field))
            if flag is None:
                return None
            fields.append((flag, attr, field, None if field_mask is True else field_mask))
    # Flags print in the table's order, whatever order the kernel dumped.
    return sorted(fields, key=lambda item: _FLAG_POSITION[item[0].name])


def flag_value(key, attr, field):
    """The value a key flag prints: 0 for a field the key lacks."""
    attr_value = key.get(attr)
    if field is None:
        return attr_value or 0
    return (attr_value.get(field) if attr_value else None) or 0


def _key_words(key, mask, port_names):
    """Key flags for (key, mask), or None (see :func:`key_flag_fields`)."""
    fields = key_flag_fields(key, mask)
    if fields is None:
        return None
    return [
        format_field(flag, flag_value(key, attr, field), field_mask, port_names)
        for flag, attr, field, field_mask in fields
    ]


def _action_words(actions, port_names):
    """go-odp's action flags for ``actions``, or None when they say more."""
    words: list[str] = []
    outputs = []
    ctx = Ctx(port_names=port_names)
    for index, (name, value) in enumerate(actions):
        if name == "output" and isinstance(value, int):
            outputs.append(format_value("port", value, ctx))
        elif (
            name == "set"
            and index == 0
            and list(value) == ["tunnel"]
            and all(field in _SET_TUNNEL_BY_FIELD for field in value["tunnel"])
        ):
            words.extend(
                format_field(_SET_TUNNEL_BY_FIELD[field], item)
                for field, item in value["tunnel"].items()
            )
        else:
            return None
    words.sort(key=_flag_position)
    if outputs:
        words.append("--%s=%s" % (OUTPUT, ",".join(outputs)))
    return words or None


_FLAG_POSITION = {flag.name: index for index, flag in enumerate(KEY_FLAGS + SET_TUNNEL_FLAGS)}


def _flag_position(word):
    """Print flags in the table's order, whatever order the kernel dumped."""
    return _FLAG_POSITION[word[2:].split("=", 1)[0]]


def _text_option(option, parse, text, ports):
    """``parse(text, ports)`` with errors naming the option they came from;
    an empty text is refused: it would match every packet, or drop them all."""
    if not text.strip():
        raise _invalid(
            option,
            text,
            "empty: give the whole %s in ovs-dpctl syntax%s"
            % (option, " (drop drops)" if option == TEXT_ACTIONS else ""),
        )
    try:
        return parse(text, ports)
    except ValidationError as exc:
        field = exc.field
        field = (
            "--" + field
            if field == option or field.startswith(option + "[")
            else "--%s: %s" % (option, field)
        )
        raise ValidationError(field, exc.value, exc.reason)


def flow_from_options(options, ports: dict | None = None, with_actions: bool = True) -> FlowOptions:
    """:class:`FlowOptions` ``(key, mask, actions)`` from the ``[(name,
    text)]`` flow options, with the UFID of ``--key=ufid:UUID,...``.

    ``--key=``/``--actions=`` (ovs-dpctl text) stand for the whole key or
    the whole action list, so they do not mix with the flags of that half.
    """

    def named(*names):
        return [(n, t) for n, t in options if n in names]

    key_text = named(TEXT_KEY)
    key_flags = named(*KEY_FLAG_NAMES)
    actions_text = named(TEXT_ACTIONS)
    set_tunnel = named(*SET_TUNNEL_FLAG_NAMES)
    outputs = named(OUTPUT)
    if not with_actions and actions_text + set_tunnel + outputs:
        name, text = (actions_text + set_tunnel + outputs)[0]
        raise ValidationError("--" + name, text, "this command takes a flow key, no actions")
    _one_form(key_text, key_flags)
    _one_form(actions_text, set_tunnel + outputs)
    ufid = None
    if key_text:
        ufid, text = _text_option(TEXT_KEY, lambda t, _p: split_ufid(t), key_text[0][1], ports)
        key, mask = _text_option(TEXT_KEY, parse_key, text, ports)
    else:
        key, mask = key_from_options(key_flags, ports)
    if actions_text:
        actions = _text_option(TEXT_ACTIONS, parse_actions, actions_text[0][1], ports)
    else:
        actions = actions_from_options(set_tunnel, [t for _n, t in outputs], ports)
    return FlowOptions(key, mask, actions, ufid)


def _one_form(texts, flags):
    if len(texts) > 1:
        raise ValidationError("--" + texts[1][0], texts[1][1], "given more than once")
    if texts and flags:
        raise ValidationError(
            "--" + texts[0][0], texts[0][1], "cannot be combined with --" + flags[0][0]
        )


def format_flow_words(
    key, mask, actions, port_names: dict | None = None, ufid: bytes | None = None
) -> list:
    """The options that recreate a flow: flags where they say it all,
    ``--key=``/``--actions=`` in ovs-dpctl text otherwise; with ``ufid``,
    the key is ``--key=ufid:UUID,...``."""
    words = _key_words(key, mask, port_names) if ufid is None else None
    if words is None:
        text = format_key(key, mask, port_names)
        words = ["--%s=%s" % (TEXT_KEY, text if ufid is None else format_ufid(ufid) + "," + text)]
    return words + format_action_words(actions, port_names)


def format_action_words(actions, port_names: dict | None = None) -> list:
    """The action half of :func:`format_flow_words`."""
    action_words = _action_words(actions, port_names)
    if action_words is None:
        action_words = ["--%s=%s" % (TEXT_ACTIONS, format_actions(actions, port_names))]
    return action_words
