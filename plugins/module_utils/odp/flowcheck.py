# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Flow validation: what the kernel would refuse, refused before sending.

:func:`validate_flow` takes a completed key (:func:`flows.complete_key`);
each rule names the net/openvswitch/flow_netlink.c check it mirrors. The
kernel's rules for keys and masks themselves are in :mod:`flows`.
"""

from .errors import ValidationError
from .flows import DP_MAX_PORTS, ETH_P_VLAN, FRAG_LATER, L3_FOR_ETH_TYPE, L4_FOR_PROTO, is_zero
from .keys import VLAN_CFI

# parse_eth_type_from_nlattrs: EtherTypes below this are 802.3 lengths.
ETH_P_802_3_MIN = 0x0600
# OVS_PSAMPLE_COOKIE_MAX_SIZE
PSAMPLE_COOKIE_MAX = 16
# Layer 3 and 4 attributes whose mask needs an exact mask on the layer below.
MASK_NEEDS = dict.fromkeys(
    ("ipv4", "ipv6", "arp", "mpls", "nsh", "ct_tuple4", "ct_tuple6"), ("eth_type", 65535)
)
MASK_NEEDS.update(
    (name, ("proto", 0xFF)) for name in ("tcp", "tcp_flags", "udp", "sctp", "icmp", "icmpv6")
)


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
        raise ValidationError(
            where + ".in_port", in_port, "a port number is below %d" % DP_MAX_PORTS
        )
    eth_type = key.get("eth_type")
    # parse_eth_type_from_nlattrs: "EtherType %x is less than min %x".
    if eth_type is not None and eth_type < ETH_P_802_3_MIN:
        raise ValidationError(
            where + ".eth_type",
            eth_type,
            "an EtherType is at least 0x%04x (802.2 frames: leave "
            "eth_type out and match it exactly in the mask)" % ETH_P_802_3_MIN,
        )
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
        raise ValidationError(
            where, eth_type, "eth_type 0x%04x needs a %s attribute" % (eth_type, l3_name)
        )
    l3 = key[l3_name]
    if l3_name not in L4_FOR_PROTO or l3.get("frag", 0) == FRAG_LATER:
        return
    for name in L4_FOR_PROTO[l3_name].get(l3.get("proto", 0), ()):
        if name not in key:
            raise ValidationError(
                where,
                l3.get("proto"),
                "%s proto %d needs a %s attribute" % (l3_name, l3.get("proto"), name),
            )


def _validate_vlan(key, mask, where):
    # validate_vlan_from_nlattrs: "Invalid VLAN frame", "TCI does not have
    # VLAN_CFI_MASK bit set", "Truncated VLAN header has non-zero encap".
    if "vlan" not in key or "encap" not in key:
        raise ValidationError(
            where, key.get("eth_type"), "a VLAN EtherType needs vlan and encap attributes"
        )
    tci = key["vlan"]
    if not tci & VLAN_CFI and (tci or key["encap"]):
        raise ValidationError(
            where + ".vlan",
            tci,
            "a VLAN TCI has the CFI bit (0x1000) set, or is 0 with an "
            "empty encap (truncated header)",
        )
    if tci & VLAN_CFI:
        _validate_level(key["encap"], (mask or {}).get("encap"), where + ".encap")
    # validate_vlan_mask_from_nlattrs: the TCI mask matches CFI exactly.
    if mask is not None and "vlan" in mask and not mask["vlan"] & VLAN_CFI:
        raise ValidationError(
            "mask.vlan", mask["vlan"], "a VLAN TCI mask includes the CFI bit (0x1000)"
        )


def _validate_tunnel(tunnel, where):
    # ip_tun_from_nlattr: mixed families, zero destination, missing TTL.
    has4 = any(name in tunnel for name in ("src", "dst"))
    has6 = any(name in tunnel for name in ("ipv6_src", "ipv6_dst"))
    if has4 and has6:
        raise ValidationError(where, tunnel, "mixes IPv4 and IPv6 addresses")
    if "ipv4_info_bridge" in tunnel:
        return
    if not tunnel.get("ipv6_dst" if has6 else "dst"):
        raise ValidationError(
            where + ".dst",
            tunnel.get("ipv6_dst" if has6 else "dst"),
            "a tunnel match needs a non-zero destination address",
        )
    if "ttl" not in tunnel:
        raise ValidationError(where + ".ttl", None, "a tunnel match needs a TTL")


def _validate_mask(key, mask, where):
    """match_validate: a non-zero mask attribute needs the key attribute, and
    layer 3/4 masks need an exact mask on the EtherType or IP protocol."""
    for name, bits in mask.items():
        if _is_zero_mask(name, bits):
            continue
        if name not in key and name not in ("in_port", "eth_type", "tunnel", "vlan", "encap"):
            raise ValidationError(
                "%s.%s" % (where, name), bits, "masks an attribute the key does not have"
            )
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
            raise ValidationError(
                "%s.%s" % (where, name), bits, "matching %s needs an exact %s mask" % (name, below)
            )
    if "encap" in mask and "encap" in key:
        _validate_mask(key["encap"], mask["encap"], where + ".encap")


def _is_zero_mask(name, bits):
    # __parse_flow_nlattrs(nz): all-zero mask attributes are ignored.
    if name in ("encap", "tunnel", "nsh"):
        return not bits
    return is_zero(bits)


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
            if not (tunnel.get("dst") or tunnel.get("ipv6_dst") or "ipv4_info_bridge" in tunnel):
                raise ValidationError(
                    field + ".dst", tunnel.get("dst"), "set(tunnel) needs a destination address"
                )
        if name == "psample":
            # validate_psample: the group is required, the cookie 16 bytes at most.
            if "group" not in value:
                raise ValidationError(field + ".group", None, "a psample action needs its group")
            if len(value.get("cookie", b"")) > PSAMPLE_COOKIE_MAX:
                raise ValidationError(
                    field + ".cookie",
                    value["cookie"].hex(),
                    "a psample cookie is %d bytes at most" % PSAMPLE_COOKIE_MAX,
                )
        if name == "clone":
            _validate_actions(value, field)
        if name == "sample":
            _validate_actions(value.get("actions", []), field + ".actions")
        if name == "check_pkt_len":
            _validate_actions(value.get("gt", []), field + ".gt")
            _validate_actions(value.get("le", []), field + ".le")
