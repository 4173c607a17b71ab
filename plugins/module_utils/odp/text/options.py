# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Actions made of named options, such as ``ct(commit,zone=1,nat(src=..))``
and ``userspace(pid=..,userdata(..))``: an :class:`Options` action is a table
of :class:`Option`, each with a value syntax (``parse(text, field, ctx)``,
``format(value, ctx)``), printed in the table's order, as ovs-dpctl does."""

from __future__ import annotations

import ipaddress
import re

from ..attrs import Unknown
from ..errors import ValidationError
from .lex import did_you_mean, items_of
from .scalar import (
    c_hex,
    format_value,
    full,
    hex_bytes,
    ntop6,
    parse_hex_bytes,
    parse_ip,
    parse_masked,
    parse_number,
    parse_value,
)

_UINT32_MAX = 0xFFFFFFFF
_PERCENT_RE = re.compile(r"^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)%?$")
_NAT_RANGE_RE = re.compile(
    r"^(?:(\[[^\]]*\]|[^:\-\[]+)(?:-(\[[^\]]*\]|[^:\-\[]+))?)?(?::([0-9]+)(?:-([0-9]+))?)?$"
)


class Option:
    """``form``: ``=`` prints ``name=value``, ``()`` ``name(value)``, ``flag``
    the name alone; ``self``: the value prints its own name (``nat``)."""

    def __init__(self, printed: str, attr: str, form: str, value):
        self.printed = printed
        self.attr = attr
        self.form = form
        self.value = value

    def format(self, value, ctx) -> str:
        if self.form == "flag":
            return self.printed
        if self.form == "self":
            return self.value.format(value, ctx)
        text = self.value.format(value, ctx)
        return ("%s(%s)" if self.form == "()" else "%s=%s") % (self.printed, text)


class Options:
    """An action whose value is a dict of options; ``check(result, field,
    args)`` refuses combinations."""

    bare = True  # "ct" alone: no options

    def __init__(self, table, check=None):
        self.table = table
        self.check = check
        self.by_name = {o.printed: o for o in table}
        self.by_name.update((o.attr, o) for o in table)

    def parse(self, name, args, field, ctx):
        result = {}
        for option_name, text in items_of(args, field) if args is not None else ():
            sub = "%s.%s" % (field, option_name)
            option = self.by_name.get(option_name)
            if option is None:
                raise ValidationError(
                    sub,
                    text,
                    "unknown %s option%s"
                    % (name, did_you_mean(option_name, [o.printed for o in self.table])),
                )
            if option.attr in result:
                raise ValidationError(sub, text, "option given twice")
            result[option.attr] = option.value.parse(text, sub, ctx)
        if self.check is not None:
            self.check(result, field, args)
        return name, result

    def format(self, name, value, ctx):
        parts = [o.format(value[o.attr], ctx) for o in self.table if o.attr in value]
        known = {o.attr for o in self.table}
        parts += [
            "%s(%s)" % (attr, hex_bytes(v.raw))
            for attr, v in value.items()
            if attr not in known and isinstance(v, Unknown)
        ]
        inner = ",".join(parts)
        return "%s(%s)" % (name, inner) if inner or name != "ct" else "ct"


def exclusive(first: str, second: str):
    """A check refusing two options together."""

    def check(result, field, args):
        if first in result and second in result:
            raise ValidationError(field, args, "%s and %s exclude each other" % (first, second))

    return check


# --------------------------------------------------------------------------
# Option values.


class Number:
    def __init__(self, bits: int, kind: str = "int"):
        self.bits = bits
        self.kind = kind

    def parse(self, text, field, ctx):
        return parse_value(self.kind, self.bits, text, field, ctx)

    def format(self, value, ctx):
        return format_value(self.kind, value, ctx, self.bits)


class HexData:
    """Opaque bytes as hex digits, after ``prefix`` when printed."""

    def __init__(self, prefix: str = ""):
        self.prefix = prefix

    def parse(self, text, field, _ctx):
        return parse_hex_bytes(str(text), field)

    def format(self, value, _ctx):
        return self.prefix + hex_bytes(value, "")


