# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A subscriber to generic netlink multicast groups: the socket, joining a
group, and reading what the kernel multicasts as items, with a timeout.

:class:`MulticastListener` is the part the psample samples
(:class:`~vswitch_odp.psample.SampleListener`) and the vport events
(:class:`~vswitch_odp.vport_events.VportEvents`) share; each says which
groups it joins and what a message means.
"""

from __future__ import annotations

import collections
import errno
import select
import socket
import time
from collections.abc import Iterator
from typing import Generic, NoReturn, TypeVar

from . import errors
from .netlink import NETLINK_ADD_MEMBERSHIP, NLMSG_HDRLEN, SOL_NETLINK, messages_in, open_socket

Item = TypeVar("Item")
Self = TypeVar("Self", bound="MulticastListener")


class MulticastListener(Generic[Item]):
    """Subscribe (context manager) in the caller's network namespace or
    ``netns``, with a receive buffer of ``rcvbuf`` bytes.

    :meth:`recv` takes a timeout, :meth:`iter` ends after a quiet
    ``timeout``, :meth:`fileno` suits ``select``; :attr:`overruns` counts the
    times the socket's buffer overflowed and the kernel dropped messages.

    A subclass names what it reads (``what``, for messages), joins its groups
    in :meth:`_subscribe` and turns a message into an item, or ``None``, in
    :meth:`_decode`.
    """

    what = "multicast messages"
    recv_bufsize = 64 << 10

    def __init__(self, netns: str | None, rcvbuf: int) -> None:
        self.netns = netns
        self.rcvbuf = rcvbuf
        self.overruns = 0
        self._sock: socket.socket | None = None
        self._pending: collections.deque[Item] = collections.deque()

    # -- subscription -------------------------------------------------------

    def open(self: Self) -> Self:
        """Open the socket and join the groups; returns ``self``."""
        if self._sock is not None:
            return self
        try:
            self._sock = open_socket(self.rcvbuf, self.netns)
            self._subscribe()
        except BaseException:
            self.close()
            raise
        return self

    def _subscribe(self) -> None:
        raise NotImplementedError

    def _join(self, group: int) -> None:
        """Join multicast group ``group`` (its id)."""
        try:
            self._subscribed().setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)
        except OSError as exc:
            if exc.errno in (errno.EPERM, errno.EACCES):
                raise errors.PermissionDenied(
                    "cannot listen to %s: permission denied, root or CAP_NET_ADMIN is required"
                    % self.what
                )
            raise errors.OdpError("cannot listen to %s: %s" % (self.what, exc.strerror))

    def close(self) -> None:
        """Leave the groups (close the socket); what was not read is dropped."""
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._pending.clear()

    def __enter__(self: Self) -> Self:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def _not_open(self) -> errors.OdpError:
        return errors.OdpError(
            "%s are not subscribed: use %s as a context manager or call open()"
            % (self.what, type(self).__name__)
        )

    # -- receiving ----------------------------------------------------------

    def fileno(self) -> int:
        """The socket to poll: readable when :meth:`recv` has something to do."""
        return self._subscribed().fileno()

    def _subscribed(self) -> socket.socket:
        if self._sock is None:
            raise self._not_open()
        return self._sock

    def recv(self, timeout: float | None = None) -> Item | None:
        """The next item; ``None`` when ``timeout`` seconds passed first
        (``None`` blocks, ``0`` polls)."""
        sock = self._subscribed()
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._pending:
            remaining = None if deadline is None else max(deadline - time.monotonic(), 0)
            if not select.select([sock], [], [], remaining)[0]:
                return None
            self._read(sock)
        return self._pending.popleft()

    def iter(self, timeout: float | None = None) -> Iterator[Item]:
        """The items as they come, until none came for ``timeout`` seconds
        (forever when ``None``)."""
        while True:
            item = self.recv(timeout)
            if item is None:
                return
            yield item

    def __iter__(self) -> Iterator[Item]:
        return self.iter()

    def _read(self, sock: socket.socket) -> None:
        try:
            data = sock.recv(self.recv_bufsize)
        except OSError as exc:
            if exc.errno != errno.ENOBUFS:
                self._read_failed(exc)
            # The kernel says so once, for everything it dropped.
            self.overruns += 1
            self._overflowed()
            return
        for offset, length, kind, _flags, _seq, portid in messages_in(data):
            item = self._decode(kind, portid, data[offset + NLMSG_HDRLEN : offset + length])
            if item is not None:
                self._pending.append(item)

    def _read_failed(self, exc: OSError) -> NoReturn:
        raise errors.OdpError("cannot read %s: %s" % (self.what, exc.strerror))

    def _overflowed(self) -> None:
        """After an overflow (counted already): nothing more by default."""

    def _decode(self, kind: int, portid: int, body: bytes) -> Item | None:
        """The item of one message of netlink type ``kind`` from ``portid``
        (``body`` after the netlink header); ``None`` to pass it over."""
        raise NotImplementedError
