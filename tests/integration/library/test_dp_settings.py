"""Kernel tests of datapath settings (Client.set_datapath): user features and
the masks cache size, read back from the kernel and cross-checked with
ovs-dpctl."""

import re

import pytest
from conftest import run
from vswitch_odp import errors


def dpctl_masks_cache(dp_name):
    out = run("ovs-dpctl", "cache-get-size", dp_name).stdout
    return int(re.search(r"masks-cache: size:(\d+)", out).group(1))


def test_masks_cache_size(odp):
    client, dp = odp
    assert dp.masks_cache_size == 256  # the kernel's default
    assert client.set_datapath(dp, masks_cache_size=1024).masks_cache_size == 1024
    assert client.get_datapath(dp.name).masks_cache_size == 1024
    assert dpctl_masks_cache(dp.name) == 1024
    run("ovs-dpctl", "cache-set-size", dp.name, "masks-cache", "32")
    assert client.get_datapath(dp.name).masks_cache_size == 32
    assert client.set_datapath(dp, masks_cache_size=0).masks_cache_size == 0  # no cache
    # The features were sent back as they were: the kernel resets those a SET leaves out.
    assert client.get_datapath(dp.name).user_features == dp.user_features


def test_user_features(odp):
    client, dp = odp
    assert dp.dispatch == "per-cpu"
    changed = client.set_datapath(dp, features=["unaligned", "vport_pids"])
    assert (changed.features, changed.dispatch) == (["unaligned", "vport_pids"], "per-vport")
    assert client.get_datapath(dp.name).features == ["unaligned", "vport_pids"]
    assert client.set_datapath(dp, features=[]).features == []
    back = client.set_datapath(dp, features=dp.features)
    assert back.features == dp.features and back.dispatch == "per-cpu"


def test_refusals_leave_the_datapath_as_it_was(odp, in_sandbox):
    client, dp = odp
    try:
        client.set_datapath(dp, features=["unaligned", "tc_recirc_sharing"], masks_cache_size=2048)
    except errors.Unsupported as exc:
        # Without CONFIG_NET_TC_SKB_EXT the kernel refuses the feature before the cache.
        assert re.search("datapath %s .*tc_recirc_sharing" % dp.name, str(exc))
    else:
        assert not in_sandbox, "the sandbox kernel has no CONFIG_NET_TC_SKB_EXT"
        pytest.skip("this kernel takes tc_recirc_sharing: no refusal to test with")
    with pytest.raises(errors.ValidationError, match="masks_cache_size"):
        client.set_datapath(dp, features=["unaligned"], masks_cache_size=300)
    after = client.get_datapath(dp.name)
    assert (after.user_features, after.masks_cache_size) == (dp.user_features, 256)
    with pytest.raises(errors.NoSuchDatapath):
        client.set_datapath("nosuchdp", masks_cache_size=8)
