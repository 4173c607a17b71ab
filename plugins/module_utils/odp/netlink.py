# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generic netlink transport for the ODP families.

The transport is a plain stdlib ``socket.socket(AF_NETLINK, SOCK_RAW,
NETLINK_GENERIC)``, not pyroute2's socket classes: pyroute2's synchronous API
differs between 0.7.2 (Debian 12) and 0.9.x (asyncio core), and its
per-message overhead cannot meet the throughput targets (dumping and
installing ~100k flows/s).  pyroute2 is used only for rtnetlink
(``tunnels.py``), where its API is stable.

Framing: ``nlmsghdr`` + ``genlmsghdr`` + ``ovs_header`` (``int dp_ifindex``),
then the attributes encoded by ``attrs.py``.  Errors come back as
``NLMSG_ERROR``; with ``NETLINK_EXT_ACK`` the kernel adds a text message
(``NLMSGERR_ATTR_MSG``) that is attached to the raised error, and with
``NETLINK_CAP_ACK`` it does not echo our (possibly large) request in the ack.

Errors: :func:`error_for` is the single errno -> exception table.  The
transport raises :class:`KernelError` (errno + extended ACK); callers turn it
into an :mod:`errors` exception naming their object with
:meth:`KernelError.to_error`, which :meth:`Transport.request` does for them.

Dumps restart from scratch on ``NLM_F_DUMP_INTR`` and ``ENOBUFS``: the raw
replies of one dump are collected first and decoded only once the dump
completed (``NLMSG_DONE``), so a restart discards the partial dump and callers
never see duplicates or a mix of two snapshots.

One transport is one socket and must not be shared between threads.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from typing import Union

from . import errors
from .attrs import AttrMap, Int, Nested, String, iter_attrs, pack_attr
from .families import DatapathFamily, FlowFamily, PacketFamily, VportFamily

NETLINK_GENERIC = 16
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11
SO_SNDBUFFORCE = 32
SO_RCVBUFFORCE = 33
CLONE_NEWNET = 0x40000000

NLMSG_ERROR = 2
NLMSG_DONE = 3
NLMSG_OVERRUN = 4

NLM_F_REQUEST = 0x01
NLM_F_MULTI = 0x02
NLM_F_ACK = 0x04
NLM_F_ECHO = 0x08
NLM_F_DUMP_INTR = 0x10
NLM_F_DUMP = 0x300
NLM_F_REPLACE = 0x100
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
# Flags of an NLMSG_ERROR message.
NLM_F_CAPPED = 0x100
NLM_F_ACK_TLVS = 0x200
NLMSGERR_ATTR_MSG = 1

NLMSG_HDR = struct.Struct("=IHHII")  # len, type, flags, seq, portid
ERR_HDR = struct.Struct("=iIHHII")  # error, then the request's nlmsghdr
GENL_HDR = struct.Struct("=BBH")  # cmd, version, reserved
# Request header of the ODP families: nlmsghdr + genlmsghdr + ovs_header.
OVS_REQ = struct.Struct("=IHHIIBBHi")
OVS_HDR = struct.Struct("=i")
NLMSG_HDRLEN = NLMSG_HDR.size
GENL_HDRLEN = NLMSG_HDRLEN + GENL_HDR.size
OVS_HDRLEN = OVS_REQ.size

GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3

# Enough for the largest dump datagram (the kernel caps those near 32 KiB) and
# any unicast reply; replies longer than this are reported, never truncated.
RECV_BUFSIZE = 1 << 20
RCVBUF = 8 << 20
# The send buffer asked for. netlink_sendmsg() refuses (EMSGSIZE) a datagram
# longer than the socket's sk_sndbuf - 32, and the default (wmem_default,
# ~208 KiB) is less than a batch of large flows: set it, and bound batches by
# what the kernel granted (SO_SNDBUFFORCE as root, else capped at wmem_max).
SNDBUF = 1 << 20
SNDBUF_OVERHEAD = 32  # what netlink_sendmsg keeps back from sk_sndbuf
SNDBUF_MARGIN = 1024
# Requests per send() in a transaction. dpif-netlink sends 50, each acked;
# with one ack per batch, larger batches save system calls.
BATCH_MESSAGES = 1000
BATCH_BYTES = 256 << 10
DUMP_RETRIES = 5

