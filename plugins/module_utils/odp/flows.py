# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The flow model: a datapath flow, and the kernel's rules for keys and masks.

Three transformations, all pure:

* :func:`complete_key` adds what the kernel insists on before it accepts a key
  (``eth()`` when there is no EtherType, ``ipv4()`` after ``eth_type(0x0800)``,
  a tunnel ``dst`` and ``ttl``...), always fully wildcarded, so a partial key
  still matches what the user meant;
* :func:`normalize` gives the one form the kernel stores: values masked, fields
  the kernel forces to exact made exact, fully wildcarded attributes dropped,
  so a key written by hand and the same flow read back from a dump compare
  equal;
* :func:`flowcheck.validate_flow` refuses up front what the kernel would refuse.

The rules come from the kernel's net/openvswitch/flow_netlink.c
(``ovs_nla_get_match`` and its helpers on the way in, ``__ovs_nla_put_key`` on
the way out) and were checked against Linux 6.1
(tests/unit/plugins/module_utils/odp/data/kernel_flows.json).
"""

import struct
import time
from collections.abc import Iterable
from typing import Optional

from .attrs import (
    NLA_HDR,
    NLA_TYPE_MASK,
    Addr,
    Bytes,
    Flag,
    Int,
    LabelStack,
    Nested,
    Struct,
    Unknown,
)
from .errors import OdpError
from .families import FlowFamily
from .keys import FLOW_KEY, TUNNEL_KEY, TUNNEL_ORDER, VLAN_CFI

# datapath.h DP_MAX_PORTS (USHRT_MAX): in_port must be below it; the kernel
# uses the value itself for "no input port".
DP_MAX_PORTS = 0xFFFF

ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806
ETH_P_RARP = 0x8035
ETH_P_IPV6 = 0x86DD
ETH_P_MPLS = (0x8847, 0x8848)
ETH_P_NSH = 0x894F
ETH_P_VLAN = (0x8100, 0x88A8)

IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, IPPROTO_ICMP, IPPROTO_ICMPV6 = 6, 17, 132, 1, 58
FRAG_LATER = 2
ND_SOLICIT, ND_ADVERT = 135, 136

# The layer 3 attribute the kernel expects after each EtherType (match_validate).
L3_FOR_ETH_TYPE = {
    ETH_P_IP: "ipv4",
    ETH_P_IPV6: "ipv6",
    ETH_P_ARP: "arp",
    ETH_P_RARP: "arp",
    ETH_P_NSH: "nsh",
}
L3_FOR_ETH_TYPE.update((eth_type, "mpls") for eth_type in ETH_P_MPLS)
# The layer 4 attributes it expects after each IP protocol (match_validate).
L4_FOR_PROTO = {
    "ipv4": {
        IPPROTO_TCP: ("tcp", "tcp_flags"),
        IPPROTO_UDP: ("udp",),
        IPPROTO_SCTP: ("sctp",),
        IPPROTO_ICMP: ("icmp",),
    },
    "ipv6": {
        IPPROTO_TCP: ("tcp", "tcp_flags"),
        IPPROTO_UDP: ("udp",),
        IPPROTO_SCTP: ("sctp",),
        IPPROTO_ICMPV6: ("icmpv6",),
    },
}


# Tunnel attributes that are numbers and may be wildcarded field by field; the
# others are flags (and tun_id, which the kernel tracks as the TUNNEL_KEY flag).
TUNNEL_FLAG_LIKE = ("tun_id", "df", "csum", "oam", "ipv4_info_bridge")
TUNNEL_SCALARS = {
    4: ("src", "dst", "tos", "ttl", "tp_src", "tp_dst"),
    6: ("ipv6_src", "ipv6_dst", "tos", "ttl", "tp_src", "tp_dst"),
}
# A stand-in tunnel destination: the kernel refuses a zero one even when its
# mask wildcards it, and the masked key keeps none of it anyway.
TUNNEL_ANY_DST = 0xFFFFFFFF

_ORDER = {name: kind for kind, (name, _codec) in FLOW_KEY.by_id.items()}


# Undecoded parts of a dumped flow (Flow._lazy bits).
_KEY, _MASK, _ACTIONS, _UNWALKED = 1, 2, 4, 8
_FLOW_IDS = {name: kind for kind, (name, _codec) in FlowFamily.attrs.by_id.items()}
_STATS = struct.Struct("=QQ")
# The maps' own decoders, skipping the Nested wrappers (one call less each).
_DECODE_KEY = FlowFamily.attrs.lookup("key")[1].attrs.decode
_DECODE_ACTIONS = FlowFamily.attrs.lookup("actions")[1].attrs.decode_list


def _stat_property(slot):
    """A field read by the first walk of a dumped flow's reply."""

    def get(self):
        if self._lazy & _UNWALKED:  # pylint: disable=protected-access
            self._walk()  # pylint: disable=protected-access
        return getattr(self, slot)

    def set_(self, value):
        if self._lazy & _UNWALKED:  # pylint: disable=protected-access
            self._walk()  # pylint: disable=protected-access
        setattr(self, slot, value)

    return property(get, set_)


