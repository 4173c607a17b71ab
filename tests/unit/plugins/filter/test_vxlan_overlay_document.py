"""The vxlan_overlay role's state document (plugins/filter/vxlan_overlay_document.py)."""

import pytest

pytest.importorskip("ansible")
from ansible.errors import AnsibleFilterError
from ansible_collections.vswitch.odp.plugins.filter.vxlan_overlay import (
    vxlan_overlay_plan as plan_filter,
)
from ansible_collections.vswitch.odp.plugins.filter.vxlan_overlay_document import (
    vxlan_overlay_document as document,
)
from vswitch_odp.state.document import parse_document


def member(host, ip, *networks):
    return {
        "host": host,
        "underlay_ip": ip,
        "networks": [{"name": n, "vni": v, "address": a} for n, v, a in networks],
    }


H1 = member("h1", "198.18.0.1", ("red", 100, "10.10.0.1/24"), ("green", 300, "10.30.0.1/24"))
H2 = member("h2", "198.18.0.2", ("red", 100, "10.10.0.2/24"))


def test_the_document_owns_the_plans_datapath_with_every_vport_link_and_flow():
    plan = plan_filter(H1, [H1, H2], "ovl", "ovl-vxlan", vxlan_port=4790, mtu=1400)
    doc = document(plan)
    assert list(doc) == ["version", "datapaths"] and doc["version"] == 1
    dp = doc["datapaths"]["ovl"]
    assert dp["vports"]["ovl-vxlan"] == {"type": "vxlan", "port": 4790}
    red = next(link for link in plan["links"] if link["name"] == "red")
    assert dp["vports"]["red"] == {
        "type": "internal",
        "link": {"mac": red["mac"], "mtu": 1400, "addresses": ["10.10.0.1/24"], "up": True},
    }
    assert sorted(dp["vports"]) == sorted(v["name"] for v in plan["vports"])
    assert dp["flows"] == plan["flows"] and dp["flows"]
    # A valid document, as odp_state and `odp apply` read it.
    parse_document(doc)


def test_the_document_copies_the_plans_flows():
    plan = plan_filter(H1, [H1, H2], "ovl", "ovl-vxlan")
    doc = document(plan)
    doc["datapaths"]["ovl"]["flows"][0]["actions"] = "drop"
    assert plan["flows"][0]["actions"] != "drop"


def test_a_link_of_no_internal_vport_is_a_plan_bug_reported_as_such():
    plan = plan_filter(H1, [H1, H2], "ovl", "ovl-vxlan")
    plan["links"].append(
        {"name": "ovl-vxlan", "mac": "02:00:00:00:00:01", "mtu": 1450, "addresses": []}
    )
    with pytest.raises(AnsibleFilterError, match="link ovl-vxlan names no internal vport"):
        document(plan)
