# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Vport events: the ``ovs_vport`` multicast group, as go-odp's
``ConsumeVportEvents`` reads it.

The kernel tells the group of every vport created, deleted (by a request, or
because its network device went away) and changed (upcall port ids). It
says nothing of the vports of a datapath being deleted, nor of the
datapath's local port, so the ``ovs_datapath`` group is read too: a
datapath's creation and deletion are events of their own.

When the socket's buffer overflows the kernel drops events and says so
(ENOBUFS) once: that is an ``overflow`` event, in its place in the stream,
after which a caller that keeps a picture of the vports lists them again.

:class:`VportEvents` has sockets of its own (in the caller's network
namespace, or ``netns``), so it can be read in a thread of its own while a
``Client`` works in another.
"""

from __future__ import annotations

from typing import NoReturn

from . import errors
from .families import DatapathFamily, Family, VportFamily
from .multicast import MulticastListener
from .netlink import GENL_HDR, OVS_HDR, Transport

DP = DatapathFamily
VP = VportFamily
# Room for bursts of events (a vport event is about 150 bytes).
EVENTS_RCVBUF = 1 << 20
RECV_BUFSIZE = 64 << 10

_VPORT_KINDS = {VP.CMD_NEW: "created", VP.CMD_DEL: "deleted", VP.CMD_SET: "changed"}
_DATAPATH_KINDS = {DP.CMD_NEW: "datapath_created", DP.CMD_DEL: "datapath_deleted"}


class VportEvent:
    """One event.

    ``kind`` is ``created``, ``deleted`` or ``changed`` (a vport);
    ``datapath_created`` or ``datapath_deleted`` (``name`` and ``port_no``
    0 are then the datapath's local port; on deletion every vport of the
    datapath went with it, without events of their own); or ``overflow``
    (events were lost; every other field is ``None``). ``type`` is the
    kernel's vport type (a tunnel made as a netdev is a ``netdev``);
    ``portid`` the netlink port id of the request's sender, 0 when the
    kernel acted by itself (a vport's network device went away).
    """

    __slots__ = ("datapath", "dp_ifindex", "kind", "name", "port_no", "portid", "type")

    def __init__(
        self,
        kind: str,
        datapath: str | None = None,
        dp_ifindex: int | None = None,
        name: str | None = None,
        type: str | None = None,
        port_no: int | None = None,  # pylint: disable=redefined-builtin
        portid: int | None = None,
    ) -> None:
        self.kind = kind
        self.datapath = datapath
        self.dp_ifindex = dp_ifindex
        self.name = name
        self.type = type
        self.port_no = port_no
        self.portid = portid

    def __repr__(self) -> str:
        if self.kind == "overflow":
            return "VportEvent(overflow)"
        return "VportEvent(%s, datapath=%r, name=%r, type=%r, port_no=%r)" % (
            self.kind,
            self.datapath,
            self.name,
            self.type,
            self.port_no,
        )


class VportEvents(MulticastListener[VportEvent]):
    """Subscribe to vport events (context manager): of every datapath, or of
    ``datapath`` only (a name, or a ``Datapath``; it must exist on opening).

    :meth:`recv` takes a timeout, :meth:`iter` ends after a quiet
    ``timeout``, :meth:`fileno` suits ``select``; :attr:`overruns` counts
    the overflows.
    """

    what = "vport events"
    recv_bufsize = RECV_BUFSIZE

    def __init__(
        self, datapath=None, netns: str | None = None, rcvbuf: int = EVENTS_RCVBUF
    ) -> None:
        super().__init__(netns, rcvbuf)
        self.datapath = getattr(datapath, "name", datapath)
        self._transport: Transport | None = None
        self._names: dict[int, str] = {}
        self._families: dict[int, type[Family]] = {}

    # -- subscription -------------------------------------------------------

    def _subscribe(self) -> None:
        transport = self._transport = Transport(netns=self.netns)
        for family in (VP, DP):
            info = transport.family(family.name)
            self._families[info.id] = family
            # Joined before the datapaths are listed: nothing falls in between.
            self._join(info.mcast_groups[family.mcgroup])
        self._learn_names()
        if self.datapath is not None and self.datapath not in self._names.values():
            raise errors.NoSuchDatapath("datapath %s does not exist" % self.datapath)

    def _learn_names(self) -> None:
        self._names = {
            ifindex: attrs["name"]
            for ifindex, attrs in self._requests().dump(DP, DP.CMD_GET, what="datapaths")
        }

    def close(self) -> None:
        """Leave the groups (close the sockets); events not read are dropped."""
        if self._transport is not None:
            self._transport.close()
        self._transport = None
        super().close()

    def _requests(self) -> Transport:
        if self._transport is None:
            raise self._not_open()
        return self._transport

    # -- receiving ----------------------------------------------------------

    def _read_failed(self, exc: OSError) -> NoReturn:
        raise exc

    def _overflowed(self) -> None:
        self._pending.append(VportEvent("overflow"))
        self._learn_names()  # datapath events may be among the lost

    def _decode(self, kind: int, portid: int, body: bytes) -> VportEvent | None:
        family = self._families.get(kind)
        if family is None or len(body) < GENL_HDR.size + OVS_HDR.size:
            return None
        event = self._event(family, body, portid)
        if event is None or self.datapath not in (None, event.datapath):
            return None
        return event

    def _event(self, family: type[Family], body: bytes, portid: int) -> VportEvent | None:
        cmd = GENL_HDR.unpack_from(body)[0]
        dp_ifindex = OVS_HDR.unpack_from(body, GENL_HDR.size)[0]
        attrs = family.attrs.decode(body[GENL_HDR.size + OVS_HDR.size :])
        if family is DP:
            kind = _DATAPATH_KINDS.get(cmd)
            if kind is None or "name" not in attrs:
                return None
            name = attrs["name"]
            if kind == "datapath_created":
                self._names[dp_ifindex] = name
            else:
                self._names.pop(dp_ifindex, None)
            return VportEvent(kind, name, dp_ifindex, name, "internal", 0, portid)
        kind = _VPORT_KINDS.get(cmd)
        if kind is None:
            return None
        vport_type = attrs.get("type")
        return VportEvent(
            kind,
            self._name(dp_ifindex),
            dp_ifindex,
            attrs.get("name"),
            VP.TYPES.get(vport_type, "type%s" % vport_type),
            attrs.get("port_no"),
            portid,
        )

    def _name(self, dp_ifindex: int) -> str:
        """The name of datapath ``dp_ifindex`` (asked for once when unknown)."""
        name = self._names.get(dp_ifindex)
        if name is None:
            try:
                ((_ifindex, attrs),) = self._requests().request(
                    DP,
                    DP.CMD_GET,
                    dp_ifindex,
                    what="datapath #%d" % dp_ifindex,
                    missing=errors.NoSuchDatapath,
                )
                name = attrs["name"]
            except errors.NotFound:
                name = "#%d" % dp_ifindex  # gone already
            self._names[dp_ifindex] = name
        return name
