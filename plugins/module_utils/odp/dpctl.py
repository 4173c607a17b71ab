# -*- coding: utf-8 -*-
# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ovs-dpctl flow text syntax (Open vSwitch lib/odp-util.c), both ways.

Keys print as ``in_port(1),eth(src=..,dst=../ff:ff:ff:00:00:00),...`` and
actions as ``set(tunnel(...)),ct(commit,nat(src=..)),2``. The same field
parsers also read the structured forms the Ansible modules take
(:func:`key_from_match`, :func:`actions_from_list`): both paths first reduce
their input to ``(name, value)`` items and share everything after that.

Conventions (where ovs-dpctl is ambiguous or lossy):

* ``drop`` as the whole action list is the empty list, which every kernel
  takes as drop (ovs-dpctl 3.x sends ``OVS_ACTION_ATTR_DROP``, which kernels
  before 6.4 reject). The explicit drop action prints as ``drop(N)``.
* ``set(attr(...))`` parses to ``set`` when every field of the attribute is
  given exactly (and always for ``tunnel``), else to ``set_masked``, as
  ovs-dpctl does. ``set`` prints every field; ``set_masked`` prints the
  masked fields only, so a ``set_masked`` whose mask is all ones reads back
  as the equivalent ``set``.
* ``format_key(..., verbose=True)`` is ``ovs-dpctl dump-flows -m``: every
  attribute and field, with ``0/0`` for wildcards.
* Addresses also accept a CIDR prefix length (``10.0.0.0/8``), which
  ovs-dpctl does not; masks always print in ovs-dpctl's dotted/hex form.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

import difflib
import ipaddress
import re
import struct

from .actions import ACTIONS, HASH_ALGS
from .attrs import Addr, CodecError, Flag, Int, Nested, Struct, Unknown
from .errors import ValidationError
from .keys import CT_STATE_FLAGS, FLOW_KEY, FRAG_TYPES, NSH_KEY, TUNNEL_FLAGS, TUNNEL_KEY

__all__ = [
    "parse_key", "format_key", "parse_actions", "format_actions", "parse_flow", "format_flow",
    "key_from_match", "actions_from_list", "format_match",
]

_CLOSE = {"(": ")", "[": "]", "{": "}"}
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAC_RE = re.compile(r"^[0-9A-Fa-f]{1,2}(:[0-9A-Fa-f]{1,2}){5}$")
_UINT32_MAX = 0xFFFFFFFF

TCP_FLAGS = ((0x001, "fin"), (0x002, "syn"), (0x004, "rst"), (0x008, "psh"), (0x010, "ack"),
             (0x020, "urg"), (0x040, "ece"), (0x080, "cwr"), (0x100, "ns"))


# --------------------------------------------------------------------------
# Lexing: the syntax is name(args) and name=value items separated by commas.

def _split(text, field):
    """Top-level comma separated items of ``text``; brackets must balance."""
    items, stack, start = [], [], 0
    for index, char in enumerate(text):
        if char in _CLOSE:
            stack.append(_CLOSE[char])
        elif char in ")]}":
            if not stack or stack.pop() != char:
                raise ValidationError(field, text, "unbalanced %r at offset %d" % (char, index))
        elif char == "," and not stack:
            items.append(text[start:index].strip())
            start = index + 1
    if stack:
        raise ValidationError(field, text, "unbalanced parentheses: %r missing" % stack[-1])
    items.append(text[start:].strip())
    if items == [""]:
        return []
    if "" in items:
        raise ValidationError(field, text, "empty item between commas")
    return items


def _call(item, field):
    """``name(args)`` -> ``(name, args)``; a bare ``name`` -> ``(name, None)``."""
    paren = item.find("(")
    if paren < 0:
        return item, None
    name = item[:paren].strip()
    if not _NAME_RE.match(name) or not item.endswith(")"):
        raise ValidationError(field, item, "expected name(...), trailing text after ')'?")
    depth = 0
    for index in range(paren, len(item)):
        depth += {"(": 1, ")": -1}.get(item[index], 0)
        if depth == 0 and index != len(item) - 1:
            raise ValidationError(field, item, "trailing text after %r" % item[:index + 1])
    return name, item[paren + 1:-1]


def _options(text, field):
    """Items of an argument list as ``(name, value)``: ``name=value`` gives a
    string, ``name(inner)`` the inner text, a bare ``name`` None."""
    result = []
    for item in _split(text, field):
        name, sep, value = item.partition("=")
        if sep and "(" not in name:
            result.append((name.strip(), value.strip()))
        else:
            result.append(_call(item, field))
    return result


def _items_of(value, field):
    """The structured (dict) form reduced to the same items as the text."""
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, str):
        return _options(value, field)
    raise ValidationError(field, value, "expected a dict or a text of name=value items")


def _suggest(name, choices):
    close = difflib.get_close_matches(name, list(choices), 1)
    return " (did you mean %r?)" % close[0] if close else ""


# --------------------------------------------------------------------------
# Scalar fields: one parser and one printer per kind.

def _full(bits):
    return (1 << bits) - 1


def _parse_int(text, field, bits):
    text = str(text).strip()
    try:
        number = int(text, 16) if text.lower().startswith("0x") else int(text, 10)
    except ValueError:
        raise ValidationError(field, text, "not a number")
    if not 0 <= number <= _full(bits):
        raise ValidationError(field, text, "out of range 0..%d" % _full(bits))
    return number


def _parse_mac(text, field):
    if not _MAC_RE.match(text):
        raise ValidationError(field, text, "not a MAC address (xx:xx:xx:xx:xx:xx)")
    return int("".join(part.zfill(2) for part in text.split(":")), 16)


def _parse_ip(text, field, version):
    text = text.strip()
    if version == 6 and text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        address = None
    if address is None or address.version != version:
        raise ValidationError(field, text, "not an IPv%d address" % version)
    return int(address)


def _parse_value(kind, bits, text, field, ctx):
    """One value of ``kind`` (never a mask)."""
    if isinstance(text, bool) or text is None:
        raise ValidationError(field, text, "a value is required")
    if isinstance(text, int):
        text = str(text)
    text = text.strip()
    if kind == "mac":
        return _parse_mac(text, field)
    if kind in ("ipv4", "ipv6"):
        return _parse_ip(text, field, 4 if kind == "ipv4" else 6)
    if kind == "frag":
        for number, name in FRAG_TYPES.items():
            if text == name:
                return number
    if kind == "port" and ctx.ports is not None and not text.isdigit():
        if text not in ctx.ports:
            raise ValidationError(field, text, "no such vport" + _suggest(text, ctx.ports))
        return ctx.ports[text]
    return _parse_int(text, field, bits)


def _parse_mask(kind, bits, text, field):
    text = text.strip()
    if kind in ("ipv4", "ipv6") and text.isdigit():
        # CIDR prefix length: an extension over ovs-dpctl, which wants a dotted mask.
        length = int(text)
        if length > bits:
            raise ValidationError(field, text, "prefix length out of range 0..%d" % bits)
        return _full(bits) ^ _full(bits - length)
    if kind in ("mac", "ipv4", "ipv6"):
        return _parse_value(kind, bits, text, field, None)
    return _parse_int(text, field, bits)


