"""Unit tests of meters (vswitch_odp.meters): input checks before anything is
sent, requests equal to those the real kernel accepted, replies decoded from
bytes it sent (data/kernel_interface.json)."""

import contextlib
import errno

import pytest
from kernel_interface import FakeTransport, reply_bytes, request_bytes
from vswitch_odp import errors
from vswitch_odp.families import MeterFamily as MF
from vswitch_odp.flows import Flow
from vswitch_odp.meters import SCAN_IDS, Band, Meter, MeterFeatures, Meters, meter_ids_in
from vswitch_odp.netlink import KernelError

DP_NAME, DP_IFINDEX = "capif", 2
FEATURES = ("ovs_meter", MF.CMD_FEATURES)
SET = ("ovs_meter", MF.CMD_SET)
GET = ("ovs_meter", MF.CMD_GET)
DEL = ("ovs_meter", MF.CMD_DEL)


def meters(answers, flows=()):
    transport = FakeTransport({FEATURES: "meter_features", **answers})
    return Meters(transport, lambda dp: (DP_NAME, DP_IFINDEX), lambda dp: list(flows)), transport


def decoded(name):
    return MF.attrs.decode(reply_bytes(name))


def test_features_from_the_kernel():
    features = MeterFeatures(decoded("meter_features"))
    assert (features.max_meters, features.max_bands) == (200000, 1)
    assert features.band_types == ["drop"]
    assert features.flags == ["kbps", "pktps", "burst", "stats"]


def test_counters_from_the_kernel():
    # 5 frames of 60 bytes through 1 packet/s, burst 1: 1 passed, 4 exceeded the band.
    meter = Meter(DP_NAME, decoded("meter_get"))
    assert (meter.id, meter.packets, meter.bytes) == (7, 5, 300)
    assert meter.band_stats == [{"packets": 4, "bytes": 240}]
    assert isinstance(meter.used, int)


def test_set_new_meter_sends_what_the_kernel_took():
    ops, transport = meters({SET: "meter_set_new", GET: KernelError(errno.ENOENT)})
    assert ops.set(DP_NAME, 7, [Band(rate=1, burst=1)], unit="pkts") is None
    assert transport.sent_commands() == [FEATURES, GET, SET]
    assert transport.sent[-1][2:] == (DP_IFINDEX, request_bytes("meter_set_new"))


def test_replacing_carries_the_counters_over():
    ops, transport = meters({SET: "meter_set_replace", GET: "meter_get"})
    replaced = ops.set(DP_NAME, 7, [{"rate": 1000, "burst": 100}], unit="kbps")
    assert transport.sent[-1][3] == request_bytes("meter_set_replace")
    assert (replaced.packets, replaced.band_stats) == (5, [{"packets": 4, "bytes": 240}])


def test_keep_stats_false_starts_from_zero():
    ops, transport = meters({SET: "meter_set_replace"})
    ops.set(DP_NAME, 7, [Band(1000, 100)], keep_stats=False)
    assert GET not in transport.sent_commands()
    assert "stats" not in MF.attrs.decode(transport.sent[-1][3])


def test_burst_defaults_to_the_rate():
    ops, transport = meters({SET: "meter_set_new"})
    ops.set(DP_NAME, 1, [Band(rate=300)], keep_stats=False)
    ((_name, band),) = MF.attrs.decode(transport.sent[-1][3])["bands"]
    assert band == {"type": 1, "rate": 300, "burst": 300}


@pytest.mark.parametrize(
    "meter_id, bands, unit, field",
    [
        (-1, [Band(1)], "kbps", "meter"),
        (1 << 32, [Band(1)], "kbps", "meter"),
        (True, [Band(1)], "kbps", "meter"),
        ("1", [Band(1)], "kbps", "meter"),
        (1, [Band(1)], "bps", "unit"),
        (1, [], "kbps", "bands"),
        (1, Band(1), "kbps", "bands"),
        (1, [Band(1), Band(2)], "kbps", "bands"),  # the kernel takes one band
        (1, [Band(0)], "kbps", "bands[0].rate"),
        (1, [Band(1 << 32)], "kbps", "bands[0].rate"),
        (1, [Band(5, burst=0)], "kbps", "bands[0].burst"),
        (1, [Band(5, type="remark")], "kbps", "bands[0].type"),
        (1, [{"rat": 5}], "kbps", "bands[0]"),
        (1, ["fast"], "kbps", "bands[0]"),
    ],
)
def test_bad_input_is_refused_before_sending(meter_id, bands, unit, field):
    ops, transport = meters({})
    with pytest.raises(errors.ValidationError) as caught:
        ops.set(DP_NAME, meter_id, bands, unit=unit)
    assert caught.value.field == field
    assert set(transport.sent_commands()) <= {FEATURES}


