# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative netlink attribute codec.

Every ODP message body is a tree of netlink attributes (TLVs). The schemas in
``keys.py``, ``actions.py`` and ``families.py`` describe those trees as
``AttrMap`` tables of ``id -> (name, codec)``; this module turns the tables into
bytes and back.

Values use one representation everywhere, so that masking is plain integer
arithmetic and a key compares equal however it was written:

* numbers, MAC, IPv4 and IPv6 addresses are ``int``;
* fixed C structs are ``dict`` of field name to value;
* nested attributes are ``dict`` (keys) or ``list`` of ``(name, value)``
  (actions, where order matters and names repeat);
* flags are ``True``; strings are ``str``; opaque data is ``bytes``.

Attributes the schema does not know are kept as :class:`Unknown` under the
name ``<prefix><id>`` and re-encoded byte for byte, so a flow that another tool
installed survives a dump and a re-send unchanged.
"""

from __future__ import annotations

import struct

from .errors import OdpError
from .layouts import Layout, struct_encoder

# Compiled layouts kept per attribute map: enough for the shapes of a dump.
MAX_LAYOUTS = 64
# Decoded payloads memoised per codec (bounded: a dump must not pin memory).
MAX_CACHED = 1024
# Values a memo may hand to many callers.
IMMUTABLE = (int, bool, str, bytes)
NLA_HDR = struct.Struct("=HH")
NLA_MAX_LEN = 0xFFFF  # an attribute's length, header included, is a u16
NLA_F_NESTED = 0x8000
NLA_F_NET_BYTEORDER = 0x4000
NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xFFFF


def nla_pad(length):
    """Length rounded up to the netlink 4-byte attribute alignment."""
    return (length + 3) & ~3


def iter_attrs(raw):
    """Yield ``(type, payload)`` for each attribute in ``raw``."""
    offset = 0
    end = len(raw)
    unpack = NLA_HDR.unpack_from
    while offset + 4 <= end:
        length, kind = unpack(raw, offset)
        if length < 4 or offset + length > end:
            raise CodecError("truncated netlink attribute at offset %d" % offset)
        yield kind & NLA_TYPE_MASK, raw[offset + 4 : offset + length]
        offset += (length + 3) & ~3


def pack_attr(kind, payload):
    """One attribute: header, payload and alignment padding."""
    length = 4 + len(payload)
    if length > NLA_MAX_LEN:
        # The header's length is 16 bits: more would wrap around.
        raise CodecError(
            "%d bytes encoded, more than a netlink attribute holds (%d)" % (length, NLA_MAX_LEN)
        )
    return NLA_HDR.pack(length, kind) + payload + b"\0" * (((length + 3) & ~3) - length)


class CodecError(OdpError, ValueError):
    """A value does not fit its attribute, or received bytes are malformed: an
    :class:`OdpError` like every error the library raises, so a malformed
    dump reaches the user as a clean message."""


class Unknown:
    """An attribute the schema does not model, kept byte for byte."""

    __slots__ = ("kind", "raw")

    def __init__(self, kind, raw):
        self.kind = kind
        self.raw = bytes(raw)

    def __eq__(self, other):
        return isinstance(other, Unknown) and (self.kind, self.raw) == (other.kind, other.raw)

    def __hash__(self):
        return hash((self.kind, self.raw))

    def __repr__(self):
        return "Unknown(%d, %r)" % (self.kind, self.raw)


class Codec:
    """Converts one attribute payload between bytes and its Python value.

    ``kind`` tells the text syntax how to print and parse the value:
    ``int``, ``hex``, ``mac``, ``ipv4``, ``ipv6``, ``ip`` (4 or 16 bytes),
    ``flag``, ``string``, ``bytes``, ``struct``, ``nested`` or ``masked``.
    """

    kind = "bytes"
    size: int | None = None  # fixed payload length in bytes, None when variable

    def encode(self, value):
        raise NotImplementedError

    def decode(self, raw):
        raise NotImplementedError


class Int(Codec):
    """Fixed-width integer; ``fmt`` is a struct format such as ``=I`` or ``>H``."""

    size: int

    def __init__(self, fmt, kind="int"):
        self.fmt = fmt
        self._struct = struct.Struct(fmt)
        self.size = self._struct.size
        self.bits = self.size * 8
        self.kind = kind

    def encode(self, value):
        try:
            return self._struct.pack(value)
        except struct.error:
            raise CodecError("%r does not fit in %d bits" % (value, self.bits))

    def decode(self, raw):
        if len(raw) != self.size:
            raise CodecError("expected %d bytes, got %d" % (self.size, len(raw)))
        return self._struct.unpack(raw)[0]


class Addr(Codec):
    """A big-endian address of fixed length held as an ``int`` (MAC, IPv4, IPv6)."""

    size: int

    def __init__(self, size, kind):
        self.size = size
        self.bits = size * 8
        self.kind = kind

    def encode(self, value):
        try:
            return value.to_bytes(self.size, "big")
        except (OverflowError, AttributeError):
            raise CodecError("%r does not fit in %d bits" % (value, self.bits))

    def decode(self, raw):
        if len(raw) != self.size:
            raise CodecError("expected %d bytes, got %d" % (self.size, len(raw)))
        return int.from_bytes(raw, "big")


class IPAddr(Codec):
    """An IPv4 or IPv6 address chosen by length (NAT ranges); value ``(version, int)``."""

    kind = "ip"

    def encode(self, value):
        version, number = value
        return number.to_bytes(4 if version == 4 else 16, "big")

    def decode(self, raw):
        if len(raw) not in (4, 16):
            raise CodecError("an IP address is 4 or 16 bytes, got %d" % len(raw))
        return (4 if len(raw) == 4 else 6, int.from_bytes(raw, "big"))


class Flag(Codec):
    """Presence is the value."""

    kind = "flag"
    size = 0

    def encode(self, value):
        return b""

    def decode(self, raw):
        return True


class String(Codec):
    """NUL-terminated string."""

    kind = "string"

    def encode(self, value):
        return value.encode("utf-8") + b"\0"

    def decode(self, raw):
        return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


class Bytes(Codec):
    """Opaque bytes, optionally of fixed length."""

    kind = "bytes"

    def __init__(self, size=None):
        self.size = size

    def encode(self, value):
        value = bytes(value)
        if self.size is not None and len(value) != self.size:
            raise CodecError("expected %d bytes, got %d" % (self.size, len(value)))
        return value

    def decode(self, raw):
        return bytes(raw)


class Struct(Codec):
    """A fixed C struct; value is a ``dict`` of field name to ``int``.

    ``fields`` is a list of ``(name, fmt, kind)``: ``fmt`` a single struct item
    (``B``, ``H``, ``I``, ``Q`` or ``Ns`` for an N-byte big-endian number) and
    ``kind`` its text kind. ``byteorder`` applies to the numeric items; network
    structs use ``>``. Padding bytes are ``x`` items with no name. With
    ``empty_is_zero`` an empty payload reads as all fields zero (the kernel
    dumps some fully wildcarded masks that way).
    """

    kind = "struct"

    def __init__(self, fields, byteorder=">", size=None, empty_is_zero=False):
        self.empty_is_zero = empty_is_zero
        self.byteorder = byteorder
        self.layout = list(fields)
        self.fields = [f for f in fields if f[0]]
        self.names = tuple(f[0] for f in self.fields)
        self.kinds = {f[0]: f[2] for f in self.fields}
        self.widths = {}
        fmt = byteorder
        for name, item, _kind in fields:
            fmt += item
            if name:
                self.widths[name] = _item_bits(item)
        self._struct = struct.Struct(fmt)
        self.size = size if size is not None else self._struct.size
        self._pad = b"\0" * (self.size - self._struct.size)
        self._as_bytes = tuple(i for i, f in enumerate(self.fields) if f[1].endswith("s"))
        self._cache = {}
        self._compiled_encode = struct_encoder(self)

    def encode(self, value):
        if self._compiled_encode is not None:
            try:
                return self._compiled_encode(value)
            except (struct.error, TypeError, AttributeError):
                pass  # the general encoder below says what is wrong
        unknown = set(value) - set(self.names)
        if unknown:
            raise CodecError("unknown field %s" % ", ".join(sorted(unknown)))
        items = []
        for name, item, _kind in self.fields:
            number = value.get(name, 0)
            if item.endswith("s"):
                try:
                    number = number.to_bytes(int(item[:-1]), "big")
                except (OverflowError, AttributeError):
                    raise CodecError(
                        "field %s: %r does not fit in %s bits" % (name, number, self.widths[name])
                    )
            items.append(number)
        try:
            return self._struct.pack(*items) + self._pad
        except struct.error:
            raise CodecError("a field of %s does not fit: %r" % (", ".join(self.names), value))

    def decode(self, raw):
        # Dumps repeat the same payloads (masks above all), so decode each once.
        cached = self._cache.get(raw)
        if cached is None:
            if not raw and self.empty_is_zero:
                raw = bytes(self._struct.size)
            elif len(raw) < self._struct.size:
                raise CodecError("expected %d bytes, got %d" % (self._struct.size, len(raw)))
            values = list(self._struct.unpack_from(raw))
            for index in self._as_bytes:
                values[index] = int.from_bytes(values[index], "big")
            cached = dict(zip(self.names, values))
            if len(self._cache) < MAX_CACHED:
                self._cache[bytes(raw)] = cached
        return cached.copy()

    def present(self, value=None, bits=None):
        """The fields a value of this struct has: all of them (see :class:`LabelStack`)."""
        return self.names


class LabelStack(Struct):
    """An array of 1 to ``depth`` 32-bit big-endian entries (OVS_KEY_ATTR_MPLS
    since Linux 5.7: the label stack entries from the top).

    The value is ``{"lse": top}`` for one entry, as before arrays, then
    ``lse2``, ``lse3``: the entries a value or mask has are the ones sent,
    an absent one is no entry (not a zero).
    """

    def __init__(self, depth=3):
        Struct.__init__(self, [("lse", "I", "hex")], empty_is_zero=True)
        self.names = ("lse", *tuple("lse%d" % n for n in range(2, depth + 1)))
        self.fields = [(name, "I", "hex") for name in self.names]
        self.kinds = dict.fromkeys(self.names, "hex")
        self.widths = dict.fromkeys(self.names, 32)
        self._compiled_encode = None
        self.size = None  # variable: the attribute's length says how many entries

    def present(self, value=None, bits=None):
        count = 1
        for index, name in enumerate(self.names):
            if name in (value or {}) or name in (bits or {}):
                count = index + 1
        return self.names[:count]

    def encode(self, value):
        unknown = set(value) - set(self.names)
        if unknown:
            raise CodecError("unknown field %s" % ", ".join(sorted(unknown)))
        numbers = [value.get(name, 0) for name in self.present(value)]
        try:
            return struct.pack(">%dI" % len(numbers), *numbers)
        except struct.error:
            raise CodecError("a label stack entry does not fit in 32 bits: %r" % value)

    def decode(self, raw):
        if not raw and self.empty_is_zero:
            return {"lse": 0}
        if len(raw) % 4 or not 4 <= len(raw) <= 4 * len(self.names):
            raise CodecError(
                "expected 4 to %d bytes in fours, got %d" % (4 * len(self.names), len(raw))
            )
        return dict(zip(self.names, struct.unpack(">%dI" % (len(raw) // 4), raw)))


def _item_bits(item):
    if item.endswith("s"):
        return int(item[:-1]) * 8
    return struct.calcsize("=" + item) * 8


class Nested(Codec):
    """Nested attributes described by ``attrs``.

    With ``ordered`` the value is a list of ``(name, value)`` pairs (actions);
    otherwise a ``dict`` (keys, options).
    """

    kind = "nested"

    def __init__(self, attrs, ordered=False):
        self.attrs = attrs
        self.ordered = ordered

    def encode(self, value):
        items = value if self.ordered else value.items()
        return self.attrs.encode(items)

    def decode(self, raw):
        if self.ordered:
            return self.attrs.decode_list(raw)
        return self.attrs.decode(raw)


class AttrMap:
    """A table of attributes: ``id -> (name, codec)``, in both directions.

    ``unknown_prefix`` names attributes missing from the table
    (``key17`` for prefix ``key``). ``padding`` is the id of the family's
    ``*_ATTR_PAD``: the kernel inserts it to align 64-bit values, it carries
    nothing, so decoding drops it.
    """

    def __init__(self, name, unknown_prefix, entries=None, padding=None):
        self.name = name
        self.unknown_prefix = unknown_prefix
        self.padding = padding
        self._layouts = {}  # payload length -> compiled Layout.decode
        self._seen_sizes = set()
        self._lists = {}  # payload -> decoded list of immutable values
        self.by_id = {}
        self.by_name = {}
        self._nested_ids = set()
        self._fixed = {}  # name -> (header, encode, padding) of fixed-length codecs
        for kind, attr_name, codec in entries or ():
            self.define(kind, attr_name, codec)

    def define(self, kind, name, codec):
        """Add one attribute; used directly for self-referencing maps."""
        self.by_id[kind] = (name, codec)
        self.by_name[name] = (kind, codec)
        if isinstance(codec, Nested):
            self._nested_ids.add(kind)
        if codec.size is not None:
            # Fixed length: the attribute header and padding are constants.
            length = 4 + codec.size
            self._fixed[name] = (
                NLA_HDR.pack(length, kind),
                codec.encode,
                b"\0" * (((length + 3) & ~3) - length),
            )

    def names(self):
        return [name for name, _codec in self.by_id.values()]

    def lookup(self, name):
        """``(id, codec)`` for a name, including ``<prefix><id>`` unknowns."""
        entry = self.by_name.get(name)
        if entry is not None:
            return entry
        prefix = self.unknown_prefix
        if name.startswith(prefix) and name[len(prefix) :].isdigit():
            return int(name[len(prefix) :]), None
        raise CodecError("%s has no attribute %r" % (self.name, name))

    def encode_one(self, name, value):
        fixed = self._fixed.get(name)
        if fixed is not None and value.__class__ is not Unknown:
            header, encode, padding = fixed
            try:
                return header + encode(value) + padding
            except CodecError as exc:
                raise CodecError("%s: %s" % (name, exc))
        kind, codec = self.lookup(name)
        if isinstance(value, Unknown):
            return pack_attr(value.kind, value.raw)
        if codec is None:
            raise CodecError("%s attribute %s needs raw bytes" % (self.name, name))
        if kind in self._nested_ids:
            kind |= NLA_F_NESTED
        try:
            return pack_attr(kind, codec.encode(value))
        except CodecError as exc:
            raise CodecError("%s: %s" % (name, exc))

    def encode(self, items):
        return b"".join(self.encode_one(name, value) for name, value in items)

    def without_padding(self, raw):
        """``raw`` with the padding attributes dropped, here and in nested
        attributes, their lengths rewritten: the same bytes for the same
        attributes, wherever the kernel wrote them (it pads a 64-bit value
        only when its address is not aligned)."""
        out = []
        offset, end = 0, len(raw)
        while offset + 4 <= end:
            length, kind = NLA_HDR.unpack_from(raw, offset)
            if length < 4 or offset + length > end:
                raise CodecError("truncated netlink attribute at offset %d" % offset)
            following = offset + nla_pad(length)
            entry = self.by_id.get(kind & NLA_TYPE_MASK)
            if kind & NLA_TYPE_MASK == self.padding:
                pass
            elif entry is not None and isinstance(entry[1], Nested):
                payload = entry[1].attrs.without_padding(raw[offset + 4 : offset + length])
                out.append(NLA_HDR.pack(4 + len(payload), kind) + payload)
                out.append(b"\0" * (nla_pad(4 + len(payload)) - 4 - len(payload)))
            else:
                out.append(raw[offset : offset + length])
                out.append(b"\0" * (following - offset - length))
            offset = following
        return b"".join(out)

    def _decode_one(self, kind, payload):
        entry = self.by_id.get(kind)
        if entry is None:
            return "%s%d" % (self.unknown_prefix, kind), Unknown(kind, payload)
        name, codec = entry
        try:
            return name, codec.decode(payload)
        except CodecError as exc:
            raise CodecError("%s: %s" % (name, exc))

    def decode(self, raw):
        """Attributes as a ``dict``; a repeated attribute keeps its last value."""
        layout = self._layouts.get(len(raw))
        if layout is not None:
            out = layout(raw)
            if out is not None:
                return out
        out = {}
        # (name, codec, offset, length) while every attribute is known
        spans: list[tuple[str, Codec, int, int]] | None = []
        by_id = self.by_id
        unpack = NLA_HDR.unpack_from
        offset, end = 0, len(raw)
        while offset + 4 <= end:
            length, kind = unpack(raw, offset)
            if length < 4 or offset + length > end:
                raise CodecError("truncated netlink attribute at offset %d" % offset)
            entry = by_id.get(kind & NLA_TYPE_MASK)
            if entry is None:
                spans = None
                if kind & NLA_TYPE_MASK != self.padding:
                    name, value = self._decode_one(
                        kind & NLA_TYPE_MASK, raw[offset + 4 : offset + length]
                    )
                    out[name] = value
            else:
                try:
                    out[entry[0]] = entry[1].decode(raw[offset + 4 : offset + length])
                except CodecError as exc:
                    raise CodecError("%s: %s" % (entry[0], exc))
                if spans is not None:
                    spans.append((entry[0], entry[1], offset, length - 4))
            offset += (length + 3) & ~3
        if spans and offset == end:
            self._learn(raw, spans)
        return out

    def _learn(self, raw, spans):
        """Compile the layout of a payload size seen twice (likely a dump's)."""
        size = len(raw)
        if size not in self._seen_sizes:
            if len(self._seen_sizes) < MAX_LAYOUTS:
                self._seen_sizes.add(size)
        elif len(self._layouts) < MAX_LAYOUTS:
            self._layouts[size] = Layout(raw, spans).decode

    def decode_list(self, raw):
        """Attributes as an ordered list of ``(name, value)``."""
        # Action lists repeat across a dump; those of plain values are shared
        # as tuples (immutable), each caller getting its own list.
        cached = self._lists.get(raw)
        if cached is not None:
            return list(cached)
        decode_one = self._decode_one
        items = [
            decode_one(kind, payload) for kind, payload in iter_attrs(raw) if kind != self.padding
        ]
        if len(self._lists) < MAX_CACHED and all(
            value.__class__ in IMMUTABLE for _name, value in items
        ):
            self._lists[bytes(raw)] = tuple(items)
        return items
