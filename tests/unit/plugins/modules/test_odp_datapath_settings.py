"""odp_datapath's settings (user_features, masks_cache_size) without a
kernel: what is compared, what is sent, check mode and diff, refusals before
anything is sent."""

from types import SimpleNamespace

import pytest

pytest.importorskip("ansible")


from ansible_collections.vswitch.odp.plugins.module_utils import odp_module as om
from ansible_collections.vswitch.odp.plugins.module_utils.odp import errors
from ansible_collections.vswitch.odp.plugins.modules import odp_datapath

STATS = {"hit": 0, "missed": 0, "lost": 0, "flows": 0, "masks": 0, "mask_hit": 0, "cache_hit": 0}


class Failed(Exception):
    pass


def datapath(features=("unaligned", "dispatch_upcall_per_cpu"), size=256):
    return SimpleNamespace(
        name="dp0", ifindex=7, features=list(features), stats=dict(STATS), masks_cache_size=size
    )


class FakeClient:
    def __init__(self, have=None):
        self.have, self.calls = have, []

    def get_datapath(self, name):
        if self.have is None:
            raise errors.NoSuchDatapath("datapath %s does not exist" % name)
        return self.have

    def create_datapath(self, name):
        self.calls.append(("create", name))
        self.have = datapath()
        return self.have

    def set_datapath(self, dp, features=None, masks_cache_size=None):
        self.calls.append(("set", features, masks_cache_size))
        self.have = datapath(
            features if features is not None else dp.features,
            masks_cache_size if masks_cache_size is not None else dp.masks_cache_size,
        )
        return self.have


def run(client, check_mode=False, **params):
    module = SimpleNamespace(
        check_mode=check_mode,
        _diff=True,
        result={"changed": False},
        _diff_before={},
        _diff_after={},
    )
    module.params = dict(
        {"name": "dp0", "state": "present", "user_features": None, "masks_cache_size": None},
        **params,
    )
    module.converge = lambda *args, **kwargs: om.OdpModule.converge(module, *args, **kwargs)

    def fail_json(msg, **_kwargs):
        raise Failed(msg)

    module.fail_json = fail_json
    odp_datapath.ensure_datapath(module, client)
    return module


def test_same_settings_in_another_order_change_nothing():
    client = FakeClient(datapath())
    module = run(
        client, user_features=["dispatch_upcall_per_cpu", "unaligned"], masks_cache_size=256
    )
    assert module.result["changed"] is False and client.calls == []


@pytest.mark.parametrize("check_mode", [False, True])
def test_a_new_size_is_set_unless_check_mode(check_mode):
    client = FakeClient(datapath())
    module = run(client, check_mode, masks_cache_size=1024)
    assert module.result["changed"] is True
    assert (module._diff_before["masks_cache_size"], module._diff_after["masks_cache_size"]) == (
        256,
        1024,
    )
    assert "user_features" not in module._diff_after  # not given: left as it is
    assert client.calls == ([] if check_mode else [("set", None, 1024)])
    assert module.result["datapath"]["masks_cache_size"] == (256 if check_mode else 1024)


def test_created_then_set_only_when_it_differs():
    client = FakeClient()
    module = run(client, masks_cache_size=256, user_features=["unaligned", "vport_pids"])
    assert client.calls == [("create", "dp0"), ("set", ["unaligned", "vport_pids"], 256)]
    assert module._diff_before == {"name": "dp0", "state": "absent"}
    client = FakeClient()
    run(client, masks_cache_size=256)  # what a new datapath has already
    assert client.calls == [("create", "dp0")]


@pytest.mark.parametrize(
    "params,message",
    [
        ({"masks_cache_size": 100}, "masks_cache_size: invalid value 100"),
        ({"masks_cache_size": 8192}, "masks_cache_size: invalid value 8192"),
        ({"state": "absent", "masks_cache_size": 64}, "not with state=absent"),
    ],
)
def test_refused_before_anything_is_sent(params, message):
    client = FakeClient(datapath())
    with pytest.raises((Failed, errors.ValidationError), match=message):
        run(client, **params)
    assert client.calls == []


def test_a_kernel_without_masks_cache_fails_first():
    client = FakeClient(datapath(size=None))
    with pytest.raises(Failed, match="has none"):
        run(client, check_mode=True, masks_cache_size=64)
    run(client, user_features=["unaligned"])  # features alone still work
    assert client.calls == [("set", ["unaligned"], None)]
