"""Bad input to the modules' flow lists and to the encoder, refused before
anything is sent, naming the field (issue 15)."""

import pytest
from vswitch_odp import errors, flowplan, parse_actions
from vswitch_odp.client import _encode

pytestmark = pytest.mark.fault

PORTS = {"p1": 1, "p2": 2}


@pytest.mark.parametrize(
    "entry, field, reason",
    [
        ({"key": "", "actions": "p1"}, "flows[0].key", "empty: it would match every packet"),
        ({"key": "  ", "actions": "p1"}, "flows[0].key", "empty: it would match every packet"),
        ({"match": {}, "actions": []}, "flows[0].match", "empty: it would match every packet"),
        ({"key": "in_port(p1)", "actions": ""}, "flows[0].actions", "empty: give [] or drop"),
        (
            {"match": {"in_port": "p1"}, "actions": " "},
            "flows[0].actions",
            "empty: give [] or drop",
        ),
    ],
)
def test_empty_keys_matches_and_action_texts_are_refused(entry, field, reason):
    with pytest.raises(errors.ValidationError) as info:
        flowplan.declared_flows([entry], PORTS)
    assert info.value.field == field and info.value.reason.startswith(reason)


@pytest.mark.parametrize(
    "entry",
    [
        {"key": "eth()", "actions": "drop"},
        {"key": "in_port(p1)", "actions": []},
        {"match": {"in_port": "p1"}, "actions": "drop"},
    ],
)
def test_what_the_refusals_point_to_is_accepted(entry):
    assert flowplan.declared_flows([entry], PORTS)[0].actions == []


@pytest.mark.parametrize(
    "text, count",
    [
        (",".join(["2"] * 9000), "9000 actions"),
        ("clone(%s)" % ",".join(["2"] * 9000), "1 actions"),
    ],
)
def test_actions_over_an_attributes_size_are_refused_not_wrapped(text, count):
    # An attribute's length is 16 bits: 65,536 bytes of actions would wrap.
    with pytest.raises(errors.ValidationError) as info:
        _encode([("key", {"in_port": 1}), ("actions", parse_actions(text))])
    assert (info.value.field, info.value.value) == ("actions", count)
    assert "more than a netlink attribute holds (65535)" in info.value.reason


def test_actions_just_under_the_size_encode():
    assert len(_encode([("actions", parse_actions(",".join(["2"] * 8000)))])) == 4 + 8000 * 8
