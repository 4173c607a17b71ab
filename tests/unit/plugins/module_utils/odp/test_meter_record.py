"""Unit tests of the meter band record (vswitch_odp.meter_record) and of
Meters keeping it: what was set is read back, a re-made datapath's record
is ignored, a deleted meter is forgotten, a failed write says the kernel
was changed."""

import json
import os

import pytest
from kernel_interface import FakeTransport
from vswitch_odp import errors, meter_record
from vswitch_odp.families import MeterFamily as MF
from vswitch_odp.meters import Meters, check_config

PKTS = {"unit": "pkts", "bands": [{"type": "drop", "rate": 2, "burst": 2}]}
KBPS = {"unit": "kbps", "bands": [{"type": "drop", "rate": 100, "burst": 10}]}


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "net-1" / "dp0.meters.json")


def test_update_and_load(path):
    assert meter_record.load(path, 7) == {}
    meter_record.update(path, 7, 1, PKTS)
    meter_record.update(path, 7, 300, KBPS)
    assert meter_record.load(path, 7) == {1: PKTS, 300: KBPS}
    with open(path) as handle:
        assert json.load(handle) == {"ifindex": 7, "meters": {"1": PKTS, "300": KBPS}}
    meter_record.update(path, 7, 1, None)
    assert meter_record.load(path, 7) == {300: KBPS}
    # Forgetting an id not recorded leaves the file as it was.
    before = os.stat(path).st_mtime_ns
    meter_record.update(path, 7, 5, None)
    assert os.stat(path).st_mtime_ns == before
    # The temporary files of the atomic writes are gone.
    assert os.listdir(os.path.dirname(path)) == ["dp0.meters.json"]


def test_another_incarnation_of_the_datapath_is_ignored(path):
    meter_record.update(path, 7, 1, PKTS)
    assert meter_record.load(path, 8) == {}
    # The first write for the new datapath drops the old one's entries.
    meter_record.update(path, 8, 2, KBPS)
    assert meter_record.load(path, 8) == {2: KBPS}
    assert meter_record.load(path, 7) == {}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{not json",
        "[]",
        '{"ifindex": 7}',
        '{"ifindex": 7, "meters": []}',
        '{"ifindex": 7, "meters": {"x": {"unit": "pkts", "bands": []}, "2": {"unit": "pkts"}}}',
    ],
)
def test_a_damaged_record_reads_as_unknown(path, text):
    os.makedirs(os.path.dirname(path))
    with open(path, "w") as handle:
        handle.write(text)
    assert meter_record.load(path, 7) == {}
    meter_record.update(path, 7, 1, PKTS)
    assert meter_record.load(path, 7) == {1: PKTS}


def test_a_failed_write_says_the_meter_was_changed(tmp_path):
    # The record's directory is a file: the write fails, as root too.
    blocker = tmp_path / "net-1"
    blocker.write_text("")
    with pytest.raises(errors.OdpError) as caught:
        meter_record.update(str(blocker / "dp0.meters.json"), 7, 1, PKTS)
    assert caught.value.changed is True
    assert "meter 1 was changed in the kernel, but its band record" in str(caught.value)


def test_check_config_fills_the_burst_and_names_the_field():
    assert check_config(1, [{"rate": 5}], "pkts", None) == {
        "unit": "pkts",
        "bands": [{"type": "drop", "rate": 5, "burst": 5}],
    }
    with pytest.raises(errors.ValidationError) as caught:
        check_config(1, [{"rate": 5, "type": "remark"}], "pkts", None)
    assert caught.value.field == "bands[0].type"
    with pytest.raises(errors.ValidationError) as caught:
        check_config(1, [{"rate": 5, "burst": 0}], "kbps", None)
    assert caught.value.field == "bands[0].burst"


def test_meters_keep_the_record(path):
    # Meter 7 as the kernel answered: its SET replaces a meter, its DEL finds one.
    transport = FakeTransport(
        {
            ("ovs_meter", MF.CMD_FEATURES): "meter_features",
            ("ovs_meter", MF.CMD_SET): "meter_set_replace",
            ("ovs_meter", MF.CMD_GET): "meter_get",
            ("ovs_meter", MF.CMD_DEL): "meter_del",
        }
    )
    ifindex = [2]
    ops = Meters(transport, lambda dp: ("dp0", ifindex[0]), record=lambda name: path)
    ops.set("dp0", 7, [{"rate": 2}], unit="pkts")
    meter = ops.get("dp0", 7)
    assert (meter.unit, meter.bands) == ("pkts", PKTS["bands"])
    assert ops.list("dp0", [7])[0].info()["bands"] == PKTS["bands"]
    # Replacing it returns the old meter with its old bands.
    replaced = ops.set("dp0", 7, [{"rate": 100, "burst": 10}])
    assert replaced is not None and replaced.bands == PKTS["bands"]
    assert ops.get("dp0", 7).unit == "kbps"
    # The datapath made again under the same name: its meters are unknown.
    ifindex[0] = 3
    assert ops.get("dp0", 7).bands is None
    ifindex[0] = 2
    deleted = ops.delete("dp0", 7)
    assert deleted is not None and deleted.unit == "kbps"
    assert meter_record.load(path, 2) == {}
