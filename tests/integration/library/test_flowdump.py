"""Kernel tests of vswitch_odp.flowdump: flow dumps while another process
adds and deletes flows (the kernel's flow dump never flags that itself)."""

import collections

import churn
import pytest
from vswitch_odp.flowdump import flow_id

STABLE_FLOWS = 20000


def stable_count(flows, count):
    """How many times each of the first ``count`` stable flows is among ``flows``."""
    counts = collections.Counter(churn.stable_index(f) for f in flows)
    return [counts[i] for i in range(count)]


def test_a_quiet_table_dumps_consistently_at_once(odp):
    client, dp = odp
    port = client.create_vport(dp, "odpfd%d" % dp.ifindex, type="internal").port_no
    flows = churn.stable_flows(1000, port)
    assert client.put_flows(dp, flows) == [None] * len(flows)
    dump = client.flow_dump(dp)
    assert (dump.consistent, dump.attempts, dump.duplicates) == (True, 1, 0)
    assert (
        client.flow_dump(dp, confirm=True).consistent,
        client.flow_dump(dp, confirm=True).attempts,
    ) == (True, 2)
    assert stable_count(dump.flows, len(flows)) == [1] * len(flows)


def test_every_stable_flow_once_during_churn(odp):
    client, dp = odp
    port = client.create_vport(dp, "odpfd%d" % dp.ifindex, type="internal").port_no
    churn.install_stable(client, dp, STABLE_FLOWS, port)
    proc = churn.start(dp.name, port)
    try:
        dumps = [client.flow_dump(dp) for _attempt in range(2)]
        confirmed = [client.flow_dump(dp, confirm=True) for _attempt in range(2)]
    finally:
        churn.stop(proc)
    for dump in dumps + confirmed:
        assert stable_count(dump.flows, STABLE_FLOWS) == [1] * STABLE_FLOWS
        assert len({flow_id(f) for f in dump.flows}) == len(dump.flows)
    # Under churn the lists are merged, and say they are not proven.
    assert not all(dump.consistent for dump in dumps + confirmed)


def test_an_inconsistent_dump_fails_a_purge(odp):
    from vswitch_odp import flowdump

    client, dp = odp
    port = client.create_vport(dp, "odpfd%d" % dp.ifindex, type="internal").port_no
    churn.install_stable(client, dp, 2000, port)
    proc = churn.start(dp.name, port)
    try:
        dump = client.flow_dump(dp, confirm=True)
    finally:
        churn.stop(proc)
    if dump.consistent:
        # Two dumps fell between the churner's steps: a true snapshot.
        assert stable_count(dump.flows, 2000) == [1] * 2000
    else:
        with pytest.raises(flowdump.InconsistentDump, match="purge"):
            flowdump.require_consistent(dump, "purge")