def _walk_reply(
    flow,
    raw,
    key_id=_FLOW_IDS["key"],
    mask_id=_FLOW_IDS["mask"],
    actions_id=_FLOW_IDS["actions"],
    stats_id=_FLOW_IDS["stats"],
    used_id=_FLOW_IDS["used"],
    flags_id=_FLOW_IDS["tcp_flags"],
    ufid_id=_FLOW_IDS["ufid"],
):
    """Fill ``flow``'s slots from the ``ovs_flow`` attributes ``raw``: numbers
    decoded, key, mask and actions as their payloads; the ``_lazy`` bits of
    what is left to decode. (The ids are defaults: locals, for speed.)"""
    flow._key, flow._mask, flow._actions = {}, None, []  # pylint: disable=protected-access
    flow._ufid, flow._used = None, None  # pylint: disable=protected-access
    flow._packets = flow._bytes = flow._tcp_flags = 0  # pylint: disable=protected-access
    lazy = 0
    unpack = NLA_HDR.unpack_from
    offset, end = 0, len(raw)
    while offset + 4 <= end:
        length, kind = unpack(raw, offset)
        if length < 4 or offset + length > end:
            raise OdpError("malformed flow in a dump: truncated attribute")
        payload = raw[offset + 4 : offset + length]
        kind &= NLA_TYPE_MASK
        if kind == key_id:
            flow._key, lazy = payload, lazy | _KEY  # pylint: disable=protected-access
        elif kind == mask_id:
            flow._mask, lazy = payload, lazy | _MASK  # pylint: disable=protected-access
        elif kind == actions_id:
            flow._actions, lazy = payload, lazy | _ACTIONS  # pylint: disable=protected-access
        elif kind == stats_id:
            flow._packets, flow._bytes = _STATS.unpack(payload)  # pylint: disable=protected-access
        elif kind == used_id:
            flow._used = _U64.unpack(payload)[0]  # pylint: disable=protected-access
        elif kind == flags_id:
            flow._tcp_flags = payload[0]  # pylint: disable=protected-access
        elif kind == ufid_id:
            flow._ufid = payload  # pylint: disable=protected-access
        offset += (length + 3) & ~3
    return lazy


_U64 = struct.Struct("=Q")
_new = object.__new__


# The type of a reply's bytes (Flow's constructor has a parameter named bytes).
_Raw = bytes


