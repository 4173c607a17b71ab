# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ODP generic netlink families: one class each, with its commands and a
declarative map of its top-level attributes (see linux/openvswitch.h)."""

from typing import cast

from .actions import ACTION_LIST
from .attrs import AttrMap, Bytes, Codec, Flag, Int, Nested, String, Struct
from .keys import FLOW_KEY, U32

U64 = Int("=Q")
KEY = Nested(FLOW_KEY)


def _stats(*names):
    return Struct([(name, "Q", "int") for name in names], byteorder="=")


class Family:
    """A generic netlink family of the datapath: name, version, commands, attributes."""

    # Set by each family.
    name: str
    attrs: AttrMap
    version = 1
    # Commands shared by most families (OVS_*_CMD_*).
    CMD_NEW = 1
    CMD_DEL = 2
    CMD_GET = 3
    CMD_SET = 4


class DatapathFamily(Family):
    name = "ovs_datapath"
    mcgroup = "ovs_datapath"
    # OVS_DP_F_* user features.
    F_UNALIGNED = 1 << 0
    F_VPORT_PIDS = 1 << 1
    F_TC_RECIRC_SHARING = 1 << 2
    F_DISPATCH_UPCALL_PER_CPU = 1 << 3
    FEATURE_NAMES = (
        (F_UNALIGNED, "unaligned"),
        (F_VPORT_PIDS, "vport_pids"),
        (F_TC_RECIRC_SHARING, "tc_recirc_sharing"),
        (F_DISPATCH_UPCALL_PER_CPU, "dispatch_upcall_per_cpu"),
    )
    attrs = AttrMap(
        "datapath",
        "dp_attr",
        [
            (1, "name", String()),
            (2, "upcall_pid", U32),
            (3, "stats", _stats("hit", "missed", "lost", "flows")),
            (
                4,
                "megaflow_stats",
                Struct(
                    [
                        ("mask_hit", "Q", "int"),
                        ("masks", "I", "int"),
                        (None, "I", None),
                        ("cache_hit", "Q", "int"),
                        (None, "Q", None),
                    ],
                    byteorder="=",
                ),
            ),
            (5, "user_features", U32),
            (7, "masks_cache_size", U32),
            (8, "per_cpu_pids", Bytes()),
            (9, "ifindex", U32),
        ],
        padding=6,
    )


class VportFamily(Family):
    name = "ovs_vport"
    mcgroup = "ovs_vport"
    # OVS_VPORT_TYPE_*
    TYPES = {1: "netdev", 2: "internal", 3: "gre", 4: "vxlan", 5: "geneve"}
    TYPE_IDS = {name: number for number, name in TYPES.items()}
    options = AttrMap(
        "vport options",
        "option",
        [
            (1, "dst_port", Int("=H")),
            (2, "extension", Bytes()),
        ],
    )
    attrs = AttrMap(
        "vport",
        "vport_attr",
        [
            (1, "port_no", U32),
            (2, "type", U32),
            (3, "name", String()),
            (4, "options", Nested(options)),
            (5, "upcall_pids", Bytes()),
            (
                6,
                "stats",
                _stats(
                    "rx_packets",
                    "tx_packets",
                    "rx_bytes",
                    "tx_bytes",
                    "rx_errors",
                    "tx_errors",
                    "rx_dropped",
                    "tx_dropped",
                ),
            ),
            (8, "ifindex", U32),
            (9, "netnsid", Int("=i")),
            (10, "upcall_stats", Bytes()),
        ],
        padding=7,
    )


class FlowFamily(Family):
    name = "ovs_flow"
    mcgroup = "ovs_flow"
    attrs = AttrMap(
        "flow",
        "flow_attr",
        [
            (1, "key", KEY),
            (2, "actions", ACTION_LIST),
            (3, "stats", _stats("packets", "bytes")),
            (4, "tcp_flags", Int("=B", "hex")),
            (5, "used", U64),
            (6, "clear", Flag()),
            (7, "mask", KEY),
            (8, "probe", Flag()),
            (9, "ufid", Bytes()),
            (10, "ufid_flags", U32),
        ],
        padding=11,
    )


class PacketFamily(Family):
    name = "ovs_packet"
    CMD_MISS = 1
    CMD_ACTION = 2
    CMD_EXECUTE = 3
    attrs = AttrMap(
        "packet",
        "packet_attr",
        [
            (1, "packet", Bytes()),
            (2, "key", KEY),
            (3, "actions", ACTION_LIST),
            (4, "userdata", Bytes()),
            (5, "egress_tun_key", Bytes()),
            (8, "probe", Flag()),
            (9, "mru", Int("=H")),
            (10, "len", U32),
            (11, "hash", U64),
            (12, "upcall_pid", U32),
        ],
    )


class MeterFamily(Family):
    """``ovs_meter`` (Linux 4.15+): rate limiters that flows name in ``meter`` actions.

    The kernel reports a meter's statistics only, never its bands or unit.
    """

    name = "ovs_meter"
    mcgroup = "ovs_meter"
    # OVS_METER_CMD_*: numbered unlike the other families.
    CMD_FEATURES = 1
    CMD_SET = 2
    CMD_NEW = CMD_SET
    CMD_DEL = 3
    CMD_GET = 4
    # OVS_METER_BAND_TYPE_*: the kernel stores any number, only drop acts.
    BAND_TYPES = {1: "drop"}
    BAND_TYPE_IDS = {name: number for number, name in BAND_TYPES.items()}
    band = AttrMap(
        "band",
        "band_attr",
        [
            (1, "type", U32),
            (2, "rate", U32),
            (3, "burst", U32),
            (4, "stats", _stats("packets", "bytes")),
        ],
    )
    attrs = AttrMap(
        "meter",
        "meter_attr",
        [
            (1, "id", U32),
            (2, "kbps", Flag()),
            (3, "stats", _stats("packets", "bytes")),
            (
                4,
                "bands",
                Nested(AttrMap("bands", "band", [(0, "band", Nested(band))]), ordered=True),
            ),
            (5, "used", U64),
            (6, "clear", Flag()),
            (7, "max_meters", U32),
            (8, "max_bands", U32),
        ],
        padding=9,
    )


class ZoneLimits(Codec):
    """``OVS_CT_LIMIT_ATTR_ZONE_LIMIT``: an array of ``struct ovs_zone_limit``
    (not attributes); value a list of ``{"zone_id", "limit", "count"}``.
    The kernel skips a trailing partial struct, and so does the decoder."""

    kind = "struct"
    entry = Struct(
        [("zone_id", "i", "int"), ("limit", "I", "int"), ("count", "I", "int")], byteorder="="
    )

    def encode(self, value):
        return b"".join(self.entry.encode(item) for item in value)

    def decode(self, raw):
        size = cast(int, self.entry.size)  # a fixed struct
        return [
            self.entry.decode(raw[offset : offset + size])
            for offset in range(0, len(raw) - size + 1, size)
        ]


class CtLimitFamily(Family):
    """``ovs_ct_limit`` (Linux 4.18+): connection limits per conntrack zone.

    Limits belong to the network namespace, not to a datapath.
    """

    name = "ovs_ct_limit"
    mcgroup = "ovs_ct_limit"
    CMD_SET = 1
    CMD_DEL = 2
    CMD_GET = 3
    # OVS_ZONE_LIMIT_DEFAULT_ZONE: the entry for zones without a limit of their own.
    DEFAULT_ZONE = -1
    attrs = AttrMap(
        "ct limit",
        "ct_limit_attr",
        [
            (1, "zone_limits", ZoneLimits()),
        ],
    )