@pytest.mark.parametrize(
    "code, cls, text",
    [
        (errno.EBUSY, errors.KernelRejected, "another meter holds its slot"),
        (errno.EFBIG, errors.KernelRejected, "the most meters the kernel allows (200000)"),
        (errno.ENODEV, errors.NoSuchDatapath, "datapath capif does not exist"),
        (errno.EPERM, errors.PermissionDenied, "cannot set meter 9 of datapath capif"),
    ],
)
def test_kernel_refusals_name_the_meter(code, cls, text):
    ops, _transport = meters({SET: KernelError(code), GET: KernelError(errno.ENOENT)})
    with pytest.raises(cls) as caught:
        ops.set(DP_NAME, 9, [Band(10)])
    assert text in str(caught.value)
    assert caught.value.errno == code


def test_get_of_a_missing_meter():
    ops, _transport = meters({GET: KernelError(errno.ENOENT)})
    with pytest.raises(errors.NotFound, match="meter 3 of datapath capif does not exist"):
        ops.get(DP_NAME, 3)


def test_delete_returns_the_last_counters_or_none():
    ops, _transport = meters(
        {
            DEL: lambda ifindex, attrs: (
                "meter_del" if MF.attrs.decode(attrs)["id"] == 7 else "meter_del_absent"
            )
        }
    )
    assert ops.delete(DP_NAME, 7).packets == 5
    assert ops.delete(DP_NAME, 8) is None


def test_meter_ids_in_nested_actions():
    actions = [
        ("meter", 1),
        ("clone", [("meter", 2), ("output", 1)]),
        ("sample", {"probability": 5, "actions": [("meter", 3)]}),
        ("check_pkt_len", {"size": 100, "gt": [("meter", 4)], "le": []}),
        ("dec_ttl", {"le_1": [("meter", 5)]}),
        ("output", 2),
    ]
    assert list(meter_ids_in(actions)) == [1, 2, 3, 4, 5]


def test_list_asks_for_the_scanned_ids_and_those_flows_use():
    present = {5, 70000}

    def get(_ifindex, attrs):
        return "meter_get" if MF.attrs.decode(attrs)["id"] in present else KernelError(errno.ENOENT)

    flow = Flow({"in_port": 1}, None, [("meter", 70000), ("output", 2)])
    ops, transport = meters({GET: get}, flows=[flow])
    found = ops.list(DP_NAME)
    asked = [
        MF.attrs.decode(attrs)["id"] for _n, cmd, _i, attrs in transport.sent if cmd == MF.CMD_GET
    ]
    assert asked == [*list(range(SCAN_IDS)), 70000]
    assert len(found) == 2  # the captured reply says meter 7 each time: only the count matters
    assert ops.list(DP_NAME, ids=[3]) == []


def test_list_reports_other_errors():
    ops, _transport = meters({GET: KernelError(errno.EPERM)})
    with pytest.raises(errors.PermissionDenied, match="meter 0 of datapath capif"):
        ops.list(DP_NAME, ids=[0])


def test_set_and_delete_hold_the_datapaths_lock():
    """Meters change a datapath: they are written under its lock, and the
    requests go out while it is held."""
    transport = FakeTransport(
        {
            FEATURES: "meter_features",
            SET: "meter_set_new",
            GET: KernelError(errno.ENOENT),
            DEL: "meter_del",
        }
    )
    held = []

    @contextlib.contextmanager
    def hold(datapath):
        held.append(("take", datapath, len(transport.sent)))
        yield
        held.append(("drop", datapath, len(transport.sent)))

    ops = Meters(transport, lambda dp: (DP_NAME, DP_IFINDEX), lambda dp: [], hold)
    ops.set(DP_NAME, 7, [Band(rate=1, burst=1)], unit="pkts")
    ops.delete(DP_NAME, 7)
    assert held == [
        ("take", DP_NAME, 0),
        ("drop", DP_NAME, 3),
        ("take", DP_NAME, 3),
        ("drop", DP_NAME, 4),
    ]