class Flow:
    """One datapath flow: match, actions and (for dumped flows) statistics.

    ``mask`` None means every attribute of ``key`` is matched exactly.

    A dumped flow (:meth:`from_reply`) keeps the bytes of the kernel's reply
    and decodes nothing until asked: its statistics and UFID on the first
    access to any field, its key, mask and actions each on first access to
    that one. Every decoded value is the flow's own (a caller changing it
    changes only that flow). :meth:`identity` of a dumped flow whose mask is
    still undecoded is computed from the mask's bytes through a memo per
    mask shape (a megaflow dump shares a handful of masks).
    """

    __slots__ = (
        "_actions",
        "_bytes",
        "_identity",
        "_key",
        "_lazy",
        "_mask",
        "_packets",
        "_raw",
        "_tcp_flags",
        "_ufid",
        "_used",
    )

    def __init__(
        self,
        key: dict,
        mask: Optional[dict] = None,
        actions: Iterable = (),
        ufid: Optional[bytes] = None,
        packets: int = 0,
        bytes: int = 0,  # pylint: disable=redefined-builtin
        used: Optional[int] = None,
        tcp_flags: int = 0,
    ) -> None:
        self._key = key
        self._mask = mask
        self._actions = actions
        self._ufid = ufid
        self._packets = packets
        self._bytes = bytes
        self._used = used
        self._tcp_flags = tcp_flags
        self._identity: Optional[tuple] = None
        self._raw: Optional[_Raw] = None
        self._lazy = 0

    @classmethod
    def from_reply(cls, raw: bytes) -> "Flow":
        """A flow of the ``ovs_flow`` attributes ``raw`` (a dump's or a get's
        reply), decoded on first use."""
        flow = _new(cls)
        flow._raw = raw
        flow._lazy = _UNWALKED
        flow._identity = None
        return flow

    def _walk(self):
        """Split the reply: statistics and UFID read, key, mask and actions
        kept as bytes for their decoders."""
        self._lazy = _walk_reply(self, self._raw)
        self._raw = None

    # The fields; a dumped flow decodes each on first access.
    @property
    def key(self):
        lazy = self._lazy
        if lazy:
            if lazy & _UNWALKED:
                self._walk()
                lazy = self._lazy
            if lazy & _KEY:
                self._lazy = lazy & ~_KEY
                self._key = _DECODE_KEY(self._key)
        return self._key

    @key.setter
    def key(self, value):
        if self._lazy & _UNWALKED:
            self._walk()
        self._lazy &= ~_KEY
        self._key = value

    @property
    def mask(self):
        lazy = self._lazy
        if lazy:
            if lazy & _UNWALKED:
                self._walk()
                lazy = self._lazy
            if lazy & _MASK:
                self._lazy = lazy & ~_MASK
                self._mask = _DECODE_KEY(self._mask)
        return self._mask

    @mask.setter
    def mask(self, value):
        if self._lazy & _UNWALKED:
            self._walk()
        self._lazy &= ~_MASK
        self._mask = value

    @property
    def actions(self):
        lazy = self._lazy
        if lazy:
            if lazy & _UNWALKED:
                self._walk()
                lazy = self._lazy
            if lazy & _ACTIONS:
                self._lazy = lazy & ~_ACTIONS
                self._actions = _DECODE_ACTIONS(self._actions)
        return self._actions

    @actions.setter
    def actions(self, value):
        if self._lazy & _UNWALKED:
            self._walk()
        self._lazy &= ~_ACTIONS
        self._actions = value

    def payloads(self) -> Optional[tuple]:
        """``(mask, actions)`` of a dumped flow as the reply's bytes (mask None
        when the reply has none: exact), while neither is decoded; else None.
        For formatters that memoise per mask and per action list."""
        if self._lazy & _UNWALKED:
            self._walk()
        lazy = self._lazy
        if lazy & _ACTIONS and (lazy & _MASK or self._mask is None):
            return self._mask, self._actions
        return None

    ufid = _stat_property("_ufid")
    packets = _stat_property("_packets")
    bytes = _stat_property("_bytes")
    used = _stat_property("_used")
    tcp_flags = _stat_property("_tcp_flags")

    @classmethod
    def normalized(cls, key: dict, mask: Optional[dict] = None, actions: Iterable = ()) -> "Flow":
        """A flow whose key and mask are :func:`normalize`'s, identity included
        (normalised once: the Ansible module builds thousands)."""
        key, mask = normalize(key, mask)
        flow = cls(key, mask, actions)
        flow._identity = _freeze(key), _freeze(mask)  # pylint: disable=protected-access
        return flow

    def identity(self) -> tuple:
        """Hashable canonical (masked key, mask): equal for equivalent matches."""
        if self._identity is None:
            key = self.key
            if self._lazy & _MASK:
                self._identity = _shape_identity(key, self._mask)
            else:
                self._identity = identity(self._key, self._mask)
        return self._identity

    def same_match(self, other: "Flow") -> bool:
        return self.identity() == other.identity()

    def same_actions(self, other: "Flow") -> bool:
        return list(self.actions) == list(other.actions)

    def __eq__(self, other: object) -> bool:
        """Same match and same actions: statistics and UFIDs do not count."""
        if not isinstance(other, Flow):
            return NotImplemented
        return self.same_match(other) and self.same_actions(other)

    __hash__ = None  # type: ignore[assignment]  # mutable; hash identity() instead

    def __repr__(self):
        return "Flow(key=%r, mask=%r, actions=%r)" % (self.key, self.mask, self.actions)


