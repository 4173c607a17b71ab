"""Unit tests of the multicast subscriber base (vswitch_odp.multicast): its
receive loop over a local datagram socket, without the kernel."""

import errno
import socket
import time

import pytest
from vswitch_odp import errors
from vswitch_odp.multicast import MulticastListener
from vswitch_odp.netlink import NLMSG_HDR


def message(kind, portid, body):
    padding = b"\0" * (-len(body) % 4)  # messages of a datagram start 4-aligned
    return NLMSG_HDR.pack(NLMSG_HDR.size + len(body), kind, 0, 0, portid) + body + padding


class Words(MulticastListener):
    """Takes the messages of type 7: (portid, body); the others are passed over."""

    what = "words"

    def __init__(self, sock=None):
        super().__init__(None, 1 << 16)
        self._sock = sock
        self.overflows = 0

    def _decode(self, kind, portid, body):
        return (portid, body) if kind == 7 else None

    def _overflowed(self):
        self.overflows += 1


class Raising:
    def __init__(self, error):
        self.error = error

    def recv(self, _size):
        raise self.error


@pytest.fixture
def pair():
    ours, kernel = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    yield Words(ours), kernel
    ours.close()
    kernel.close()


def test_items_of_a_datagram_in_order_others_passed_over(pair):
    listener, kernel = pair
    kernel.send(message(7, 1, b"ab") + message(3, 1, b"no!!") + message(7, 2, b"cd"))
    assert listener.recv(timeout=1) == (1, b"ab")
    assert listener.recv(timeout=0) == (2, b"cd")
    assert listener.recv(timeout=0) is None


def test_iter_ends_after_a_quiet_timeout(pair):
    listener, kernel = pair
    for portid in (1, 2):
        kernel.send(message(7, portid, b"x"))
    started = time.monotonic()
    assert [portid for portid, _body in listener.iter(timeout=0.2)] == [1, 2]
    assert time.monotonic() - started >= 0.2


def test_overflow_is_counted_and_told():
    listener = Words()
    listener._read(Raising(OSError(errno.ENOBUFS, "No buffer space available")))  # pylint: disable=protected-access
    assert (listener.overruns, listener.overflows) == (1, 1)


def test_other_read_errors_are_library_errors():
    with pytest.raises(errors.OdpError, match="cannot read words: Bad file descriptor"):
        Words()._read(Raising(OSError(errno.EBADF, "Bad file descriptor")))  # pylint: disable=protected-access


def test_closed_is_a_clear_error_and_close_drops_the_pending(pair):
    listener, kernel = pair
    kernel.send(message(7, 1, b"x"))
    listener._read(listener._subscribed())  # pylint: disable=protected-access
    listener.close()
    assert not listener._pending  # pylint: disable=protected-access
    with pytest.raises(errors.OdpError, match="words are not subscribed: use Words as"):
        listener.recv(timeout=0)
    with pytest.raises(errors.OdpError, match="not subscribed"):
        listener.fileno()
