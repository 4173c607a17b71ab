"""Unit tests of conntrack zone limits (vswitch_odp.ct_limits) against the
requests and replies of the real kernel (data/kernel_interface.json)."""

import errno

import pytest
from kernel_interface import FakeTransport, reply_bytes, request_bytes
from vswitch_odp import errors
from vswitch_odp.ct_limits import CtLimits, ZoneLimit
from vswitch_odp.families import CtLimitFamily as CT
from vswitch_odp.netlink import KernelError

SET = ("ovs_ct_limit", CT.CMD_SET)
GET = ("ovs_ct_limit", CT.CMD_GET)
DEL = ("ovs_ct_limit", CT.CMD_DEL)


def limits(answers):
    transport = FakeTransport(answers)
    return CtLimits(transport), transport


def test_zone_limits_codec_round_trips_the_kernel_bytes():
    raw = reply_bytes("ct_limit_get_all")
    entries = CT.attrs.decode(raw)["zone_limits"]
    assert entries[0] == {"zone_id": -1, "limit": 10, "count": 0}
    assert CT.attrs.encode(CT.attrs.decode(raw).items()) == raw


def test_get_all_lists_the_default_first_then_zones():
    ops, transport = limits({GET: "ct_limit_get_all"})
    assert ops.get() == [ZoneLimit(None, 10), ZoneLimit(3, 2), ZoneLimit(70, 0)]
    assert transport.sent[0][3] == b""  # no zones: the kernel answers with all of them


def test_get_zones_gives_the_limit_that_applies():
    ops, transport = limits({GET: "ct_limit_get_zones"})
    # Zone 9 has no limit of its own: the kernel answers with the default's.
    assert ops.get([3, 9]) == [ZoneLimit(3, 2), ZoneLimit(9, 10)]
    assert transport.sent[0][3] == request_bytes("ct_limit_get_zones")
    assert ops.get([]) == []


def test_set_sends_what_the_kernel_took():
    ops, transport = limits({SET: "ct_limit_set"})
    ops.set(default=10, zones={70: 0, 3: 2})
    assert transport.sent[0][3] == request_bytes("ct_limit_set")


def test_delete_sends_what_the_kernel_took():
    ops, transport = limits({DEL: "ct_limit_del"})
    ops.delete([3, 70], default=True)
    assert transport.sent[0][3] == request_bytes("ct_limit_del")


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda ops: ops.set(zones={70000: 1}), "zone"),
        (lambda ops: ops.set(zones={-1: 1}), "zone"),
        (lambda ops: ops.set(zones={True: 1}), "zone"),
        (lambda ops: ops.set(zones={"1": 1}), "zone"),
        (lambda ops: ops.set(zones={1: -1}), "zones[1]"),
        (lambda ops: ops.set(zones={1: 1 << 32}), "zones[1]"),
        (lambda ops: ops.set(default="10"), "default"),
        (lambda ops: ops.set(zones=[1, 2]), "zones"),
        (lambda ops: ops.set(), "zones"),
        (lambda ops: ops.delete(), "zones"),
        (lambda ops: ops.delete(5), "zones"),
        (lambda ops: ops.delete([65536]), "zone"),
        (lambda ops: ops.get([1.5]), "zone"),
    ],
)
def test_bad_input_is_refused_before_sending(call, field):
    ops, transport = limits({})
    with pytest.raises(errors.ValidationError) as caught:
        call(ops)
    assert caught.value.field == field
    assert transport.sent == []


def test_refusals_name_the_limits():
    ops, _transport = limits({SET: KernelError(errno.EPERM)})
    with pytest.raises(errors.PermissionDenied, match="cannot set conntrack zone limits"):
        ops.set(default=1)