_MCAST_GROUP = AttrMap(
    "mcast group",
    "grp_attr",
    [
        (1, "name", String()),
        (2, "id", Int("=I")),
    ],
)
# CTRL_ATTR_MCAST_GROUPS is an array: entry i is attribute i.
_MCAST_GROUPS = AttrMap(
    "mcast groups", "grp", [(i, "grp%d" % i, Nested(_MCAST_GROUP)) for i in range(1, 65)]
)
CTRL = AttrMap(
    "ctrl",
    "ctrl_attr",
    [
        (1, "family_id", Int("=H")),
        (2, "family_name", String()),
        (3, "version", Int("=I")),
        (4, "hdrsize", Int("=I")),
        (5, "maxattr", Int("=I")),
        (7, "mcast_groups", Nested(_MCAST_GROUPS)),
    ],
)

# Verbs of the ODP commands, for error messages (OVS_*_CMD_NEW/DEL/GET/SET).
_VERBS = {1: "create", 2: "delete", 3: "get", 4: "set"}
_PACKET_VERBS = {PacketFamily.CMD_EXECUTE: "execute a packet on"}
_REQUIRED = frozenset((DatapathFamily.name, VportFamily.name, FlowFamily.name, PacketFamily.name))


class KernelError(Exception):
    """An ``NLMSG_ERROR`` from the kernel: ``errno`` and the extended-ACK text.

    Internal to the library: :meth:`to_error` turns it into the
    :mod:`errors` exception callers see.
    """

    def __init__(self, code, extack=None):
        Exception.__init__(self, code, extack)
        self.errno = code
        self.extack = extack

    def __str__(self):
        text = os.strerror(self.errno)
        return "%s (%s)" % (text, self.extack) if self.extack else text

    def to_error(self, op, what, missing=errors.NotFound):
        """The :mod:`errors` exception for this failure of ``op`` on ``what``."""
        return error_for(self.errno, op, what, missing, self.extack)


# What error_for raises for ENOENT/ENODEV: one class, or a class and the
# object's name per errno.
Missing = Union[type[errors.OdpError], dict[int, tuple[type[errors.OdpError], str]]]


def error_for(
    code: int, op: str, what: str, missing: Missing = errors.NotFound, extack: str | None = None
) -> errors.OdpError:
    """The errno -> exception table.

    ``op`` is the verb (``create``), ``what`` the object (``datapath dp0``,
    ``flow in_port(1),eth() in datapath dp0``) and ``missing`` the
    :class:`errors.NotFound` subclass for ENOENT/ENODEV on that object, or a
    ``dict`` errno -> ``(subclass, what)`` where the two differ (flows: ENODEV
    is the datapath, ENOENT the flow).
    """
    cls: type[errors.OdpError]
    if isinstance(missing, dict) and code in missing:
        missing, what = missing[code]
    elif isinstance(missing, dict):
        missing = errors.NotFound
    if code in (errno.EPERM, errno.EACCES):
        cls, text = (
            errors.PermissionDenied,
            ("cannot %s %s: permission denied, root or CAP_NET_ADMIN is required" % (op, what)),
        )
    elif code in (errno.ENOENT, errno.ENODEV):
        cls, text = missing, "%s does not exist" % what
    elif code == errno.EEXIST:
        cls, text = errors.AlreadyExists, "%s already exists" % what
    elif code == errno.EBUSY:
        cls, text = (
            errors.PortBusy,
            (
                "cannot %s %s: device or resource busy (already attached to a datapath?)"
                % (op, what)
            ),
        )
    elif code in (errno.EOPNOTSUPP, errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT):
        cls, text = (
            errors.Unsupported,
            (
                "cannot %s %s: not supported by the running kernel (%s)"
                % (op, what, os.strerror(code))
            ),
        )
    elif code in (
        errno.EINVAL,
        errno.ERANGE,
        errno.EMSGSIZE,
        errno.EFBIG,
        errno.E2BIG,
        errno.EOVERFLOW,
    ):
        cls, text = (
            errors.KernelRejected,
            ("cannot %s %s: rejected by the kernel (%s)" % (op, what, os.strerror(code))),
        )
    else:
        cls, text = errors.OdpError, "cannot %s %s: %s" % (op, what, os.strerror(code))
    if extack:
        text += ": kernel says: %s" % extack
    exc = cls(text)
    exc.errno = code
    exc.extack = extack
    return exc


