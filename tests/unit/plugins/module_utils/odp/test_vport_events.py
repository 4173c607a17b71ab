"""Unit tests of vport events (vswitch_odp.vport_events) on notifications the
real kernel multicast (data/kernel_interface.json): vport capev0 created,
changed and deleted, dummy capev1 attached then unregistered, the datapath
deleted."""

import errno

import pytest
from kernel_interface import CAPTURED, FakeTransport
from vswitch_odp import errors
from vswitch_odp.families import DatapathFamily, VportFamily
from vswitch_odp.vport_events import VportEvents

EVENTS = CAPTURED["events"]
DP_IFINDEX = CAPTURED["dp_ifindex"]
MESSAGES = [bytes.fromhex(message) for message in EVENTS["messages"]]
OVERFLOW = OSError(errno.ENOBUFS, "No buffer space available")


class FakeSocket:
    """Hands out datagrams (or raises) in turn."""

    def __init__(self, datagrams):
        self.datagrams = list(datagrams)

    def recv(self, _size):
        item = self.datagrams.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


def subscribed(datapath=None, dumps=None):
    """VportEvents as open() leaves it, without the kernel."""
    events = VportEvents(datapath)
    events._families = {
        EVENTS["families"]["ovs_vport"]: VportFamily,  # pylint: disable=protected-access
        EVENTS["families"]["ovs_datapath"]: DatapathFamily,
    }
    events._names = {DP_IFINDEX: "capif"}  # pylint: disable=protected-access
    events._transport = FakeTransport({}, dumps=dumps)  # pylint: disable=protected-access
    return events


def read(events, datagrams):
    sock = FakeSocket(datagrams)
    while sock.datagrams:
        events._read(sock)  # pylint: disable=protected-access
    return list(events._pending)  # pylint: disable=protected-access


def summary(event):
    return (event.kind, event.datapath, event.name, event.type, event.port_no)


def test_the_kernel_notifications_as_events():
    events = read(subscribed(), MESSAGES)
    assert [summary(e) for e in events] == [
        ("created", "capif", "capev0", "internal", 1),
        ("changed", "capif", "capev0", "internal", 1),
        ("deleted", "capif", "capev0", "internal", 1),
        ("created", "capif", "capev1", "netdev", 1),
        ("deleted", "capif", "capev1", "netdev", 1),
        ("datapath_deleted", "capif", "capif", "internal", 0),
    ]
    requester = events[0].portid
    assert requester and [e.portid for e in events] == [requester] * 4 + [0, requester]
    assert all(e.dp_ifindex == DP_IFINDEX for e in events)


def test_several_messages_in_one_datagram():
    assert len(read(subscribed(), [b"".join(MESSAGES[:3])])) == 3


def test_filter_by_datapath():
    assert read(subscribed("other"), MESSAGES) == []
    assert len(read(subscribed("capif"), MESSAGES)) == len(MESSAGES)


def test_overflow_is_an_event_in_its_place_and_names_are_learned_again():
    events = subscribed(dumps={"ovs_datapath": [(DP_IFINDEX, {"name": "capif"})]})
    got = read(events, [MESSAGES[0], OVERFLOW, MESSAGES[2]])
    assert [e.kind for e in got] == ["created", "overflow", "deleted"]
    assert got[1].datapath is None and events.overruns == 1
    assert ("ovs_datapath", "dump") in events._transport.sent_commands()  # pylint: disable=protected-access


def test_other_socket_errors_are_raised():
    with pytest.raises(OSError):
        read(subscribed(), [OSError(errno.EBADF, "Bad file descriptor")])


def test_an_unknown_datapath_is_looked_up_once():
    events = subscribed()
    events._names = {}  # pylint: disable=protected-access
    events._transport.answers = {("ovs_datapath", DatapathFamily.CMD_GET): "datapath_new"}  # pylint: disable=protected-access
    got = read(events, MESSAGES[:2])
    assert [e.datapath for e in got] == ["capif", "capif"]
    assert events._transport.sent_commands().count(("ovs_datapath", DatapathFamily.CMD_GET)) == 1  # pylint: disable=protected-access


def test_not_subscribed_is_a_clear_error():
    with pytest.raises(errors.OdpError, match="not subscribed"):
        VportEvents().recv(timeout=0)
