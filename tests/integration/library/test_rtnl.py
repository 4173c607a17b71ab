"""The rtnetlink reader (vswitch_odp.rtnl) against the real kernel and
iproute2: devices and addresses of a namespace, the tunnel devices the
library makes (tunnels.create) and those made with `ip ... external`, and
reads that need no pyroute2."""

import json
import subprocess
import sys

from conftest import run
from vswitch_odp import rtnl, tunnels
from vswitch_odp.state.links import read_links


def test_a_namespace_reads_as_iproute2_shows_it(netns):
    ns = netns("rtnl")
    run("ip", "-n", ns, "link", "add", "va", "type", "veth", "peer", "name", "vb")
    run("ip", "-n", ns, "addr", "add", "10.8.0.1/24", "dev", "va")
    run("ip", "-n", ns, "addr", "add", "2001:db8:8::1/64", "dev", "va")
    run("ip", "-n", ns, "link", "set", "va", "up", "mtu", "1400")
    tunnels.create("vxlan", "vxo", 4789, ns, "dpx")  # the library's own: owned
    run("ip", "-n", ns, "link", "add", "gno", "type", "geneve", "dstport", "6090", "external")
    run("ip", "-n", ns, "link", "add", "gto", "type", "gretap", "external")
    run("ip", "-n", ns, "link", "add", "vxp", "type", "vxlan", "id", "5", "dstport", "4800")
    links, addresses = rtnl.read(ns)
    shown = {e["ifname"]: e for e in json.loads(run("ip", "-n", ns, "-j", "-d", "link").stdout)}
    assert {link.name for link in links} == set(shown)
    for link in links:
        entry = shown[link.name]
        assert (link.index, link.mtu, link.alias) == (
            entry["ifindex"],
            entry["mtu"],
            entry.get("ifalias"),
        )
        assert link.kind == entry.get("linkinfo", {}).get("info_kind")
        if entry.get("link_type") == "ether":
            assert link.mac == entry["address"]
    found = tunnels.describe(shown, ns)
    assert {name: (t.type, t.port, t.owned) for name, t in found.items()} == {
        "vxo": ("vxlan", 4789, True),
        "gno": ("geneve", 6090, False),
        "gto": ("gre", None, False),
    }
    ip_addr = json.loads(run("ip", "-n", ns, "-j", "addr").stdout)
    assert sorted((a.index, a.address, a.prefixlen) for a in addresses) == sorted(
        (e["ifindex"], i["local"], i["prefixlen"]) for e in ip_addr for i in e["addr_info"]
    )
    va = read_links(["va"], ns)["va"]
    assert va["mtu"] == 1400 and va["up"] and "10.8.0.1/24" in va["addresses"]
    assert "2001:db8:8::1/64" in va["addresses"]


def test_reading_devices_needs_no_pyroute2(netns):
    ns = netns("rtnl")
    tunnels.create("vxlan", "vxq", 4789, ns, "dpq")
    probe = (
        "import json, sys; from vswitch_odp import tunnels; from vswitch_odp.state.links import "
        "read_links; found = tunnels.describe(['vxq', 'lo'], %r); links = read_links(None, %r); "
        "print(json.dumps([sorted(found), sorted(links), 'pyroute2' in sys.modules]))" % (ns, ns)
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    found, links, imported = json.loads(out)
    assert found == ["vxq"] and {"lo", "vxq"} <= set(links), out
    assert imported is False
