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

import collections
import errno
import select
import socket
import time
from collections.abc import Iterator

from . import errors
from .families import DatapathFamily, Family, VportFamily
from .netlink import (
    GENL_HDR,
    NLMSG_HDRLEN,
    OVS_HDR,
    SOL_NETLINK,
    Transport,
    messages_in,
    open_socket,
)

DP = DatapathFamily
VP = VportFamily
NETLINK_ADD_MEMBERSHIP = 1
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


_NOT_OPEN = "vport events are not subscribed: use VportEvents as a context manager or call open()"


class VportEvents:
    """Subscribe to vport events (context manager): of every datapath, or of
    ``datapath`` only (a name, or a ``Datapath``; it must exist on opening).

    :meth:`recv` takes a timeout, :meth:`iter` ends after a quiet
    ``timeout``, :meth:`fileno` suits ``select``; :attr:`overruns` counts
    the overflows.
    """

    def __init__(
        self, datapath=None, netns: str | None = None, rcvbuf: int = EVENTS_RCVBUF
    ) -> None:
        self.datapath = getattr(datapath, "name", datapath)
        self.netns = netns
        self.rcvbuf = rcvbuf
        self.overruns = 0
        self._sock: socket.socket | None = None
        self._transport: Transport | None = None
        self._names: dict[int, str] = {}
        self._pending: collections.deque[VportEvent] = collections.deque()
        self._families: dict[int, type[Family]] = {}

    # -- subscription -------------------------------------------------------

    def open(self) -> VportEvents:
        """Join the groups, then learn the datapaths' names; returns ``self``."""
        if self._sock is not None:
            return self
        try:
            transport = self._transport = Transport(netns=self.netns)
            sock = self._sock = open_socket(self.rcvbuf, self.netns)
            for family in (VP, DP):
                info = transport.family(family.name)
                self._families[info.id] = family
                # Joined before the datapaths are listed: nothing falls in between.
                sock.setsockopt(
                    SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, info.mcast_groups[family.mcgroup]
                )
            self._learn_names()
            if self.datapath is not None and self.datapath not in self._names.values():
                raise errors.NoSuchDatapath("datapath %s does not exist" % self.datapath)
        except BaseException:
            self.close()
            raise
        return self

    def _learn_names(self) -> None:
        self._names = {
            ifindex: attrs["name"]
            for ifindex, attrs in self._requests().dump(DP, DP.CMD_GET, what="datapaths")
        }

    def close(self) -> None:
        """Leave the groups (close the sockets); events not read are dropped."""
        for handle in (self._sock, self._transport):
            if handle is not None:
                handle.close()
        self._sock = self._transport = None
        self._pending.clear()

    def __enter__(self) -> VportEvents:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- receiving ----------------------------------------------------------

    def fileno(self) -> int:
        """The socket to poll: readable when :meth:`recv` has something to do."""
        return self._subscribed().fileno()

    def _subscribed(self) -> socket.socket:
        if self._sock is None:
            raise errors.OdpError(_NOT_OPEN)
        return self._sock

    def _requests(self) -> Transport:
        if self._transport is None:
            raise errors.OdpError(_NOT_OPEN)
        return self._transport

    def recv(self, timeout: float | None = None) -> VportEvent | None:
        """The next :class:`VportEvent`; ``None`` when ``timeout`` seconds
        passed first (``None`` blocks, ``0`` polls)."""
        sock = self._subscribed()
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._pending:
            remaining = None if deadline is None else max(deadline - time.monotonic(), 0)
            if not select.select([sock], [], [], remaining)[0]:
                return None
            self._read(sock)
        return self._pending.popleft()

    def iter(self, timeout: float | None = None) -> Iterator[VportEvent]:
        """The events as they come, until none came for ``timeout`` seconds
        (forever when ``None``)."""
        while True:
            event = self.recv(timeout)
            if event is None:
                return
            yield event

    def __iter__(self) -> Iterator[VportEvent]:
        return self.iter()

    def _read(self, sock: socket.socket) -> None:
        try:
            data = sock.recv(RECV_BUFSIZE)
        except OSError as exc:
            if exc.errno != errno.ENOBUFS:
                raise
            self.overruns += 1
            self._pending.append(VportEvent("overflow"))
            self._learn_names()  # datapath events may be among the lost
            return
        for offset, length, kind, _flags, _seq, portid in messages_in(data):
            family = self._families.get(kind)
            body = data[offset + NLMSG_HDRLEN : offset + length]
            if family is not None and len(body) >= GENL_HDR.size + OVS_HDR.size:
                event = self._event(family, body, portid)
                if event is not None and self.datapath in (None, event.datapath):
                    self._pending.append(event)

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
