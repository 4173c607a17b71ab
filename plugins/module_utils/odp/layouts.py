# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compiled decoders for repeated attribute layouts: the hot path of dumps.

The flows of one dump share their key layout: the same attributes, of the same
lengths, in the same order (a megaflow table has few masks). Once a layout has
been seen, :class:`Layout` decodes the next payload with that layout in one
header check and two ``struct.unpack_from`` calls (native and big-endian
fields), building the same values as the general decoder in ``attrs.py``.
Anything it cannot flatten (nested attributes, strings, odd lengths) is
decoded by its codec, so the result is always exactly the general one.
"""

import struct

# Fixed-length big-endian numbers split into struct items, then recombined.
_SPLIT = {
    2: ("H", "{0}"),
    4: ("I", "{0}"),
    6: ("HI", "({0} << 32 | {1})"),
    8: ("Q", "{0}"),
    16: ("QQ", "({0} << 64 | {1})"),
}


class _Fields:
    """Collects the struct items of one byte order and their positions."""

    def __init__(self, byteorder):
        self.byteorder = byteorder
        self.format = ""
        self.position = 0
        self.count = 0

    def add(self, offset, items):
        """Items read at ``offset``; returns their indexes in the unpacked tuple."""
        if offset > self.position:
            self.format += "%dx" % (offset - self.position)
        self.format += items
        self.position = offset + struct.calcsize("=" + items)
        first = self.count
        self.count += len(items)
        return list(range(first, self.count))

    def compile(self):
        return struct.Struct(self.byteorder + self.format) if self.count else None


class Layout:
    """A decoder for payloads of one size whose attribute headers equal those
    it was built from: ``decode(raw)`` returns the attributes, or None for a
    payload of another layout."""

    __slots__ = ("decode",)

    def __init__(self, raw, spans):
        """``spans``: ``(name, codec, header offset, payload length)`` per attribute."""
        headers = _Fields("=")
        native, big = _Fields("="), _Fields(">")
        namespace = {}
        entries = []
        for index, (name, codec, offset, length) in enumerate(spans):
            headers.add(offset, "I")
            value = _flat_value(codec, offset + 4, length, native, big)
            if value is None:
                # Not flattened: its own codec decodes it, as the general path does.
                namespace["c%d" % index] = codec.decode
                value = "c%d(raw[%d:%d])" % (index, offset + 4, offset + 4 + length)
            entries.append("%r: %s" % (name, value))
        compiled_headers = headers.compile()
        namespace["unpack_headers"] = compiled_headers.unpack_from
        namespace["EXPECTED"] = compiled_headers.unpack_from(raw)
        lines = [
            "def decode(raw):",
            "    if unpack_headers(raw) != EXPECTED:",
            "        return None",
        ]
        for group, var in ((native, "n"), (big, "b")):
            compiled = group.compile()
            if compiled is not None:
                namespace["unpack_" + var] = compiled.unpack_from
                lines.append("    %s = unpack_%s(raw)" % (var, var))
        lines.append("    return {%s}" % ", ".join(entries))
        exec("\n".join(lines), namespace)  # pylint: disable=exec-used
        self.decode = namespace["decode"]


def _flat_value(codec, offset, length, native, big):
    """Source text of a flattened value, or None when the codec must decode it."""
    kind = getattr(codec, "kind", None)
    if codec.size != length or kind in ("nested", "flag", "string", "bytes", "ip", "masked"):
        return None
    fmt = getattr(codec, "fmt", None)
    if fmt is not None:  # Int
        group = native if fmt[0] == "=" else big
        return "%s[%d]" % ("n" if group is native else "b", group.add(offset, fmt[1:])[0])
    if hasattr(codec, "names"):  # Struct
        return _flat_struct(codec, offset, native, big)
    return _split_big(offset, length, big)  # Addr


def _flat_struct(codec, offset, native, big):
    group, var = (native, "n") if codec.byteorder == "=" else (big, "b")
    parts = []
    position = offset
    for name, item, _kind in codec.layout:
        width = struct.calcsize("=" + item)
        if name:
            if item.endswith("s"):
                value = _split_big(position, width, big)
                if value is None:
                    return None
            else:
                value = "%s[%d]" % (var, group.add(position, item)[0])
            parts.append("%r: %s" % (name, value))
        position += width
    return "{%s}" % ", ".join(parts)


def _split_big(offset, length, big):
    split = _SPLIT.get(length)
    if split is None:
        return None
    items, combine = split
    indexes = big.add(offset, items)
    return combine.format(*("b[%d]" % i for i in indexes))


def struct_encoder(codec):
    """A compiled ``encode(value)`` for a Struct codec, or None.

    It packs every field in one ``struct.pack`` call; values that do not fit
    make it raise (``struct.error``, ``TypeError``), and the codec's general
    encoder then reports which field is wrong.
    """
    if codec.byteorder != ">" and any(item.endswith("s") for _n, item, _k in codec.layout):
        return None  # split big-endian bytes cannot share a native-order struct
    items, args = "", []
    for name, item, _kind in codec.layout:
        if not name:
            items += item
        elif item.endswith("s"):
            split = _SPLIT.get(int(item[:-1]))
            if split is None:
                return None
            items += split[0]
            args += _split_args(name, split[0])
        else:
            items += item
            args.append("g(%r, 0)" % name)
    namespace = {
        "pack": struct.Struct(codec.byteorder + items).pack,
        "NAMES": frozenset(codec.names),
        "PAD": b"\0" * (codec.size - struct.calcsize(codec.byteorder + items)),
    }
    source = (
        "def encode(value):\n"
        "    if not value.keys() <= NAMES:\n"
        "        raise TypeError('unknown field')\n"
        "    g = value.get\n"
        "    return pack(%s) + PAD\n" % ", ".join(args)
    )
    exec(source, namespace)  # pylint: disable=exec-used
    return namespace["encode"]


def _split_args(name, items):
    """Arguments packing one big-endian number into ``items`` (H, I, Q words)."""
    if len(items) == 1:
        return ["g(%r, 0)" % name]
    low_bits = struct.calcsize("=" + items[1])
    return [
        "g(%r, 0) >> %d" % (name, low_bits * 8),
        "g(%r, 0) & 0x%x" % (name, (1 << low_bits * 8) - 1),
    ]
