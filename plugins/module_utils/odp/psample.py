# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""psample: packets sampled to a *group* by tc's ``sample`` action or a
datapath's ``psample`` action, sent to the ``packets`` multicast group of the
``psample`` generic netlink family (include/uapi/linux/psample.h).

:class:`SampleListener` reads them. The family (psample.ko, CONFIG_PSAMPLE)
is much older than the datapath's ``psample`` action (Linux 6.11), so
:func:`check_action` asks the datapath itself whether it takes that action:
it executes a packet with ``sample(probability=0, actions=[psample])``. The
kernel checks every nested action before running any, an older kernel refuses
the unknown one, and a probability of 0 runs nothing: no flow is written and
no sample is sent.

A sample belongs to the network namespace of the action that took it: listen
in that namespace (``netns``).
"""

from __future__ import annotations

import socket
from collections.abc import Iterable

from . import errors
from .attrs import AttrMap, Bytes, Flag, Int
from .keys import U16, U32
from .multicast import MulticastListener
from .netlink import GENL_HDR, Transport, in_netns
from .upcalls import execute

FAMILY = "psample"
MCGROUP = "packets"
CMD_SAMPLE = 0
# A sample carries up to a whole packet: room for bursts of them.
SAMPLES_RCVBUF = 4 << 20
RECV_BUFSIZE = 256 << 10
U64 = Int("=Q")

# PSAMPLE_ATTR_*: attribute 0 is a real one (the input ifindex).
SAMPLE_ATTRS = AttrMap(
    "psample",
    "psample_attr",
    [
        (0, "in_ifindex", U16),
        (1, "out_ifindex", U16),
        (2, "orig_size", U32),
        (3, "group", U32),
        (4, "seq", U32),
        (5, "rate", U32),
        (6, "data", Bytes()),
        (7, "group_refcount", U32),
        (8, "tunnel", Bytes()),
        (10, "out_tc", U16),
        (11, "out_tc_occ", U64),
        (12, "latency", U64),
        (13, "timestamp", U64),
        (14, "proto", U16),
        (15, "cookie", Bytes()),
        (16, "probability", Flag()),
    ],
    padding=9,
)

NO_SUPPORT = "psample is not supported by this kernel: "
# An Ethernet frame of IEEE's local experimental ethertype: only the probe's.
PROBE_PACKET = b"\xff" * 6 + b"\x02" + b"\0" * 5 + b"\x88\xb5" + b"\0" * 46
PROBE_ACTIONS = [("sample", {"probability": 0, "actions": [("psample", {"group": 0})]})]


class Sample:
    """One sampled packet.

    ``group`` is the psample group, ``seq`` the group's sample counter;
    ``in_ifindex``/``out_ifindex`` the devices it came in on and would go out
    of (``None`` when not known); ``packet`` its bytes (maybe truncated),
    ``orig_size`` its length before that; ``rate`` one in how many packets
    were sampled, or, when ``probability`` is true (the datapath's ``sample``
    action), the probability scaled to 0..2**32-1. ``cookie`` is the bytes a
    datapath ``psample`` action gave; ``timestamp`` (ns), ``proto`` (the
    packet's L2 protocol) and ``tunnel`` (raw PSAMPLE_TUNNEL_KEY_ATTR_*
    attributes) come when the kernel sends them.
    """

    __slots__ = (
        "cookie",
        "group",
        "in_ifindex",
        "orig_size",
        "out_ifindex",
        "packet",
        "probability",
        "proto",
        "rate",
        "seq",
        "timestamp",
        "tunnel",
    )

    def __init__(self, attrs: dict) -> None:
        self.group = attrs.get("group")
        self.seq = attrs.get("seq")
        self.in_ifindex = attrs.get("in_ifindex")
        self.out_ifindex = attrs.get("out_ifindex")
        self.packet = attrs.get("data", b"")
        self.orig_size = attrs.get("orig_size", len(self.packet))
        self.rate = attrs.get("rate")
        self.probability = bool(attrs.get("probability"))
        self.cookie = attrs.get("cookie")
        self.timestamp = attrs.get("timestamp")
        self.proto = attrs.get("proto")
        self.tunnel = attrs.get("tunnel")

    def __repr__(self) -> str:
        return "Sample(group=%r, seq=%r, in_ifindex=%r, %d of %d bytes)" % (
            self.group,
            self.seq,
            self.in_ifindex,
            len(self.packet),
            self.orig_size,
        )


def decode_sample(body: bytes) -> Sample | None:
    """The :class:`Sample` of one psample message (generic netlink header
    and attributes); ``None`` for another command."""
    if len(body) < GENL_HDR.size or GENL_HDR.unpack_from(body)[0] != CMD_SAMPLE:
        return None
    return Sample(SAMPLE_ATTRS.decode(body[GENL_HDR.size :]))


class SampleListener(MulticastListener[Sample]):
    """Subscribe to psample samples (context manager): of every group, or of
    ``groups`` only, in the caller's network namespace or ``netns``.

    :meth:`recv` takes a timeout, :meth:`iter` ends after a quiet
    ``timeout``, :meth:`fileno` suits ``select``; :attr:`overruns` counts the
    times the socket's buffer overflowed and the kernel dropped samples.
    Opening raises :class:`errors.Unsupported` on a kernel without psample.
    """

    what = "psample samples"
    recv_bufsize = RECV_BUFSIZE

    def __init__(
        self,
        groups: Iterable[int] | None = None,
        netns: str | None = None,
        rcvbuf: int = SAMPLES_RCVBUF,
    ) -> None:
        super().__init__(netns, rcvbuf)
        self.groups = (
            None
            if groups is None
            else frozenset(
                errors.check_int(
                    "group", group, 0, 0xFFFFFFFF, "a psample group is 0 to 4294967295"
                )
                for group in groups
            )
        )
        self._family_id: int | None = None

    def _subscribe(self) -> None:
        with Transport(netns=self.netns) as transport:
            info = transport.family(FAMILY)
        if info is None or MCGROUP not in info.mcast_groups:
            raise errors.Unsupported(
                NO_SUPPORT + "it has no psample generic netlink family (CONFIG_PSAMPLE)"
            )
        self._join(info.mcast_groups[MCGROUP])
        self._family_id = info.id

    def _decode(self, kind: int, portid: int, body: bytes) -> Sample | None:
        if kind != self._family_id:
            return None
        sample = decode_sample(body)
        if sample is None or (self.groups is not None and sample.group not in self.groups):
            return None
        return sample


def check_action(transport: Transport, datapath: str, dp_ifindex: int) -> None:
    """Return when datapath ``datapath`` takes ``psample`` actions;
    :class:`errors.Unsupported` otherwise (see the module's docstring)."""
    try:
        execute(dp_ifindex, PROBE_PACKET, PROBE_ACTIONS, transport=transport)
    except errors.KernelRejected as exc:
        raise errors.Unsupported(
            NO_SUPPORT + "its openvswitch module refuses the psample action of datapath %s "
            "(OVS_ACTION_ATTR_PSAMPLE, Linux 6.11+): %s" % (datapath, exc)
        )


def interface_names(netns: str | None = None) -> dict[int, str]:
    """``{ifindex: name}`` of the network devices of ``netns`` (or the caller's)."""
    if netns is not None:
        return in_netns(netns, interface_names)
    return dict(socket.if_nameindex())
