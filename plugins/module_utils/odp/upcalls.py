# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Upcalls (packets the datapath sends to userspace) and packet execution.

The kernel sends an upcall for a packet that matches no flow (``miss``) or
that hits a ``userspace`` action (``action``), as an ``ovs_packet`` message
unicast to a netlink port id:

* per-CPU dispatch (datapath feature ``dispatch_upcall_per_cpu``, kernels
  >= 5.14): misses go to ``OVS_DP_ATTR_PER_CPU_PIDS[cpu]`` of the datapath;
* per-vport dispatch: misses go to the ``OVS_VPORT_ATTR_UPCALL_PID`` of the
  vport the packet came in on;
* ``userspace`` actions name their port id in the action itself
  (:attr:`Listener.portid`), whatever the mode.

:class:`Listener` does what ovs-vswitchd's dpif-netlink does
(``dpif_netlink_refresh_handlers_cpu_dispatch`` and
``..._vport_dispatch``), with one socket: it points the datapath, or every
vport and every vport created while it listens, at its socket, and puts the
previous port ids back when it closes.
"""

from __future__ import annotations

import array
import collections
import errno
import os
import select
import socket
import time
from collections.abc import Iterator
from typing import Any

from . import errors
from .attrs import CodecError
from .families import DatapathFamily, PacketFamily, VportFamily
from .netlink import (
    GENL_HDR,
    NETLINK_ADD_MEMBERSHIP,
    NLMSG_ERROR,
    NLMSG_HDRLEN,
    OVS_HDR,
    SOL_NETLINK,
    Transport,
    messages_in,
    open_socket,
)

NETLINK_NO_ENOBUFS = 5
# An upcall carries the whole packet (up to 64 KiB after GSO segmentation) and
# its key: size the buffer so that no upcall is ever truncated.
UPCALL_BUFSIZE = 256 << 10
# Bursts of misses must queue in the socket rather than be lost.
UPCALL_RCVBUF = 16 << 20
ETH_HLEN = 14
# nla_len is 16 bits: the packet attribute holds at most this many bytes.
MAX_PACKET = 0xFFFF - 4

_CMDS = {PacketFamily.CMD_MISS: "miss", PacketFamily.CMD_ACTION: "action"}


class Upcall:
    """One packet sent up by the kernel.

    ``cmd`` is ``"miss"`` or ``"action"``; ``key`` the flow key the kernel
    extracted (``dict`` as decoded by ``keys.FLOW_KEY``); ``userdata`` the
    bytes of the ``userspace`` action (``None`` for a miss); ``actions`` the
    flow's actions when the ``userspace`` action asked for them.
    """

    __slots__ = (
        "actions",
        "cmd",
        "datapath",
        "hash",
        "in_port",
        "key",
        "length",
        "mru",
        "packet",
        "userdata",
    )

    def __init__(
        self,
        cmd: str,
        datapath: str,
        key: dict[str, Any],
        packet: bytes,
        userdata: bytes | None = None,
        actions: list | None = None,
        length: int | None = None,
        hash: int | None = None,  # pylint: disable=redefined-builtin
        mru: int | None = None,
    ) -> None:
        self.cmd = cmd
        self.datapath = datapath
        self.key = key
        self.in_port = key.get("in_port")
        self.packet = packet
        self.userdata = userdata
        self.actions = actions
        self.length = length  # original length when the packet was truncated
        self.hash = hash
        self.mru = mru

    def __repr__(self):
        return "Upcall(%s, datapath=%r, in_port=%r, %d bytes)" % (
            self.cmd,
            self.datapath,
            self.in_port,
            len(self.packet),
        )


def _datapath(transport, name):
    """``(dp_ifindex, attrs)`` of datapath ``name``."""
    what = "datapath %s" % name
    try:
        attrs = DatapathFamily.attrs.encode([("name", name)])
    except CodecError as exc:
        raise errors.ValidationError("datapath", name, str(exc))
    replies = transport.request(
        DatapathFamily, DatapathFamily.CMD_GET, 0, attrs, what=what, missing=errors.NoSuchDatapath
    )
    return replies[0]


def possible_cpus():
    """How many CPU ids the kernel may run on (nr_cpu_ids, the length of a
    per-CPU pid array); None when /sys does not say."""
    try:
        with open("/sys/devices/system/cpu/possible") as handle:
            last = handle.read().strip().split(",")[-1].split("-")[-1]
        return int(last) + 1
    except (OSError, ValueError):
        return None


def pack_pids(*pids):
    """Netlink port ids as the kernel takes them: an array of native u32."""
    return array.array("I", pids).tobytes()


class Listener:
    """Receive the upcalls of one datapath (context manager).

    ``Listener("dp0")`` subscribes on entry (or :meth:`open`) and restores
    the previous upcall port ids on exit (or :meth:`close`).  Use
    :meth:`recv` with a timeout, :meth:`fileno` with ``select``/``poll``, or
    iterate (blocking) over the upcalls.  :attr:`portid` is the port id to
    put in ``userspace`` actions so that their upcalls come here.

    Per-CPU dispatch cannot be restored: the kernel does not report the
    previous per-CPU port ids, so they stay pointed at this (closed) socket
    and misses are counted as ``lost`` until someone else subscribes, as
    after an ovs-vswitchd exit.

    ``transport`` (a :class:`netlink.Transport` or a ``Client``) is used for
    the control requests (a new one when ``None``); the upcalls arrive on a
    socket of the listener's own.
    """

    def __init__(self, datapath: str, transport: Any = None) -> None:
        transport = getattr(transport, "transport", transport)  # a Client's
        self.datapath = datapath
        self.dp_ifindex: int | None = None
        self.per_cpu: bool | None = None  # the kernel's per-CPU upcall dispatch
        self.portid: int | None = None
        self.overruns = 0  # receive-buffer overflows: upcalls lost in userspace
        self._transport: Transport | None = transport
        self._own_transport = transport is None
        self._sock: socket.socket | None = None
        self._buf = bytearray(UPCALL_BUFSIZE)
        self._pending: collections.deque[Upcall] = collections.deque()
        # port_no -> upcall_pids bytes before we took the vport
        self._saved: dict[int, bytes] = {}
        self._packet_family: int | None = None
        self._vport_family: int | None = None

    # -- subscription -------------------------------------------------------

    def open(self) -> Listener:
        """Subscribe to the datapath's upcalls; returns ``self``."""
        if self._sock is not None:
            return self
        if self._transport is None:
            self._transport = Transport()
        try:
            self._subscribe()
        except BaseException:
            self.close()
            raise
        return self

    def _subscribe(self) -> None:
        transport = self._requests()
        self.dp_ifindex, attrs = _datapath(transport, self.datapath)
        features = attrs.get("user_features", 0)
        self.per_cpu = bool(features & DatapathFamily.F_DISPATCH_UPCALL_PER_CPU)
        self._packet_family = transport.family(PacketFamily.name).id
        vports = transport.family(VportFamily.name)
        self._vport_family = vports.id
        # In the datapath's network namespace: a port id names a socket of its own one.
        self._sock = open_socket(UPCALL_RCVBUF, transport.netns)
        self.portid = self._sock.getsockname()[0]
        if self.per_cpu:
            # The kernel resets user features a SET leaves out: send them back.
            attrs = DatapathFamily.attrs.encode(
                [
                    ("user_features", features),
                    (
                        "per_cpu_pids",
                        pack_pids(*[self.portid] * (possible_cpus() or os.cpu_count() or 1)),
                    ),
                ]
            )
            transport.request(
                DatapathFamily,
                DatapathFamily.CMD_SET,
                self.dp_ifindex,
                attrs,
                what="datapath %s" % self.datapath,
                missing=errors.NoSuchDatapath,
            )
            return
        # Join the vport group before listing, so no vport created meanwhile is missed.
        self._sock.setsockopt(
            SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, vports.mcast_groups[VportFamily.mcgroup]
        )
        for _ifindex, vport in transport.dump(
            VportFamily,
            VportFamily.CMD_GET,
            self.dp_ifindex,
            what="vports of datapath %s" % self.datapath,
        ):
            self._take_vport(vport)

    def _take_vport(self, vport):
        port_no = vport["port_no"]
        self._saved.setdefault(port_no, vport.get("upcall_pids", pack_pids(0)))
        self._set_vport_pids(port_no, pack_pids(self.portid), vport.get("name", port_no))

    def _set_vport_pids(self, port_no, pids, name):
        attrs = VportFamily.attrs.encode([("port_no", port_no), ("upcall_pids", pids)])
        self._requests().request(
            VportFamily,
            VportFamily.CMD_SET,
            self.dp_ifindex,
            attrs,
            what="vport %s of datapath %s" % (name, self.datapath),
            missing=errors.NoSuchVport,
        )

    def close(self) -> None:
        """Give the vports their previous port ids back and close the sockets."""
        try:
            for port_no, pids in sorted(self._saved.items()):
                try:
                    self._set_vport_pids(port_no, pids, port_no)
                except errors.NotFound:
                    pass  # the vport or the datapath went away meanwhile
            self._saved.clear()
        finally:
            if self._sock is not None:
                self._sock.close()
                self._sock = None
            if self._own_transport and self._transport is not None:
                self._transport.close()
                self._transport = None

    def __enter__(self) -> Listener:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- receiving ----------------------------------------------------------

    def fileno(self) -> int:
        """The socket to poll: readable when :meth:`recv` has something to do."""
        return self._subscribed().fileno()

    def _subscribed(self) -> socket.socket:
        if self._sock is None:
            raise errors.OdpError(
                "the listener of datapath %s is not subscribed: use it as a "
                "context manager or call open()" % self.datapath
            )
        return self._sock

    def _requests(self) -> Transport:
        if self._transport is None:
            raise errors.OdpError("the listener of datapath %s is closed" % self.datapath)
        return self._transport

    def recv(self, timeout: float | None = None) -> Upcall | None:
        """The next :class:`Upcall`; ``None`` when ``timeout`` seconds passed first.

        ``timeout=None`` blocks; ``0`` polls.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._pending:
            if deadline is not None:
                remaining = max(deadline - time.monotonic(), 0)
                if not select.select([self._subscribed()], [], [], remaining)[0]:
                    return None
            self._read()
        return self._pending.popleft()

    def __iter__(self) -> Iterator[Upcall]:
        while True:
            upcall = self.recv()
            if upcall is not None:  # always, without a timeout
                yield upcall

    def _read(self):
        """One datagram: upcalls are queued, vport notifications acted upon."""
        try:
            size = self._subscribed().recv_into(self._buf, UPCALL_BUFSIZE, socket.MSG_TRUNC)
        except OSError as exc:
            if exc.errno == errno.ENOBUFS:
                # The socket overflowed: some upcalls are gone, the next ones are fine.
                self.overruns += 1
                return
            raise
        if size > UPCALL_BUFSIZE:
            raise errors.OdpError(
                "an upcall of datapath %s of %d bytes exceeds the %d-byte "
                "buffer" % (self.datapath, size, UPCALL_BUFSIZE)
            )
        data = memoryview(self._buf)[:size]
        for offset, length, kind, _flags, _seq, _pid in messages_in(data):
            self._dispatch(kind, data[offset + NLMSG_HDRLEN : offset + length])

    def _dispatch(self, kind, payload):
        if kind == NLMSG_ERROR or len(payload) < GENL_HDR.size + OVS_HDR.size:
            return
        cmd = GENL_HDR.unpack_from(payload)[0]
        body = payload[GENL_HDR.size :]
        if OVS_HDR.unpack_from(body)[0] != self.dp_ifindex:
            return
        attrs = bytes(body[OVS_HDR.size :])
        if kind == self._packet_family and cmd in _CMDS:
            self._pending.append(self._upcall(cmd, attrs))
        elif kind == self._vport_family and cmd == VportFamily.CMD_NEW:
            # A vport added while we listen: take its upcalls too.
            try:
                self._take_vport(VportFamily.attrs.decode(attrs))
            except errors.NotFound:
                pass  # already deleted again

    def _upcall(self, cmd, raw):
        attrs = PacketFamily.attrs.decode(raw)
        return Upcall(
            _CMDS[cmd],
            self.datapath,
            attrs.get("key", {}),
            attrs.get("packet", b""),
            userdata=attrs.get("userdata"),
            actions=attrs.get("actions"),
            length=attrs.get("len"),
            hash=attrs.get("hash"),
            mru=attrs.get("mru"),
        )


def execute(
    datapath: str | int,
    packet: bytes,
    actions: list,
    key: dict[str, Any] | None = None,
    transport: Any = None,
) -> None:
    """Run ``actions`` on ``packet`` (an Ethernet frame, ``bytes``) in ``datapath``.

    ``OVS_PACKET_CMD_EXECUTE`` with an ack that is read here, so a kernel
    refusal is raised (naming the datapath) and no stray ack is left on the
    socket.  ``key`` adds metadata (``in_port``, ``skb_mark``, ``tunnel``...);
    ``transport`` (a :class:`netlink.Transport` or a ``Client``) is used
    when given (a new one otherwise).
    """
    transport = getattr(transport, "transport", transport)  # a Client's
    if not isinstance(packet, (bytes, bytearray, memoryview)):
        raise errors.ValidationError("packet", packet, "must be bytes (an Ethernet frame)")
    packet = bytes(packet)
    if not ETH_HLEN <= len(packet) <= MAX_PACKET:
        raise errors.ValidationError(
            "packet",
            "%d bytes" % len(packet),
            "an Ethernet frame of %d to %d bytes is needed" % (ETH_HLEN, MAX_PACKET),
        )
    if key is None:
        # The kernel extracts every header from the packet itself
        # (ovs_flow_key_extract_userspace); the key only carries metadata and an
        # Ethernet frame needs none: without in_port it enters by the local port.
        key = {}
    attrs = (
        PacketFamily.attrs.encode_one("packet", packet)
        + _encode("key", key)
        + _encode("actions", actions)
    )
    own = transport is None
    transport = transport or Transport()
    try:
        dp_ifindex = _datapath(transport, datapath)[0] if isinstance(datapath, str) else datapath
        transport.request(
            PacketFamily,
            PacketFamily.CMD_EXECUTE,
            dp_ifindex,
            attrs,
            what="datapath %s" % datapath,
            missing=errors.NoSuchDatapath,
        )
    finally:
        if own:
            transport.close()


def _encode(field, value):
    """One attribute of an execute request; bad values are the caller's error."""
    try:
        return PacketFamily.attrs.encode_one(field, value)
    except (CodecError, AttributeError, TypeError, ValueError) as exc:
        raise errors.ValidationError(field, value, str(exc))
