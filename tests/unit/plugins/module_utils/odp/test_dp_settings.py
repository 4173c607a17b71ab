"""Unit tests of datapath settings (vswitch_odp.dp_settings) against the
requests and replies of the real kernel (data/kernel_interface.json)."""

import pytest
from kernel_interface import FakeTransport, reply_bytes, request_bytes
from vswitch_odp import errors
from vswitch_odp.client import Datapath
from vswitch_odp.dp_settings import feature_bits, set_datapath
from vswitch_odp.families import DatapathFamily as DP

SET = ("ovs_datapath", DP.CMD_SET)


def datapath(case="datapath_new"):
    return Datapath(2, DP.attrs.decode(reply_bytes(case)))


def test_the_datapath_reports_its_masks_cache():
    dp = datapath()
    assert (dp.features, dp.masks_cache_size) == (["unaligned", "vport_pids"], 256)


def test_a_kernel_without_masks_cache_says_none():
    attrs = DP.attrs.decode(reply_bytes("datapath_new"))
    del attrs["masks_cache_size"]
    assert Datapath(2, attrs).masks_cache_size is None


def test_set_sends_what_the_kernel_took_and_returns_its_answer():
    transport = FakeTransport({SET: "datapath_set"})
    ifindex, attrs = set_datapath(transport, datapath(), ["unaligned"], 512)
    assert transport.sent == [("ovs_datapath", DP.CMD_SET, 2, request_bytes("datapath_set"))]
    accepted = Datapath(ifindex, attrs)
    assert (accepted.features, accepted.masks_cache_size) == (["unaligned"], 512)


def test_features_are_always_sent_the_kernel_resets_missing_ones():
    transport = FakeTransport({SET: "datapath_set"})
    set_datapath(transport, datapath(), masks_cache_size=512)
    sent = DP.attrs.decode(transport.sent[0][3])
    assert sent == {"user_features": DP.F_UNALIGNED | DP.F_VPORT_PIDS, "masks_cache_size": 512}


def test_feature_bits():
    assert feature_bits(["unaligned", "dispatch_upcall_per_cpu"]) == 9
    assert feature_bits([]) == 0


@pytest.mark.parametrize(
    "features, size, field",
    [
        ("unaligned", None, "features"),
        (["unaligned", "fast"], None, "features"),
        (None, 300, "masks_cache_size"),
        (None, -1, "masks_cache_size"),
        (None, 8192, "masks_cache_size"),
        (None, True, "masks_cache_size"),
        (None, "256", "masks_cache_size"),
    ],
)
def test_bad_input_is_refused_before_sending(features, size, field):
    transport = FakeTransport({})
    with pytest.raises(errors.ValidationError) as caught:
        set_datapath(transport, datapath(), features, size)
    assert caught.value.field == field
    assert transport.sent == []


def test_no_masks_cache_is_unsupported_before_sending():
    attrs = DP.attrs.decode(reply_bytes("datapath_new"))
    del attrs["masks_cache_size"]
    transport = FakeTransport({})
    with pytest.raises(errors.Unsupported, match="datapath capif: the running kernel has none"):
        set_datapath(transport, Datapath(2, attrs), None, 512)
    assert transport.sent == []