def identity(key, mask=None):
    """Hashable form of :func:`normalize` ``(key, mask)``."""
    norm_key, norm_mask = normalize(key, mask)
    return _freeze(norm_key), _freeze(norm_mask)


def _shape_identity(key, mask_raw):
    """:func:`identity` of ``key`` with the mask encoded as ``mask_raw``, by
    the memo of its shape (mask bytes, key attribute names)."""
    shape = (mask_raw, tuple(key))
    plan = _SHAPES.get(shape)
    if plan is None:
        mask = _DECODE_KEY(mask_raw)
        plan = _shape_plan(key, mask)
        if plan is None:
            return identity(key, mask)
        if len(_SHAPES) < MAX_SHAPES:
            _SHAPES[bytes(mask_raw), shape[1]] = plan
    if plan.__class__ is not tuple:
        return identity(key, _DECODE_KEY(mask_raw))  # a shape normalize must do whole
    fields, frozen_mask = plan
    out = []
    for name, bits in fields:
        value = key.get(name)
        if bits.__class__ is int:
            out.append((name, (value or 0) & bits))
        elif bits is None:  # a flag, matched by presence
            out.append((name, bool(value)))
        else:
            value = value or {}
            out.append(
                (
                    name,
                    tuple(
                        [(field, value.get(field, 0) & field_bits) for field, field_bits in bits]
                    ),
                )
            )
    return tuple(out), frozen_mask


def _shape_plan(key, mask):
    """How :func:`normalize` treats every key of this shape, when it masks
    field by field: ``((name, bits), ...)`` (bits an int, a struct's
    ``((field, bits), ...)``, None for a flag) and the frozen normalised mask.
    False when the shape has what it does not mask field by field (nested
    attributes, unknown ones, bytes, label stacks)."""
    for name in set(key) | set(mask):
        if name in _DROPPED_WITHOUT_KEY and name not in key:
            continue  # normalize drops it whatever the mask says
        entry = FLOW_KEY.by_name.get(name)
        codec = entry and entry[1]
        if (
            codec is None
            or codec.__class__ is LabelStack
            or not isinstance(codec, (Int, Addr, Struct, Flag))
        ):
            return False
    norm_key, norm_mask = normalize(key, mask)
    fields: list = []
    for name, value in norm_key.items():
        bits = norm_mask[name]
        if isinstance(value, dict):
            fields.append((name, tuple(bits.items())))
        elif isinstance(value, bool):
            if not bits:
                return False
            fields.append((name, None))
        else:
            fields.append((name, bits))
    return tuple(fields), _freeze(norm_mask)


# Nested attributes that normalize drops when the key has none (dumps carry
# a tunnel mask on every flow).
_DROPPED_WITHOUT_KEY = ("tunnel", "encap")
# Identity plans by mask shape (bounded: a dump must not pin memory).
MAX_SHAPES = 1024
_SHAPES: dict = {}


def _freeze(value):
    # Hot (odp_flow computes 20,000 identities at 10k flows): scalars, the
    # common case, are kept without a recursive call.
    if isinstance(value, dict):
        return tuple(
            [
                (name, _freeze(item) if isinstance(item, (dict, list)) else item)
                for name, item in value.items()
            ]
        )
    if isinstance(value, list):
        return tuple([_freeze(item) if isinstance(item, (dict, list)) else item for item in value])
    return value


# ---------------------------------------------------------------- masks