def _parse_masked(kind, bits, text, field, ctx, maskable=True):
    """``value[/mask]``; no mask means exact (all ones)."""
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str):
        raise ValidationError(field, text, "expected a value")
    value_text, sep, mask_text = text.partition("/")
    if sep and not maskable:
        raise ValidationError(field, text, "this field takes no mask")
    value = _parse_value(kind, bits, value_text, field, ctx)
    if not sep:
        return value, _full(bits)
    return value, _parse_mask(kind, bits, mask_text, field + " mask")


def _c_hex(number):
    """C's ``%#x``: ovs-dpctl prints 0 as ``0``."""
    return "0x%x" % number if number else "0"


def _ntop6(number):
    """IPv6 text as glibc's inet_ntop writes it (IPv4-mapped/compatible forms)."""
    words = [(number >> (112 - 16 * i)) & 0xFFFF for i in range(8)]
    v4 = str(ipaddress.IPv4Address(number & _UINT32_MAX))
    if words[:5] == [0] * 5 and words[5] == 0xFFFF:
        return "::ffff:" + v4
    if words[:6] == [0] * 6 and words[6]:
        return "::" + v4
    return str(ipaddress.IPv6Address(number))


def _format_value(kind, number, ctx):
    if kind == "mac":
        return ":".join("%02x" % b for b in number.to_bytes(6, "big"))
    if kind == "ipv4":
        return str(ipaddress.IPv4Address(number))
    if kind == "ipv6":
        return _ntop6(number)
    if kind == "hex":
        return _c_hex(number)
    if kind == "ethertype":
        return "0x%04x" % number
    if kind == "hex0x":
        return "0x%x" % number
    if kind == "frag":
        return FRAG_TYPES.get(number, str(number))
    if kind == "port" and ctx.port_names and number in ctx.port_names:
        return ctx.port_names[number]
    return str(number)


def _format_masked(kind, bits, value, mask, ctx):
    text = _format_value(kind, value, ctx)
    if mask is None or mask == _full(bits):
        return text
    if kind in ("mac", "ipv4", "ipv6"):
        return text + "/" + _format_value(kind, mask, ctx)
    return text + "/" + _c_hex(mask)


class _Ctx:
    """Port maps for one parse or format call."""

    def __init__(self, ports=None, port_names=None, verbose=False):
        self.ports = ports
        self.port_names = port_names
        self.verbose = verbose


# --------------------------------------------------------------------------
# Packed sub-fields: VLAN TCI, MPLS LSE, NSH spi/si, VXLAN GBP.

VLAN_FIELDS = (("vid", 0, 12), ("pcp", 13, 3), ("cfi", 12, 1))
MPLS_FIELDS = (("label", 12, 20), ("tc", 9, 3), ("ttl", 0, 8), ("bos", 8, 1))
SPI_SI_FIELDS = (("spi", 8, 24), ("si", 0, 8))
GBP_FIELDS = (("id", 0, 16), ("flags", 16, 8))


def _pack(subfields, items, field, defaults=(), maskable=True, hex_names=()):
    """Items ``name=value[/mask]`` into one ``(value, mask)`` integer pair."""
    spec = dict((name, (shift, bits)) for name, shift, bits in subfields)
    value = mask = 0
    given = dict(defaults)
    for name, text in items:
        if name not in spec:
            raise ValidationError("%s.%s" % (field, name), text,
                                  "unknown field" + _suggest(name, spec))
        given[name] = text
    for name, text in given.items():
        shift, bits = spec[name]
        kind = "hex" if name in hex_names else "int"
        sub_value, sub_mask = _parse_masked(kind, bits, text, "%s.%s" % (field, name), None,
                                            maskable)
        value |= sub_value << shift
        mask |= sub_mask << shift
    return value, mask


def _unpack(subfields, value, mask, ctx, show, hex_names=()):
    """``name=value[/mask]`` texts of the sub-fields ``show(name, v, m)`` keeps."""
    parts = []
    for name, shift, bits in subfields:
        sub_value = (value >> shift) & _full(bits)
        sub_mask = _full(bits) if mask is None else (mask >> shift) & _full(bits)
        if show(name, sub_value, sub_mask):
            kind = "hex" if name in hex_names else "int"
            text = _format_value(kind, sub_value, ctx)
            if sub_mask != _full(bits):
                text += "/" + _c_hex(sub_mask)
            parts.append("%s=%s" % (name, text))
    return parts


def _format_vlan(value, mask, ctx, always=False):
    def show(name, sub_value, sub_mask):
        if name == "cfi":  # ovs-dpctl only mentions an unset CFI (not a VLAN header)
            return (sub_value, sub_mask) != (1, 1)
        return always or ctx.verbose or sub_value or sub_mask
    return ",".join(_unpack(VLAN_FIELDS, value, mask, ctx, show))


def _parse_vlan(items, field):
    # Without cfi= the TCI is a real VLAN header: CFI set and matched.
    return _pack(VLAN_FIELDS, items, field, defaults={"cfi": "1"})


# --------------------------------------------------------------------------
# Flag sets: ct_state, tcp_flags, tunnel flags.

def _parse_flags(text, names, bits, full, field):
    """``a|b`` (exact), ``+a-b`` (masked) or a number ``0x21/0x21``."""
    text = str(text).strip()
    by_name = dict((name, bit) for bit, name in names)
    if not text or text[0].isdigit():
        return _parse_masked("hex", bits, text, field, None)
    if text[0] in "+-":
        value = mask = 0
        for sign, name in re.findall(r"([+-])([^+-]*)", text):
            bit = _flag_bit(name, by_name, bits, field)
            mask |= bit
            value |= bit if sign == "+" else 0
        if "".join(s + n for s, n in re.findall(r"([+-])([^+-]*)", text)) != text:
            raise ValidationError(field, text, "expected +flag-flag...")
        return value, mask
    value = 0
    for name in text.split("|"):
        value |= _flag_bit(name, by_name, bits, field)
    return value, full


def _flag_bit(name, by_name, bits, field):
    """A flag's bit by name, or a ``0x..`` number for bits without a name."""
    bit = by_name.get(name)
    if bit is None and name.startswith("0x"):
        bit = _parse_int(name, field, bits)
    if bit is None:
        raise ValidationError(field, name, "unknown flag" + _suggest(name, by_name))
    return bit


def _format_flags(value, mask, names, full):
    if mask is None or mask == full:
        words = [name for bit, name in names if value & bit]
        rest = value & ~sum(bit for bit, _n in names)
        return "|".join(words + ([_c_hex(rest)] if rest else [])) or "0"
    if not mask:
        return "0/0"
    parts = []
    known = dict(names)
    bit = 1
    while bit <= mask:
        if mask & bit:
            parts.append(("+" if value & bit else "-") + known.get(bit, _c_hex(bit)))
        bit <<= 1
    return "".join(parts)


# --------------------------------------------------------------------------
# Key attributes.

# How ovs-dpctl prints a few attributes differently from their codec's kind.
_ATTR_KIND = {"in_port": "port", "eth_type": "ethertype", "vlan": "vlan", "mpls": "mpls",
              "ct_state": "ct_state", "tcp_flags": "tcp_flags", "tunnel": "tunnel",
              "encap": "encap", "nsh": "nsh"}
