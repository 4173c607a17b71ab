# -*- coding: utf-8 -*-
# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``odp flow`` options (go-odp's flags and more) <-> key, mask and actions.

Each key flag names one field of the flow key (``--eth-src`` is ``eth.src``)
and matches it exactly, or under a mask given after ``/`` or ``&`` (a MAC
mask may also follow the MAC after ``:``, twelve groups in all, as go-odp's
document wrote it). Fields without a flag are wildcarded, as in go-odp.

The action flags are go-odp's: every ``--set-tunnel-*`` together make one
``set(tunnel(...))`` action, which comes before the ``--output`` ports.

Anything outside the flags is written ``--key=`` / ``--actions=`` in
ovs-dpctl syntax; :func:`format_flow_words` falls back to those, so every
flow prints as options that recreate it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

import ipaddress
import re

from . import dpctl
from .errors import ValidationError
from .keys import FLOW_KEY, TUNNEL_KEY

# go-odp's boolean words (Go's strconv.ParseBool).
_TRUE = ("1", "t", "T", "true", "TRUE", "True")
_FALSE = ("0", "f", "F", "false", "FALSE", "False")
_HEX_GROUP = "[0-9A-Fa-f]{1,2}"
_MAC_RE = re.compile(r"^%s$" % "[:-]".join([_HEX_GROUP] * 6))
_MAC_MASK_RE = re.compile(r"^(%s):(%s)$" % (":".join([_HEX_GROUP] * 6), ":".join([_HEX_GROUP] * 6)))


# How ``--help`` shows each kind of value.
METAVARS = {"port": "VPORT", "mac": "MAC[:MASK]", "ipv4": "ADDR[/MASK]", "ipv6": "ADDR[/LEN]",
            "int": "N[/MASK]", "tunid": "HEX", "bool": "BOOL"}


class FieldFlag:
    """One option naming one field: ``attr`` (a key attribute, ``tunnel`` for
    the tunnel sub-attributes) and ``field`` (a struct field or tunnel
    attribute, None for a plain attribute)."""

    def __init__(self, name, attr, field, kind, help_text):
        self.name = name
        self.attr = attr
        self.field = field
        self.kind = kind
        self.help = help_text
        if attr == "tunnel":
            codec = TUNNEL_KEY.lookup(field)[1]
        else:
            codec = FLOW_KEY.lookup(attr)[1]
            if field is not None:
                self.bits = codec.widths[field]
                return
        self.bits = getattr(codec, "bits", 0)

    @property
    def full(self):
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
    FieldFlag("eth-src", "eth", "src", "mac", "Ethernet source; MAC:MASK is 12 groups, MAC&MASK, MAC/MASK too"),
    FieldFlag("eth-dst", "eth", "dst", "mac", "Ethernet destination"),
    FieldFlag("eth-type", "eth_type", None, "int", "Ethertype, e.g. 0x0800"),
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
] + [FieldFlag("tunnel-" + suffix, "tunnel", field, kind, help_text)
     for suffix, field, kind, help_text in _TUNNEL_FIELDS]

SET_TUNNEL_FLAGS = [FieldFlag("set-tunnel-" + suffix, "tunnel", field, kind, "set " + help_text)
                    for suffix, field, kind, help_text in _TUNNEL_FIELDS]

KEY_FLAG_NAMES = dict((f.name, f) for f in KEY_FLAGS)
SET_TUNNEL_FLAG_NAMES = dict((f.name, f) for f in SET_TUNNEL_FLAGS)
_KEY_FLAG_BY_FIELD = dict(((f.attr, f.field), f) for f in KEY_FLAGS)
_SET_TUNNEL_BY_FIELD = dict((f.field, f) for f in SET_TUNNEL_FLAGS)

# What a layer 3 or 4 field implies, as ovs-ofctl's "tcp" implies "ip,nw_proto=6":
# the EtherType for each layer 3 header, the IP protocol for each layer 4 one.
ETH_TYPES = {"ipv4": 0x0800, "ipv6": 0x86DD}
IP_PROTOS = {"tcp": 6, "udp": 17, "icmp": 1}

# Options that take ovs-dpctl text instead of flags, and the output list.
TEXT_KEY = "key"
TEXT_ACTIONS = "actions"
OUTPUT = "output"
FLOW_OPTION_NAMES = frozenset(list(KEY_FLAG_NAMES) + list(SET_TUNNEL_FLAG_NAMES)
                              + [TEXT_KEY, TEXT_ACTIONS, OUTPUT])