def full_mask(codec, value):
    """The mask matching every bit of ``value`` exactly."""
    template = _FULL_MASKS.get(codec)
    if template is not None and value.__class__ is not Unknown:
        return template.copy() if template.__class__ is dict else template
    if isinstance(value, Unknown):
        return Unknown(value.kind, b"\xff" * len(value.raw))
    if isinstance(codec, (Int, Addr)):
        template = _FULL_MASKS[codec] = (1 << codec.bits) - 1
        return template
    if isinstance(codec, Struct):
        mask = {name: (1 << codec.widths[name]) - 1 for name in codec.present(value)}
        if codec.present() == codec.names:  # every value has every field
            _FULL_MASKS[codec] = mask
        return mask.copy()
    if isinstance(codec, Nested):
        return exact_mask(value, codec.attrs)
    if isinstance(codec, Flag):
        return True
    return b"\xff" * len(value)


# Exact masks of fixed-width codecs, built once (puts need one per attribute).
_FULL_MASKS: dict = {}  # codec -> its exact mask


def exact_mask(key, attrs=FLOW_KEY):
    """The mask the kernel builds when a flow comes without one.

    Every attribute of the key is matched exactly; a tunnel is matched on every
    field of its address family, even the ones the key leaves out
    (ovs_nla_get_match sets the whole tunnel mask before parsing).
    """
    mask = {}
    for name, value in key.items():
        codec = attrs.lookup(name)[1]
        if name == "tunnel" and attrs is FLOW_KEY:
            mask[name] = _exact_tunnel_mask(value)
        else:
            mask[name] = full_mask(codec, value)
    return mask


def _exact_tunnel_mask(tunnel):
    mask = exact_mask(tunnel, TUNNEL_KEY)
    for name in TUNNEL_SCALARS[_tunnel_family(tunnel)]:
        mask[name] = full_mask(TUNNEL_KEY.lookup(name)[1], 0)
    return _sorted(mask, TUNNEL_ORDER)


def _tunnel_family(tunnel):
    return 6 if "ipv6_src" in tunnel or "ipv6_dst" in tunnel else 4


def _zero(codec):
    if isinstance(codec, Struct):
        return dict.fromkeys(codec.present(), 0)
    return 0


def is_zero(value):
    """A value or mask with no bit set (absent, 0, a struct of zeros...)."""
    if isinstance(value, dict):
        return not any(value.values())
    if isinstance(value, Unknown):
        return not any(value.raw)
    return not value


def _sorted(attrs, order):
    return dict(sorted(attrs.items(), key=lambda item: order.get(item[0], 1 << 16)))


# ---------------------------------------------------------------- completion


def complete_key(key, mask=None):
    """``(key, mask)`` with what the kernel requires added, fully wildcarded.

    Never changes an attribute or field the caller gave; the mask returned is
    always explicit (``mask`` None is first made exact, like the kernel does).
    """
    key = dict(key)
    mask = exact_mask(key) if mask is None else dict(mask)
    if "eth" not in key and ("eth_type" not in key or key["eth_type"] in ETH_P_VLAN):
        # "Either Ethernet header or EtherType is required." With no EtherType
        # at all the kernel wildcards it: every frame of the port matches. A
        # VLAN tag is only parsed after an Ethernet header.
        _add(key, mask, "eth")
    if "tunnel" in key:
        _complete_tunnel(key, mask)
    _complete_layers(key, mask)
    return _sorted(key, _ORDER), _sorted(mask, _ORDER)


def _add(key, mask, name, value=None):
    codec = FLOW_KEY.lookup(name)[1]
    key[name] = _zero(codec) if value is None else value
    mask[name] = _zero(codec) if not isinstance(codec, Nested) else {}


