"""Kernel tests of conntrack zone limits (Client.ct_limits): the operations,
cross-checked with ovs-dpctl, and connections beyond a zone's limit refused.

Limits and conntrack entries belong to a network namespace, so every test
works in a namespace of its own: nothing it sets touches the sandbox's (or a
host's) connections, and no entry of an earlier run counts against a limit.

The sandbox's 6.1 kernel is built without CONFIG_NF_CONNTRACK_ZONES: it
refuses ``ct(zone=N)`` ("Unknown conntrack attr (2)"), so the traffic test
limits zone 0, the zone of a plain ``ct(commit)``.
"""

import socket
import uuid

import pytest
from conftest import run
from vswitch_odp import Client, parse_flow
from vswitch_odp.ct_limits import ZoneLimit
from vswitch_odp.flows import Flow
from vswitch_odp.netlink import in_netns

PORT = 5001


@pytest.fixture
def limits(kernel, netns):
    """(Client, its network namespace, a zone): a namespace of the test's own."""
    ns = netns("ctl")
    with Client(netns=ns) as client:
        yield client, ns, 1 + uuid.uuid4().int % 65000


def test_set_get_delete(limits):
    client, _ns, zone = limits
    ct = client.ct_limits
    assert ct.get() == [ZoneLimit(None, 0)]  # a new namespace: unlimited
    ct.set(default=50, zones={zone: 2, zone + 1: 0})
    assert ct.get() == [ZoneLimit(None, 50), ZoneLimit(zone, 2), ZoneLimit(zone + 1, 0)]
    # A zone without a limit of its own answers with the default.
    assert ct.get([zone, zone + 2]) == [ZoneLimit(zone, 2), ZoneLimit(zone + 2, 50)]
    ct.delete([zone, zone + 3])  # zone + 3 has none: fine
    assert ct.get() == [ZoneLimit(None, 50), ZoneLimit(zone + 1, 0)]
    ct.delete([zone + 1], default=True)
    assert ct.get() == [ZoneLimit(None, 0)]


def test_ovs_dpctl_cross_check(limits):
    client, ns, zone = limits
    # ovs-dpctl works through a datapath (though the limits are the namespace's).
    dp = client.create_datapath("odpkct")
    client.ct_limits.set(default=7, zones={zone: 3})
    shown = run(
        "ip", "netns", "exec", ns, "ovs-dpctl", "ct-get-limits", dp.name, "zone=%d" % zone
    ).stdout
    assert "default limit=7" in shown and "zone=%d,limit=3,count=0" % zone in shown
    run(
        "ip",
        "netns",
        "exec",
        ns,
        "ovs-dpctl",
        "ct-set-limits",
        dp.name,
        "zone=%d,limit=9" % (zone + 1),
    )
    assert client.ct_limits.get([zone + 1]) == [ZoneLimit(zone + 1, 9)]


def udp_socket(ns, address, port=0):
    sock = in_netns(ns, socket.socket, socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, port))
    sock.settimeout(1)
    return sock


def arrived(receiver):
    """The datagrams that reach ``receiver`` (a second for the first, then 0.3 s)."""
    got = []
    try:
        while True:
            got.append(receiver.recv(100))
            receiver.settimeout(0.3)
    except socket.timeout:
        receiver.settimeout(1)
    return got


def test_connections_beyond_the_zone_limit_are_refused(limits, joined):
    client, ns, _zone = limits
    dp = client.create_datapath("odpkct")
    pair = joined(client, dp, "10.78.0", host_netns=ns)
    text = "in_port(%d),eth(),eth_type(0x0800),ipv4(proto=17),udp() actions:ct(commit),%d" % (
        pair.port_a,
        pair.port_b,
    )
    client.put_flow(dp, Flow(*parse_flow(text)[:3]))
    client.ct_limits.set(zones={0: 2})
    receiver = udp_socket(pair.b.netns, "10.78.0.2", PORT)
    senders = [udp_socket(pair.a.netns, "10.78.0.1") for _connection in range(3)]
    try:
        # Three connections (three source ports): the third is not committed, so dropped.
        for index, sender in enumerate(senders):
            sender.sendto(b"c%d" % index, ("10.78.0.2", PORT))
        assert sorted(arrived(receiver)) == [b"c0", b"c1"]
        assert client.ct_limits.get([0]) == [ZoneLimit(0, 2, count=2)]
        # Known connections still pass.
        senders[0].sendto(b"again", ("10.78.0.2", PORT))
        assert arrived(receiver) == [b"again"]
        # Room for one more: the third passes now.
        client.ct_limits.set(zones={0: 3})
        senders[2].sendto(b"c2", ("10.78.0.2", PORT))
        assert arrived(receiver) == [b"c2"]
        assert client.ct_limits.get([0])[0].count == 3
    finally:
        for sock in [*senders, receiver]:
            sock.close()