def _invalid(flag, text, reason):
    return ValidationError("--" + flag, text, reason)


def _parse_mac(flag, text):
    if not _MAC_RE.match(text):
        raise _invalid(flag, text, "expected a MAC address such as 02:00:00:00:00:01")
    return int(re.sub("[:-]", "", "".join(g.zfill(2) for g in re.split("[:-]", text))), 16)


def _split_mask(flag, text):
    """``VALUE`` -> (VALUE, None); ``VALUE/MASK`` or ``VALUE&MASK`` -> both."""
    parts = re.split("[/&]", text)
    if len(parts) == 1:
        return text, None
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise _invalid(flag, text, "expected VALUE, VALUE/MASK or VALUE&MASK")
    return parts[0], parts[1]


def _parse_int(flag, text, bits):
    try:
        number = int(text, 0)
    except ValueError:
        raise _invalid(flag, text, "expected a number (decimal or 0x hex)")
    if not 0 <= number < (1 << bits):
        raise _invalid(flag, text, "out of range for %d bits" % bits)
    return number


def _parse_ip(flag, text, version, bits, mask_text):
    try:
        address = int(ipaddress.ip_address(text))
        if ipaddress.ip_address(text).version != version:
            raise ValueError
    except ValueError:
        raise _invalid(flag, text, "expected an IPv%d address" % version)
    if mask_text is None:
        return address, None
    if mask_text.isdigit():
        length = int(mask_text)
        if length > bits:
            raise _invalid(flag, mask_text, "prefix length above %d" % bits)
        return address, ((1 << bits) - 1) ^ ((1 << (bits - length)) - 1)
    return address, _parse_ip(flag, mask_text, version, bits, None)[0]


def _parse_tunnel_id(flag, text):
    digits = text[2:] if text.lower().startswith("0x") else text
    if not re.match("^[0-9A-Fa-f]{1,16}$", digits):
        raise _invalid(flag, text, "expected up to 8 hex bytes, e.g. 0000000000000005")
    return int(digits, 16)


def parse_field(flag, text, ports=None):
    """``(value, mask)`` for one field option; mask None when exact.

    A bool's value is True/False; a port's value is its number, looked up
    by vport name in ``ports`` (a number is taken as it is).
    """
    kind = flag.kind
    if kind == "bool":
        if text in _TRUE:
            return True, None
        if text in _FALSE:
            return False, None
        raise _invalid(flag.name, text, "expected true or false")
    if kind == "port":
        if ports and text in ports:
            return ports[text], None
        if text.isdigit():
            return _parse_int(flag.name, text, flag.bits), None
        raise _invalid(flag.name, text, "no such vport in this datapath (vports: %s)"
                       % (", ".join(sorted(ports)) if ports else "none"))
    if kind == "mac":
        pair = _MAC_MASK_RE.match(text)
        value, mask = pair.groups() if pair else _split_mask(flag.name, text)
        return (_parse_mac(flag.name, value),
                None if mask is None else _parse_mac(flag.name, mask))
    value, mask = _split_mask(flag.name, text)
    if kind in ("ipv4", "ipv6"):
        return _parse_ip(flag.name, value, int(kind[-1]), flag.bits, mask)
    parse = _parse_tunnel_id if kind == "tunid" else (
        lambda name, item: _parse_int(name, item, flag.bits))
    return parse(flag.name, value), None if mask is None else parse(flag.name, mask)


def _format_value(flag, value):
    kind = flag.kind
    if kind == "mac":
        return ":".join("%02x" % b for b in value.to_bytes(6, "big"))
    if kind in ("ipv4", "ipv6"):
        return str(ipaddress.ip_address(value) if kind == "ipv6" else ipaddress.IPv4Address(value))
    if kind == "tunid":
        return "%016x" % value
    if flag.name.endswith("type"):
        return "0x%04x" % value
    return str(value)


def format_field(flag, value, mask=None, port_names=None):
    """The option word ``--name=value[/mask]`` that :func:`parse_field` reads back."""
    if flag.kind == "bool":
        text = "true" if value else "false"
    elif flag.kind == "port":
        text = (port_names or {}).get(value, str(value))
    else:
        text = _format_value(flag, value)
        if mask is not None and mask != flag.full:
            # The seed's document writes a masked MAC as twelve groups.
            text += (":" if flag.kind == "mac" else "/") + _format_value(flag, mask)
    return "--%s=%s" % (flag.name, text)


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