def socket_error(exc, op, what):
    """An :mod:`errors` exception for an ``OSError`` of the socket itself
    (``send``/``recv``), never the raw ``OSError``."""
    code = exc.errno or errno.EIO
    error = error_for(code, op, what)
    if code == errno.ENOBUFS:
        error = errors.OdpError(
            "cannot %s %s: the kernel dropped replies (the socket's "
            "receive buffer overflowed): check the result" % (op, what)
        )
        error.errno = code
    return error


def verb(family, cmd):
    """The verb of ``cmd`` in ``family`` for messages (``create``, ``delete``...)."""
    if family is PacketFamily:
        return _PACKET_VERBS.get(cmd, "send a packet command to")
    return _VERBS.get(cmd, "run command %d on" % cmd)


def parse_error(data, offset, length, flags):
    """``(errno, extack)`` of the NLMSG_ERROR message at ``offset`` (errno 0 = ACK)."""
    code, orig_len = ERR_HDR.unpack_from(data, offset + NLMSG_HDRLEN)[:2]
    extack = None
    if flags & NLM_F_ACK_TLVS:
        # After the nlmsgerr come the request (header only when capped) and the TLVs.
        start = (
            offset
            + NLMSG_HDRLEN
            + 4
            + (NLMSG_HDRLEN if flags & NLM_F_CAPPED else (orig_len + 3) & ~3)
        )
        for kind, payload in iter_attrs(data[start : offset + length]):
            if kind == NLMSGERR_ATTR_MSG:
                extack = payload.split(b"\0", 1)[0].decode("utf-8", "replace")
    return -code, extack


def messages_in(data, end=None):
    """``(offset, length, type, flags, seq, portid)`` of each netlink message
    of one datagram (its first ``end`` bytes): the one walker of datagrams,
    for replies, upcalls and notifications alike."""
    unpack = NLMSG_HDR.unpack_from
    offset, end = 0, len(data) if end is None else end
    while offset + NLMSG_HDRLEN <= end:
        length, kind, flags, seq, portid = unpack(data, offset)
        if length < NLMSG_HDRLEN:
            raise errors.OdpError("malformed netlink message (length %d)" % length)
        yield offset, length, kind, flags, seq, portid
        offset += (length + 3) & ~3


def open_socket(rcvbuf=RCVBUF, netns=None, sndbuf=SNDBUF):
    """A bound NETLINK_GENERIC socket with extended ACKs and large receive
    and send buffers.

    With ``netns`` (a name under /run/netns) the socket belongs to that
    network namespace, and so does everything done through it.
    """
    if netns is not None:
        return in_netns(netns, open_socket, rcvbuf, None, sndbuf)
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    try:
        for option in (NETLINK_EXT_ACK, NETLINK_CAP_ACK):
            try:
                sock.setsockopt(SOL_NETLINK, option, 1)
            except OSError:
                pass  # older kernels: plain acks still work
        for force, plain, size in (
            (SO_RCVBUFFORCE, socket.SO_RCVBUF, rcvbuf),
            (SO_SNDBUFFORCE, socket.SO_SNDBUF, sndbuf),
        ):
            try:
                sock.setsockopt(socket.SOL_SOCKET, force, size)
            except OSError:
                # Not root: the kernel caps this at net.core.rmem_max/wmem_max.
                sock.setsockopt(socket.SOL_SOCKET, plain, size)
        sock.bind((0, 0))
    except BaseException:
        sock.close()
        raise
    return sock


def in_netns(netns, function, *args):
    """``function(*args)`` run by this thread inside network namespace ``netns``.

    A socket keeps the namespace it was created in, so switching the thread
    for the creation only is enough (``os.setns`` needs Python 3.12).
    """
    import ctypes  # pylint: disable=import-outside-toplevel

    libc = ctypes.CDLL(None, use_errno=True)
    path = netns if "/" in netns else os.path.join("/run/netns", netns)
    try:
        target = open(path, "rb")  # noqa: SIM115 (the with below closes it)
    except OSError as exc:
        raise errors.NotFound("network namespace %s does not exist (%s)" % (netns, exc.strerror))
    with target, open("/proc/thread-self/ns/net", "rb") as own:
        if libc.setns(target.fileno(), CLONE_NEWNET):
            code = ctypes.get_errno()
            raise error_for(code, "enter", "network namespace %s" % netns)
        try:
            return function(*args)
        finally:
            if libc.setns(own.fileno(), CLONE_NEWNET):
                raise OSError(ctypes.get_errno(), "cannot return to the original network namespace")