# ovs-dpctl's field order and names where they differ from the struct's.
_FIELD_ORDER = {
    "ct_tuple4": ("src", "dst", "proto", "tp_src", "tp_dst"),
    "ct_tuple6": ("src", "dst", "proto", "tp_src", "tp_dst"),
}
_FIELD_ALIAS = {("ct_tuple6", "tp_src"): "src_port", ("ct_tuple6", "tp_dst"): "dst_port"}
# NSH prints its hex fields as 0x%x (``c2=0x0``), unlike C's %#x elsewhere.
_FIELD_KIND = dict((("md1", c), "hex0x") for c in ("c1", "c2", "c3", "c4"))
# ovs-dpctl 3.1 does not know these and prints them as key<id>(hex bytes), even
# when wildcarded; printing them the same way keeps dumps textually comparable.
_RAW_PRINTED = ("ipv6_exthdrs",)
# Attributes ovs-dpctl prints even when fully wildcarded (eth marks an L2 packet).
_ALWAYS_PRINTED = ("eth", "encap", "tunnel", "nsh")
_TUNNEL_ORDER = ("tun_id", "src", "dst", "ipv6_src", "ipv6_dst", "tos", "ttl", "tp_src",
                 "tp_dst", "geneve", "vxlan", "erspan")
_CT_STATE = (tuple(CT_STATE_FLAGS), 32, _UINT32_MAX)
_TCP_FLAGS = (TCP_FLAGS, 16, 0x0FFF)  # ovs-dpctl treats the 12 flag bits as exact


def _struct_fields(name, codec):
    order = _FIELD_ORDER.get(name, codec.names)
    return [(f, _FIELD_ALIAS.get((name, f), f), _FIELD_KIND.get((name, f), codec.kinds[f]),
             codec.widths[f]) for f in order]


def _hex_bytes(data, sep=" "):
    return sep.join("%02x" % b for b in data)


def _parse_hex_bytes(text, field):
    digits = re.sub(r"\s+", "", text)
    if digits.lower().startswith("0x"):
        digits = digits[2:]
    if len(digits) % 2 or not re.match(r"^[0-9A-Fa-f]*$", digits):
        raise ValidationError(field, text, "expected hex bytes")
    return bytes.fromhex(digits)


def _parse_key_items(items, path, ctx):
    """``(name, args)`` items into ``(key, mask)``."""
    key, mask = {}, {}
    for written, args in items:
        field = path + written
        name = written
        if name.startswith("key") and name[3:].isdigit() and int(name[3:]) in FLOW_KEY.by_id:
            name = FLOW_KEY.by_id[int(name[3:])][0]  # key<id> of an attribute we know
        if name in key:
            raise ValidationError(field, args, "attribute given twice")
        key[name], mask[name] = _parse_key_attr(written, args, field, ctx)
    return key, mask


def _key_text_items(text, path):
    items = []
    for item in _split(text, path.rstrip(".") or "key"):
        name, args = _call(item, path.rstrip(".") or "key")
        if args is None:
            raise ValidationError(path + name, item, "expected %s(...)" % name)
        items.append((name, args))
    return items


def _parse_key_attr(name, args, field, ctx):
    """One key attribute from its text (``str``) or structured value."""
    entry = FLOW_KEY.by_name.get(name)
    if entry is None:
        number = name[3:] if name.startswith("key") else ""
        if not number.isdigit():
            raise ValidationError(field, args, "unknown key attribute" +
                                  _suggest(name, FLOW_KEY.by_name))
        return _parse_raw_attr(FLOW_KEY, int(number), args, field)
    codec = entry[1]
    kind = _ATTR_KIND.get(name) or codec.kind
    if kind == "encap":
        if isinstance(args, dict):
            return _match_items(args, field + ".", ctx)
        return _parse_key_items(_key_text_items(args, field + "."), field + ".", ctx)
    if kind == "tunnel":
        return _parse_tunnel(_items_of(args, field), field, ctx)
    if kind == "nsh":
        return _parse_nsh(_items_of(args, field), field)
    if kind == "vlan":
        return _parse_vlan(_items_of(args, field), field)
    if kind == "mpls":
        value, mask = _pack(MPLS_FIELDS, _items_of(args, field), field)
        return {"lse": value}, {"lse": mask}
    if kind in ("ct_state", "tcp_flags"):
        names, bits, full = _CT_STATE if kind == "ct_state" else _TCP_FLAGS
        return _parse_flags(args, names, bits, full, field)
    if isinstance(codec, Struct):
        return _parse_struct(name, codec, _items_of(args, field), field, ctx)
    return _parse_masked(kind, codec.bits, args, field, ctx, maskable=kind != "port")


def _struct_lookup(name, codec):
    """Field name or alias -> ``(field, kind, bits)``, built once per struct
    (the Ansible module parses thousands of matches in one task)."""
    fields = _STRUCT_LOOKUPS.get((name, codec))
    if fields is None:
        fields = dict((alias, (f, kind, bits)) for f, alias, kind, bits in _struct_fields(name, codec))
        fields.update((f, (f, kind, bits)) for f, _a, kind, bits in _struct_fields(name, codec))
        _STRUCT_LOOKUPS[name, codec] = fields
    return fields


_STRUCT_LOOKUPS = {}


def _parse_struct(name, codec, items, field, ctx, maskable=True):
    fields = _struct_lookup(name, codec)
    value = dict.fromkeys(codec.names, 0)
    mask = dict.fromkeys(codec.names, 0)
    seen = set()
    for fname, text in items:
        if fname not in fields:
            raise ValidationError("%s.%s" % (field, fname), text,
                                  "unknown field" + _suggest(fname, fields))
        real, kind, bits = fields[fname]
        if real in seen:
            raise ValidationError("%s.%s" % (field, fname), text, "field given twice")
        seen.add(real)
        value[real], mask[real] = _parse_masked(kind, bits, text, "%s.%s" % (field, fname), ctx,
                                                maskable)
    return value, mask


def _parse_raw_attr(attrs, number, args, field):
    """``key<id>(hex[/hex])``: an attribute by number, byte for byte."""
    if not isinstance(args, str):
        raise ValidationError(field, args, "expected hex bytes")
    value_text, sep, mask_text = args.partition("/")
    raw = _parse_hex_bytes(value_text, field)
    raw_mask = _parse_hex_bytes(mask_text, field + " mask") if sep else b"\xff" * len(raw)
    entry = attrs.by_id.get(number)
    if entry is None:
        return Unknown(number, raw), Unknown(number, raw_mask)
    try:
        return entry[1].decode(raw), entry[1].decode(raw_mask)
    except CodecError as exc:
        raise ValidationError(field, args, str(exc))


def _format_key_items(key, mask, ctx):
    parts = []
    for name, value in key.items():
        attr_mask = None if mask is None else mask.get(name, _wildcard(name, value))
        text = _format_key_attr(name, value, attr_mask, ctx)
        if text is not None:
            parts.append(text)
    return ",".join(parts)


def _wildcard(name, value):
    """The all-zero mask of an attribute the mask dict leaves out."""
    if isinstance(value, Unknown):
        return Unknown(value.kind, b"\0" * len(value.raw))
    if isinstance(value, dict):
        return {} if name in ("encap", "tunnel", "nsh") else dict.fromkeys(value, 0)
    return 0


def _is_wildcard(mask):
    if isinstance(mask, Unknown):
        return False  # ovs-dpctl always prints what it does not know
    if isinstance(mask, dict):
        return all(_is_wildcard(m) for m in mask.values())
    return not mask


