# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Flow actions: ``set(tunnel(...)),ct(commit,nat(src=..)),2``.

:data:`ACTION_SYNTAX` holds one syntax per action: ``parse(name, args,
field, ctx) -> (name, value)`` (``args`` None when the action is written
bare) and ``format(name, value, ctx) -> text``. Most come from the action's
codec in actions.py (a flag prints bare, a number as ``name(N)``, a nested
list as ``name(actions)``); :data:`_SPELLED` lists the others.

Conventions (where ovs-dpctl is ambiguous or lossy):

* ``drop`` as the whole action list is the empty list, which every kernel
  takes as drop (ovs-dpctl 3.x sends ``OVS_ACTION_ATTR_DROP``, which kernels
  before 6.4 reject). The explicit drop action prints as ``drop(N)``.
* ``set(attr(...))`` parses to ``set`` when every field of the attribute is
  given exactly (and always for ``tunnel``), else to ``set_masked``, as
  ovs-dpctl does. ``set`` prints every field; ``set_masked`` prints the
  masked fields only, so a ``set_masked`` whose mask is all ones reads back
  as the equivalent ``set``.
* A bare word that is no action is an output port (a number or a vport name).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..actions import ACTIONS, HASH_ALGS
from ..attrs import Flag, Nested, Unknown
from ..errors import ValidationError
from ..keys import FLOW_KEY
from .attr import Fields, derived, parse_raw, raw_number
from .context import Ctx
from .key import MPLS_FIELDS, VLAN, attr_text, is_exact, key_text_items, parse_key_items
from .lex import call, did_you_mean, items_of, split
from .nsh import Nsh
from .options import FLAG, NAME, NAT, PERCENT, CtMasked, HexData, Number, Option, Options, exclusive
from .scalar import format_value, hex_bytes, pack, parse_number, parse_value, unpack

_PREFIX = ACTIONS.unknown_prefix  # action<id>(hex): an action by number


class _Action:
    bare = False  # may be written without parentheses

    def parse(self, name, args, field, ctx):
        raise NotImplementedError

    def format(self, name, value, ctx):
        raise NotImplementedError


class _Output(_Action):
    """Printed as the bare port."""

    def parse(self, name, args, field, ctx):
        return "output", parse_value("port", 32, args, field, ctx)

    def format(self, name, value, ctx):
        return format_value("port", value, ctx)


class _Flag(_Action):
    bare = True

    def parse(self, name, args, field, ctx):
        if args is not None:
            raise ValidationError(field, args, "%s takes no arguments" % name)
        return name, True

    def format(self, name, value, ctx):
        return name


class _Number(_Action):
    def __init__(self, kind, bits):
        self.kind = kind
        self.bits = bits

    def parse(self, name, args, field, ctx):
        try:
            return name, parse_value(self.kind, self.bits, args, field, ctx)
        except ValidationError as exc:  # say which action: the field is actions[N]
            raise ValidationError(field, exc.value, "%s: %s" % (name, exc.reason))

    def format(self, name, value, ctx):
        return "%s(%s)" % (name, format_value(self.kind, value, ctx, self.bits))


class _Drop(_Number):
    """``drop(N)``: the explicit drop action with its reason; a bare ``drop``
    among other actions is ``drop(0)``."""

    bare = True

    def __init__(self):
        _Number.__init__(self, "int", 32)

    def parse(self, name, args, field, ctx):
        return (name, 0) if args is None else _Number.parse(self, name, args, field, ctx)

    def format(self, name, value, ctx):
        return "drop(%d)" % value


class _Fields(_Action):
    def __init__(self, fields):
        self.fields = fields

    def parse(self, name, args, field, ctx):
        return name, self.fields.parse(args, field, ctx, maskable=False)[0]

    def format(self, name, value, ctx):
        return "%s(%s)" % (name, self.fields.format(value, None, ctx))


class _List(_Action):
    """A nested action list: ``clone(...)``."""

    def parse(self, name, args, field, ctx):
        return name, ACTION_LIST.parse(args, field, ctx)

    def format(self, name, value, ctx):
        return "%s(%s)" % (name, format_action_list(value, ctx))


