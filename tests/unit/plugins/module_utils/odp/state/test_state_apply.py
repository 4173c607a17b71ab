"""What apply and odp apply compute without the kernel: check mode's
predicted document, and the --diff lines."""

from test_state_plan import UP, doc, shown
from vswitch_odp.cli.state import diff_lines
from vswitch_odp.state.apply import predicted
from vswitch_odp.state.document import Document
from vswitch_odp.state.plan import plan

RED = {"type": "internal", "link": {"mtu": 1400, "addresses": ["10.0.0.1/24"]}}
FLOW = {"key": "in_port(red),eth()", "actions": "vx"}


def test_predicted_from_nothing_numbers_vports_and_keeps_only_what_is_declared():
    desired = doc(dp={"vports": {"vx": {"type": "vxlan"}, "red": RED}, "flows": [FLOW]})
    changes = plan(Document(), desired)
    after = predicted(Document(), desired, changes).to_dict()["datapaths"]["dp"]
    assert after["vports"] == {
        "vx": {"type": "vxlan", "port": 4789, "port_no": 1},
        "red": {
            "type": "internal",
            "port_no": 2,
            "link": {"mtu": 1400, "addresses": ["10.0.0.1/24"]},
        },
    }
    assert after["flows"] == [{"key": "in_port(red),eth()", "actions": "vx"}]
    assert "link" not in after


def test_predicted_link_is_the_declared_settings_over_the_current_ones():
    current = shown(doc(dp={"link": UP, "vports": {"red": dict(RED, link=UP)}}))
    desired = doc(dp={"link": {"mtu": 9000}, "vports": {"red": RED}})
    after = predicted(current, desired, plan(current, desired)).to_dict()["datapaths"]["dp"]
    assert after["link"] == dict(UP, mtu=9000)
    assert after["vports"]["red"]["link"] == dict(UP, mtu=1400, addresses=["10.0.0.1/24"])


def test_predicted_leaves_out_datapaths_removed():
    current = shown(doc(dp={"vports": {"red": RED}}))
    desired = doc(dp={"state": "absent"})
    assert predicted(current, desired, plan(current, desired)).datapaths == {}


def test_diff_lines_per_datapath():
    before = shown(doc(dp={"vports": {"red": RED}}, keep={}))
    after = shown(
        doc(dp={"vports": {"red": RED}, "flows": [dict(FLOW, actions="red")]}, keep={}, new={})
    )
    lines = diff_lines(before, after)
    assert lines[0:2] == ["--- dp (before)", "+++ dp (after)"]
    assert "--- keep (before)" not in lines
    assert "+++ new (after)" in lines
    assert any(line.startswith("+") and "in_port(red),eth()" in line for line in lines)
    assert diff_lines(before, before) == []