def _format_key_attr(name, value, mask, ctx, always=False):
    """``name(...)``, or None when non-verbose and fully wildcarded (unless ``always``)."""
    entry = FLOW_KEY.by_name.get(name)
    if isinstance(value, Unknown) or name in _RAW_PRINTED:
        codec = entry[1] if entry else None
        raw = value.raw if codec is None else codec.encode(value)
        raw_mask = None if mask is None else mask.raw if codec is None else codec.encode(mask)
        text = _hex_bytes(raw)
        if raw_mask is not None and raw_mask != b"\xff" * len(raw):
            text += "/" + _hex_bytes(raw_mask)
        return "%s(%s)" % (name if codec is None else "key%d" % entry[0], text)
    if (mask is not None and not ctx.verbose and not always and name not in _ALWAYS_PRINTED
            and _is_wildcard(mask)):
        return None
    codec = entry[1]
    kind = _ATTR_KIND.get(name) or codec.kind
    if kind == "encap":
        return "encap(%s)" % _format_key_items(value, mask, ctx)
    if kind == "tunnel":
        return "tunnel(%s)" % _format_tunnel(value, mask, ctx)
    if kind == "nsh":
        return "nsh(%s)" % _format_nsh(value, mask, ctx)
    if kind == "vlan":
        return "vlan(%s)" % _format_vlan(value, mask, ctx)
    if kind == "mpls":
        lse_mask = None if mask is None else mask.get("lse", 0)
        return "mpls(%s)" % ",".join(_unpack(MPLS_FIELDS, value["lse"], lse_mask, ctx,
                                             lambda *_a: True))
    if kind == "ct_state" and ctx.verbose:
        return "ct_state(%s)" % _format_masked("hex", 32, value, mask, ctx)
    if kind in ("ct_state", "tcp_flags"):
        names, _bits, full = _CT_STATE if kind == "ct_state" else _TCP_FLAGS
        return "%s(%s)" % (name, _format_flags(value, mask, names, full))
    if isinstance(codec, Struct):
        return "%s(%s)" % (name, _format_struct(name, codec, value, mask, ctx))
    return "%s(%s)" % (name, _format_masked(kind, codec.bits, value, mask, ctx))


def _format_struct(name, codec, value, mask, ctx):
    parts = []
    for fname, alias, kind, bits in _struct_fields(name, codec):
        field_mask = None if mask is None else mask.get(fname, 0)
        if field_mask == 0 and not ctx.verbose:
            continue
        text = _format_masked(kind, bits, value.get(fname, 0), field_mask, ctx)
        parts.append("%s=%s" % (alias, text))
    return ",".join(parts)


# Tunnel: fields in ovs-dpctl's order, then flags(...). ``key`` in the flags is
# tun_id's presence in ovs; it is accepted on input and printed from tun_id.

def _parse_tunnel(items, field, ctx):
    key, mask = {}, {}
    for fname, text in items:
        sub = "%s.%s" % (field, fname)
        if fname == "flags":
            _parse_tunnel_flags(text, key, mask, sub)
            continue
        entry = TUNNEL_KEY.by_name.get(fname)
        if entry is None or fname in TUNNEL_FLAGS:
            number = fname[len("tunnel_key"):] if fname.startswith("tunnel_key") else ""
            if not number.isdigit():
                raise ValidationError(sub, text, "unknown tunnel field" +
                                      _suggest(fname, _TUNNEL_ORDER + ("flags",)))
            key[fname], mask[fname] = _parse_raw_attr(TUNNEL_KEY, int(number), text, sub)
            continue
        if fname in key:
            raise ValidationError(sub, text, "field given twice")
        codec = entry[1]
        if fname == "geneve":
            key[fname], mask[fname] = _parse_geneve(text, sub)
        elif fname == "vxlan":
            gbp = dict(_items_of(text, sub)).get("gbp")
            if gbp is None:
                raise ValidationError(sub, text, "expected vxlan(gbp(id=N,flags=N))")
            value, gbp_mask = _pack(GBP_FIELDS, _items_of(gbp, sub + ".gbp"), sub + ".gbp",
                                    hex_names=("flags",))
            key[fname], mask[fname] = {"gbp": value}, {"gbp": gbp_mask}
        elif codec.kind == "bytes":
            key[fname] = _parse_hex_bytes(text, sub)
            mask[fname] = b"\xff" * len(key[fname])
        else:
            key[fname], mask[fname] = _parse_masked(codec.kind, codec.bits, text, sub, ctx)
    return _tunnel_order(key), _tunnel_order(mask)


def _tunnel_order(attrs):
    order = _TUNNEL_ORDER + TUNNEL_FLAGS
    return dict(sorted(attrs.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order
                                                      else len(order), kv[0])))


def _parse_tunnel_flags(text, key, mask, field):
    if isinstance(text, (list, tuple)):
        text = "|".join(text)
    if text is None or not str(text).strip():
        return
    names = [(1 << i, name) for i, name in enumerate(TUNNEL_FLAGS + ("key",))]
    value, flag_mask = _parse_flags(text, names, 8, _full(3), field)  # exact: df, csum, oam
    for bit, name in names[:-1]:
        if flag_mask & bit:
            mask[name] = True
            if value & bit:
                key[name] = True


def _format_tunnel(value, mask, ctx):
    parts = []
    for fname, attr_value in value.items():
        if fname in TUNNEL_FLAGS:
            continue
        field_mask = None if mask is None else mask.get(fname)
        if mask is not None and field_mask is None and not ctx.verbose:
            continue
        if isinstance(attr_value, Unknown):
            parts.append(_format_key_attr(fname, attr_value, field_mask, ctx))
        elif fname == "geneve":
            parts.append("geneve(%s)" % _format_geneve(attr_value, field_mask))
        elif fname == "vxlan":
            gbp_mask = None if field_mask is None else field_mask.get("gbp", 0)
            parts.append("vxlan(gbp(%s))" % ",".join(_unpack(
                GBP_FIELDS, attr_value.get("gbp", 0), gbp_mask, ctx, lambda *_a: True, ("flags",))))
        elif isinstance(attr_value, bytes):
            parts.append("%s(%s)" % (fname, _hex_bytes(attr_value, "")))
        else:
            codec = TUNNEL_KEY.by_name[fname][1]
            parts.append("%s=%s" % (fname, _format_masked(codec.kind, codec.bits, attr_value,
                                                          field_mask, ctx)))
    flags = _format_tunnel_flags(value, mask)
    return ",".join(parts + ([flags] if flags else []))


def _format_tunnel_flags(value, mask):
    has_key = "tun_id" in value and (mask is None or "tun_id" in mask)
    names = TUNNEL_FLAGS[:2] + ("key",) + TUNNEL_FLAGS[2:]
    # ovs-dpctl's exact form: df, csum and oam all matched (ipv4_info_bridge is ours).
    exact = all(mask.get(f) for f in TUNNEL_FLAGS[:3]) and not mask.get(TUNNEL_FLAGS[3]) \
        if mask is not None else True
    if exact:
        words = [n for n in names if (has_key if n == "key" else value.get(n))]
        return "flags(%s)" % "|".join(words) if words else ""
    words = []
    for name in names:
        if name == "key":
            words.append("+key" if has_key else "")
        elif mask.get(name):
            words.append(("+" if value.get(name) else "-") + name)
    return "flags(%s)" % "".join(words) if any(words) else ""


