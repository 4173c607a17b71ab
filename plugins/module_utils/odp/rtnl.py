# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Network devices and their addresses, read over rtnetlink without pyroute2.

Reads happen on every run (the links of a state document's internal ports,
which netdev vports are tunnel devices); importing pyroute2 for them costs
about a second in the sandbox kernel, more than the dumps. So the two dumps
are made here on a plain socket, and pyroute2 stays for changing devices
(``tunnels.py``, ``state/links.py``).

Attribute numbers are those of include/uapi/linux/if_link.h and
if_addr.h.
"""

from __future__ import annotations

import socket
import struct

from . import errors
from .attrs import String, iter_attrs
from .netlink import (
    NLM_F_DUMP,
    NLM_F_DUMP_INTR,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
    NLMSG_HDR,
    NLMSG_HDRLEN,
    error_for,
    in_netns,
    messages_in,
    parse_error,
)

NETLINK_ROUTE = 0
RTM_GETLINK = 18
RTM_GETADDR = 22
IFINFOMSG = struct.Struct("=BxHiII")  # family, type, index, flags, change
IFADDRMSG = struct.Struct("=BBBBI")  # family, prefixlen, flags, scope, index
IFLA_ADDRESS = 1
IFLA_IFNAME = 3
IFLA_MTU = 4
IFLA_LINKINFO = 18
IFLA_IFALIAS = 20
IFLA_INFO_KIND = 1
IFLA_INFO_DATA = 2
IFA_ADDRESS = 1
IFA_LOCAL = 2
_STRING = String()
RECV_BUFSIZE = 1 << 16  # a dump's datagrams are at most 32 KiB
# A dump the kernel flags as inconsistent (a device changed meanwhile) is
# made again, this many times at most.
DUMP_ATTEMPTS = 5


class Link:
    """One network device as RTM_NEWLINK reports it: ``index``, ``name``,
    ``flags`` (IFF_*), ``mtu``, ``mac`` (``aa:bb:..``, None without one),
    ``alias``, ``kind`` (``IFLA_INFO_KIND``, None for a plain device) and
    ``data`` (``IFLA_INFO_DATA``: attribute number -> raw payload)."""

    __slots__ = ("alias", "data", "flags", "index", "kind", "mac", "mtu", "name")

    def __init__(self, payload: bytes) -> None:
        _family, _type, self.index, self.flags, _change = IFINFOMSG.unpack_from(payload)
        self.name = ""  # every device has IFLA_IFNAME
        self.alias: str | None = None
        self.kind: str | None = None
        self.mac: str | None = None
        self.mtu: int | None = None
        self.data: dict[int, bytes] | None = None
        for kind, value in iter_attrs(payload[IFINFOMSG.size :]):
            if kind == IFLA_IFNAME:
                self.name = _STRING.decode(value)
            elif kind == IFLA_ADDRESS:
                self.mac = ":".join("%02x" % octet for octet in value)
            elif kind == IFLA_MTU:
                self.mtu = struct.unpack("=I", value)[0]
            elif kind == IFLA_IFALIAS:
                self.alias = _STRING.decode(value)
            elif kind == IFLA_LINKINFO:
                for info, info_value in iter_attrs(value):
                    if info == IFLA_INFO_KIND:
                        self.kind = _STRING.decode(info_value)
                    elif info == IFLA_INFO_DATA:
                        self.data = dict(iter_attrs(info_value))

    def __repr__(self) -> str:
        return "Link(%d, %r, kind=%r)" % (self.index, self.name, self.kind)


class Address:
    """One address as RTM_NEWADDR reports it: ``index`` (of its device),
    ``family``, ``prefixlen``, ``scope`` and ``address`` (the local address
    as text: IFA_LOCAL, else IFA_ADDRESS)."""

    __slots__ = ("address", "family", "index", "prefixlen", "scope")

    def __init__(self, payload: bytes) -> None:
        self.family, self.prefixlen, _flags, self.scope, self.index = IFADDRMSG.unpack_from(payload)
        found = dict(iter_attrs(payload[IFADDRMSG.size :]))
        raw = found.get(IFA_LOCAL) or found.get(IFA_ADDRESS)
        self.address = socket.inet_ntop(self.family, raw) if raw else None

    def __repr__(self) -> str:
        return "Address(%d, %s/%d)" % (self.index, self.address, self.prefixlen)


def open_socket(netns: str | None = None, bind: bool = True) -> socket.socket:
    """A NETLINK_ROUTE socket of network namespace ``netns`` (this one when
    None), bound unless ``bind`` is false (pyroute2 binds the one it is given).

    A socket keeps the namespace it was made in, so it is made there by this
    thread (setns): no helper process, as pyroute2's NetNS starts, whose start
    times out on a slow or loaded machine.
    """

    def make():
        # Netlink takes SOCK_RAW and SOCK_DGRAM alike; pyroute2 0.9's asyncio
        # core accepts only a datagram socket.
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_ROUTE)
        try:
            if bind:
                sock.bind((0, 0))
        except BaseException:
            sock.close()
            raise
        return sock

    return in_netns(netns, make) if netns else make()


def read(netns: str | None = None, addresses: bool = True) -> tuple[list[Link], list[Address]]:
    """Every network device of ``netns`` (this namespace when None) and,
    with ``addresses``, every address: one socket, a dump each."""
    try:
        sock = open_socket(netns)
    except OSError as exc:
        raise error_for(exc.errno or 0, "open", "an rtnetlink socket")
    with sock:
        links = [Link(p) for p in _dump(sock, RTM_GETLINK, IFINFOMSG.pack(0, 0, 0, 0, 0))]
        found = (
            [Address(p) for p in _dump(sock, RTM_GETADDR, IFADDRMSG.pack(0, 0, 0, 0, 0))]
            if addresses
            else []
        )
    return links, found


def _dump(sock: socket.socket, kind: int, header: bytes) -> list[bytes]:
    """The payloads of one complete dump (made again when interrupted)."""
    what = "network devices" if kind == RTM_GETLINK else "network addresses"
    for seq in range(1, DUMP_ATTEMPTS + 1):
        request = NLMSG_HDR.pack(
            NLMSG_HDRLEN + len(header), kind, NLM_F_REQUEST | NLM_F_DUMP, seq, 0
        )
        try:
            sock.send(request + header)
            payloads = _collect(sock, seq, what)
        except OSError as exc:
            raise error_for(exc.errno or 0, "list", what)
        if payloads is not None:
            return payloads
    raise errors.OdpError(
        "cannot list %s: the kernel interrupted the dump %d times (devices changing)"
        % (what, DUMP_ATTEMPTS)
    )


def _collect(sock: socket.socket, seq: int, what: str) -> list[bytes] | None:
    """The payloads replying to ``seq`` up to NLMSG_DONE; None when the kernel
    flagged the dump as interrupted."""
    buf = bytearray(RECV_BUFSIZE)
    payloads: list[bytes] = []
    interrupted = False
    while True:
        size = sock.recv_into(buf, RECV_BUFSIZE, socket.MSG_TRUNC)
        if size > RECV_BUFSIZE:
            raise errors.OdpError(
                "cannot list %s: a reply of %d bytes exceeds the %d-byte buffer"
                % (what, size, RECV_BUFSIZE)
            )
        data = bytes(buf[:size])
        for offset, length, mtype, flags, mseq, _pid in messages_in(data):
            if mseq != seq:
                continue  # the rest of an earlier, interrupted dump
            interrupted = interrupted or bool(flags & NLM_F_DUMP_INTR)
            if mtype == NLMSG_ERROR:
                code, extack = parse_error(data, offset, length, flags)
                raise error_for(code, "list", what, extack=extack)
            if mtype == NLMSG_DONE:
                # Its payload is the dump's own status.
                status = 0
                if length >= NLMSG_HDRLEN + 4:
                    status = struct.unpack_from("=i", data, offset + NLMSG_HDRLEN)[0]
                if status < 0:
                    raise error_for(-status, "list", what)
                return None if interrupted else payloads
            payloads.append(data[offset + NLMSG_HDRLEN : offset + length])
