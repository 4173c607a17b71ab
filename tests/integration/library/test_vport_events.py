"""Kernel tests of vport events (Client.vport_events): vports made and removed
with the Client, with ovs-dpctl and by the kernel itself, datapaths coming
and going, filtering, timeouts, and a socket that overflows."""

import time
import uuid

import pytest
from conftest import run
from vswitch_odp import errors
from vswitch_odp.vport_events import VportEvents

QUIET = 0.5  # seconds without an event that end a batch


def summary(events):
    return [(e.kind, e.datapath, e.name, e.type) for e in events]


def unique(prefix):
    return prefix + uuid.uuid4().hex[:6]


def test_client_and_ovs_dpctl_changes(odp):
    client, dp = odp
    with client.vport_events(dp) as events:
        port = client.create_vport(dp, "odpke1", type="internal")
        client.set_upcall_pids(dp, "odpke1", [4242])
        client.delete_vport(dp, "odpke1")
        run("ovs-dpctl", "add-if", dp.name, "odpke2,type=internal")
        run("ovs-dpctl", "del-if", dp.name, "odpke2")
        got = list(events.iter(timeout=QUIET))
    assert summary(got) == [
        ("created", dp.name, "odpke1", "internal"),
        ("changed", dp.name, "odpke1", "internal"),
        ("deleted", dp.name, "odpke1", "internal"),
        ("created", dp.name, "odpke2", "internal"),
        ("deleted", dp.name, "odpke2", "internal"),
    ]
    assert got[0].port_no == port.port_no and got[0].dp_ifindex == dp.ifindex
    mine, dpctl = got[0].portid, got[3].portid
    assert mine == client.transport.portid and dpctl not in (0, mine)


def test_the_kernel_and_datapaths(odp, veth):
    client, dp = odp
    side = veth()
    other = unique("odpk")
    with client.vport_events() as events:
        client.create_vport(dp, side.host)
        run("ip", "link", "delete", side.host)  # the kernel detaches the vport itself
        client.create_datapath(other)
        client.delete_datapath(other)
        got = list(events.iter(timeout=QUIET))
    assert summary(got) == [
        ("created", dp.name, side.host, "netdev"),
        ("deleted", dp.name, side.host, "netdev"),
        ("datapath_created", other, other, "internal"),
        ("datapath_deleted", other, other, "internal"),
    ]
    assert got[1].portid == 0 and got[2].port_no == 0


def test_filtered_by_datapath(odp):
    client, dp = odp
    other = client.create_datapath(unique("odpk"))
    try:
        with client.vport_events(other.name) as events:
            client.create_vport(dp, "odpke3", type="internal")
            client.create_vport(other, "odpke4", type="internal")
            got = list(events.iter(timeout=QUIET))
    finally:
        client.delete_datapath(other)
    assert summary(got) == [("created", other.name, "odpke4", "internal")]


def test_timeout_close_and_missing_datapath(odp):
    client, dp = odp
    events = client.vport_events(dp)
    with pytest.raises(errors.OdpError, match="not subscribed"):
        events.recv(timeout=0)
    with events:
        start = time.monotonic()
        assert events.recv(timeout=0.3) is None
        assert 0.3 <= time.monotonic() - start < 2
        assert events.recv(timeout=0) is None
    with pytest.raises(errors.OdpError, match="not subscribed"):
        events.recv(timeout=0)
    with pytest.raises(errors.NoSuchDatapath, match="datapath nosuchdp"):
        client.vport_events("nosuchdp").open()


def test_overflow_is_signalled_and_events_go_on(odp):
    client, dp = odp
    # The smallest receive buffer the kernel allows holds a few events only.
    with VportEvents(dp, rcvbuf=1) as events:
        for index in range(30):
            client.create_vport(dp, "odpkq%d" % index, type="internal")
        got = list(events.iter(timeout=QUIET))
        assert "overflow" in [e.kind for e in got] and events.overruns >= 1
        assert len(got) < 30
        client.create_vport(dp, "odpklast", type="internal")
        assert summary([events.recv(timeout=5)]) == [("created", dp.name, "odpklast", "internal")]