def _complete_layers(key, mask):
    """Layer 3 and 4 attributes match_validate expects (also inside a VLAN's encap)."""
    eth_type = key.get("eth_type")
    if eth_type in ETH_P_VLAN:
        _complete_vlan(key, mask)
        return
    l3_name = L3_FOR_ETH_TYPE.get(eth_type)
    if l3_name is None:
        return
    if l3_name not in key:
        _add(key, mask, l3_name)
    l4_names = L4_FOR_PROTO.get(l3_name, {})
    l3 = key[l3_name]
    if l3.get("frag", 0) == FRAG_LATER:
        return  # later fragments carry no layer 4 header
    for name in l4_names.get(l3.get("proto", 0), ()):
        if name not in key:
            _add(key, mask, name)
    icmpv6 = key.get("icmpv6")
    if icmpv6 is not None and icmpv6.get("type", 0) in (ND_SOLICIT, ND_ADVERT) and "nd" not in key:
        _add(key, mask, "nd")


def _complete_vlan(key, mask):
    """validate_vlan_from_nlattrs: a VLAN EtherType needs ``vlan`` and ``encap``.

    A missing ``vlan`` becomes "any tag" (CFI set, the rest wildcarded: the
    kernel insists on an exact CFI bit); a missing ``encap`` any payload.
    """
    if "vlan" not in key:
        key["vlan"] = VLAN_CFI
        mask["vlan"] = VLAN_CFI
    if key["vlan"] & VLAN_CFI:
        encap = dict(key.get("encap") or {})
        encap_mask = dict(mask.get("encap") or {})
        _complete_layers(encap, encap_mask)
        key["encap"] = _sorted(encap, _ORDER)
        # An empty nested mask counts as absent, which would leave the tag's
        # mask unparsed: a zero EtherType keeps it present and wildcards nothing.
        encap_mask.setdefault("eth_type", 0)
        mask["encap"] = _sorted(encap_mask, _ORDER)
    else:
        key.setdefault("encap", {})


def _complete_tunnel(key, mask):
    """ip_tun_from_nlattr: a tunnel key needs a non-zero destination and a TTL."""
    tunnel = dict(key["tunnel"])
    tunnel_mask = mask.get("tunnel")
    if tunnel_mask is not None:
        tunnel_mask = dict(tunnel_mask)
    if "ipv4_info_bridge" not in tunnel:
        dst = "ipv6_dst" if _tunnel_family(tunnel) == 6 else "dst"
        needed = [(dst, TUNNEL_ANY_DST if dst == "dst" else (1 << 128) - 1), ("ttl", 0)]
        for name, value in needed:
            if name not in tunnel:
                tunnel[name] = value
                if tunnel_mask is not None:
                    tunnel_mask[name] = 0
    key["tunnel"] = _sorted(tunnel, TUNNEL_ORDER)
    if tunnel_mask is not None:
        mask["tunnel"] = _sorted(tunnel_mask, TUNNEL_ORDER)


# ---------------------------------------------------------------- normalisation


def normalize(key, mask=None):
    """The canonical ``(key, mask)``: what the kernel stores for this match.

    * values are masked, masks that the kernel forces exact (``in_port``,
      ``eth_type``, the VLAN TPID) are exact;
    * an attribute whose mask is zero is dropped (the kernel ignores all-zero
      mask attributes, and its dumps add zero ones), except ``eth``, whose mere
      presence makes the flow match Ethernet frames;
    * a wildcarded ``in_port`` (dumped as 0/0xffff0000) is dropped;
    * attributes come in attribute id order, structs with every field.
    """
    if mask is None:
        mask = exact_mask(key)
    return _normalize_level(key, mask)


def _normalize_level(key, mask):
    out_key, out_mask = {}, {}
    vlan = key.get("vlan")
    for name in sorted(set(key) | set(mask), key=lambda n: _ORDER.get(n, 1 << 16)):
        value, bits = key.get(name), mask.get(name)
        if name == "encap":
            if value is not None:
                out_key[name], out_mask[name] = _normalize_level(value, bits or {})
            continue
        if name == "tunnel":
            # Dumps carry a tunnel mask (``ttl=0``) on every flow, but a tunnel
            # key only when the flow matches tunnelled packets; a key without
            # a mask is wildcarded (the kernel ignores an empty nested mask).
            if value is not None and bits:
                out_key[name], out_mask[name] = _normalize_tunnel(value, bits)
            continue
        if name == "in_port":
            bits = 0xFFFFFFFF if bits and bits & 0xFFFF else 0
        elif name == "eth_type":
            bits = 0xFFFF if bits or vlan is not None else 0
        elif name == "vlan":
            if value is None:
                continue  # no tag, and the kernel always matches "no tag"
            bits = 0xFFFF if bits is None else bits
        codec = FLOW_KEY.lookup(name)[1]
        masked_value, masked_bits = _masked(codec, value, bits)
        if name != "eth" and is_zero(masked_bits):
            continue
        if value is not None or name not in ("eth_type", "in_port"):
            out_key[name] = masked_value
        out_mask[name] = masked_bits
    return out_key, out_mask


