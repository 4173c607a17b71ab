"""Unit tests of the generic netlink transport: framing, acks, errno mapping.

A socketpair stands in for the kernel: the test writes the replies the kernel
would send and checks what the transport sends and returns.
"""

import errno
import socket
import struct

import pytest
from vswitch_odp import errors, netlink
from vswitch_odp.attrs import pack_attr
from vswitch_odp.families import DatapathFamily as DP
from vswitch_odp.families import FlowFamily as FL
from vswitch_odp.netlink import (
    NLM_F_ACK,
    NLM_F_ACK_TLVS,
    NLM_F_CAPPED,
    NLM_F_DUMP,
    NLM_F_DUMP_INTR,
    NLM_F_MULTI,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
    NLMSG_HDR,
    OVS_REQ,
    KernelError,
    error_for,
)

FAMILY_ID = 0x1C


class FakeTransport(netlink.Transport):
    """A Transport over a datagram socketpair, with the families pre-resolved."""

    def __init__(self):  # pylint: disable=super-init-not-called
        self.sock, self.kernel = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.portid = 1234
        self.netns = None
        self._seq = 0
        self._families = {f.name: netlink.FamilyInfo(f.name, FAMILY_ID, 2, {}) for f in (DP, FL)}
        self._buf = bytearray(netlink.RECV_BUFSIZE)
        self._view = memoryview(self._buf)
        self.max_datagram = 1 << 20
        self.batch_bytes = netlink.BATCH_BYTES
        self._streaming = False

    def sent(self):
        """Every message of the next datagram sent: (type, flags, seq, cmd, ifindex, attrs)."""
        data = self.kernel.recv(1 << 20)
        out, offset = [], 0
        while offset < len(data):
            length, kind, flags, seq, _pid, cmd, _ver, _res, ifindex = OVS_REQ.unpack_from(
                data, offset
            )
            out.append(
                (kind, flags, seq, cmd, ifindex, data[offset + OVS_REQ.size : offset + length])
            )
            offset += (length + 3) & ~3
        return out


def reply(seq, attrs=b"", flags=0, ifindex=7, cmd=1):
    body = struct.pack("=BBHi", cmd, 2, 0, ifindex) + attrs
    return NLMSG_HDR.pack(16 + len(body), FAMILY_ID, flags, seq, 1234) + body


def ack(seq, code=0, extack=None):
    tlvs = pack_attr(netlink.NLMSGERR_ATTR_MSG, extack.encode() + b"\0") if extack else b""
    flags = NLM_F_CAPPED | (NLM_F_ACK_TLVS if tlvs else 0)
    body = struct.pack("=i", -code) + NLMSG_HDR.pack(40, FAMILY_ID, 0, seq, 1234) + tlvs
    return NLMSG_HDR.pack(16 + len(body), NLMSG_ERROR, flags, seq, 1234) + body


def done(seq, flags=NLM_F_MULTI):
    return NLMSG_HDR.pack(20, NLMSG_DONE, flags, seq, 1234) + struct.pack("=i", 0)


@pytest.fixture
def transport():
    t = FakeTransport()
    yield t
    t.kernel.close()
    t.sock.close()


def test_request_framing_and_reply(transport):
    transport.kernel.send(reply(1, DP.attrs.encode([("name", "dp0")])) + ack(1))
    replies = transport.request(DP, DP.CMD_GET, 0, DP.attrs.encode([("name", "dp0")]))
    assert replies == [(7, {"name": "dp0"})]
    ((kind, flags, seq, cmd, ifindex, attrs),) = transport.sent()
    assert (kind, flags, seq, cmd, ifindex) == (
        FAMILY_ID,
        NLM_F_REQUEST | NLM_F_ACK,
        1,
        DP.CMD_GET,
        0,
    )
    assert DP.attrs.decode(attrs) == {"name": "dp0"}


def test_error_carries_extack_and_names_object(transport):
    transport.kernel.send(ack(1, errno.EINVAL, "Flow actions may not be safe"))
    with pytest.raises(errors.KernelRejected) as info:
        transport.request(FL, FL.CMD_NEW, 3, b"", what="flow in_port(1) in datapath dp0")
    text = str(info.value)
    assert "flow in_port(1) in datapath dp0" in text and "Flow actions may not be safe" in text
    assert info.value.errno == errno.EINVAL


def test_stale_replies_are_skipped(transport):
    # A reply to an abandoned request (seq 99) must not be taken for ours.
    transport.kernel.send(reply(99) + ack(99))
    transport.kernel.send(ack(1))
    assert transport.request(DP, DP.CMD_DEL, 0, b"") == []


