"""Link settings: validation, and the change from one link to another."""

import pytest
from vswitch_odp.state.checks import DocumentError
from vswitch_odp.state.links import LinkChange, check_link

HAVE = {
    "mac": "02:00:00:00:00:01",
    "mtu": 1500,
    "up": False,
    "addresses": ["10.0.0.9/24", "fd00::9/64"],
}


def test_check_link_normalises():
    assert check_link(
        {
            "mac": "02:0:0:0:0:AB",
            "mtu": 1450,
            "up": True,
            "addresses": ["10.0.0.2/24", "10.0.0.1/24", "10.0.0.2/24", "fd00::1"],
        },
        "l",
    ) == {
        "mac": "02:00:00:00:00:ab",
        "mtu": 1450,
        "up": True,
        "addresses": ["10.0.0.1/24", "10.0.0.2/24", "fd00::1/128"],
    }
    # What is not given is not managed; None is not given.
    assert check_link({"mtu": None}, "l") == {}
    assert check_link(None, "l") == {}
    assert check_link({"addresses": None}, "l") == {"addresses": []}


@pytest.mark.parametrize(
    "link, field",
    [
        ({"mac": "02:00:00:00:00"}, "l.mac"),
        ({"mac": "03:00:00:00:00:01"}, "l.mac"),
        ({"mtu": 65536}, "l.mtu"),
        ({"up": 1}, "l.up"),
        ({"addresses": ["10.0.0.1/33"]}, "l.addresses[0]"),
        ({"address": []}, "l.address"),
    ],
)
def test_check_link_errors(link, field):
    with pytest.raises(DocumentError) as caught:
        check_link(link, "l")
    assert caught.value.field == field


def test_no_change():
    change = LinkChange("red", HAVE, dict(HAVE))
    assert not change and change.commands() == [] and change.text() == ""
    assert not LinkChange("red", HAVE, {})  # nothing managed
    assert not LinkChange("red", HAVE, {"mtu": 1500})


def test_every_setting_changes():
    change = LinkChange(
        "red",
        HAVE,
        {
            "mac": "02:00:00:00:00:02",
            "mtu": 1450,
            "up": True,
            "addresses": ["10.0.0.1/24", "fd00::9/64"],
        },
    )
    # The ip -batch lines the vxlan_overlay_link module has always returned.
    assert change.commands() == [
        "link set dev red address 02:00:00:00:00:02 mtu 1450 up",
        "address del 10.0.0.9/24 dev red",
        "address add 10.0.0.1/24 dev red",
    ]
    assert change.text() == (
        "mac 02:00:00:00:00:01 -> 02:00:00:00:00:02, mtu 1500 -> 1450, "
        "up, -10.0.0.9/24, +10.0.0.1/24"
    )
    assert change.after() == {
        "mac": "02:00:00:00:00:02",
        "mtu": 1450,
        "up": True,
        "addresses": ["10.0.0.1/24", "fd00::9/64"],
    }


def test_addresses_are_exact_only_when_given():
    change = LinkChange("red", HAVE, {"up": True})
    assert change.commands() == ["link set dev red up"]
    assert change.after()["addresses"] == HAVE["addresses"]
    change = LinkChange("red", HAVE, {"addresses": []})
    assert change.commands() == [
        "address del 10.0.0.9/24 dev red",
        "address del fd00::9/64 dev red",
    ]


def test_down():
    change = LinkChange("red", dict(HAVE, up=True), {"up": False})
    assert change.commands() == ["link set dev red down"] and change.text() == "down"


def test_a_device_not_there_yet_gets_every_setting():
    # Check mode before the port exists, or a vport the plan creates.
    change = LinkChange(
        "red",
        None,
        {"mac": "02:00:00:00:00:02", "mtu": 1450, "up": True, "addresses": ["10.0.0.1/24"]},
    )
    assert change.commands() == [
        "link set dev red address 02:00:00:00:00:02 mtu 1450 up",
        "address add 10.0.0.1/24 dev red",
    ]
    assert change.text() == "mac 02:00:00:00:00:02, mtu 1450, up, +10.0.0.1/24"
    assert LinkChange("red", None, {"up": True, "addresses": []}).after() == {
        "mac": None,
        "mtu": None,
        "up": True,
        "addresses": [],
    }
