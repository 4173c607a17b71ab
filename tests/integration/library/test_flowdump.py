"""Kernel tests of vswitch_odp.flowdump: flow dumps while another process
adds and deletes flows (the kernel's flow dump never flags that itself)."""

import collections

import pytest

import churn
from vswitch_odp.flowdump import flow_id

STABLE_FLOWS = 20000


def stable_count(flows, wanted):
    """How many times each of ``wanted`` (identities) is among ``flows``."""
    counts = collections.Counter(flow_id(f) for f in flows)
    return [counts[ident] for ident in wanted]


def test_a_quiet_table_dumps_consistently_at_once(odp):
    client, dp = odp
    port = client.create_vport(dp, "odpfd%d" % dp.ifindex, type="internal").port_no
    flows = churn.stable_flows(1000, port)
    assert client.put_flows(dp, flows) == [None] * len(flows)
    dump = client.flow_dump(dp)
    assert (dump.consistent, dump.attempts, dump.duplicates) == (True, 1, 0)
    assert stable_count(dump.flows, [flow_id(f) for f in flows]) == [1] * len(flows)


def test_every_stable_flow_once_during_churn(odp):
    client, dp = odp
    port = client.create_vport(dp, "odpfd%d" % dp.ifindex, type="internal").port_no
    stable = churn.stable_flows(STABLE_FLOWS, port)
    assert client.put_flows(dp, stable).count(None) == STABLE_FLOWS
    wanted = [flow_id(f) for f in stable]
    proc = churn.start(dp.name, port)
    try:
        dumps = [client.flow_dump(dp) for _ in range(3)]
    finally:
        churn.stop(proc)
    for dump in dumps:
        assert stable_count(dump.flows, wanted) == [1] * STABLE_FLOWS
        assert len(set(flow_id(f) for f in dump.flows)) == len(dump.flows)
        # Under churn the count cannot hold still: never proven, always told.
        if dump.consistent:
            assert dump.attempts >= 1
    assert not all(dump.consistent for dump in dumps)


def test_an_inconsistent_dump_fails_a_purge(odp):
    from vswitch_odp import flowdump
    client, dp = odp
    port = client.create_vport(dp, "odpfd%d" % dp.ifindex, type="internal").port_no
    assert client.put_flows(dp, churn.stable_flows(2000, port)).count(None) == 2000
    proc = churn.start(dp.name, port)
    try:
        dump = client.flow_dump(dp, attempts=1)
    finally:
        churn.stop(proc)
    if not dump.consistent:
        with pytest.raises(flowdump.InconsistentDump, match="purge"):
            flowdump.require_consistent(dump, "purge")