class FamilyInfo:
    """A resolved generic netlink family: id, version and multicast groups."""

    __slots__ = ("id", "mcast_groups", "name", "version")

    def __init__(self, name, family_id, version, mcast_groups):
        self.name = name
        self.id = family_id
        self.version = version
        self.mcast_groups = mcast_groups

    def __repr__(self):
        return "FamilyInfo(%r, id=%d, version=%d)" % (self.name, self.id, self.version)


class Transport:
    """Requests, dumps and batched transactions on one generic netlink socket.

    ``family`` arguments are the classes of ``families.py``; their ids are
    resolved once per transport.  Replies are ``(dp_ifindex, attrs)`` pairs,
    ``attrs`` decoded with ``family.attrs`` (or the raw attribute bytes when
    ``decode=False``).
    """

    def __init__(self, rcvbuf=RCVBUF, netns=None):
        self.netns = netns
        self.sock = open_socket(rcvbuf, netns)
        self.portid = self.sock.getsockname()[0]
        # The longest datagram the kernel takes from this socket (the value
        # read back is what the kernel set: twice the one asked for).
        granted = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        self.max_datagram = granted - SNDBUF_OVERHEAD - SNDBUF_MARGIN
        self.batch_bytes = min(BATCH_BYTES, self.max_datagram)
        self._seq = 0
        self._families = {}
        # A streamed dump (dump_attrs) is being read: the socket's next
        # messages are its replies, so no other request may be sent.
        self._streaming = False
        self._buf = bytearray(RECV_BUFSIZE)
        self._view = memoryview(self._buf)

    def close(self):
        if self.sock is not None:
            self._view.release()
            self.sock.close()
            self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def fileno(self):
        return self.sock.fileno()

    # -- families ---------------------------------------------------------

    def family(self, name):
        """:class:`FamilyInfo` of ``name``; ``None`` for a missing optional family.

        A missing ODP family other than ``ovs_meter`` means the openvswitch
        module is absent: the kernel tries to autoload it on lookup, so the
        lookup failing is the real answer.
        """
        if name in self._families:
            return self._families[name]
        seq = self._next_seq()
        attrs = pack_attr(2, name.encode() + b"\0")
        msg = (
            NLMSG_HDR.pack(
                GENL_HDRLEN + len(attrs), GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, seq, 0
            )
            + GENL_HDR.pack(CTRL_CMD_GETFAMILY, 1, 0)
            + attrs
        )
        try:
            self.sock.send(msg)
            replies = self._collect(seq, GENL_HDRLEN)
        except OSError as exc:
            raise socket_error(exc, "resolve", "generic netlink family %s" % name)
        except KernelError as exc:
            if exc.errno not in (errno.ENOENT, errno.ENODEV):
                raise exc.to_error("resolve", "generic netlink family %s" % name)
            if name in _REQUIRED:
                raise errors.KernelModuleMissing(
                    "the openvswitch kernel module is not loaded (modprobe openvswitch): "
                    "generic netlink family %s is missing" % name
                )
            info = None
        else:
            ctrl = CTRL.decode(bytes(replies[0]))
            groups = {grp["name"]: grp["id"] for grp in ctrl.get("mcast_groups", {}).values()}
            info = FamilyInfo(name, ctrl["family_id"], ctrl.get("version", 1), groups)
        self._families[name] = info
        return info

    def _resolved(self, family):
        info = self._families.get(family.name) or self.family(family.name)
        if info is None:
            raise errors.Unsupported(
                "the running kernel has no %s generic netlink family" % family.name
            )
        return info

    # -- framing ----------------------------------------------------------

    def _next_seq(self):
        self._seq = (self._seq + 1) & 0xFFFFFFFF or 1
        return self._seq

    def encode(self, family, cmd, dp_ifindex, attrs, flags, seq):
        """One ODP request message (``attrs`` already encoded).

        The genl version is the kernel's: ovs_datapath answers a version-1
        duplicate create by resetting the datapath's user features.
        """
        info = self._resolved(family)
        return (
            OVS_REQ.pack(
                OVS_HDRLEN + len(attrs),
                info.id,
                NLM_F_REQUEST | flags,
                seq,
                0,
                cmd,
                info.version,
                0,
                dp_ifindex,
            )
            + attrs
        )

    def _recv(self):
        """One datagram as bytes (copied out of the reusable buffer)."""
        size = self.sock.recv_into(self._buf, RECV_BUFSIZE, socket.MSG_TRUNC)
        if size > RECV_BUFSIZE:
            raise errors.OdpError(
                "a netlink reply of %d bytes exceeds the %d-byte buffer" % (size, RECV_BUFSIZE)
            )
        return self._view[:size].tobytes()

    def _collect(self, seq, hdrlen):
        """Payloads (after ``hdrlen`` header bytes) replying to ``seq``, until the
        ack, ``NLMSG_DONE`` or an error; raises :class:`KernelError`.

        For dumps, raises :class:`_DumpInterrupted` when the kernel flags the
        dump as inconsistent.
        """
        replies: list[bytes] = []
        append = replies.append
        while True:  # not through _messages: one generator less per message of a dump
            data = self._recv()
            for offset, length, kind, flags, mseq, _pid in messages_in(data):
                if mseq != seq:
                    continue  # answers an abandoned request
                if kind in (NLMSG_DONE, NLMSG_ERROR):
                    self._end_of_dump(data, offset, length, kind, flags)
                    return replies
                if flags & NLM_F_DUMP_INTR:
                    raise _DumpInterrupted()
                if kind == NLMSG_OVERRUN:
                    raise KernelError(errno.ENOBUFS)
                append(data[offset + hdrlen : offset + length])

    @staticmethod
    def _end_of_dump(data, offset, length, kind, flags):
        """Raise what the final message of a reply says went wrong: an
        error, a ``NLMSG_DONE`` with a failed status or an interrupted dump."""
        if kind == NLMSG_ERROR:
            code, extack = parse_error(data, offset, length, flags)
            if code:
                raise KernelError(code, extack)
            return
        if flags & NLM_F_DUMP_INTR:
            raise _DumpInterrupted()
        # A dump's NLMSG_DONE carries an int error (0 or -errno).
        code = (
            -struct.unpack_from("=i", data, offset + NLMSG_HDRLEN)[0]
            if length >= NLMSG_HDRLEN + 4
            else 0
        )
        if code:
            raise KernelError(code)

    def _decoded(self, family, raw, decode):
        if not decode:
            return [(OVS_HDR.unpack_from(r)[0], r[4:]) for r in raw]
        unpack = OVS_HDR.unpack_from
        attrs = family.attrs.decode
        return [(unpack(r)[0], attrs(r[4:])) for r in raw]

    # -- requests ---------------------------------------------------------

    def request(
        self,
        family,
        cmd,
        dp_ifindex=0,
        attrs=b"",
        flags=0,
        what=None,
        missing=errors.NotFound,
        decode=True,
    ):
        """Send one request and wait for its ack; the list of replies.

        Kernel errors are raised as :mod:`errors` exceptions naming ``what``
        (``datapath dp0``); ``missing`` is the NotFound subclass for ENOENT.
        """
        seq = self._next_seq()
        message = self.encode(family, cmd, dp_ifindex, attrs, flags | NLM_F_ACK, seq)
        try:
            self._send(message, what or family.name)
            raw = self._collect(seq, GENL_HDRLEN)
        except KernelError as exc:
            raise exc.to_error(verb(family, cmd), what or family.name, missing)
        except OSError as exc:
            raise socket_error(exc, verb(family, cmd), what or family.name)
        return self._decoded(family, raw, decode)

    def _check_idle(self, what):
        if self._streaming:
            raise errors.OdpError(
                "cannot send a request about %s while a dump is being read on the same netlink "
                "socket: finish or close the dump first" % what
            )

    def _send(self, data, what):
        """Send one datagram that the kernel can take; a request over the
        socket's limit is refused here, naming ``what``."""
        self._check_idle(what)
        if len(data) > self.max_datagram:
            raise errors.KernelRejected(
                "cannot send the request about %s: it is %d bytes, more than the %d bytes "
                "the netlink socket takes in one message" % (what, len(data), self.max_datagram)
            )
        self.sock.send(data)

    def dump(
        self, family, cmd, dp_ifindex=0, attrs=b"", what=None, missing=errors.NotFound, decode=True
    ):
        """Iterator over every reply of a dump, from one consistent snapshot.

        For small dumps (datapaths, vports; flow dumps stream through
        :meth:`dump_attrs`): the whole dump is received before the first
        reply is decoded; an
        interrupted dump (``NLM_F_DUMP_INTR``, ``ENOBUFS``) is discarded and
        restarted, up to ``DUMP_RETRIES`` times.
        """
        raw = self._dump(family, cmd, dp_ifindex, attrs, what, missing, GENL_HDRLEN)
        if not decode:
            unpack = OVS_HDR.unpack_from
            return ((unpack(r)[0], r[4:]) for r in raw)
        return self._iter_decoded(family, raw)

    def dump_attrs(self, family, cmd, dp_ifindex=0, what=None, missing=errors.NotFound):
        """The attribute bytes of every reply of a dump (what follows the
        ``ovs_header``), one copy each, for decoders of their own (flow dumps).

        Streamed: the replies of each datagram are handed on as it arrives,
        so a dump of any size holds one datagram at a time. A dump is
        restarted on ``NLM_F_DUMP_INTR`` or lost replies (``ENOBUFS``) only
        before its first reply was handed on; after that, those raise
        :class:`errors.OdpError` (flow dumps never set ``NLM_F_DUMP_INTR``:
        see :mod:`flowdump`). No other request may use the socket until the
        iterator is exhausted or closed.
        """
        what = what or family.name
        hdrlen = GENL_HDRLEN + OVS_HDR.size
        for _attempt in range(DUMP_RETRIES):
            seq = self._next_seq()
            handed = 0
            try:
                self._send(self.encode(family, cmd, dp_ifindex, b"", NLM_F_DUMP, seq), what)
                self._streaming = True
                for replies in self._stream(seq, hdrlen):
                    handed += len(replies)
                    yield from replies
                return
            except _DumpInterrupted:
                if handed:
                    raise errors.OdpError(
                        "dump of %s was interrupted by the kernel (NLM_F_DUMP_INTR) after %d "
                        "replies: try again" % (what, handed)
                    ) from None
            except KernelError as exc:
                raise exc.to_error("dump", what, missing) from None
            except OSError as exc:
                if exc.errno != errno.ENOBUFS:
                    raise socket_error(exc, "dump", what) from None
                if handed:  # replies lost: the part handed on cannot be taken back
                    raise errors.OdpError(
                        "dump of %s lost replies (the socket's receive buffer overflowed) after "
                        "%d replies: try again" % (what, handed)
                    ) from None
            finally:
                self._streaming = False
        raise errors.OdpError(
            "dump of %s kept being interrupted (%d attempts)" % (what, DUMP_RETRIES)
        )

    def _stream(self, seq, hdrlen):
        """The payloads replying to dump ``seq``, a list per datagram, until
        ``NLMSG_DONE``; errors as :meth:`_collect`."""
        while True:
            data = self._recv()
            replies: list[bytes] = []
            append = replies.append
            for offset, length, kind, flags, mseq, _pid in messages_in(data):
                if mseq != seq:
                    continue  # answers an abandoned request
                if kind in (NLMSG_DONE, NLMSG_ERROR):
                    yield replies
                    self._end_of_dump(data, offset, length, kind, flags)
                    return
                if flags & NLM_F_DUMP_INTR:
                    raise _DumpInterrupted()
                if kind == NLMSG_OVERRUN:
                    raise KernelError(errno.ENOBUFS)
                append(data[offset + hdrlen : offset + length])
            yield replies

    def _dump(self, family, cmd, dp_ifindex, attrs, what, missing, hdrlen):
        raw = None
        for _attempt in range(DUMP_RETRIES):
            seq = self._next_seq()
            try:
                self._send(
                    self.encode(family, cmd, dp_ifindex, attrs, NLM_F_DUMP, seq),
                    what or family.name,
                )
                raw = self._collect(seq, hdrlen)
                break
            except _DumpInterrupted:
                continue
            except KernelError as exc:
                raise exc.to_error("dump", what or family.name, missing)
            except OSError as exc:
                if exc.errno != errno.ENOBUFS:  # replies lost: dump again
                    raise socket_error(exc, "dump", what or family.name)
        if raw is None:
            raise errors.OdpError(
                "dump of %s kept being interrupted (%d attempts)"
                % (what or family.name, DUMP_RETRIES)
            )
        return raw

    @staticmethod
    def _iter_decoded(family, raw):
        unpack = OVS_HDR.unpack_from
        decode = family.attrs.decode
        for r in raw:
            yield unpack(r)[0], decode(r[4:])

    def transact(self, messages, decode=True):
        """Send many requests, a batch per ``send()``; one result per message.

        ``messages`` is a sequence of ``(family, cmd, dp_ifindex, attrs, flags)``.
        Each result is the list of replies, or a :class:`KernelError` (returned,
        not raised) so that callers can tell which item failed.

        Only the last request of a batch asks for an ack: the kernel handles a
        datagram's requests in order and answers every failure with an error
        naming its sequence number, so the last ack means the whole batch is
        done. A batch that succeeds then costs one reply, not one per request
        (each receive is a system call, and those are dear in a VM).
        """
        results = [None] * len(messages)
        start = 0
        for index, (_family, _cmd, _dp, attrs, _flags) in enumerate(messages):
            if OVS_HDRLEN + len(attrs) > self.max_datagram:
                # Callers check their requests first (Client names the flow).
                raise errors.KernelRejected(
                    "request %d of the transaction is %d bytes, more than the %d bytes the "
                    "netlink socket takes in one message"
                    % (index, OVS_HDRLEN + len(attrs), self.max_datagram)
                )
        while start < len(messages):
            batch: list[bytes] = []
            size, seqs = 0, {}
            index = start
            while index < len(messages) and len(batch) < BATCH_MESSAGES:
                family, cmd, dp_ifindex, attrs, flags = messages[index]
                if batch and size + OVS_HDRLEN + len(attrs) > self.batch_bytes:
                    break
                seq = self._next_seq()
                batch.append(self.encode(family, cmd, dp_ifindex, attrs, flags, seq))
                size += len(batch[-1])
                seqs[seq] = index
                index += 1
            # The barrier: re-frame the last request with NLM_F_ACK.
            family, cmd, dp_ifindex, attrs, flags = messages[index - 1]
            batch[-1] = self.encode(family, cmd, dp_ifindex, attrs, flags | NLM_F_ACK, seq)
            self._check_idle("a transaction of %d requests" % len(messages))
            try:
                self.sock.send(b"".join(batch))
                self._collect_batch(messages, results, seqs, seq, decode)
            except OSError as exc:
                # What the kernel did with this batch is unknown: say so.
                raise socket_error(
                    exc,
                    "send requests %d to %d of" % (start, index - 1),
                    "a transaction of %d requests (%d sent before)" % (len(messages), start),
                )
            start = index
        return results

    def _collect_batch(self, messages, results, seqs, barrier, decode):
        """Fill ``results`` for the requests ``seqs`` (seq -> message index),
        until the ack (or error) of the ``barrier`` request."""
        replies: dict[int, list] = {seq: [] for seq in seqs}
        for data, offset, length, kind, flags, seq in self._messages():
            got = replies.get(seq)
            if got is None:
                continue  # answers an abandoned request
            if kind == NLMSG_ERROR:
                code, extack = parse_error(data, offset, length, flags)
                if code:
                    results[seqs[seq]] = KernelError(code, extack)
                if seq == barrier:
                    break
            else:
                got.append(data[offset + GENL_HDRLEN : offset + length])
        for seq, index in seqs.items():
            if results[index] is None:
                results[index] = self._decoded(messages[index][0], replies[seq], decode)

    def _messages(self):
        """``(datagram, offset, length, type, flags, seq)`` of every message
        received, without end: callers stop when they have their answer."""
        while True:
            data = self._recv()
            for offset, length, kind, flags, seq, _pid in messages_in(data):
                yield data, offset, length, kind, flags, seq


class _DumpInterrupted(Exception):
    """The kernel flagged a dump as inconsistent (NLM_F_DUMP_INTR)."""
