# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How one attribute reads and prints: the shapes the registries are made of.

A :class:`Syntax` turns the text inside an attribute's parentheses (or the
structured value of the dict forms) into ``(value, mask)``, and back. The
key registry (:mod:`.key`) holds one per key attribute; most are derived from
the attribute's codec (a struct gives :class:`Fields`, a number :class:`Masked`),
the others are written once for the attributes ovs-dpctl spells its own way.
"""

from __future__ import annotations

from ..attrs import Addr, CodecError, Int, Struct, Unknown
from ..errors import ValidationError
from .lex import did_you_mean, items_of
from .scalar import (
    format_flags,
    format_masked,
    hex_bytes,
    parse_flags,
    parse_hex_bytes,
    parse_masked,
    value_formatter,
)


class Syntax:
    """One attribute: ``parse(args, field, ctx) -> (value, mask)`` (None: the
    text means the attribute is absent) and ``format(value, mask, ctx)`` -> the
    text inside the parentheses (``mask`` None: exact)."""

    # Printed even when fully wildcarded (ovs-dpctl does so for eth, encap...).
    always_printed = False

    def parse(self, args, field, ctx):
        raise NotImplementedError

    def format(self, value, mask, ctx):
        raise NotImplementedError

    def formatter(self, mask, ctx):
        """``format`` under one ``mask`` as a function of the value alone: a
        listing formats thousands of values under a handful of masks, and
        the syntaxes below decide what the mask prints once."""
        return lambda value: self.format(value, mask, ctx)

    def zero_mask(self, value):
        """The mask of an attribute the mask dict leaves out: all wildcards."""
        return 0

    def is_wildcard(self, mask) -> bool:
        return is_zero(mask)


def is_zero(mask) -> bool:
    if isinstance(mask, Unknown):
        return False  # ovs-dpctl always prints what it does not know
    if isinstance(mask, dict):
        return all(is_zero(m) for m in mask.values())
    return not mask


class Masked(Syntax):
    """A number or an address, ``value[/mask]``."""

    def __init__(self, kind: str, bits: int, maskable: bool = True):
        self.kind = kind
        self.bits = bits
        self.maskable = maskable

    def parse(self, args, field, ctx):
        return parse_masked(self.kind, self.bits, args, field, ctx, self.maskable)

    def format(self, value, mask, ctx):
        return format_masked(self.kind, self.bits, value, mask, ctx)

    def formatter(self, mask, ctx):
        if type(self).format is not Masked.format:
            return Syntax.formatter(self, mask, ctx)
        return value_formatter(self.kind, self.bits, mask, ctx)


class FlagSet(Syntax):
    """Named bits: ``a|b`` exact, ``+a-b`` masked (ct_state, tcp_flags).
    ``verbose_kind`` prints the raw number in verbose output instead."""

    def __init__(self, names, bits: int, exact: int, verbose_kind: str | None = None):
        self.names = tuple(names)
        self.bits = bits
        self.exact = exact
        self.verbose_kind = verbose_kind

    def parse(self, args, field, ctx):
        return parse_flags(args, self.names, self.bits, self.exact, field)

    def format(self, value, mask, ctx):
        if self.verbose_kind and ctx.verbose:
            return format_masked(self.verbose_kind, self.bits, value, mask, ctx)
        return format_flags(value, mask, self.names, self.exact)


class Fields(Syntax):
    """A C struct as ``name=value[/mask],...``. ``order`` and ``aliases`` are
    ovs-dpctl's where they differ from the struct's, ``kinds`` overrides the
    codec's field kinds."""

    def __init__(
        self, codec: Struct, order=None, aliases=None, kinds=None, always_printed: bool = False
    ):
        self.codec = codec
        self.always_printed = always_printed
        names = order or codec.names
        kinds = kinds or {}
        aliases = aliases or {}
        # (field, printed name, kind, bits), in print order.
        self.fields = [
            (f, aliases.get(f, f), kinds.get(f, codec.kinds[f]), codec.widths[f]) for f in names
        ]
        # Field name or alias -> (field, kind, bits), built once (the Ansible
        # module parses thousands of matches in one task).
        self.lookup = {alias: (f, kind, bits) for f, alias, kind, bits in self.fields}
        self.lookup.update((f, (f, kind, bits)) for f, _a, kind, bits in self.fields)

    def parse(self, args, field, ctx, maskable=True):
        return self.parse_items(items_of(args, field), field, ctx, maskable)

    def parse_items(self, items, field, ctx, maskable=True):
        value = dict.fromkeys(self.codec.names, 0)
        mask = dict.fromkeys(self.codec.names, 0)
        seen = set()
        for name, text in items:
            sub = "%s.%s" % (field, name)
            if name not in self.lookup:
                raise ValidationError(
                    sub,
                    text,
                    "unknown field"
                    + did_you_mean(name, [alias for _f, alias, _k, _b in self.fields]),
                )
            real, kind, bits = self.lookup[name]
            if real in seen:
                raise ValidationError(sub, text, "field given twice")
            seen.add(real)
            value[real], mask[real] = parse_masked(kind, bits, text, sub, ctx, maskable)
        return value, mask

    def format(self, value, mask, ctx):
        parts = []
        for name, alias, kind, bits in self.fields:
            field_mask = None if mask is None else mask.get(name, 0)
            if field_mask == 0 and not ctx.verbose:
                continue
            parts.append(
                "%s=%s" % (alias, format_masked(kind, bits, value.get(name, 0), field_mask, ctx))
            )
        return ",".join(parts)

    def formatter(self, mask, ctx):
        if type(self).format is not Fields.format:
            return Syntax.formatter(self, mask, ctx)
        printed = []
        for name, alias, kind, bits in self.fields:
            field_mask = None if mask is None else mask.get(name, 0)
            if field_mask != 0 or ctx.verbose:
                printed.append((name, alias + "=", value_formatter(kind, bits, field_mask, ctx)))

        def fmt(value):
            get = value.get
            return ",".join([alias + field(get(name, 0)) for name, alias, field in printed])

        return fmt

    def zero_mask(self, value):
        return dict.fromkeys(value, 0)