def test_dump_restarts_on_interrupt(transport):
    first = [
        reply(1, DP.attrs.encode([("name", "old")]), NLM_F_MULTI),
        reply(1, DP.attrs.encode([("name", "x")]), NLM_F_MULTI | NLM_F_DUMP_INTR),
    ]
    transport.kernel.send(b"".join(first))
    transport.kernel.send(
        reply(2, DP.attrs.encode([("name", "a")]), NLM_F_MULTI)
        + reply(2, DP.attrs.encode([("name", "b")]), NLM_F_MULTI)
    )
    transport.kernel.send(done(2))
    names = [attrs["name"] for _ifindex, attrs in transport.dump(DP, DP.CMD_GET)]
    assert names == ["a", "b"]  # nothing of the interrupted dump
    sent = transport.sent() + transport.sent()
    assert [m[1] for m in sent] == [NLM_F_REQUEST | NLM_F_DUMP] * 2


def flow_reply(seq, name, flags=NLM_F_MULTI):
    return reply(seq, DP.attrs.encode([("name", name)]), flags)


def attrs_names(raws):
    return [DP.attrs.decode(raw)["name"] for raw in raws]


def test_dump_attrs_hands_on_each_datagram_before_the_next_arrives(transport):
    transport.kernel.send(flow_reply(1, "a") + flow_reply(1, "b"))
    stream = transport.dump_attrs(FL, FL.CMD_GET, 3)
    # Only the first datagram is queued: its replies come without the DONE.
    assert attrs_names([next(stream), next(stream)]) == ["a", "b"]
    with pytest.raises(errors.OdpError, match="while a dump is being read"):
        transport.request(DP, DP.CMD_GET, 0, b"")
    transport.kernel.send(flow_reply(1, "c") + done(1))
    assert attrs_names(stream) == ["c"]
    transport.kernel.send(ack(3))  # the socket is free again once the dump ended (seq 2 refused)
    assert transport.request(DP, DP.CMD_DEL, 0, b"") == []


def test_dump_attrs_restarts_only_before_the_first_reply(transport):
    transport.kernel.send(flow_reply(1, "old", NLM_F_MULTI | NLM_F_DUMP_INTR))
    transport.kernel.send(flow_reply(2, "a") + done(2))
    assert attrs_names(transport.dump_attrs(FL, FL.CMD_GET, 3)) == ["a"]
    transport.kernel.send(flow_reply(3, "a"))
    transport.kernel.send(flow_reply(3, "b", NLM_F_MULTI | NLM_F_DUMP_INTR))
    stream = transport.dump_attrs(FL, FL.CMD_GET, 3, what="flows of datapath dp0")
    assert attrs_names([next(stream)]) == ["a"]
    with pytest.raises(errors.OdpError, match=r"flows of datapath dp0 was interrupted.* after 1"):
        next(stream)
    assert not transport._streaming  # pylint: disable=protected-access


def test_dump_attrs_raises_a_failed_done_after_its_replies(transport):
    failed = NLMSG_HDR.pack(20, NLMSG_DONE, NLM_F_MULTI, 1, 1234) + struct.pack("=i", -errno.ENODEV)
    transport.kernel.send(flow_reply(1, "a") + failed)
    stream = transport.dump_attrs(FL, FL.CMD_GET, 3, what="flows of datapath dp0")
    assert attrs_names([next(stream)]) == ["a"]
    with pytest.raises(errors.NotFound, match="flows of datapath dp0"):
        next(stream)
    transport.kernel.send(ack(2, errno.EPERM))
    with pytest.raises(errors.PermissionDenied):
        list(transport.dump_attrs(FL, FL.CMD_GET, 3))


def test_transact_acks_only_the_last_request_of_each_batch(transport, monkeypatch):
    monkeypatch.setattr(netlink, "BATCH_MESSAGES", 50)
    messages = [(FL, FL.CMD_NEW, 3, b"", 0)] * 120
    # Like the kernel: an error for every failed request, an ack for the last
    # request of each datagram (the only one that asks for it).
    transport.kernel.send(ack(50))
    transport.kernel.send(ack(60, errno.EEXIST) + ack(100))
    transport.kernel.send(ack(120))
    results = transport.transact(messages)
    assert sum(1 for r in results if isinstance(r, KernelError)) == 1
    assert results[59].errno == errno.EEXIST and results[0] == [] and results[119] == []
    batches = [transport.sent() for _batch in range(3)]
    assert [len(batch) for batch in batches] == [50, 50, 20]
    for batch in batches:
        assert [m[1] & NLM_F_ACK for m in batch] == [0] * (len(batch) - 1) + [NLM_F_ACK]
    err = results[59].to_error("create", "flow x in datapath dp0")
    assert isinstance(err, errors.AlreadyExists) and "flow x in datapath dp0" in str(err)


def test_transact_failed_barrier_ends_its_batch(transport):
    messages = [(FL, FL.CMD_DEL, 3, b"", 0)] * 3
    transport.kernel.send(ack(2, errno.ENOENT) + ack(3, errno.ENOENT))
    results = transport.transact(messages)
    assert results[0] == [] and [r.errno for r in results[1:]] == [errno.ENOENT] * 2