def _masked(codec, value, bits):
    """``(value & bits, bits)`` for any attribute value, with absent meaning zero."""
    if isinstance(codec, Struct):
        bits = bits or {}
        value = value or {}
        names = codec.present(value, bits)
        full_bits = {name: bits.get(name, 0) for name in names}
        return ({name: value.get(name, 0) & full_bits[name] for name in names}, full_bits)
    if isinstance(value, Unknown) or isinstance(bits, Unknown):
        raw_value = value.raw if isinstance(value, Unknown) else b""
        raw_bits = bits.raw if isinstance(bits, Unknown) else b""
        length = max(len(raw_value), len(raw_bits))
        raw_value, raw_bits = raw_value.ljust(length, b"\0"), raw_bits.ljust(length, b"\0")
        kind = (value or bits).kind
        return (
            Unknown(kind, bytes(a & b for a, b in zip(raw_value, raw_bits))),
            Unknown(kind, raw_bits),
        )
    if isinstance(codec, Nested):
        return _normalize_nested(codec.attrs, value or {}, bits or {})
    if isinstance(codec, Flag):
        return (bool(value) and bool(bits)), bool(bits)
    if isinstance(codec, Bytes):
        raw_value, raw_bits = bytes(value or b""), bytes(bits or b"")
        return bytes(
            a & b for a, b in zip(raw_value, raw_bits.ljust(len(raw_value), b"\0"))
        ), raw_bits
    return (value or 0) & (bits or 0), bits or 0


def _normalize_nested(attrs, key, mask):
    out_key, out_mask = {}, {}
    order = {name: kind for kind, (name, _codec) in attrs.by_id.items()}
    for name in sorted(set(key) | set(mask), key=lambda n: order.get(n, 1 << 16)):
        masked_value, masked_bits = _masked(attrs.lookup(name)[1], key.get(name), mask.get(name))
        if not is_zero(masked_bits):
            if not is_zero(masked_value):
                out_key[name] = masked_value
            out_mask[name] = masked_bits
    return out_key, out_mask


def _normalize_tunnel(key, mask):
    """Tunnel fields: numbers masked (zero masks dropped); tun_id and the flags
    are matched by presence, as the kernel's TUNNEL_* flag bits."""
    out_key, out_mask = {}, {}
    for name in sorted(set(key) | set(mask), key=lambda n: TUNNEL_ORDER.get(n, 1 << 16)):
        value, bits = key.get(name), mask.get(name)
        if name in TUNNEL_FLAG_LIKE:
            if bits is None or bits is False:
                continue
            if name == "tun_id":
                out_mask[name] = bits
                if value is not None:
                    out_key[name] = value & bits
            else:
                out_mask[name] = True
                if value:
                    out_key[name] = True
            continue
        masked_value, masked_bits = _masked(TUNNEL_KEY.lookup(name)[1], value, bits)
        if not is_zero(masked_bits):
            out_key[name] = masked_value
            out_mask[name] = masked_bits
    return out_key, out_mask


def monotonic_ms():
    """The clock of flows' ``used`` times: CLOCK_MONOTONIC, in milliseconds."""
    return int(time.monotonic() * 1000)


def used_seconds(used, now_ms):
    """Seconds since a flow was last used (``used`` as the kernel reports it,
    at ``now_ms`` of :func:`monotonic_ms`), ``None`` when never: what
    ``odp flow list --stats``, ``--json`` and odp_facts all say."""
    return None if not used else round(max(now_ms - used, 0) / 1000.0, 3)