def key_from_options(options, ports=None):
    """``(key, mask)`` from ``[(flag name, text)]`` of key flags; mask explicit."""
    key, mask = {}, {}
    for name, text in options:
        flag = KEY_FLAG_NAMES[name]
        value, field_mask = parse_field(flag, text, ports)
        # Bits outside the mask are dropped, as the kernel, ovs-dpctl and go-odp do.
        field_mask = flag.full if field_mask is None else field_mask & flag.full
        _put(key, mask, flag, value & field_mask if flag.kind != "bool" else value, field_mask)
    _imply_lower_layers(key, mask)
    return dpctl.ethernet_by_default(key, mask)


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


def actions_from_options(set_tunnel, outputs, ports=None):
    """go-odp's actions: one ``set(tunnel(...))`` of every ``--set-tunnel-*``
    (``[(flag name, text)]``), then an output per ``--output`` vport."""
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
    port_flag = KEY_FLAG_NAMES["in-port"]
    for text in outputs:
        for name in text.split(","):
            value, _mask = parse_field(port_flag, name, ports)
            actions.append(("output", value))
    return actions


def _key_words(key, mask, port_names):
    """Key flags for (key, mask), or None when some matched field has no flag.

    A None mask (exact match) counts as a full mask of every present field.
    A key without ``eth`` (a layer 3 packet) has no flags: they mean Ethernet.
    """
    if "eth" not in key:
        return None
    words = []
    for attr, value in (mask if mask is not None else key).items():
        attr_value = key.get(attr)
        if isinstance(value, dict):
            items = [(field, attr_value.get(field) if attr_value else None,
                      field_mask if mask is not None else True)
                     for field, field_mask in value.items()]
        else:
            items = [(None, attr_value, value if mask is not None else True)]
        for field, field_value, field_mask in items:
            if not field_mask:
                continue
            flag = _KEY_FLAG_BY_FIELD.get((attr, field))
            if flag is None:
                return None
            words.append(format_field(flag, field_value or 0, None if field_mask is True else field_mask,
                                      port_names))
    return sorted(words, key=_flag_position)


def _action_words(actions, port_names):
    """go-odp's action flags for ``actions``, or None when they say more."""
    words = []
    outputs = []
    for index, (name, value) in enumerate(actions):
        if name == "output" and isinstance(value, int):
            outputs.append((port_names or {}).get(value, str(value)))
        elif (name == "set" and index == 0 and list(value) == ["tunnel"]
              and all(field in _SET_TUNNEL_BY_FIELD for field in value["tunnel"])):
            words.extend(format_field(_SET_TUNNEL_BY_FIELD[field], item)
                         for field, item in value["tunnel"].items())
        else:
            return None
    words.sort(key=_flag_position)
    if outputs:
        words.append("--output=" + ",".join(outputs))
    return words or None


_FLAG_POSITION = dict((flag.name, index) for index, flag in enumerate(KEY_FLAGS + SET_TUNNEL_FLAGS))


def _flag_position(word):
    """Print flags in the table's order, whatever order the kernel dumped."""
    return _FLAG_POSITION[word[2:].split("=", 1)[0]]


def flow_from_options(options, ports=None, with_actions=True):
    """``(key, mask, actions)`` from the ``[(name, text)]`` flow options.

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
    if key_text:
        key, mask = dpctl.parse_key(key_text[0][1], ports)
    else:
        key, mask = key_from_options(key_flags, ports)
    if actions_text:
        actions = dpctl.parse_actions(actions_text[0][1], ports)
    else:
        actions = actions_from_options(set_tunnel, [t for _n, t in outputs], ports)
    return key, mask, actions


def _one_form(texts, flags):
    if len(texts) > 1:
        raise ValidationError("--" + texts[1][0], texts[1][1], "given more than once")
    if texts and flags:
        raise ValidationError("--" + texts[0][0], texts[0][1],
                              "cannot be combined with --" + flags[0][0])


def format_flow_words(key, mask, actions, port_names=None):
    """The options that recreate a flow: flags where they say it all,
    ``--key=``/``--actions=`` in ovs-dpctl text otherwise."""
    words = _key_words(key, mask, port_names)
    if words is None:
        words = ["--%s=%s" % (TEXT_KEY, dpctl.format_key(key, mask, port_names))]
    action_words = _action_words(actions, port_names)
    if action_words is None:
        action_words = ["--%s=%s" % (TEXT_ACTIONS, dpctl.format_actions(actions, port_names))]
    return words + action_words