def test_transact_bounds_each_batch_by_bytes(transport):
    # 100 requests of 1,000 attribute bytes under a 10,000-byte batch bound:
    # 9 per datagram (9 * 1,024 header and attributes), never over the bound.
    transport.batch_bytes = 10000
    messages = [(FL, FL.CMD_NEW, 3, b"\0" * 1000, 0)] * 100
    for last in [*list(range(9, 100, 9)), 100]:
        transport.kernel.send(ack(last))
    results = transport.transact(messages)
    assert results == [[]] * 100
    sizes = []
    for _batch in range(12):
        batch = transport.sent()
        sizes.append(sum(OVS_REQ.size + len(m[5]) for m in batch))
        assert [m[1] & NLM_F_ACK for m in batch] == [0] * (len(batch) - 1) + [NLM_F_ACK]
    assert max(sizes) <= 10000 and sum(sizes) == 100 * (OVS_REQ.size + 1000)


@pytest.mark.fault
def test_transact_refuses_a_request_over_the_socket_limit_before_sending(transport):
    transport.max_datagram = 4000
    messages = [(FL, FL.CMD_NEW, 3, b"", 0), (FL, FL.CMD_NEW, 3, b"\0" * 5000, 0)]
    with pytest.raises(errors.KernelRejected, match="request 1 of the transaction is 5024 bytes"):
        transport.transact(messages)
    transport.sock.setblocking(False)
    transport.kernel.setblocking(False)
    with pytest.raises(BlockingIOError):
        transport.kernel.recv(1 << 16)  # nothing was sent


@pytest.mark.fault
def test_socket_errors_become_library_errors(transport, monkeypatch):
    class Refusing:
        def send(self, data):
            raise OSError(errno.EMSGSIZE, "Message too long")

    monkeypatch.setattr(transport, "sock", Refusing())
    with pytest.raises(errors.KernelRejected, match="Message too long") as info:
        transport.transact([(FL, FL.CMD_NEW, 3, b"", 0)])
    assert "transaction of 1 requests" in str(info.value)
    with pytest.raises(errors.KernelRejected, match="datapath dp0"):
        transport.request(DP, DP.CMD_NEW, 0, b"", what="datapath dp0")
    with pytest.raises(errors.KernelRejected, match="dump flows of datapath dp0"):
        list(transport.dump(FL, FL.CMD_GET, 3, what="flows of datapath dp0"))


@pytest.mark.parametrize(
    "code, cls",
    [
        (errno.EPERM, errors.PermissionDenied),
        (errno.EACCES, errors.PermissionDenied),
        (errno.ENOENT, errors.NoSuchVport),
        (errno.ENODEV, errors.NoSuchVport),
        (errno.EEXIST, errors.AlreadyExists),
        (errno.EBUSY, errors.PortBusy),
        (errno.EOPNOTSUPP, errors.Unsupported),
        (errno.EAFNOSUPPORT, errors.Unsupported),
        (errno.EINVAL, errors.KernelRejected),
        (errno.ERANGE, errors.KernelRejected),
        (errno.EMSGSIZE, errors.KernelRejected),
        (errno.ENOMEM, errors.OdpError),
    ],
)
def test_errno_table(code, cls):
    err = error_for(code, "create", "vport v0 in datapath dp0", errors.NoSuchVport)
    # The exact class: ENOMEM must stay the base OdpError, not any subclass.
    assert err.__class__ is cls and "vport v0 in datapath dp0" in str(err)
    if cls is errors.PermissionDenied:
        assert "CAP_NET_ADMIN" in str(err) and "create" in str(err)


def test_errno_table_per_errno_objects():
    missing = {
        errno.ENODEV: (errors.NoSuchDatapath, "datapath dp0"),
        errno.ENOENT: (errors.NoSuchFlow, "flow f in datapath dp0"),
    }
    assert str(error_for(errno.ENODEV, "get", "flow f", missing)) == "datapath dp0 does not exist"
    assert isinstance(error_for(errno.ENOENT, "get", "flow f", missing), errors.NoSuchFlow)


def test_messages_in_walks_a_datagram_and_refuses_a_malformed_one():
    first = netlink.NLMSG_HDR.pack(20, 16, 0, 7, 42) + b"abcd"
    second = netlink.NLMSG_HDR.pack(18, 2, 0, 8, 0) + b"xy" + b"\0\0"  # padded to 4
    walked = list(netlink.messages_in(first + second))
    assert walked == [(0, 20, 16, 0, 7, 42), (20, 18, 2, 0, 8, 0)]
    assert list(netlink.messages_in(first + second, 20)) == walked[:1]
    with pytest.raises(errors.OdpError, match="malformed netlink message"):
        list(netlink.messages_in(netlink.NLMSG_HDR.pack(8, 2, 0, 9, 0)))