class _Flag:
    def parse(self, text, field, _ctx=None):
        if text not in (None, True):
            raise ValidationError(field, text, "a flag takes no value")
        return True


class _Name:
    """A helper or timeout policy name."""

    def parse(self, text, field, _ctx):
        if not isinstance(text, str) or not text or re.search(r"[,()\s]", text):
            raise ValidationError(field, text, "expected a name without ',', '(', ')' or spaces")
        return text

    def format(self, value, _ctx):
        return value


class CtMasked:
    """``value[/mask]`` of ct(mark=..) and ct(label=..); ``always_mask``
    prints the mask even when exact, as ovs-dpctl does for the mark."""

    def __init__(self, bits: int, always_mask: bool):
        self.bits = bits
        self.always_mask = always_mask

    def parse(self, text, field, _ctx):
        value, mask = parse_masked("hex", self.bits, text, field)
        return {"value": value, "mask": mask}

    def format(self, value, _ctx):
        text = c_hex(value["value"])
        if self.always_mask or value["mask"] != full(self.bits):
            text += "/" + c_hex(value["mask"])
        return text


class _Percent:
    """The sample probability: a share of UINT32_MAX, printed as a percentage."""

    def parse(self, text, field, _ctx):
        text = str(text).strip()
        if not _PERCENT_RE.match(text):
            raise ValidationError(field, text, "expected a percentage such as 50.0%")
        percent = float(text.rstrip("%"))
        if percent > 100:
            raise ValidationError(field, text, "out of range 0..100%")
        return round(percent / 100.0 * _UINT32_MAX)

    def format(self, probability, _ctx):
        # ovs-dpctl prints one decimal; print more only when one would not read back.
        for digits in range(1, 12):
            text = "%.*f" % (digits, 100.0 * probability / _UINT32_MAX)
            if self.parse(text, "", None) == probability:
                return text + "%"
        return repr(100.0 * probability / _UINT32_MAX) + "%"


class _Nat:
    """``nat``, or ``nat(src=ip[-ip][:port[-port]],persistent,hash,random)``."""

    _FLAGS = ("persistent", "hash", "random")

    def parse(self, value, field, ctx):
        if value is None or value is True:
            return {}
        result = {}
        for name, text in items_of(value, field):
            side, colon, ports = name.partition(":")
            if colon and text is None:  # src:80, a port range and no address
                name, text = side, colon + ports
            sub = "%s.%s" % (field, name)
            if name in ("src", "dst"):
                if "src" in result or "dst" in result:
                    raise ValidationError(sub, text, "nat takes one of src, dst")
                result[name] = True
                if text is not None and text is not True:
                    result.update(_parse_range(text, sub))
            elif name in self._FLAGS:
                FLAG.parse(text, sub)
                result[name] = True
            else:
                raise ValidationError(
                    sub,
                    text,
                    "unknown nat option" + did_you_mean(name, ("src", "dst", *self._FLAGS)),
                )
        return result

    def format(self, value, _ctx):
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
        parts += [name for name in self._FLAGS if value.get(name)]
        return "nat(%s)" % ",".join(parts)


def _parse_range(text, field):
    """``ip[-ip][:port[-port]]``, IPv6 addresses in brackets."""
    match = _NAT_RANGE_RE.match(str(text).strip())
    if not str(text).strip() or not match:
        raise ValidationError(field, text, "expected ip[-ip][:port[-port]]")
    result: dict[str, object] = {}
    version = (
        6 if match.group(1) and (match.group(1).startswith("[") or ":" in match.group(1)) else 4
    )
    for name, group in (("ip_min", 1), ("ip_max", 2)):
        if match.group(group):
            result[name] = (version, parse_ip(match.group(group), field, version))
    for name, group in (("proto_min", 3), ("proto_max", 4)):
        if match.group(group):
            result[name] = parse_number(match.group(group), field, 16)
    return result


def _format_ip(value):
    version, number = value
    return str(ipaddress.IPv4Address(number)) if version == 4 else "[%s]" % ntop6(number)


FLAG = _Flag()
NAME = _Name()
PERCENT = _Percent()
NAT = _Nat()
