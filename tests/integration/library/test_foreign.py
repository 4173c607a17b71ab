"""Kernel tests of what other tools made: network devices this library did
not create are detached, never deleted, and are listed as what they are."""

import os
import uuid

import pytest
from conftest import run
from test_cli import odp as odp_cli
from vswitch_odp import errors, tunnels


def unique(prefix):
    return prefix + uuid.uuid4().hex[:6]


def exists(name):
    return os.path.exists("/sys/class/net/" + name)


@pytest.fixture
def foreign_vxlan(kernel):
    """Factory: an external (metadata-mode) vxlan made by ip link, as another tool would."""
    made = []
    # iproute2 does not load the link kind's module; the kernel may not either.
    run("modprobe", "vxlan")

    def make(port):
        name = unique("vxf")
        run("ip", "link", "add", name, "type", "vxlan", "external", "dstport", str(port))
        made.append(name)
        return name

    yield make
    for name in made:
        run("ip", "link", "delete", name, check=False)


def test_vport_delete_keeps_foreign_tunnel_device(odp, foreign_vxlan):
    client, dp = odp
    name = foreign_vxlan(4801)
    client.create_vport(dp, name)
    # Listed as the tunnel it is, though another tool made it.
    out, _err = odp_cli("vport", "list", dp.name)
    assert "vxlan %s %s --port=4801" % (dp.name, name) in out.splitlines()
    listed = client.get_vport(dp, name)
    assert (listed.type, listed.port, listed.backing, listed.owned) == (
        "vxlan",
        4801,
        "netdev",
        False,
    )
    odp_cli("vport", "delete", dp.name, name)
    assert exists(name)
    assert name not in [v.name for v in client.vports(dp)]


def test_datapath_delete_keeps_foreign_and_removes_ours(odp, foreign_vxlan):
    client, dp = odp
    theirs = foreign_vxlan(4802)
    ours = unique("vxo")
    # What create_vport does when the kernel lacks vport-vxlan: a marked netdev.
    tunnels.create("vxlan", ours, 4803, datapath=dp.name)
    try:
        assert tunnels.MARK in run("ip", "-d", "link", "show", ours).stdout
        client.create_vport(dp, theirs)
        client.create_vport(dp, ours)
        owned = {v.name: v.owned for v in client.vports(dp)}
        assert (owned[theirs], owned[ours]) == (False, True)
        odp_cli("datapath", "delete", dp.name)
        assert exists(theirs)
        assert not exists(ours)
    finally:
        run("ip", "link", "delete", ours, check=False)


def test_vport_delete_removes_our_tunnel_device(odp):
    client, dp = odp
    ours = unique("vxo")
    tunnels.create("vxlan", ours, 4804, datapath=dp.name)
    try:
        client.create_vport(dp, ours)
        odp_cli("vport", "delete", dp.name, ours)
        assert not exists(ours)
    finally:
        run("ip", "link", "delete", ours, check=False)


def test_udp_port_in_use_names_the_port(odp):
    client, dp = odp
    client.create_vport(dp, unique("vxa"), type="vxlan", port=4805)
    name = unique("vxb")
    with pytest.raises(errors.AlreadyExists, match="UDP port 4805 is already used") as info:
        client.create_vport(dp, name, type="vxlan", port=4805)
    assert "already exists" not in str(info.value)
    assert not exists(name)
