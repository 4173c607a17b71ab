# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Flow keys: ``in_port(1),eth(src=..,dst=../ff:ff:ff:00:00:00),...``.

:data:`KEY_SYNTAX` holds one :class:`~.attr.Syntax` per key attribute. Most
come from the attribute's codec in keys.py; :data:`_SPELLED` lists those
ovs-dpctl spells its own way. Adding a key attribute to keys.py is enough for
the text to read and print it; one entry here changes how.

The Ansible ``match`` dict goes through the same syntaxes: each attribute is
the text inside its parentheses, or a dict of its fields.
"""

from __future__ import annotations

from ..attrs import Struct, Unknown
from ..errors import ValidationError
from ..keys import CT_STATE_FLAGS, FLOW_KEY
from .attr import Fields, FlagSet, Masked, Syntax, derived, format_raw, parse_raw, raw_number
from .context import Ctx
from .lex import call, did_you_mean, items_of, options, split
from .nsh import Nsh
from .scalar import format_masked, full, pack, unpack, value_formatter
from .tunnel import Tunnel

VLAN_FIELDS = (("vid", 0, 12, "int"), ("pcp", 13, 3, "int"), ("cfi", 12, 1, "int"))
MPLS_FIELDS = (
    ("label", 12, 20, "int"),
    ("tc", 9, 3, "int"),
    ("ttl", 0, 8, "int"),
    ("bos", 8, 1, "int"),
)
TCP_FLAGS = (
    (0x001, "fin"),
    (0x002, "syn"),
    (0x004, "rst"),
    (0x008, "psh"),
    (0x010, "ack"),
    (0x020, "urg"),
    (0x040, "ece"),
    (0x080, "cwr"),
    (0x100, "ns"),
)
TCP_FLAGS_EXACT = 0x0FFF  # ovs-dpctl treats the 12 flag bits as exact
_PREFIX = FLOW_KEY.unknown_prefix  # key<id>(hex): an attribute by number


class InPort(Masked):
    """The kernel matches in_port exactly or not at all, and dumps "not at
    all" as in_port(0) under the mask 0xffff0000 (__ovs_nla_put_key): a mask
    whose low 16 bits are zero means no in_port."""

    def __init__(self):
        Masked.__init__(self, "port", 32)

    def parse(self, args, field, ctx):
        value, mask = Masked.parse(self, args, field, ctx)
        if mask & 0xFFFF == 0xFFFF:
            return value, full(32)
        if not mask & 0xFFFF:
            return None
        raise ValidationError(
            field,
            args,
            "in_port is matched exactly or not at all: no mask, or 0xffff0000 for any port",
        )

    def format(self, value, mask, ctx):
        if mask is None or self.is_exact(mask):
            return Masked.format(self, value, None, ctx)
        return format_masked("int", 32, value, mask)  # a number, as ovs-dpctl prints it

    def formatter(self, mask, ctx):
        if mask is None or self.is_exact(mask):
            return value_formatter("port", 32, None, ctx)
        return value_formatter("int", 32, mask)

    @staticmethod
    def is_exact(mask) -> bool:
        return mask & 0xFFFF == 0xFFFF

    def is_wildcard(self, mask) -> bool:
        return not mask & 0xFFFF


class Vlan(Syntax):
    """The TCI as ``vid=..,pcp=..``; without ``cfi=`` a real VLAN header:
    CFI set and matched. ovs-dpctl only mentions an unset CFI."""

    def parse(self, args, field, ctx):
        return self.parse_items(items_of(args, field), field)

    @staticmethod
    def parse_items(items, field):
        return pack(VLAN_FIELDS, items, field, defaults={"cfi": "1"})

    def format(self, value, mask, ctx, always=False):
        def show(name, sub_value, sub_mask):
            if name == "cfi":
                return (sub_value, sub_mask) != (1, 1)
            return always or ctx.verbose or sub_value or sub_mask

        return ",".join(unpack(VLAN_FIELDS, value, mask, show))


class Mpls(Syntax):
    """The label stack entries as ``label=..,tc=..,ttl=..,bos=..``, each
    entry's fields after the one above it, as ovs-dpctl writes them: a field
    named again starts the next entry (kernels since 5.7 match up to three)."""

    def parse(self, args, field, ctx):
        groups: list[list[tuple[str, str]]] = [[]]
        for name, text in items_of(args, field):
            if any(name == seen for seen, _text in groups[-1]):
                groups.append([])
            groups[-1].append((name, text))
        names = FLOW_KEY.by_name["mpls"][1].names
        if len(groups) > len(names):
            raise ValidationError(
                field, args, "the kernel matches at most %d label stack entries" % len(names)
            )
        value, mask = {}, {}
        for name, items in zip(names, groups):
            value[name], mask[name] = pack(MPLS_FIELDS, items, field)
        return value, mask

    def format(self, value, mask, ctx):
        names = FLOW_KEY.by_name["mpls"][1].present(value, mask)
        return ",".join(
            ",".join(
                unpack(MPLS_FIELDS, value.get(name, 0), None if mask is None else mask.get(name, 0))
            )
            for name in names
        )

    def zero_mask(self, value):
        return dict.fromkeys(FLOW_KEY.by_name["mpls"][1].present(value), 0)


class Encap(Syntax):
    """The key of the frame inside a VLAN header."""

    always_printed = True

    def parse(self, args, field, ctx):
        with ctx.nested("encap", field, args):
            if isinstance(args, dict):
                return parse_match_dict(args, field + ".", ctx)
            return parse_key_items(key_text_items(args, field + "."), field + ".", ctx)

    def format(self, value, mask, ctx):
        return format_key_items(value, mask, ctx)

    def zero_mask(self, value):
        return {}


class Raw(Syntax):
    """``key<id>(hex[/hex])``: an attribute by number, byte for byte."""

    always_printed = True  # ovs-dpctl prints what it does not know, even wildcarded

    def __init__(self, number, codec=None):
        self.number = number
        self.codec = codec

    def parse(self, args, field, ctx):
        return parse_raw(FLOW_KEY, self.number, args, field)

    def format(self, value, mask, ctx):
        return format_raw(value, mask, None if isinstance(value, Unknown) else self.codec)

    def zero_mask(self, value):
        if isinstance(value, Unknown):
            return Unknown(value.kind, b"\0" * len(value.raw))
        return dict.fromkeys(value, 0)


class PrintedRaw(Raw):
    """An attribute ovs-dpctl 3.1 does not know: read by name with its fields
    (or as ``key<id>``), printed as ovs-dpctl prints it, so that dumps compare."""

    def __init__(self, name):
        number, codec = FLOW_KEY.by_name[name]
        Raw.__init__(self, number, codec)
        self.fields = Fields(codec)

    def parse(self, args, field, ctx):
        return self.fields.parse(args, field, ctx)


VLAN = Vlan()
# Attributes ovs-dpctl spells otherwise than their codec says.
_SPELLED = {
    "encap": Encap(),
    "in_port": InPort(),
    "eth": Fields(FLOW_KEY.by_name["eth"][1], always_printed=True),  # eth() marks a frame
    "vlan": VLAN,
    "eth_type": Masked("ethertype", 16),
    "tunnel": Tunnel(),
    "tcp_flags": FlagSet(TCP_FLAGS, 16, TCP_FLAGS_EXACT),
    "mpls": Mpls(),
    "ct_state": FlagSet(CT_STATE_FLAGS, 32, full(32), verbose_kind="hex"),
    "ct_tuple4": Fields(
        FLOW_KEY.by_name["ct_tuple4"][1], order=("src", "dst", "proto", "tp_src", "tp_dst")
    ),
    "ct_tuple6": Fields(
        FLOW_KEY.by_name["ct_tuple6"][1],
        order=("src", "dst", "proto", "tp_src", "tp_dst"),
        aliases={"tp_src": "src_port", "tp_dst": "dst_port"},
    ),
    "nsh": Nsh(),
    "ipv6_exthdrs": PrintedRaw("ipv6_exthdrs"),
}
KEY_SYNTAX = {
    name: _SPELLED.get(name) or derived(name, codec) for name, codec in FLOW_KEY.by_id.values()
}


def key_syntax(name: str) -> Syntax | None:
    """The syntax of a key attribute by name or as ``key<id>``, or None."""
    syntax = KEY_SYNTAX.get(name)
    if syntax is None:
        number = raw_number(name, _PREFIX)
        if number is not None:
            entry = FLOW_KEY.by_id.get(number)
            syntax = Raw(number, entry[1] if entry else None)
    return syntax


def printed_name(name: str, syntax: Syntax) -> str:
    return "%s%d" % (_PREFIX, syntax.number) if isinstance(syntax, Raw) else name


# --------------------------------------------------------------------------
# A key: its attributes in order.


def key_text_items(text, path):
    """``name(args)`` items of a key text; ``path`` prefixes the field names."""
    where = path.rstrip(".") or "key"
    items = []
    for item in split(text, where):
        name, args = call(item, where)
        if args is None:
            if key_syntax(name) is None:
                raise ValidationError(
                    path + name,
                    item,
                    "unknown key attribute" + did_you_mean(name, FLOW_KEY.by_name),
                )
            raise ValidationError(path + name, item, "expected %s(...)" % name)
        items.append((name, args))
    return items


def parse_key_items(items, path, ctx):
    """``(name, args)`` items into ``(key, mask)``."""
    key, mask = {}, {}
    seen = set()
    for written, args in items:
        field = path + written
        syntax = key_syntax(written)
        if syntax is None:
            raise ValidationError(
                field, args, "unknown key attribute" + did_you_mean(written, FLOW_KEY.by_name)
            )
        name = written
        if written not in KEY_SYNTAX and isinstance(syntax, Raw) and syntax.codec is not None:
            name = FLOW_KEY.by_id[syntax.number][0]  # key<id> of an attribute we know
        if name in seen:
            raise ValidationError(field, args, "attribute given twice")
        seen.add(name)
        parsed = syntax.parse(args, field, ctx)
        if parsed is not None:
            key[name], mask[name] = parsed
    return key, mask


def parse_match_dict(match, path, ctx):
    """The ``match`` dict (values as text, dicts of fields) into ``(key, mask)``."""
    items = []
    for name, value in match.items():
        if isinstance(value, (list, tuple)) and name != "tunnel":
            raise ValidationError(path + name, value, "expected a value or a dict")
        items.append((name, value))
    return parse_key_items(items, path, ctx)


def _printed_attrs(key, mask, ctx):
    """``(name, syntax, value, mask)`` of the attributes a key prints:
    non-verbose output leaves out the fully wildcarded ones."""
    for name, value in key.items():
        syntax = key_syntax(name)
        if syntax is None:  # only a hand-made key has such a name
            raise ValidationError(name, value, "unknown key attribute")
        attr_mask = None
        if mask is not None:
            attr_mask = mask.get(name)
            if attr_mask is None:
                attr_mask = syntax.zero_mask(value)
            if not ctx.verbose and not syntax.always_printed and syntax.is_wildcard(attr_mask):
                continue
        yield name, syntax, value, attr_mask


def format_key_items(key, mask, ctx):
    return ",".join(
        attr_text(name, value, attr_mask, ctx, syntax)
        for name, syntax, value, attr_mask in _printed_attrs(key, mask, ctx)
    )


def key_formatter(key, mask, ctx):
    """:func:`format_key_items` under one ``mask`` for keys of ``key``'s
    attributes (the same names, in the same order), as a function of the key
    alone: which attributes print, and how their masks read, is decided once."""
    printed = [
        (name, printed_name(name, syntax) + "(", syntax.formatter(attr_mask, ctx))
        for name, syntax, _value, attr_mask in _printed_attrs(key, mask, ctx)
    ]
    return lambda key: ",".join([head + fmt(key[name]) + ")" for name, head, fmt in printed])


def attr_text(name, value, mask, ctx, syntax=None):
    """``name(...)`` of one key attribute, printed whatever its mask."""
    syntax = syntax or key_syntax(name)
    return "%s(%s)" % (printed_name(name, syntax), syntax.format(value, mask, ctx))


def is_exact(name: str, mask) -> bool:
    """Whether ``mask`` matches every bit of key attribute ``name``."""
    codec = FLOW_KEY.by_name[name][1]
    if isinstance(codec, Struct):
        return all(mask.get(f, 0) == full(codec.widths[f]) for f in codec.present(mask))
    if name == "tcp_flags":
        return mask == TCP_FLAGS_EXACT
    return mask == full(codec.bits)


def is_wildcard(name: str, mask) -> bool:
    """Whether ``mask`` leaves key attribute ``name`` unmatched (as when absent)."""
    syntax = key_syntax(name)
    return syntax is not None and syntax.is_wildcard(mask)


# --------------------------------------------------------------------------
# Public API.


def parse_key(text: str, ports: dict | None = None) -> tuple[dict, dict]:
    """ovs-dpctl key text -> ``(key, mask)``."""
    if not isinstance(text, str):
        raise ValidationError("key", text, "expected text")
    return parse_key_items(key_text_items(text, ""), "", Ctx(ports))


def format_key(
    key: dict, mask: dict | None = None, port_names: dict | None = None, verbose: bool = False
) -> str:
    """``(key, mask)`` -> ovs-dpctl key text (``verbose``: as ``dump-flows -m``)."""
    return format_key_items(key, mask, Ctx(port_names=port_names, verbose=verbose))


def key_from_match(match: dict, ports: dict | None = None) -> tuple[dict, dict]:
    """The Ansible ``match`` dict -> ``(key, mask)``; values as in the text.

    A match describes Ethernet frames unless it says otherwise: see
    :func:`ethernet_by_default`.
    """
    if not isinstance(match, dict):
        raise ValidationError("match", match, "expected a dict")
    return ethernet_by_default(*parse_match_dict(match, "", Ctx(ports)))


def ethernet_by_default(key: dict, mask: dict):
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
    key = dict([("eth", dict(zero)), *list(key.items())])
    mask = dict([("eth", dict(zero)), *list(mask.items())])
    return key, mask


def format_match(key: dict, mask: dict | None = None, port_names: dict | None = None) -> dict:
    """``(key, mask)`` -> a ``match`` dict that :func:`key_from_match` reads back:
    each attribute as the text inside its parentheses, or a dict of fields."""
    ctx = Ctx(port_names=port_names)
    match = {}
    for name, syntax, value, attr_mask in _printed_attrs(key, mask, ctx):
        printed = printed_name(name, syntax)
        if isinstance(syntax, Encap):
            match[printed] = format_match(value, attr_mask, port_names)
        elif isinstance(value, dict) and not isinstance(syntax, Raw):
            match[printed] = dict(options(syntax.format(value, attr_mask, ctx), name))
        else:
            match[printed] = syntax.format(value, attr_mask, ctx)
    return match