class _ActionList:
    """A nested action list as an option value (``sample(..,actions(..))``):
    text or a structured list, at most as deep as the kernel takes."""

    def parse(self, value, field, ctx):
        with ctx.nested("actions", field, value):
            if isinstance(value, (list, tuple)):
                return actions_from_items(value, field, ctx)
            if not isinstance(value, str):
                raise ValidationError(field, value, "expected an action list")
            return parse_action_text(value, field, ctx)

    def format(self, value, ctx):
        return format_action_list(value, ctx)


class _Set(_Action):
    def parse(self, name, args, field, ctx):
        items = list(args.items()) if isinstance(args, dict) else key_text_items(args, field + ".")
        if len(items) != 1:
            raise ValidationError(field, args, "set takes exactly one key attribute")
        key, mask = parse_key_items(items, field + ".", ctx)
        if not key:
            raise ValidationError(field, args, "set needs the value to set")
        attr, value = next(iter(key.items()))  # the one item gives one attribute
        entry = FLOW_KEY.by_name.get(attr)
        if entry is None or isinstance(entry[1], Nested) or is_exact(attr, mask[attr]):
            return "set", key
        return "set_masked", {attr: (value, mask[attr])}

    def format(self, name, value, ctx):
        ((attr, attr_value),) = value.items()
        return "set(%s)" % attr_text(attr, attr_value, None, ctx)


class _SetMasked(_Action):
    """Written as ``set(attr(value/mask))``."""

    def parse(self, name, args, field, ctx):
        raise ValidationError(field, args, "write set(attr(value/mask)) for set_masked")

    def format(self, name, value, ctx):
        ((attr, (attr_value, mask)),) = value.items()
        return "set(%s)" % attr_text(attr, attr_value, mask, ctx)


class _PushVlan(_Action):
    def parse(self, name, args, field, ctx):
        items = items_of(args, field)
        tpid = [text for option, text in items if option == "tpid"]
        tci, _mask = VLAN.parse_items([(o, t) for o, t in items if o != "tpid"], field)
        return name, {
            "tpid": parse_number(tpid[0], field + ".tpid", 16) if tpid else 0x8100,
            "tci": tci,
        }

    def format(self, name, value, ctx):
        tpid = "tpid=0x%x," % value["tpid"] if value["tpid"] != 0x8100 else ""
        return "push_vlan(%s%s)" % (tpid, VLAN.format(value["tci"], None, ctx, always=True))


class _PushMpls(_Action):
    """``push_mpls`` and ``add_mpls`` (which adds ``tun_flags``)."""

    def parse(self, name, args, field, ctx):
        items = items_of(args, field)
        extra = {o: t for o, t in items if o in ("eth_type", "tun_flags")}
        if "eth_type" not in extra:
            raise ValidationError(field, args, "eth_type= is required")
        lse, _mask = pack(
            MPLS_FIELDS, [(o, t) for o, t in items if o not in extra], field, maskable=False
        )
        value = {"lse": lse, "eth_type": parse_number(extra["eth_type"], field + ".eth_type", 16)}
        if name == "add_mpls":
            value["tun_flags"] = parse_number(extra.get("tun_flags", 0), field + ".tun_flags", 16)
        elif "tun_flags" in extra:
            raise ValidationError(field + ".tun_flags", extra["tun_flags"], "only add_mpls has it")
        return name, value

    def format(self, name, value, ctx):
        parts = unpack(MPLS_FIELDS, value["lse"], None)
        parts.append("eth_type=0x%x" % value["eth_type"])
        if value.get("tun_flags"):
            parts.append("tun_flags=0x%x" % value["tun_flags"])
        return "%s(%s)" % (name, ",".join(parts))


class _PopMpls(_Action):
    def parse(self, name, args, field, ctx):
        items = items_of(args, field)
        if [option for option, _t in items] != ["eth_type"]:
            raise ValidationError(field, args, "expected pop_mpls(eth_type=0x800)")
        return name, parse_number(items[0][1], field + ".eth_type", 16)

    def format(self, name, value, ctx):
        return "pop_mpls(eth_type=0x%x)" % value