def derived(name, codec):
    """The syntax attribute ``name`` gets from its codec alone."""
    if isinstance(codec, Struct):
        return Fields(codec)
    if isinstance(codec, (Int, Addr)):
        return Masked(codec.kind, codec.bits)
    # A new nested or opaque attribute: say where its syntax goes, at import.
    raise TypeError(
        "%s: a %s has no derived text syntax; spell it in the registry"
        % (name, type(codec).__name__)
    )


# --------------------------------------------------------------------------
# Attributes by number: ``<prefix><id>(hex[/hex])``, byte for byte. Those the
# schema does not know stay :class:`Unknown`; ovs-dpctl prints some it does
# not know this way too.


def parse_raw(attrs, number: int, args, field: str):
    """``(value, mask)`` of the hex bytes of attribute ``number`` of ``attrs``."""
    if not isinstance(args, str):
        raise ValidationError(field, args, "expected hex bytes")
    value_text, sep, mask_text = args.partition("/")
    raw = parse_hex_bytes(value_text, field)
    raw_mask = parse_hex_bytes(mask_text, field + " mask") if sep else b"\xff" * len(raw)
    entry = attrs.by_id.get(number)
    if entry is None:
        return Unknown(number, raw), Unknown(number, raw_mask)
    try:
        return entry[1].decode(raw), entry[1].decode(raw_mask)
    except CodecError as exc:
        raise ValidationError(field, args, str(exc))


def raw_number(name: str, prefix: str):
    """The id in ``<prefix><id>``, or None."""
    number = name[len(prefix) :] if name.startswith(prefix) else ""
    return int(number) if number.isascii() and number.isdigit() else None


def format_raw(value, mask, codec=None) -> str:
    """The hex bytes of a value (an :class:`Unknown`, or encoded by ``codec``)."""
    raw = value.raw if codec is None else codec.encode(value)
    raw_mask = None if mask is None else mask.raw if codec is None else codec.encode(mask)
    text = hex_bytes(raw)
    if raw_mask is not None and raw_mask != b"\xff" * len(raw):
        text += "/" + hex_bytes(raw_mask)
    return text