def _parse_geneve(text, field):
    """``{class=0x102,type=0x80,len=4,0xa}...``: Geneve options, each with an
    optional ``/mask`` per part; value and mask are the option bytes."""
    text = str(text).strip()
    if not text.startswith("{") or not text.endswith("}"):
        raise ValidationError(field, text, "expected {class=..,type=..,len=..,0x<data>}...")
    value, mask = b"", b""
    for index, body in enumerate(re.findall(r"\{([^{}]*)\}", text)):
        sub = "%s[%d]" % (field, index)
        parts = _split(body, sub)
        if len(parts) not in (3, 4):
            raise ValidationError(sub, body, "expected class=..,type=..,len=..[,0x<data>]")
        head = []
        for part, name, bits in zip(parts[:3], ("class", "type", "len"), (16, 8, 5)):
            pname, _eq, ptext = part.partition("=")
            if pname != name:
                raise ValidationError(sub, part, "expected %s=" % name)
            head.append(_parse_masked("hex", bits, ptext, "%s.%s" % (sub, name), None))
        length = head[2][0]
        data = _parse_masked("hex", length * 8, parts[3], sub + ".data", None) \
            if len(parts) == 4 else (0, 0)
        value += struct.pack(">HBB", head[0][0], head[1][0], length // 4) + \
            data[0].to_bytes(length, "big")
        mask += struct.pack(">HBB", head[0][1], head[1][1], head[2][1] // 4 if head[2][1] != 31
                            else 0x1F) + data[1].to_bytes(length, "big")
    return value, mask


def _format_geneve(value, mask):
    opts, offset = [], 0
    while offset + 4 <= len(value):
        cls, typ, length = struct.unpack_from(">HBB", value, offset)
        length = (length & 0x1F) * 4
        parts = []
        mask_fields = struct.unpack_from(">HBB", mask, offset) if mask else (0xFFFF, 0xFF, 0x1F)
        for name, number, bits, sub_mask in (("class", cls, 16, mask_fields[0]),
                                             ("type", typ, 8, mask_fields[1]),
                                             ("len", length, 5, 31)):
            parts.append("%s=%s" % (name, _format_masked("hex" if name != "len" else "int",
                                                         bits, number, sub_mask, None)))
        if length:
            data = int.from_bytes(value[offset + 4:offset + 4 + length], "big")
            data_mask = int.from_bytes(mask[offset + 4:offset + 4 + length], "big") if mask \
                else _full(length * 8)
            parts.append(_format_masked("hex", length * 8, data, data_mask, None))
        opts.append("{%s}" % ",".join(parts))
        offset += 4 + length
    return "".join(opts)


# NSH: one flat list as ovs-dpctl prints it, split into the base and md1 structs.

_NSH_BASE = ("flags", "ttl", "mdtype", "np")
_NSH_MD1 = ("c1", "c2", "c3", "c4")


def _parse_nsh(items, field, maskable=True):
    key, mask = {}, {}
    base, md1, spi_si = [], [], []
    for fname, text in items:
        if fname in _NSH_BASE:
            base.append((fname, text))
        elif fname in _NSH_MD1:
            md1.append((fname, text))
        elif fname in ("spi", "si"):
            spi_si.append((fname, text))
        elif fname == "md2":
            key["md2"] = _parse_hex_bytes(text, field + ".md2")
            mask["md2"] = b"\xff" * len(key["md2"])
        else:
            raise ValidationError("%s.%s" % (field, fname), text, "unknown field" +
                                  _suggest(fname, _NSH_BASE + _NSH_MD1 + ("spi", "si", "md2")))
    if base or spi_si:
        key["base"], mask["base"] = _parse_struct("base", NSH_KEY.by_name["base"][1], base,
                                                  field, None, maskable)
        key["base"]["spi_si"], mask["base"]["spi_si"] = _pack(SPI_SI_FIELDS, spi_si, field,
                                                              maskable=maskable,
                                                              hex_names=("spi",))
    if md1:
        key["md1"], mask["md1"] = _parse_struct("md1", NSH_KEY.by_name["md1"][1], md1, field,
                                                None, maskable)
    return key, mask


def _format_nsh(value, mask, ctx):
    parts = []
    if "base" in value:
        base, base_mask = value["base"], None if mask is None else mask.get("base", {})
        codec = NSH_KEY.by_name["base"][1]
        for fname in _NSH_BASE:
            field_mask = None if base_mask is None else base_mask.get(fname, 0)
            if field_mask != 0 or ctx.verbose:
                parts.append("%s=%s" % (fname, _format_masked(codec.kinds[fname], 8, base[fname],
                                                              field_mask, ctx)))
        spi_mask = None if base_mask is None else base_mask.get("spi_si", 0)
        parts += _unpack(SPI_SI_FIELDS, base.get("spi_si", 0), spi_mask, ctx,
                         lambda _n, _v, m: m or ctx.verbose, ("spi",))
    if "md1" in value:
        md1_mask = None if mask is None else mask.get("md1", {})
        parts.append(_format_struct("md1", NSH_KEY.by_name["md1"][1], value["md1"], md1_mask,
                                    ctx))
    if "md2" in value:
        parts.append("md2=0x" + _hex_bytes(value["md2"], ""))
    return ",".join(p for p in parts if p)


# --------------------------------------------------------------------------
# Public key API.

def parse_key(text, ports=None):
    """ovs-dpctl key text -> ``(key, mask)``."""
    if not isinstance(text, str):
        raise ValidationError("key", text, "expected text")
    return _parse_key_items(_key_text_items(text, ""), "", _Ctx(ports))


def format_key(key, mask=None, port_names=None, verbose=False):
    """``(key, mask)`` -> ovs-dpctl key text (``verbose``: as ``dump-flows -m``)."""
    return _format_key_items(key, mask, _Ctx(port_names=port_names, verbose=verbose))


def key_from_match(match, ports=None):
    """The Ansible ``match`` dict -> ``(key, mask)``; values as in the text.

    A match describes Ethernet frames unless it says otherwise: see
    :func:`ethernet_by_default`.
    """
    if not isinstance(match, dict):
        raise ValidationError("match", match, "expected a dict")
    return ethernet_by_default(*_match_items(match, "", _Ctx(ports)))


def ethernet_by_default(key, mask):
    """Add a wildcarded ``eth()`` to a key that has neither ``eth`` nor
    ``packet_type``.

    In the ovs-dpctl text, ``eth_type(0x0800),ipv4(...)`` without ``eth()``
    means a packet with no Ethernet header at all (layer 3 tunnels), which
    never matches a frame from an Ethernet port. Users of the dict and flag
    forms mean Ethernet frames; the text form keeps the exact meaning.
    """
    if "eth" in key or "packet_type" in key:
        return key, mask
    zero = {"src": 0, "dst": 0}
    key = dict([("eth", dict(zero))] + list(key.items()))
    mask = dict([("eth", dict(zero))] + list(mask.items()))
    return key, mask


def _match_items(match, path, ctx):
    items = []
    for name, value in match.items():
        if isinstance(value, (list, tuple)) and name != "tunnel":
            raise ValidationError(path + name, value, "expected a value or a dict")
        items.append((name, value))
    return _parse_key_items(items, path, ctx)


def format_match(key, mask=None, port_names=None):
    """``(key, mask)`` -> a ``match`` dict that :func:`key_from_match` reads back:
    each attribute as the text inside its parentheses, or a dict of fields."""
    ctx = _Ctx(port_names=port_names)
    match = {}
    for name, value in key.items():
        attr_mask = None if mask is None else mask.get(name, _wildcard(name, value))
        text = _format_key_attr(name, value, attr_mask, ctx)
        if text is None:
            continue
        inner = text[len(name) + 1:-1]
        if name == "encap":
            match[name] = format_match(value, attr_mask, port_names)
        elif isinstance(value, dict) and not isinstance(value, Unknown):
            match[name] = dict(_options(inner, name))
        else:
            match[name] = inner
    return match


# --------------------------------------------------------------------------
# Actions.

def _parse_percent(text, field):
    text = str(text).strip()
    try:
        percent = float(text[:-1] if text.endswith("%") else text)
    except ValueError:
        raise ValidationError(field, text, "expected a percentage such as 50.0%")
    if not 0 <= percent <= 100:
        raise ValidationError(field, text, "out of range 0..100%")
    return int(round(percent / 100.0 * _UINT32_MAX))


def _format_percent(probability):
    # ovs-dpctl prints one decimal; print more only when one would not read back.
    for digits in range(1, 12):
        text = "%.*f" % (digits, 100.0 * probability / _UINT32_MAX)
        if _parse_percent(text, "") == probability:
            return text + "%"
    return repr(100.0 * probability / _UINT32_MAX) + "%"


def _parse_nat_range(text, field):
    """``ip[-ip][:port[-port]]``, IPv6 addresses in brackets."""
    match = re.match(r"^(\[[^\]]*\]|[^:\-\[]+)(?:-(\[[^\]]*\]|[^:\-\[]+))?(?::(\d+)(?:-(\d+))?)?$",
                     str(text).strip())
    if not match:
        raise ValidationError(field, text, "expected ip[-ip][:port[-port]]")
    result = {}
    version = 6 if match.group(1).startswith("[") or ":" in match.group(1) else 4
    for name, group in (("ip_min", 1), ("ip_max", 2)):
        if match.group(group):
            result[name] = (version, _parse_ip(match.group(group), field, version))
    for name, group in (("proto_min", 3), ("proto_max", 4)):
        if match.group(group):
            result[name] = _parse_int(match.group(group), field, 16)
    return result


def _format_ip(value):
    version, number = value
    return str(ipaddress.IPv4Address(number)) if version == 4 else "[%s]" % _ntop6(number)


def _parse_nat(value, field, ctx):
    if value is None or value is True:
        return {}
    result = {}
    for name, text in _items_of(value, field):
        sub = "%s.%s" % (field, name)
        if name in ("src", "dst"):
            if "src" in result or "dst" in result:
                raise ValidationError(sub, text, "nat takes one of src, dst")
            result[name] = True
            if text is not None and text is not True:
                result.update(_parse_nat_range(text, sub))
        elif name in ("persistent", "hash", "random"):
            _parse_flag_option(text, sub)
            result[name] = True
        else:
            raise ValidationError(sub, text, "unknown nat option" +
                                  _suggest(name, ("src", "dst", "persistent", "hash", "random")))
    return result


def _format_nat(value, ctx):
    if not value:
        return "nat"
    parts = []
    for side in ("src", "dst"):
        if value.get(side):
            text = side
            if "ip_min" in value:
                text += "=" + _format_ip(value["ip_min"])
                if "ip_max" in value:
                    text += "-" + _format_ip(value["ip_max"])
            if "proto_min" in value:
                text += ":%d" % value["proto_min"]
                if "proto_max" in value:
                    text += "-%d" % value["proto_max"]
            parts.append(text)
    parts += [name for name in ("persistent", "hash", "random") if value.get(name)]
    return "nat(%s)" % ",".join(parts)


def _parse_flag_option(text, field):
    if text not in (None, True):
        raise ValidationError(field, text, "a flag takes no value")
    return True


def _format_ct_masked(value, bits, always_mask):
    text = _c_hex(value["value"])
    if always_mask or value["mask"] != _full(bits):
        text += "/" + _c_hex(value["mask"])
    return text


def _parse_ct_masked(bits):
    def parse(text, field, _ctx):
        value, mask = _parse_masked("hex", bits, text, field, None)
        return {"value": value, "mask": mask}
    return parse


def _int_option(bits, kind="int"):
    return (lambda text, field, ctx: _parse_value(kind, bits, text, field, ctx),
            lambda value, ctx: _format_value(kind, value, ctx))


def _str_option():
    def parse(text, field, _ctx):
        if not isinstance(text, str) or not text or re.search(r"[,()\s]", text):
            raise ValidationError(field, text, "expected a name without ',', '(', ')' or spaces")
        return text
    return parse, lambda value, _ctx: value


def _parse_options(action, value, field, ctx):
    specs = dict((spec[0], spec) for spec in _OPTIONS[action])
    specs.update((spec[1], spec) for spec in _OPTIONS[action])
    result = {}
    for name, text in _items_of(value, field) if value is not None else ():
        spec = specs.get(name)
        sub = "%s.%s" % (field, name)
        if spec is None:
            raise ValidationError(sub, text, "unknown %s option%s" % (
                action, _suggest(name, [s[0] for s in _OPTIONS[action]])))
        if spec[1] in result:
            raise ValidationError(sub, text, "option given twice")
        result[spec[1]] = spec[3](text, sub, ctx)
    if "commit" in result and "force_commit" in result:
        raise ValidationError(field, value, "commit and force_commit exclude each other")
    return result


def _format_options(action, value, ctx):
    parts = []
    for printed, attr, how, _parse, fmt in _OPTIONS[action]:
        if attr not in value:
            continue
        if how == "flag":
            parts.append(printed)
        elif how == "nat":
            parts.append(_format_nat(value[attr], ctx))
        elif how == "()":
            parts.append("%s(%s)" % (printed, fmt(value[attr], ctx)))
        else:
            parts.append("%s=%s" % (printed, fmt(value[attr], ctx)))
    known = set(spec[1] for spec in _OPTIONS[action])
    parts += ["%s(%s)" % (name, _hex_bytes(v.raw)) for name, v in value.items()
              if name not in known and isinstance(v, Unknown)]
    return ",".join(parts)


def _parse_action_value(value, field, ctx):
    """A nested action list: text or a structured list."""
    if isinstance(value, (list, tuple)):
        return _actions_from_items(value, field, ctx)
    if not isinstance(value, str):
        raise ValidationError(field, value, "expected an action list")
    return _parse_action_text(value, field, ctx)


def _parse_action_text(text, field, ctx):
    items = _split(text, field)
    if items == ["drop"]:
        return []  # see the module docstring
    actions = []
    for index, item in enumerate(items):
        name, args = _call(item, "%s[%d]" % (field, index))
        actions.extend(_parse_action(name, args, "%s[%d]" % (field, index), ctx))
    return actions


def _parse_action(name, args, field, ctx):
    """One action item -> a list of ``(name, value)`` (set may give set_masked)."""
    if args is None:
        if name == "drop":
            return [("drop", 0)]
        entry = ACTIONS.by_name.get(name)
        if entry is not None and isinstance(entry[1], Flag):
            return [(name, True)]
        if name in _OPTIONS or name == "ct_clear":
            return [(name, {} if name in _OPTIONS else True)]
        return [("output", _parse_value("port", 32, name, field, ctx))]
    if name == "output":
        return [("output", _parse_value("port", 32, args, field, ctx))]
    handler = _ACTION_PARSERS.get(name)
    if handler is not None:
        return [handler(name, args, field, ctx)]
    if name in _OPTIONS:
        return [(name, _parse_options(name, args, field, ctx))]
    entry = ACTIONS.by_name.get(name)
    if entry is None:
        number = name[len("action"):] if name.startswith("action") else ""
        if not number.isdigit():
            raise ValidationError(field, name, "unknown action" + _suggest(name, ACTIONS.by_name))
        value, _mask = _parse_raw_attr(ACTIONS, int(number), args, field)
        return [(name if isinstance(value, Unknown) else ACTIONS.by_id[int(number)][0], value)]
    codec = entry[1]
    if isinstance(codec, Nested) and codec.ordered:
        return [(name, _parse_action_value(args, field, ctx))]
    if isinstance(codec, Struct):
        value, _mask = _parse_struct(name, codec, _items_of(args, field), field, ctx, False)
        return [(name, value)]
    if isinstance(codec, (Int, Addr)):
        return [(name, _parse_value(codec.kind, codec.bits, args, field, ctx))]
    raise ValidationError(field, args, "%s takes no arguments" % name)


def _parse_set(_name, args, field, ctx):
    if isinstance(args, dict):
        items = list(args.items())
    else:
        items = _key_text_items(args, field + ".")
    if len(items) != 1:
        raise ValidationError(field, args, "set takes exactly one key attribute")
    key, mask = _parse_key_items(items, field + ".", ctx)
    attr, value = next(iter(key.items()))  # the one item gives one attribute
    entry = FLOW_KEY.by_name.get(attr)
    if entry is None or isinstance(entry[1], Nested) or _is_exact(attr, mask[attr]):
        return ("set", key)
    return ("set_masked", {attr: (value, mask[attr])})


def _is_exact(name, mask):
    codec = FLOW_KEY.by_name[name][1]
    if isinstance(codec, Struct):
        return all(mask[f] == _full(codec.widths[f]) for f in codec.names)
    if name == "tcp_flags":
        return mask == _TCP_FLAGS[2]
    return mask == _full(codec.bits)


def _parse_push_vlan(_name, args, field, _ctx):
    items = _items_of(args, field)
    tpid = [text for name, text in items if name == "tpid"]
    tci, _mask = _parse_vlan([(n, t) for n, t in items if n != "tpid"], field)
    return ("push_vlan", {"tpid": _parse_int(tpid[0], field + ".tpid", 16) if tpid else 0x8100,
                          "tci": tci})


def _parse_mpls_push(name, args, field, _ctx):
    items = _items_of(args, field)
    extra = dict((n, t) for n, t in items if n in ("eth_type", "tun_flags"))
    if "eth_type" not in extra:
        raise ValidationError(field, args, "eth_type= is required")
    lse, _mask = _pack(MPLS_FIELDS, [(n, t) for n, t in items if n not in extra], field,
                       maskable=False)
    value = {"lse": lse, "eth_type": _parse_int(extra["eth_type"], field + ".eth_type", 16)}
    if name == "add_mpls":
        value["tun_flags"] = _parse_int(extra.get("tun_flags", 0), field + ".tun_flags", 16)
    elif "tun_flags" in extra:
        raise ValidationError(field + ".tun_flags", extra["tun_flags"], "only add_mpls has it")
    return (name, value)


def _parse_pop_mpls(_name, args, field, _ctx):
    items = _items_of(args, field)
    if [n for n, _t in items] != ["eth_type"]:
        raise ValidationError(field, args, "expected pop_mpls(eth_type=0x800)")
    return ("pop_mpls", _parse_int(items[0][1], field + ".eth_type", 16))


def _parse_hash(_name, args, field, _ctx):
    if isinstance(args, dict):
        alg, basis = str(args.get("alg", "l4")), args.get("basis", 0)
    else:
        alg, basis = _call(args, field)
    names = dict((v, k) for k, v in HASH_ALGS.items())
    number = names.get(alg)
    if number is None and alg.startswith("alg") and alg[3:].isdigit():
        number = int(alg[3:])
    if number is None or basis is None:
        raise ValidationError(field, args, "expected hash(l4(basis)) or hash(sym_l4(basis))")
    return ("hash", {"alg": number, "basis": _parse_int(basis, field + ".basis", 32)})


def _parse_push_nsh(_name, args, field, _ctx):
    value, _mask = _parse_nsh(_items_of(args, field), field, maskable=False)
    return ("push_nsh", value)


_ACTION_PARSERS = {
    "set": _parse_set, "push_vlan": _parse_push_vlan, "push_mpls": _parse_mpls_push,
    "add_mpls": _parse_mpls_push, "pop_mpls": _parse_pop_mpls, "hash": _parse_hash,
    "push_nsh": _parse_push_nsh,
}


def _format_action(name, value, ctx):
    if isinstance(value, Unknown):
        return "%s(%s)" % (name, _hex_bytes(value.raw))
    if name == "output":
        return _format_value("port", value, ctx)
    if name == "drop":
        return "drop(%d)" % value
    if name == "set":
        ((attr, attr_value),) = value.items()
        return "set(%s)" % _format_key_attr(attr, attr_value, None, ctx)
    if name == "set_masked":
        ((attr, (attr_value, mask)),) = value.items()
        return "set(%s)" % _format_key_attr(attr, attr_value, mask, ctx, always=True)
    if name == "push_vlan":
        tpid = "tpid=0x%x," % value["tpid"] if value["tpid"] != 0x8100 else ""
        return "push_vlan(%s%s)" % (tpid, _format_vlan(value["tci"], None, ctx, always=True))
    if name in ("push_mpls", "add_mpls"):
        parts = _unpack(MPLS_FIELDS, value["lse"], None, ctx, lambda *_a: True)
        parts.append("eth_type=0x%x" % value["eth_type"])
        if value.get("tun_flags"):
            parts.append("tun_flags=0x%x" % value["tun_flags"])
        return "%s(%s)" % (name, ",".join(parts))
    if name == "pop_mpls":
        return "pop_mpls(eth_type=0x%x)" % value
    if name == "hash":
        alg = HASH_ALGS.get(value["alg"], "alg%d" % value["alg"])
        return "hash(%s(%d))" % (alg, value["basis"])
    if name == "push_nsh":
        return "push_nsh(%s)" % _format_nsh(value, None, ctx)
    if name in _OPTIONS:
        inner = _format_options(name, value, ctx)
        return "%s(%s)" % (name, inner) if inner or name != "ct" else "ct"
    codec = ACTIONS.by_name[name][1]
    if isinstance(codec, Flag):
        return name
    if isinstance(codec, Nested) and codec.ordered:
        return "%s(%s)" % (name, _format_action_list(value, ctx))
    if isinstance(codec, Struct):
        return "%s(%s)" % (name, _format_struct(name, codec, value, None, ctx))
    return "%s(%s)" % (name, _format_value(codec.kind, value, ctx))


def _format_action_list(actions, ctx):
    if not actions:
        return "drop"
    return ",".join(_format_action(name, value, ctx) for name, value in actions)


# Below the action parsers and formatters: nested actions recurse into them.
_ACTIONS_OPTION = (_parse_action_value, _format_action_list)
_FLAG_OPTION = (lambda text, field, _ctx: _parse_flag_option(text, field), None)

# Options of the nested actions: (printed name, attribute, how: "=", "()" or
# "flag", parse(text, field, ctx), format(value, ctx)), in ovs-dpctl's order.
_OPTIONS = {
    "userspace": [
        ("pid", "pid", "=") + _int_option(32),
        ("userdata", "userdata", "()", lambda t, f, _c: _parse_hex_bytes(str(t), f),
         lambda v, _c: _hex_bytes(v, "")),
        ("actions", "actions", "flag") + _FLAG_OPTION,
        ("tunnel_out_port", "tunnel_out_port", "=") + _int_option(32, "port"),
    ],
    "sample": [
        ("sample", "probability", "=", lambda t, f, _c: _parse_percent(t, f),
         lambda v, _c: _format_percent(v)),
        ("actions", "actions", "()") + _ACTIONS_OPTION,
    ],
    "ct": [
        ("commit", "commit", "flag") + _FLAG_OPTION,
        ("force_commit", "force_commit", "flag") + _FLAG_OPTION,
        ("zone", "zone", "=") + _int_option(16),
        ("mark", "mark", "=", _parse_ct_masked(32), lambda v, _c: _format_ct_masked(v, 32, True)),
        ("label", "label", "=", _parse_ct_masked(128),
         lambda v, _c: _format_ct_masked(v, 128, False)),
        ("helper", "helper", "=") + _str_option(),
        ("timeout", "timeout", "=") + _str_option(),
        ("eventmask", "eventmask", "=") + _int_option(32, "hex"),
        ("nat", "nat", "nat", _parse_nat, None),
    ],
    "check_pkt_len": [
        ("size", "size", "=") + _int_option(16),
        ("gt", "gt", "()") + _ACTIONS_OPTION,
        ("le", "le", "()") + _ACTIONS_OPTION,
    ],
    "dec_ttl": [("le_1", "le_1", "()") + _ACTIONS_OPTION],
    "psample": [
        ("group", "group", "=") + _int_option(32),
        ("cookie", "cookie", "=", lambda t, f, _c: _parse_hex_bytes(str(t), f),
         lambda v, _c: "0x" + _hex_bytes(v, "")),
    ],
}


def parse_actions(text, ports=None):
    """ovs-dpctl action text -> list of ``(name, value)``."""
    if not isinstance(text, str):
        raise ValidationError("actions", text, "expected text")
    return _parse_action_text(text, "actions", _Ctx(ports))


def format_actions(actions, port_names=None):
    """List of ``(name, value)`` -> ovs-dpctl action text (``drop`` when empty)."""
    return _format_action_list(list(actions), _Ctx(port_names=port_names))


def actions_from_list(items, ports=None):
    """The Ansible ``actions`` list -> list of ``(name, value)``. Items are
    action texts (``'pop_vlan'``, ``'ct(commit)'``) or one-key dicts
    (``{'output': 'p2'}``); an empty list, or ``['drop']``, is drop."""
    if not isinstance(items, (list, tuple)):
        raise ValidationError("actions", items, "expected a list")
    return _actions_from_items(items, "actions", _Ctx(ports))


def _actions_from_items(items, field, ctx):
    if list(items) == ["drop"]:
        return []
    actions = []
    for index, item in enumerate(items):
        sub = "%s[%d]" % (field, index)
        if isinstance(item, str):
            actions.extend(_parse_action_text(item, sub, ctx) if item != "drop" else [("drop", 0)])
        elif isinstance(item, int) and not isinstance(item, bool):
            actions.append(("output", _parse_value("port", 32, item, sub, ctx)))
        elif isinstance(item, dict) and len(item) == 1:
            ((name, value),) = item.items()
            if value is True or value is None:
                actions.extend(_parse_action(name, None, sub, ctx))
            elif isinstance(value, (int, list, tuple)) and not isinstance(value, bool):
                actions.extend(_parse_action(name, value if isinstance(value, (list, tuple))
                                             else str(value), sub, ctx))
            else:
                actions.extend(_parse_action(name, value, sub, ctx))
        else:
            raise ValidationError(sub, item, "expected an action text or a one-key dict")
    return actions


# --------------------------------------------------------------------------
# Whole flows (dump lines).

_STAT_PREFIXES = ("packets:", "bytes:", "used:", "flags:", "dp:", "offloaded:", "dp-extra-info:")


def _ufid_text(ufid):
    words = struct.unpack("=4I", bytes(ufid))
    return "%08x-%04x-%04x-%04x-%04x%08x" % (words[0], words[1] >> 16, words[1] & 0xFFFF,
                                             words[2] >> 16, words[2] & 0xFFFF, words[3])


def _parse_ufid(text, field):
    digits = text.replace("-", "")
    if not re.match(r"^[0-9A-Fa-f]{32}$", digits):
        raise ValidationError(field, text, "expected a UUID")
    # ovs prints the 128-bit ufid as a UUID of four host-order 32-bit words.
    number = int(digits, 16)
    return struct.pack("=4I", *[(number >> (96 - 32 * i)) & _UINT32_MAX for i in range(4)])


def parse_flow(text, ports=None):
    """A flow line (``[ufid:U,] KEY[, stats], actions:ACTIONS`` or ``KEY ACTIONS``)
    -> ``(key, mask, actions, ufid)``; statistics are ignored, ufid is 16 bytes or None."""
    if not isinstance(text, str):
        raise ValidationError("flow", text, "expected text")
    text = text.strip()
    head, actions_text = _split_flow(text)
    ufid = None
    key_items = []
    for item in _split(head, "flow"):
        if item.startswith("ufid:"):
            ufid = _parse_ufid(item[5:], "ufid")
        elif not item.startswith(_STAT_PREFIXES):
            key_items.append(item)
    ctx = _Ctx(ports)
    key, mask = _parse_key_items(_key_text_items(",".join(key_items), ""), "", ctx)
    return key, mask, _parse_action_text(actions_text, "actions", ctx), ufid


def _split_flow(text):
    depth = 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth:
            continue
        if text.startswith("actions:", index) and (index == 0 or text[index - 1] in ", \t"):
            return text[:index].rstrip(", \t"), text[index + len("actions:"):].strip()
        if char in " \t" and text[index - 1] not in ", \t" and not text[index:].lstrip().startswith(
                _STAT_PREFIXES + ("actions:",)) and not text[:index].rstrip().startswith("ufid:"):
            return text[:index], text[index:].strip()
    raise ValidationError("flow", text, "no actions (expected 'KEY actions:ACTIONS')")


def format_flow(key, mask, actions, port_names=None, stats=None, ufid=None, verbose=False):
    """The ovs-dpctl dump line of a flow; ``stats`` is a dict of packets, bytes,
    used (ms ago, or None) and tcp_flags."""
    parts = []
    if ufid is not None:
        parts.append("ufid:" + _ufid_text(ufid))
    parts.append(format_key(key, mask, port_names, verbose))
    if stats is not None:
        used = stats.get("used")
        parts.append("packets:%d, bytes:%d, used:%s" % (
            stats.get("packets", 0), stats.get("bytes", 0),
            "never" if used is None else "%.3fs" % (used / 1000.0)))
        if stats.get("tcp_flags"):
            parts.append("flags:" + _format_flags(stats["tcp_flags"], None, TCP_FLAGS, 0x0FFF))
    return ", ".join(parts) + ", actions:" + format_actions(actions, port_names)