class _Hash(_Action):
    """``hash(l4(basis))``, ``hash(sym_l4(basis))`` or ``hash(alg<N>(basis))``."""

    _NUMBERS = {alg: number for number, alg in HASH_ALGS.items()}

    def parse(self, name, args, field, ctx):
        alg: str | None
        if isinstance(args, dict):
            alg, basis = str(args.get("alg", "l4")), args.get("basis", 0)
        elif isinstance(args, str):
            alg, basis = call(args, field)
        else:
            alg = basis = None
        number = self._NUMBERS.get(alg) if alg is not None else None
        if number is None and alg is not None and raw_number(alg, "alg") is not None:
            number = raw_number(alg, "alg")
        if number is None or basis is None:
            raise ValidationError(field, args, "expected hash(l4(basis)) or hash(sym_l4(basis))")
        return name, {"alg": number, "basis": parse_number(basis, field + ".basis", 32)}

    def format(self, name, value, ctx):
        alg = HASH_ALGS.get(value["alg"], "alg%d" % value["alg"])
        return "hash(%s(%d))" % (alg, value["basis"])


class _PushNsh(_Action):
    _NSH = Nsh(maskable=False)

    def parse(self, name, args, field, ctx):
        return name, self._NSH.parse(args, field, ctx)[0]

    def format(self, name, value, ctx):
        return "push_nsh(%s)" % self._NSH.format(value, None, ctx)


class _Raw(_Action):
    """``action<id>(hex)``: an action by number, byte for byte."""

    def __init__(self, number):
        self.number = number

    def parse(self, name, args, field, ctx):
        value, _mask = parse_raw(ACTIONS, self.number, args, field)
        return (name if isinstance(value, Unknown) else ACTIONS.by_id[self.number][0]), value

    def format(self, name, value, ctx):
        return "%s(%s)" % (name, hex_bytes(value.raw))


ACTION_LIST = _ActionList()
_SPELLED = {
    "output": _Output(),
    "userspace": Options(
        [
            Option("pid", "pid", "=", Number(32)),
            Option("userdata", "userdata", "()", HexData()),
            Option("actions", "actions", "flag", FLAG),
            Option("tunnel_out_port", "tunnel_out_port", "=", Number(32, "port")),
        ]
    ),
    "set": _Set(),
    "push_vlan": _PushVlan(),
    "sample": Options(
        [
            Option("sample", "probability", "=", PERCENT),
            Option("actions", "actions", "()", ACTION_LIST),
        ]
    ),
    "hash": _Hash(),
    "push_mpls": _PushMpls(),
    "pop_mpls": _PopMpls(),
    "set_masked": _SetMasked(),
    "ct": Options(
        [
            Option("commit", "commit", "flag", FLAG),
            Option("force_commit", "force_commit", "flag", FLAG),
            Option("zone", "zone", "=", Number(16)),
            Option("mark", "mark", "=", CtMasked(32, always_mask=True)),
            Option("label", "label", "=", CtMasked(128, always_mask=False)),
            Option("helper", "helper", "=", NAME),
            Option("timeout", "timeout", "=", NAME),
            Option("eventmask", "eventmask", "=", Number(32, "hex")),
            Option("nat", "nat", "self", NAT),
        ],
        check=exclusive("commit", "force_commit"),
    ),
    "push_nsh": _PushNsh(),
    "check_pkt_len": Options(
        [
            Option("size", "size", "=", Number(16)),
            Option("gt", "gt", "()", ACTION_LIST),
            Option("le", "le", "()", ACTION_LIST),
        ]
    ),
    "add_mpls": _PushMpls(),
    "dec_ttl": Options([Option("le_1", "le_1", "()", ACTION_LIST)]),
    "drop": _Drop(),
    "psample": Options(
        [
            Option("group", "group", "=", Number(32)),
            Option("cookie", "cookie", "=", HexData("0x")),
        ]
    ),
}


