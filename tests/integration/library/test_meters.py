"""Kernel tests of meters (Client.meters): the operations, the meter action as
ovs-dpctl reads and writes it, and a meter limiting real traffic."""

import os

import pytest
from conftest import pings_received, run
from vswitch_odp import Client, errors, format_actions, parse_flow
from vswitch_odp.families import MeterFamily as MF
from vswitch_odp.flows import Flow
from vswitch_odp.meters import Band

PINGS = 20


def test_features(odp):
    client, dp = odp
    features = client.meters.features(dp)
    assert features.max_bands >= 1 and features.max_meters > 0
    assert "drop" in features.band_types


def test_set_get_list_delete(odp):
    client, dp = odp
    meters = client.meters
    assert meters.set(dp, 1, [Band(rate=100, burst=10)], unit="pkts") is None
    assert meters.set(dp, 2, [{"rate": 5000}]) is None
    replaced = meters.set(dp, 2, [Band(rate=6000)])
    assert (replaced.id, replaced.packets, replaced.band_stats) == (
        2,
        0,
        [{"packets": 0, "bytes": 0}],
    )
    assert meters.get(dp, 1).band_stats == [{"packets": 0, "bytes": 0}]
    assert [m.id for m in meters.list(dp)] == [1, 2]
    assert [m.id for m in meters.list(dp, ids=[2, 5])] == [2]
    assert meters.delete(dp, 1).id == 1
    assert meters.delete(dp, 1) is None
    with pytest.raises(errors.NotFound, match="meter 1 of datapath %s" % dp.name):
        meters.get(dp, 1)
    assert [m.id for m in meters.flush(dp)] == [2]
    assert meters.list(dp) == []


def set_unrecorded(client, dp, meter_id):
    """Set a meter as another tool would: the same kernel command, no record."""
    band = ("band", {"type": MF.BAND_TYPE_IDS["drop"], "rate": 9, "burst": 9})
    client.transport.request(
        MF, MF.CMD_SET, dp.ifindex, MF.attrs.encode([("id", meter_id), ("bands", [band])])
    )


def test_bands_recorded_and_read_back(odp):
    """The kernel reports no bands: what this library set is read back from
    its record, by another client too, and forgotten with the meter or the
    datapath."""
    client, dp = odp
    client.meters.set(dp, 1, [Band(rate=2, burst=3)], unit="pkts")
    client.meters.set(dp, 2, [{"rate": 5000}])
    with Client() as other:
        found = {m.id: (m.unit, m.bands) for m in other.meters.list(dp.name)}
    assert found == {
        1: ("pkts", [{"type": "drop", "rate": 2, "burst": 3}]),
        2: ("kbps", [{"type": "drop", "rate": 5000, "burst": 5000}]),
    }
    assert os.path.exists(client.locks.path(dp.name, ".meters.json"))
    client.meters.delete(dp, 2)
    set_unrecorded(client, dp, 2)
    assert client.meters.get(dp, 2).bands is None
    assert client.meters.get(dp, 1).unit == "pkts"
    # The datapath made again: the old one's record is not believed.
    client.delete_datapath(dp.name)
    again = client.create_datapath(dp.name)
    set_unrecorded(client, again, 1)
    assert client.meters.get(again, 1).bands is None


def test_kernel_limits_named(odp):
    client, dp = odp
    client.meters.set(dp, 3, [Band(10)])
    # The 6.1 kernel keeps one meter per slot: id modulo its table size (1024).
    with pytest.raises(errors.KernelRejected, match=r"meter 1027 of datapath .*slot"):
        client.meters.set(dp, 1027, [Band(10)])
    with pytest.raises(errors.NoSuchDatapath):
        client.meters.get("nosuchdp", 3)
    with pytest.raises(errors.ValidationError, match="at most 1 band"):
        client.meters.set(dp, 4, [Band(10), Band(20)])


def test_meter_action_with_ovs_dpctl(odp):
    client, dp = odp
    port = client.create_vport(dp, "odpkm1", type="internal").port_no
    key, mask, actions, _ufid = parse_flow(
        "in_port(%d),eth(),eth_type(0x0800),ipv4() actions:meter(70000),%d" % (port, port)
    )
    client.put_flow(dp, Flow(key, mask, actions))
    dumped = run("ovs-dpctl", "dump-flows", dp.name).stdout
    assert "actions:meter(70000),%d" % port in dumped
    run(
        "ovs-dpctl",
        "add-flow",
        dp.name,
        "in_port(%d),eth(),eth_type(0x0806),arp()" % port,
        "meter(5),%d" % port,
    )
    assert sorted(format_actions(f.actions) for f in client.flows(dp)) == [
        "meter(5),%d" % port,
        "meter(70000),%d" % port,
    ]
    # list() finds meters the flows use above the scanned ids.
    client.meters.set(dp, 70000, [Band(10)])
    assert [m.id for m in client.meters.list(dp)] == [70000]


def test_meter_limits_traffic(odp, joined):
    client, dp = odp
    pair = joined(client, dp, "10.77.0")
    echo = "in_port(%d),eth(),eth_type(0x0800),ipv4(proto=1) actions:%s"
    for text in (
        echo % (pair.port_a, "meter(1),%d" % pair.port_b),
        echo % (pair.port_b, pair.port_a),
    ):
        client.put_flow(dp, Flow(*parse_flow(text)[:3]))
    client.meters.set(dp, 1, [Band(rate=2, burst=2)], unit="pkts")
    received = pings_received(pair.a.netns, "10.77.0.2", PINGS, 0.1)
    meter = client.meters.get(dp, 1)
    # Every request went through the meter; those the band dropped got no reply.
    # 2 s at 2 packets/s after a burst of 2: about 6 pass.
    assert meter.packets == PINGS
    assert received + meter.band_stats[0]["packets"] == PINGS
    assert 3 <= received <= 10, received
    # Replacing the bands carries the meter's counters, not the band's.
    replaced = client.meters.set(dp, 1, [Band(rate=1000)], unit="pkts")
    assert replaced.packets == PINGS
    again = client.meters.get(dp, 1)
    assert (again.packets, again.band_stats[0]["packets"]) == (PINGS, 0)
    assert pings_received(pair.a.netns, "10.77.0.2", 3, 0.2) == 3
    client.meters.set(dp, 1, [Band(rate=1000)], unit="pkts", keep_stats=False)
    assert client.meters.get(dp, 1).packets == 0
