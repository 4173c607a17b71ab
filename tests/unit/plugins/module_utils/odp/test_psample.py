"""Unit tests of psample (vswitch_odp.psample, odp psample listen's lines) on
samples the sandbox's 6.1 kernel multicast: tc's sample action on a veth
(ifindex 2, group 7, rate 1, truncated to 60 bytes), an ARP reply and an
ICMP echo reply."""

import errno

import pytest
from vswitch_odp import errors
from vswitch_odp.actions import actions_named
from vswitch_odp.cli.psample import sample_line
from vswitch_odp.flowcheck import validate_flow
from vswitch_odp.flows import Flow
from vswitch_odp.meters import meter_ids_in
from vswitch_odp.netlink import NLMSG_HDRLEN
from vswitch_odp.psample import SampleListener, decode_sample

FAMILY_ID = 0x1C
ARP = bytes.fromhex(
    "800000001c00000000000000000000000001000006000000020000000800050001000000080002002a000000"
    "080003000700000008000400000000000c000d0070791e0e8374ed1806000e00060800002e0006005acd2f40"
    "27163627d6acb4ef080600010800060400023627d6acb4ef0a0900025acd2f4027160a0900010000"
)
ICMP = bytes.fromhex(
    "900000001c000000000000000000000000010000060000000200000008000500010000000800020062000000"
    "080003000700000008000400010000000c000d0070c81e0e8374ed1806000e0000080000400006005acd2f40"
    "27163627d6acb4ef080045000054f5910000400171030a0900020a0900010000ab6b02c700011c24106b0000"
    "00005d6a0900000000001011"
)


def test_decode_captured_samples():
    arp, icmp = (decode_sample(m[NLMSG_HDRLEN:]) for m in (ARP, ICMP))
    assert (arp.group, arp.seq, arp.in_ifindex, arp.out_ifindex, arp.rate) == (7, 0, 2, None, 1)
    assert (len(arp.packet), arp.orig_size, arp.proto) == (42, 42, 0x0806)
    assert arp.packet[12:14] == b"\x08\x06" and arp.timestamp > 0
    # Truncated by tc's trunc: 60 bytes kept of 98.
    assert (icmp.seq, len(icmp.packet), icmp.orig_size, icmp.proto) == (1, 60, 98, 0x0800)
    assert icmp.cookie is None and not icmp.probability


def test_other_commands_are_no_samples():
    body = bytearray(ICMP[NLMSG_HDRLEN:])
    body[0] = 1  # PSAMPLE_CMD_GET_GROUP
    assert decode_sample(bytes(body)) is None


def test_lines():
    icmp = decode_sample(ICMP[NLMSG_HDRLEN:])
    assert sample_line(icmp, {2: "va"}) == (
        "group=7 seq=1 in=va bytes=60 orig_bytes=98 rate=1 proto=0x0800"
    )
    assert sample_line(icmp, {}, packet=True).endswith(
        " in=2 bytes=60 orig_bytes=98 rate=1 proto=0x0800 packet=" + icmp.packet.hex()
    )
    # What a datapath's psample action nested in sample(50%) adds.
    icmp.cookie, icmp.probability, icmp.rate, icmp.in_ifindex = b"\x01\x02", True, 1 << 31, None
    assert sample_line(icmp, {}) == (
        "group=7 seq=1 bytes=60 orig_bytes=98 probability=50.0% proto=0x0800 cookie=0x0102"
    )


class FakeSocket:
    def __init__(self, datagrams):
        self.datagrams = list(datagrams)

    def recv(self, _size):
        item = self.datagrams.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


def test_groups_filter_and_overflow_is_counted():
    listener = SampleListener([8])
    listener._family_id = FAMILY_ID  # pylint: disable=protected-access
    sock = FakeSocket([ICMP, OSError(errno.ENOBUFS, "No buffer space available"), ARP])
    for _datagram in range(3):
        listener._read(sock)  # pylint: disable=protected-access
    assert list(listener._pending) == [] and listener.overruns == 1  # pylint: disable=protected-access
    everything = SampleListener()
    everything._family_id = FAMILY_ID  # pylint: disable=protected-access
    everything._read(FakeSocket([ARP + ICMP]))  # two messages in one datagram
    assert [s.seq for s in everything._pending] == [0, 1]  # pylint: disable=protected-access


def test_unsubscribed_and_bad_groups():
    with pytest.raises(errors.OdpError, match="not subscribed"):
        SampleListener().recv(0)
    with pytest.raises(errors.ValidationError, match="group"):
        SampleListener([-1])


def test_actions_named_finds_nested_ones():
    actions = [
        ("meter", 1),
        ("clone", [("psample", {"group": 1})]),
        ("sample", {"probability": 5, "actions": [("meter", 2)]}),
        ("check_pkt_len", {"size": 9, "gt": [("psample", {"group": 2})], "le": []}),
        ("dec_ttl", {"le_1": [("meter", 3)]}),
    ]
    assert list(actions_named(actions, "psample")) == [{"group": 1}, {"group": 2}]
    assert list(meter_ids_in(actions)) == [1, 2, 3]


@pytest.mark.parametrize(
    "action, field, reason",
    [
        (("psample", {"cookie": b"\x01"}), "actions[0].psample.group", "needs its group"),
        (("psample", {"group": 1, "cookie": bytes(17)}), "actions[0].psample.cookie", "16 bytes"),
        (
            ("sample", {"probability": 1, "actions": [("psample", {})]}),
            "actions[0].sample.actions[0].psample.group",
            "needs its group",
        ),
    ],
)
def test_psample_action_checked(action, field, reason):
    flow = Flow({"in_port": 1, "eth": {}}, actions=[action])
    with pytest.raises(errors.ValidationError, match=reason) as caught:
        validate_flow(flow.key, flow.mask, flow.actions)
    assert caught.value.field == field
