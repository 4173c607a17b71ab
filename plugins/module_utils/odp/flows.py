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
* :func:`validate_flow` refuses up front what the kernel would refuse.

The rules come from the kernel's net/openvswitch/flow_netlink.c
(``ovs_nla_get_match`` and its helpers on the way in, ``__ovs_nla_put_key`` on
the way out) and were checked against Linux 6.1
(tests/unit/plugins/module_utils/odp/data/kernel_flows.json).
"""

import time
from typing import Iterable, Optional

from .attrs import Addr, Bytes, Flag, Int, Nested, Struct, Unknown
from .errors import ValidationError
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
ETH_P_802_3_MIN = 0x0600

IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, IPPROTO_ICMP, IPPROTO_ICMPV6 = 6, 17, 132, 1, 58
FRAG_LATER = 2
ND_SOLICIT, ND_ADVERT = 135, 136

# The layer 3 attribute the kernel expects after each EtherType (match_validate).
L3_FOR_ETH_TYPE = {ETH_P_IP: "ipv4", ETH_P_IPV6: "ipv6", ETH_P_ARP: "arp",
                   ETH_P_RARP: "arp", ETH_P_NSH: "nsh"}
L3_FOR_ETH_TYPE.update((eth_type, "mpls") for eth_type in ETH_P_MPLS)
# The layer 4 attributes it expects after each IP protocol (match_validate).
L4_FOR_PROTO = {
    "ipv4": {IPPROTO_TCP: ("tcp", "tcp_flags"), IPPROTO_UDP: ("udp",),
             IPPROTO_SCTP: ("sctp",), IPPROTO_ICMP: ("icmp",)},
    "ipv6": {IPPROTO_TCP: ("tcp", "tcp_flags"), IPPROTO_UDP: ("udp",),
             IPPROTO_SCTP: ("sctp",), IPPROTO_ICMPV6: ("icmpv6",)},
}
# Layer 3 and 4 attributes whose mask needs an exact mask on the layer below.
MASK_NEEDS = dict((name, ("eth_type", 0xFFFF)) for name in
                  ("ipv4", "ipv6", "arp", "mpls", "nsh", "ct_tuple4", "ct_tuple6"))
MASK_NEEDS.update((name, ("proto", 0xFF)) for name in
                  ("tcp", "tcp_flags", "udp", "sctp", "icmp", "icmpv6"))

# Tunnel attributes that are numbers and may be wildcarded field by field; the
# others are flags (and tun_id, which the kernel tracks as the TUNNEL_KEY flag).
TUNNEL_FLAG_LIKE = ("tun_id", "df", "csum", "oam", "ipv4_info_bridge")
TUNNEL_SCALARS = {4: ("src", "dst", "tos", "ttl", "tp_src", "tp_dst"),
                  6: ("ipv6_src", "ipv6_dst", "tos", "ttl", "tp_src", "tp_dst")}
# A stand-in tunnel destination: the kernel refuses a zero one even when its
# mask wildcards it, and the masked key keeps none of it anyway.
TUNNEL_ANY_DST = 0xFFFFFFFF

_ORDER = dict((name, kind) for kind, (name, _codec) in FLOW_KEY.by_id.items())


class Flow:
    """One datapath flow: match, actions and (for dumped flows) statistics.

    ``mask`` None means every attribute of ``key`` is matched exactly. Built in
    bulk by dumps, so construction does no work at all; :meth:`identity`
    computes the canonical form on first use.
    """

    __slots__ = ("key", "mask", "actions", "ufid", "packets", "bytes", "used",
                 "tcp_flags", "_identity")

    def __init__(self, key: dict, mask: Optional[dict] = None, actions: Iterable = (),
                 ufid: Optional[bytes] = None, packets: int = 0,
                 bytes: int = 0,  # pylint: disable=redefined-builtin
                 used: Optional[int] = None, tcp_flags: int = 0) -> None:
        self.key = key
        self.mask = mask
        self.actions = actions
        self.ufid = ufid
        self.packets = packets
        self.bytes = bytes
        self.used = used
        self.tcp_flags = tcp_flags
        self._identity: Optional[tuple] = None

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
            self._identity = identity(self.key, self.mask)
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


def _freeze(value):
    # Hot (odp_flow computes 20,000 identities at 10k flows): scalars, the
    # common case, are kept without a recursive call.
    if isinstance(value, dict):
        return tuple([(name, _freeze(item) if isinstance(item, (dict, list)) else item)
                      for name, item in value.items()])
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
        mask = dict((name, (1 << codec.widths[name]) - 1) for name in codec.present(value))
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
        return dict((name, 0) for name in codec.present())
    return 0


def _is_zero(value):
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
        if name != "eth" and _is_zero(masked_bits):
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
        full_bits = dict((name, bits.get(name, 0)) for name in names)
        return (dict((name, value.get(name, 0) & full_bits[name]) for name in names),
                full_bits)
    if isinstance(value, Unknown) or isinstance(bits, Unknown):
        raw_value = value.raw if isinstance(value, Unknown) else b""
        raw_bits = bits.raw if isinstance(bits, Unknown) else b""
        length = max(len(raw_value), len(raw_bits))
        raw_value, raw_bits = raw_value.ljust(length, b"\0"), raw_bits.ljust(length, b"\0")
        kind = (value or bits).kind
        return (Unknown(kind, bytes(a & b for a, b in zip(raw_value, raw_bits))),
                Unknown(kind, raw_bits))
    if isinstance(codec, Nested):
        return _normalize_nested(codec.attrs, value or {}, bits or {})
    if isinstance(codec, Flag):
        return (bool(value) and bool(bits)), bool(bits)
    if isinstance(codec, Bytes):
        raw_value, raw_bits = bytes(value or b""), bytes(bits or b"")
        return bytes(a & b for a, b in zip(raw_value, raw_bits.ljust(len(raw_value), b"\0"))), \
            raw_bits
    return (value or 0) & (bits or 0), bits or 0


def _normalize_nested(attrs, key, mask):
    out_key, out_mask = {}, {}
    order = dict((name, kind) for kind, (name, _codec) in attrs.by_id.items())
    for name in sorted(set(key) | set(mask), key=lambda n: order.get(n, 1 << 16)):
        masked_value, masked_bits = _masked(attrs.lookup(name)[1], key.get(name), mask.get(name))
        if not _is_zero(masked_bits):
            if not _is_zero(masked_value):
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
        if not _is_zero(masked_bits):
            out_key[name] = masked_value
            out_mask[name] = masked_bits
    return out_key, out_mask


# ---------------------------------------------------------------- validation


def validate_flow(key, mask=None, actions=()):
    """Raise :class:`ValidationError` for what the kernel would refuse.

    Expects a completed key (:func:`complete_key`). Each rule names the
    flow_netlink.c check it mirrors.
    """
    _validate_level(key, mask, "key")
    if mask is not None:
        _validate_mask(key, mask, "mask")
    _validate_actions(actions, "actions")


def _validate_level(key, mask, where):
    # metadata_from_nlattrs: "Port %d exceeds max allowable %d".
    in_port = key.get("in_port")
    if in_port is not None and not 0 <= in_port < DP_MAX_PORTS:
        raise ValidationError(where + ".in_port", in_port,
                              "a port number is below %d" % DP_MAX_PORTS)
    eth_type = key.get("eth_type")
    # parse_eth_type_from_nlattrs: "EtherType %x is less than min %x".
    if eth_type is not None and eth_type < ETH_P_802_3_MIN:
        raise ValidationError(where + ".eth_type", eth_type,
                              "an EtherType is at least 0x%04x (802.2 frames: leave "
                              "eth_type out and match it exactly in the mask)" % ETH_P_802_3_MIN)
    # ovs_key_from_nlattrs: "Either Ethernet header or EtherType is required."
    if where == "key" and "eth" not in key and eth_type is None:
        raise ValidationError(where, key, "needs eth or eth_type")
    for l3_name in ("ipv4", "ipv6"):
        # ovs_key_from_nlattrs: "IPv4/IPv6 frag type %d is out of range".
        frag = key.get(l3_name, {}).get("frag", 0)
        if frag > FRAG_LATER:
            raise ValidationError("%s.%s.frag" % (where, l3_name), frag, "is no, first or later")
    # "IPv6 flow label %x is out of range".
    label = key.get("ipv6", {}).get("label", 0)
    if label >> 20:
        raise ValidationError(where + ".ipv6.label", label, "a flow label has 20 bits")
    # "Unknown ARP opcode".
    arp_op = key.get("arp", {}).get("op", 0)
    if arp_op >> 8:
        raise ValidationError(where + ".arp.op", arp_op, "an ARP opcode is below 256")
    if "tunnel" in key:
        _validate_tunnel(key["tunnel"], where + ".tunnel")
    _validate_expected(key, where)
    if eth_type in ETH_P_VLAN:
        _validate_vlan(key, mask, where)


def _validate_expected(key, where):
    """match_validate: "Missing key" for layer 3/4 attributes the EtherType and protocol call for."""
    eth_type = key.get("eth_type")
    l3_name = L3_FOR_ETH_TYPE.get(eth_type)
    if l3_name is None:
        return
    if l3_name not in key:
        raise ValidationError(where, eth_type, "eth_type 0x%04x needs a %s attribute"
                              % (eth_type, l3_name))
    l3 = key[l3_name]
    if l3_name not in L4_FOR_PROTO or l3.get("frag", 0) == FRAG_LATER:
        return
    for name in L4_FOR_PROTO[l3_name].get(l3.get("proto", 0), ()):
        if name not in key:
            raise ValidationError(where, l3.get("proto"), "%s proto %d needs a %s attribute"
                                  % (l3_name, l3.get("proto"), name))


def _validate_vlan(key, mask, where):
    # validate_vlan_from_nlattrs: "Invalid VLAN frame", "TCI does not have
    # VLAN_CFI_MASK bit set", "Truncated VLAN header has non-zero encap".
    if "vlan" not in key or "encap" not in key:
        raise ValidationError(where, key.get("eth_type"),
                              "a VLAN EtherType needs vlan and encap attributes")
    tci = key["vlan"]
    if not tci & VLAN_CFI and (tci or key["encap"]):
        raise ValidationError(where + ".vlan", tci,
                              "a VLAN TCI has the CFI bit (0x1000) set, or is 0 with an "
                              "empty encap (truncated header)")
    if tci & VLAN_CFI:
        _validate_level(key["encap"], (mask or {}).get("encap"), where + ".encap")
    # validate_vlan_mask_from_nlattrs: the TCI mask matches CFI exactly.
    if mask is not None and "vlan" in mask and not mask["vlan"] & VLAN_CFI:
        raise ValidationError("mask.vlan", mask["vlan"],
                              "a VLAN TCI mask includes the CFI bit (0x1000)")


def _validate_tunnel(tunnel, where):
    # ip_tun_from_nlattr: mixed families, zero destination, missing TTL.
    has4 = any(name in tunnel for name in ("src", "dst"))
    has6 = any(name in tunnel for name in ("ipv6_src", "ipv6_dst"))
    if has4 and has6:
        raise ValidationError(where, tunnel, "mixes IPv4 and IPv6 addresses")
    if "ipv4_info_bridge" in tunnel:
        return
    if not tunnel.get("ipv6_dst" if has6 else "dst"):
        raise ValidationError(where + ".dst", tunnel.get("ipv6_dst" if has6 else "dst"),
                              "a tunnel match needs a non-zero destination address")
    if "ttl" not in tunnel:
        raise ValidationError(where + ".ttl", None, "a tunnel match needs a TTL")


def _validate_mask(key, mask, where):
    """match_validate: a non-zero mask attribute needs the key attribute, and
    layer 3/4 masks need an exact mask on the EtherType or IP protocol."""
    for name, bits in mask.items():
        if _is_zero_mask(name, bits):
            continue
        if name not in key and name not in ("in_port", "eth_type", "tunnel", "vlan", "encap"):
            raise ValidationError("%s.%s" % (where, name), bits,
                                  "masks an attribute the key does not have")
        need = MASK_NEEDS.get(name)
        if need is None:
            continue
        below, exact = need
        if below == "eth_type":
            have = mask.get("eth_type", 0)
        else:
            l3 = "ipv4" if "ipv4" in key else "ipv6"
            have = mask.get(l3, {}).get("proto", 0)
        if have != exact:
            raise ValidationError("%s.%s" % (where, name), bits,
                                  "matching %s needs an exact %s mask" % (name, below))
    if "encap" in mask and "encap" in key:
        _validate_mask(key["encap"], mask["encap"], where + ".encap")


def _is_zero_mask(name, bits):
    # __parse_flow_nlattrs(nz): all-zero mask attributes are ignored.
    if name in ("encap", "tunnel", "nsh"):
        return not bits
    return _is_zero(bits)


def _validate_actions(actions, where):
    for index, (name, value) in enumerate(actions):
        field = "%s[%d].%s" % (where, index, name)
        if name == "output" and not 0 <= value < DP_MAX_PORTS:
            raise ValidationError(field, value, "a port number is below %d" % DP_MAX_PORTS)
        if name in ("set", "set_masked") and len(value) != 1:
            # validate_set: "nla_len(ovs_key) != ... / exactly one key attribute".
            raise ValidationError(field, value, "sets exactly one key attribute")
        if name == "set" and "tunnel" in value:
            tunnel = value["tunnel"]
            # validate_and_copy_set_tun -> ip_tun_from_nlattr (key rules).
            if not (tunnel.get("dst") or tunnel.get("ipv6_dst")
                    or "ipv4_info_bridge" in tunnel):
                raise ValidationError(field + ".dst", tunnel.get("dst"),
                                      "set(tunnel) needs a destination address")
        if name == "clone":
            _validate_actions(value, field)
        if name == "sample":
            _validate_actions(value.get("actions", []), field + ".actions")
        if name == "check_pkt_len":
            _validate_actions(value.get("gt", []), field + ".gt")
            _validate_actions(value.get("le", []), field + ".le")


def monotonic_ms():
    """The clock of flows' ``used`` times: CLOCK_MONOTONIC, in milliseconds."""
    return int(time.monotonic() * 1000)


def used_seconds(used, now_ms):
    """Seconds since a flow was last used (``used`` as the kernel reports it,
    at ``now_ms`` of :func:`monotonic_ms`), ``None`` when never: what
    ``odp flow list --stats``, ``--json`` and odp_facts all say."""
    return None if not used else round(max(now_ms - used, 0) / 1000.0, 3)
