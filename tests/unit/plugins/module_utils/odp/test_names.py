"""The one device-name rule (names.check_ifname) and where it is used."""

import pytest
from vswitch_odp import errors
from vswitch_odp.names import IFNAME_MAX, check_ifname
from vswitch_odp.state.checks import ifname


@pytest.mark.parametrize("name", ["a", "eth0", "vx-1.2_3", "x" * IFNAME_MAX, "br@1"])
def test_kernel_names_pass(name):
    assert check_ifname("vport", name) == name


@pytest.mark.parametrize(
    "name", ["", "x" * (IFNAME_MAX + 1), "a/b", "a:b", "a b", "a\tb", ".", "..", None, 7]
)
def test_other_names_are_refused_naming_the_field(name):
    with pytest.raises(errors.ValidationError) as caught:
        check_ifname("vports[2].name", name)
    assert caught.value.field == "vports[2].name" and caught.value.value == name


def test_the_state_document_uses_the_same_rule():
    with pytest.raises(errors.ValidationError) as caught:
        ifname("x" * 16, "datapaths.ovl")
    assert caught.value.field == "datapaths.ovl" and "1 to 15 characters" in caught.value.reason
