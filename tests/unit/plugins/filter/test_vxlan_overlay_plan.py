"""The vxlan_overlay role's plan (plugins/filter/vxlan_overlay.py): pure logic."""


import pytest

pytest.importorskip("ansible")
from ansible.errors import AnsibleFilterError  # noqa: E402
from ansible_collections.vswitch.odp.plugins.filter import vxlan_overlay as plan_mod  # noqa: E402


def member(host, ip, *networks):
    return {"host": host, "underlay_ip": ip,
            "networks": [{"name": n, "vni": v, "address": a} for n, v, a in networks]}


RED = ("red", 100, "10.10.0.%d/24")
H1 = member("h1", "198.18.0.1", ("red", 100, "10.10.0.1/24"), ("green", 300, "10.30.0.1/24"))
H2 = member("h2", "198.18.0.2", ("red", 100, "10.10.0.2/24"))
H3 = member("h3", "198.18.0.3", ("red", 100, "10.10.0.3/24"), ("green", 300, "10.30.0.3/24"))
BLUE4 = member("h4", "198.18.0.4", ("blue", 200, "10.10.0.4/24"))


def plan(me, members, **kw):
    return plan_mod.vxlan_overlay_plan(me, members, "ovl", "ovl-vxlan", **kw)


def test_full_mesh_flows():
    p = plan(H1, [H1, H2, H3, BLUE4])
    assert p["peers"] == {"red": ["h2", "h3"], "green": ["h3"]}
    assert [v["name"] for v in p["vports"]] == ["ovl-vxlan", "red", "green"]
    assert p["vports"][0] == {"name": "ovl-vxlan", "type": "vxlan", "port": 4789}
    # red: 2 peers x (unicast + decap) + 1 flood; green: 1 x 2 + 1
    assert len(p["flows"]) == 5 + 3
    mac2 = plan_mod.default_mac(100, "h2")
    flows = dict((f["key"], f["actions"]) for f in p["flows"])
    assert flows["in_port(red),eth(dst=%s)" % mac2] == \
        "set(tunnel(tun_id=0x64,dst=198.18.0.2,ttl=64)),ovl-vxlan"
    assert flows["tunnel(tun_id=0x64,src=198.18.0.3,dst=198.18.0.1),in_port(ovl-vxlan),eth()"] == "red"
    flood = flows["in_port(red),eth(dst=01:00:00:00:00:00/01:00:00:00:00:00)"]
    assert flood == ("set(tunnel(tun_id=0x64,dst=198.18.0.2,ttl=64)),ovl-vxlan,"
                     "set(tunnel(tun_id=0x64,dst=198.18.0.3,ttl=64)),ovl-vxlan")


def test_isolation_same_subnet_other_vni():
    # blue shares red's subnet but not its VNI: no flow of h4 mentions red's peers.
    p = plan(BLUE4, [H1, H2, H3, BLUE4])
    assert p["peers"] == {"blue": []}
    assert p["flows"] == []
    assert all("0x64" not in f["key"] + f["actions"] for f in plan(H2, [H1, H2, H3, BLUE4])["flows"]
               if "blue" in f["key"])


def test_peer_limit_and_departure():
    assert plan(H1, [H1, H2])["peers"] == {"red": ["h2"], "green": []}
    green = [f for f in plan(H1, [H1, H2])["flows"] if "green" in f["key"] or f["actions"] == "green"]
    assert green == []


def test_macs_are_stable_unicast_and_distinct():
    mac = plan_mod.default_mac(100, "h1")
    assert mac == plan_mod.default_mac(100, "h1") != plan_mod.default_mac(200, "h1")
    assert mac.startswith("02:")
    links = plan(H1, [H1])["links"]
    assert links[0] == {"name": "red", "mac": mac, "mtu": 1450, "addresses": ["10.10.0.1/24"]}


@pytest.mark.parametrize("bad, message", [
    (member("h9", "198.18.0.9", ("red", 0, "10.10.0.9/24")), "vxlan_overlay_networks[0].vni=0"),
    (member("h9", "198.18.0.9", ("red", 1 << 24, "10.10.0.9/24")), "must be an integer from 1"),
    (member("h9", "198.18.0.9", ("a-name-far-too-long", 7, "10.10.0.9/24")), ".name="),
    (member("h9", "198.18.0.9", ("red", 100, "10.10.0.9")), "needs a prefix length"),
    (member("h9", "198.18.0.9", ("red", 100, "10.10.0.300/24")), "address='10.10.0.300/24'"),
    (member("h9", "", ("red", 100, "10.10.0.9/24")), "vxlan_overlay_underlay_ip=''"),
    (member("h9", "198.18.0.9", ("red", 101, "10.10.0.9/24")), "h2 declares this network with vni 100"),
    (member("h9", "198.18.0.9", ("pink", 100, "10.10.0.9/24")), "h2 uses this vni for network red"),
    (member("h9", "198.18.0.9", ("red", 100, "10.10.0.2/24")), "also used by h2"),
    (member("h9", "198.18.0.2", ("red", 100, "10.10.0.9/24")), "also the underlay address of h2"),
    (member("h9", "198.18.0.9", ("red", 100, "10.10.0.9/24"), ("red", 100, "10.10.0.8/24")), "declared twice"),
    (member("h9", "198.18.0.9", ("ovl", 900, "10.10.0.9/24")), "collides"),
])
def test_bad_input_names_host_field_and_value(bad, message):
    with pytest.raises(AnsibleFilterError) as exc:
        plan(bad, [bad, H2])
    assert "host h9" in str(exc.value)
    assert message in str(exc.value)


def test_multicast_mac_refused():
    bad = member("h9", "198.18.0.9", ("red", 100, "10.10.0.9/24"))
    bad["networks"][0]["mac"] = "01:00:5e:00:00:01"
    with pytest.raises(AnsibleFilterError, match="unicast MAC"):
        plan(bad, [bad])
