# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The flow key vocabulary: every ``OVS_KEY_ATTR_*`` of linux/openvswitch.h.

Attribute names are the ones ovs-dpctl prints (lib/odp-util.c), so the text
syntax, the Ansible ``match`` dict and this schema share one set of words.
Struct field names follow ovs-dpctl too (``eth(src=...,dst=...)``).
"""

from .attrs import Addr, AttrMap, Bytes, Flag, Int, LabelStack, Nested, Struct

U8 = Int("=B")
U16 = Int("=H")
HEX_U16 = Int("=H", "hex")
U32 = Int("=I")
HEX_U32 = Int("=I", "hex")
BE16 = Int(">H")
HEX_BE16 = Int(">H", "hex")
BE32 = Int(">I")
HEX_BE32 = Int(">I", "hex")
HEX_BE64 = Int(">Q", "hex")
MAC = Addr(6, "mac")
IPV4 = Addr(4, "ipv4")
IPV6 = Addr(16, "ipv6")

# OVS_TUNNEL_KEY_ATTR_* (note: the tunnel id is attribute 0).
TUNNEL_KEY = AttrMap(
    "tunnel",
    "tunnel_key",
    [
        (0, "tun_id", HEX_BE64),
        (1, "src", IPV4),
        (2, "dst", IPV4),
        (3, "tos", Int("=B", "hex")),
        (4, "ttl", U8),
        (5, "df", Flag()),
        (6, "csum", Flag()),
        (7, "oam", Flag()),
        (8, "geneve", Bytes()),
        (9, "tp_src", BE16),
        (10, "tp_dst", BE16),
        (11, "vxlan", Nested(AttrMap("vxlan", "vxlan_opt", [(1, "gbp", HEX_U32)]))),
        (12, "ipv6_src", IPV6),
        (13, "ipv6_dst", IPV6),
        (15, "erspan", Bytes()),
        (16, "ipv4_info_bridge", Flag()),
    ],
    padding=14,
)

# Tunnel flags print inside ``flags(...)`` in the ovs-dpctl syntax.
TUNNEL_FLAGS = ("df", "csum", "oam", "ipv4_info_bridge")

# Tunnel attribute name -> position in the order the kernel dumps them
# (ip_tun_to_nlattr), which is the order ovs-dpctl prints them in.
TUNNEL_ORDER = {
    name: index
    for index, name in enumerate(
        (
            "tun_id",
            "src",
            "dst",
            "ipv6_src",
            "ipv6_dst",
            "tos",
            "ttl",
            "df",
            "csum",
            "tp_src",
            "tp_dst",
            "oam",
            "geneve",
            "vxlan",
            "erspan",
            "ipv4_info_bridge",
        )
    )
}

# OVS_NSH_KEY_ATTR_*
NSH_KEY = AttrMap(
    "nsh",
    "nsh_key",
    [
        (
            1,
            "base",
            Struct(
                [
                    ("flags", "B", "int"),
                    ("ttl", "B", "int"),
                    ("mdtype", "B", "int"),
                    ("np", "B", "int"),
                    ("spi_si", "I", "hex"),
                ]
            ),
        ),
        (
            2,
            "md1",
            Struct(
                [("c1", "I", "hex"), ("c2", "I", "hex"), ("c3", "I", "hex"), ("c4", "I", "hex")]
            ),
        ),
        (3, "md2", Bytes()),
    ],
)

FLOW_KEY = AttrMap("key", "key")
FLOW_KEY.define(1, "encap", Nested(FLOW_KEY))
for _kind, _name, _codec in [
    (2, "skb_priority", HEX_U32),
    (3, "in_port", U32),
    (4, "eth", Struct([("src", "6s", "mac"), ("dst", "6s", "mac")])),
    (5, "vlan", HEX_BE16),
    (6, "eth_type", HEX_BE16),
    (
        7,
        "ipv4",
        Struct(
            [
                ("src", "4s", "ipv4"),
                ("dst", "4s", "ipv4"),
                ("proto", "B", "int"),
                ("tos", "B", "hex"),
                ("ttl", "B", "int"),
                ("frag", "B", "frag"),
            ]
        ),
    ),
    (
        8,
        "ipv6",
        Struct(
            [
                ("src", "16s", "ipv6"),
                ("dst", "16s", "ipv6"),
                ("label", "I", "hex"),
                ("proto", "B", "int"),
                ("tclass", "B", "hex"),
                ("hlimit", "B", "int"),
                ("frag", "B", "frag"),
            ]
        ),
    ),
    (9, "tcp", Struct([("src", "H", "int"), ("dst", "H", "int")])),
    (10, "udp", Struct([("src", "H", "int"), ("dst", "H", "int")])),
    (11, "icmp", Struct([("type", "B", "int"), ("code", "B", "int")])),
    (12, "icmpv6", Struct([("type", "B", "int"), ("code", "B", "int")])),
    (
        13,
        "arp",
        Struct(
            [
                ("sip", "4s", "ipv4"),
                ("tip", "4s", "ipv4"),
                ("op", "H", "int"),
                ("sha", "6s", "mac"),
                ("tha", "6s", "mac"),
                (None, "2x", None),
            ]
        ),
    ),
    (14, "nd", Struct([("target", "16s", "ipv6"), ("sll", "6s", "mac"), ("tll", "6s", "mac")])),
    (15, "skb_mark", HEX_U32),
    (16, "tunnel", Nested(TUNNEL_KEY)),
    (17, "sctp", Struct([("src", "H", "int"), ("dst", "H", "int")])),
    (18, "tcp_flags", HEX_BE16),
    (19, "dp_hash", HEX_U32),
    (20, "recirc_id", HEX_U32),
    (21, "mpls", LabelStack()),
    (22, "ct_state", HEX_U32),
    (23, "ct_zone", HEX_U16),
    (24, "ct_mark", HEX_U32),
    (25, "ct_label", Addr(16, "hex")),
    (
        26,
        "ct_tuple4",
        Struct(
            [
                ("src", "4s", "ipv4"),
                ("dst", "4s", "ipv4"),
                ("tp_src", "H", "int"),
                ("tp_dst", "H", "int"),
                ("proto", "B", "int"),
                (None, "3x", None),
            ]
        ),
    ),
    (
        27,
        "ct_tuple6",
        Struct(
            [
                ("src", "16s", "ipv6"),
                ("dst", "16s", "ipv6"),
                ("tp_src", "H", "int"),
                ("tp_dst", "H", "int"),
                ("proto", "B", "int"),
                (None, "3x", None),
            ]
        ),
    ),
    (28, "nsh", Nested(NSH_KEY)),
    (29, "packet_type", Struct([("ns", "H", "int"), ("id", "H", "hex")])),
    (
        30,
        "nd_ext",
        Struct([("nd_reserved", "I", "hex"), ("nd_options_type", "B", "int"), (None, "3x", None)]),
    ),
    (32, "ipv6_exthdrs", Struct([("hdrs", "H", "hex")], byteorder="=")),
]:
    FLOW_KEY.define(_kind, _name, _codec)

# OVS_FRAG_TYPE_* as ovs-dpctl names them.
FRAG_TYPES = {0: "no", 1: "first", 2: "later"}

# OVS_CS_F_* conntrack state bits, as ovs-dpctl names them.
CT_STATE_FLAGS = (
    (0x01, "new"),
    (0x02, "est"),
    (0x04, "rel"),
    (0x08, "rpl"),
    (0x10, "inv"),
    (0x20, "trk"),
    (0x40, "snat"),
    (0x80, "dnat"),
)

VLAN_CFI = 0x1000