def _derived(name, codec):
    if isinstance(codec, Flag):
        return _Flag()
    if isinstance(codec, Nested) and codec.ordered:
        return _List()
    syntax = derived(name, codec)
    if isinstance(syntax, Fields):
        return _Fields(syntax)
    return _Number(syntax.kind, syntax.bits)


# Values of several classes (_Action, Options) that share only format/parse.
ACTION_SYNTAX: dict[str, Any] = {
    name: _SPELLED.get(name) or _derived(name, codec) for name, codec in ACTIONS.by_id.values()
}


def action_syntax(name: str):
    """The syntax of an action by name or as ``action<id>``, or None."""
    syntax = ACTION_SYNTAX.get(name)
    if syntax is None and raw_number(name, _PREFIX) is not None:
        syntax = _Raw(raw_number(name, _PREFIX))
    return syntax


# --------------------------------------------------------------------------
# Action lists.


def parse_action(name, args, field, ctx):
    """One action item -> ``(name, value)``."""
    syntax = action_syntax(name)
    if args is None:
        if syntax is not None and syntax.bare:
            return syntax.parse(name, None, field, ctx)
        if syntax is not None and not isinstance(syntax, _Output) and name not in (ctx.ports or ()):
            raise ValidationError(field, name, "%s needs arguments: %s(...)" % (name, name))
        return "output", parse_value("port", 32, name, field, ctx)
    if syntax is None:
        raise ValidationError(field, name, "unknown action" + did_you_mean(name, ACTIONS.by_name))
    return syntax.parse(name, args, field, ctx)


def parse_action_text(text, field, ctx):
    items = split(text, field)
    if items == ["drop"]:
        return []  # see the module docstring
    actions = []
    for index, item in enumerate(items):
        sub = "%s[%d]" % (field, index)
        name, args = call(item, sub)
        actions.append(parse_action(name, args, sub, ctx))
    return actions


def actions_from_items(items, field, ctx):
    """The structured list: action texts, port numbers, one-key dicts."""
    if list(items) == ["drop"]:
        return []
    actions: list[tuple[str, object]] = []
    for index, item in enumerate(items):
        sub = "%s[%d]" % (field, index)
        if isinstance(item, str):
            actions.extend(parse_action_text(item, sub, ctx) if item != "drop" else [("drop", 0)])
        elif isinstance(item, int) and not isinstance(item, bool):
            actions.append(("output", parse_value("port", 32, item, sub, ctx)))
        elif isinstance(item, dict) and len(item) == 1:
            ((name, value),) = item.items()
            if value is True or value is None:
                value = None
            elif isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            actions.append(parse_action(name, value, sub, ctx))
        else:
            raise ValidationError(sub, item, "expected an action text or a one-key dict")
    return actions


def format_action(name, value, ctx):
    if isinstance(value, Unknown):
        return "%s(%s)" % (name, hex_bytes(value.raw))
    return ACTION_SYNTAX[name].format(name, value, ctx)


def format_action_list(actions, ctx):
    if not actions:
        return "drop"
    return ",".join(format_action(name, value, ctx) for name, value in actions)


# --------------------------------------------------------------------------
# Public API.


def parse_actions(text: str, ports: dict | None = None) -> list:
    """ovs-dpctl action text -> list of ``(name, value)``."""
    if not isinstance(text, str):
        raise ValidationError("actions", text, "expected text")
    return parse_action_text(text, "actions", Ctx(ports))


def format_actions(actions: Iterable, port_names: dict | None = None) -> str:
    """List of ``(name, value)`` -> ovs-dpctl action text (``drop`` when empty)."""
    return format_action_list(list(actions), Ctx(port_names=port_names))


def actions_from_list(items: Iterable, ports: dict | None = None) -> list:
    """The Ansible ``actions`` list -> list of ``(name, value)``. Items are
    action texts (``'pop_vlan'``, ``'ct(commit)'``) or one-key dicts
    (``{'output': 'p2'}``); an empty list, or ``['drop']``, is drop."""
    if not isinstance(items, (list, tuple)):
        raise ValidationError("actions", items, "expected a list")
    return actions_from_items(items, "actions", Ctx(ports))
