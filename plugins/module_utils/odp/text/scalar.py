# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scalar fields: one parser and one printer per kind, for every number,
address and flag set of the flow text, the dict forms and the ``odp`` flags.

Kinds (:data:`KINDS`), each a ``(parse, format)`` pair:

* ``int`` prints decimal, ``hex`` as C's ``%#x`` (``0`` for zero), ``hex0x``
  as ``0x%x``, ``ethertype`` as ``0x%04x``; all read decimal or ``0x`` hex,
  in ASCII digits only (``int()`` would take any Unicode digit);
* ``hexdigits``: hex digits without ``0x`` (go-odp's tunnel id), zero-padded;
* ``frag``: ``no``, ``first``, ``later``; ``port``: a number or a vport name;
* ``mac``, ``ipv4``, ``ipv6`` (masks as addresses, or a prefix length);
* ``bool``: Go's ``strconv.ParseBool`` words.

On top of them: ``value[/mask]`` (:func:`parse_masked`), flag sets such as
``+trk-new`` (:func:`parse_flags`) and sub-fields packed into one integer
such as a VLAN TCI (:func:`pack`).
"""

from __future__ import annotations

import ipaddress
import re

from ..errors import ValidationError
from ..keys import FRAG_TYPES
from .lex import did_you_mean

_NUMBER_RE = re.compile(r"^(?:[0-9]+|0[xX][0-9a-fA-F]+)$")
_MAC_RE = re.compile(r"^[0-9A-Fa-f]{1,2}(:[0-9A-Fa-f]{1,2}){5}$")
_HEX_DIGITS_RE = re.compile(r"^(?:0[xX])?([0-9A-Fa-f]+)$")
_UINT32_MAX = 0xFFFFFFFF
# go-odp's boolean words (Go's strconv.ParseBool).
_TRUE = ("1", "t", "T", "true", "TRUE", "True")
_FALSE = ("0", "f", "F", "false", "FALSE", "False")
# Vport names an error lists when it cannot guess which one was meant.
_LISTED_PORTS = 10
ADDRESS_KINDS = ("mac", "ipv4", "ipv6")


def full(bits: int) -> int:
    """The all-ones mask of ``bits`` bits."""
    return (1 << bits) - 1


def c_hex(number: int) -> str:
    """C's ``%#x``: ovs-dpctl prints 0 as ``0``."""
    return "0x%x" % number if number else "0"


def is_number(text: str) -> bool:
    return bool(_NUMBER_RE.match(text))


def parse_number(text, field: str, bits: int) -> int:
    """Decimal or ``0x`` hex, within ``bits`` bits."""
    text = str(text).strip()
    if not _NUMBER_RE.match(text):
        raise ValidationError(field, text, "not a number")
    number = int(text, 16) if text[1:2] in ("x", "X") else int(text, 10)
    if number > full(bits):
        raise ValidationError(field, text, "out of range 0..%d" % full(bits))
    return number


def parse_mac(text: str, field: str) -> int:
    """A MAC address (``02:00:00:00:00:01``; one-digit octets too) as an ``int``."""
    if not _MAC_RE.match(text):
        raise ValidationError(field, text, "expected a MAC address such as 02:00:00:00:00:01")
    return int("".join(part.zfill(2) for part in text.split(":")), 16)


def _parse_mac(text, field, _bits, _ctx):
    return parse_mac(text, field)


def parse_ip(text: str, field: str, version: int) -> int:
    """An IPv4 or IPv6 address (IPv6 also in brackets) as an ``int``."""
    text = text.strip()
    if version == 6 and text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if "%" in text:
        # ipaddress takes fe80::1%eth0 and int() drops the scope without a word.
        raise ValidationError(
            field,
            text,
            "an address with a scope id (%...) cannot be matched "
            "or set: a flow sees the address alone",
        )
    if version == 4:
        number = _dotted_quad(text)
        if number is not None:
            return number
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        address = None
    if address is None or address.version != version:
        raise ValidationError(field, text, "not an IPv%d address" % version)
    return int(address)


def _dotted_quad(text: str):
    """``a.b.c.d`` as an ``int`` without ipaddress (declarations hold
    thousands of addresses); None for anything else, which ipaddress judges."""
    parts = text.split(".")
    if len(parts) != 4:
        return None
    number = 0
    for part in parts:
        if (
            not (part.isascii() and part.isdigit())
            or len(part) > 3
            or (len(part) > 1 and part[0] == "0")
        ):
            return None
        octet = int(part)
        if octet > 255:
            return None
        number = number << 8 | octet
    return number


def ntop6(number: int) -> str:
    """IPv6 text as glibc's inet_ntop writes it (IPv4-mapped/compatible forms)."""
    words = [(number >> (112 - 16 * i)) & 0xFFFF for i in range(8)]
    v4 = str(ipaddress.IPv4Address(number & _UINT32_MAX))
    if words[:5] == [0] * 5 and words[5] == 0xFFFF:
        return "::ffff:" + v4
    if words[:6] == [0] * 6 and words[6]:
        return "::" + v4
    return str(ipaddress.IPv6Address(number))


def _parse_frag(text, field, bits, _ctx):
    for number, name in FRAG_TYPES.items():
        if text == name:
            return number
    return parse_number(text, field, bits)


def _parse_port(text, field, bits, ctx):
    ports = ctx.ports if ctx is not None else None
    if is_number(text) or ports is None:
        return parse_number(text, field, bits)
    if text in ports:
        return ports[text]
    hint = did_you_mean(text, ports)
    if not hint:
        names = sorted(ports)
        hint = (
            " (vports: %s%s)"
            % (", ".join(names[:_LISTED_PORTS]), ", ..." if len(names) > _LISTED_PORTS else "")
            if names
            else " (the datapath has no vports)"
        )
    raise ValidationError(field, text, "no such vport in this datapath" + hint)


def _format_port(number, _bits, ctx):
    name = ctx.port_names.get(number) if ctx is not None and ctx.port_names else None
    # A vport named like a number would read back as that number.
    return str(number) if name is None or is_number(name) else name


def _parse_bool(text, field, _bits, _ctx):
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValidationError(field, text, "expected true or false")


def _parse_hex_digits(text, field, bits, _ctx):
    match = _HEX_DIGITS_RE.match(text)
    if not match or len(match.group(1)) > bits // 4:
        raise ValidationError(
            field, text, "expected up to %d hex digits, e.g. %s" % (bits // 4, "5".zfill(bits // 4))
        )
    return int(match.group(1), 16)


def _number_kind(fmt):
    return (
        lambda text, field, bits, _ctx: parse_number(text, field, bits),
        lambda number, _bits, _ctx: fmt(number),
    )


KINDS = {
    "int": _number_kind(str),
    "hex": _number_kind(c_hex),
    "hex0x": _number_kind(lambda number: "0x%x" % number),
    "ethertype": _number_kind(lambda number: "0x%04x" % number),
    "hexdigits": (_parse_hex_digits, lambda number, bits, _ctx: "%0*x" % (bits // 4, number)),
    "frag": (_parse_frag, lambda number, _bits, _ctx: FRAG_TYPES.get(number, str(number))),
    "port": (_parse_port, _format_port),
    "mac": (
        _parse_mac,
        lambda number, _bits, _ctx: number.to_bytes(6, "big").hex(":"),
    ),
    "ipv4": (
        lambda text, field, _bits, _ctx: parse_ip(text, field, 4),
        # What str(ipaddress.IPv4Address(number)) prints, without the object.
        lambda number, _bits, _ctx: "%d.%d.%d.%d" % tuple(number.to_bytes(4, "big")),
    ),
    "ipv6": (
        lambda text, field, _bits, _ctx: parse_ip(text, field, 6),
        lambda number, _bits, _ctx: ntop6(number),
    ),
    "bool": (_parse_bool, lambda value, _bits, _ctx: "true" if value else "false"),
}
# Kinds whose mask is written like the value; other masks are numbers.
_MASK_AS_VALUE = (*ADDRESS_KINDS, "hexdigits")


def parse_value(kind: str, bits: int, text, field: str, ctx=None):
    """One value of ``kind`` (never a mask); ``text`` may also be an ``int``."""
    if isinstance(text, bool) or text is None:
        raise ValidationError(field, text, "a value is required")
    if isinstance(text, int):
        text = str(text)
    if not isinstance(text, str):
        raise ValidationError(field, text, "expected a value")
    return KINDS[kind][0](text.strip(), field, bits, ctx)


def format_value(kind: str, number, ctx=None, bits: int = 0) -> str:
    return KINDS[kind][1](number, bits, ctx)


def parse_mask(kind: str, bits: int, text: str, field: str) -> int:
    text = text.strip()
    if kind in ("ipv4", "ipv6") and text.isascii() and text.isdigit():
        # CIDR prefix length: an extension over ovs-dpctl, which wants a dotted mask.
        length = int(text)
        if length > bits:
            raise ValidationError(field, text, "prefix length out of range 0..%d" % bits)
        return full(bits) ^ full(bits - length)
    if kind in _MASK_AS_VALUE:
        return parse_value(kind, bits, text, field)
    return parse_number(text, field, bits)


def format_mask(kind: str, bits: int, mask: int) -> str:
    return format_value(kind, mask, None, bits) if kind in _MASK_AS_VALUE else c_hex(mask)


def parse_masked(kind: str, bits: int, text, field: str, ctx=None, maskable: bool = True):
    """``value[/mask]``; no mask means exact (all ones)."""
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str):
        raise ValidationError(field, text, "expected a value")
    value_text, sep, mask_text = text.partition("/")
    if sep and not maskable:
        raise ValidationError(field, text, "this field takes no mask")
    value = parse_value(kind, bits, value_text, field, ctx)
    if not sep:
        return value, full(bits)
    return value, parse_mask(kind, bits, mask_text, field + " mask")


def format_masked(kind: str, bits: int, value, mask, ctx=None) -> str:
    return format_value(kind, value, ctx, bits) + mask_suffix(kind, bits, mask)


def mask_suffix(kind: str, bits: int, mask) -> str:
    """What follows a value under ``mask``: nothing when exact, else ``/MASK``."""
    if mask is None or mask == full(bits):
        return ""
    return "/" + format_mask(kind, bits, mask)


def value_formatter(kind: str, bits: int, mask, ctx=None):
    """``format_masked`` of ``kind`` under one ``mask``, as a function of the
    value alone (the mask's text is made once)."""
    fmt = KINDS[kind][1]
    suffix = mask_suffix(kind, bits, mask)
    return lambda value: fmt(value, bits, ctx) + suffix


# --------------------------------------------------------------------------
# Flag sets: ct_state, tcp_flags, tunnel flags. ``names`` is ((bit, name), ...).


def parse_flags(text, names, bits: int, exact: int, field: str):
    """``a|b`` (exact: mask ``exact``), ``+a-b`` (masked) or a number ``0x21/0x21``."""
    text = str(text).strip()
    by_name = {name: bit for bit, name in names}
    if not text or text[0] in "0123456789":
        return parse_masked("hex", bits, text, field)
    if text[0] in "+-":
        value = mask = 0
        signed = re.findall(r"([+-])([^+-]*)", text)
        for sign, name in signed:
            bit = _flag_bit(name, by_name, bits, field)
            mask |= bit
            value |= bit if sign == "+" else 0
        if "".join(s + n for s, n in signed) != text:
            raise ValidationError(field, text, "expected +flag-flag...")
        return value, mask
    value = 0
    for name in text.split("|"):
        value |= _flag_bit(name, by_name, bits, field)
    return value, exact


def _flag_bit(name, by_name, bits, field):
    """A flag's bit by name, or a ``0x..`` number for bits without a name."""
    bit = by_name.get(name)
    if bit is None and name.startswith("0x"):
        bit = parse_number(name, field, bits)
    if bit is None:
        raise ValidationError(field, name, "unknown flag" + did_you_mean(name, by_name))
    return bit


def format_flags(value: int, mask, names, exact: int) -> str:
    if mask is None or mask == exact:
        words = [name for bit, name in names if value & bit]
        rest = value & ~sum(bit for bit, _n in names)
        return "|".join(words + ([c_hex(rest)] if rest else [])) or "0"
    if not mask:
        return "0/0"
    parts = []
    known = dict(names)
    bit = 1
    while bit <= mask:
        if mask & bit:
            parts.append(("+" if value & bit else "-") + known.get(bit, c_hex(bit)))
        bit <<= 1
    return "".join(parts)


# --------------------------------------------------------------------------
# Sub-fields packed into one integer: ((name, shift, bits, kind), ...).


def pack(subfields, items, field: str, defaults=(), maskable: bool = True):
    """Items ``name=value[/mask]`` into one ``(value, mask)`` integer pair."""
    spec = {name: (shift, bits, kind) for name, shift, bits, kind in subfields}
    value = mask = 0
    given = dict(defaults)
    for name, text in items:
        if name not in spec:
            raise ValidationError(
                "%s.%s" % (field, name), text, "unknown field" + did_you_mean(name, spec)
            )
        given[name] = text
    for name, text in given.items():
        shift, bits, kind = spec[name]
        sub_value, sub_mask = parse_masked(
            kind, bits, text, "%s.%s" % (field, name), None, maskable
        )
        value |= sub_value << shift
        mask |= sub_mask << shift
    return value, mask


def unpack(subfields, value: int, mask, show=None) -> list:
    """``name=value[/mask]`` texts of the sub-fields ``show(name, v, m)`` keeps
    (all when ``show`` is None); a None ``mask`` is exact."""
    parts = []
    for name, shift, bits, kind in subfields:
        sub_value = (value >> shift) & full(bits)
        sub_mask = full(bits) if mask is None else (mask >> shift) & full(bits)
        if show is None or show(name, sub_value, sub_mask):
            text = format_value(kind, sub_value)
            if sub_mask != full(bits):
                text += "/" + c_hex(sub_mask)
            parts.append("%s=%s" % (name, text))
    return parts


# --------------------------------------------------------------------------
# Opaque bytes.


def hex_bytes(data: bytes, sep: str = " ") -> str:
    return sep.join("%02x" % b for b in data)


def parse_hex_bytes(text: str, field: str) -> bytes:
    digits = re.sub(r"\s+", "", text)
    if digits.lower().startswith("0x"):
        digits = digits[2:]
    if len(digits) % 2 or not re.match(r"^[0-9A-Fa-f]*$", digits):
        raise ValidationError(field, text, "expected hex bytes")
    return bytes.fromhex(digits)
