"""vswitch_odp.flowdump against scripted dumps: duplicates and a moving flow
count mean retry; a table that never holds still gives a merged, unproven list."""

import struct
from types import SimpleNamespace

import pytest
from vswitch_odp import errors, flowdump
from vswitch_odp.client import Client
from vswitch_odp.families import FlowFamily
from vswitch_odp.flows import Flow


def flow(n, ufid=None):
    return Flow(
        {"in_port": 1, "eth": {"src": n, "dst": 0}},
        {"in_port": 0xFFFFFFFF, "eth": {"src": 0xFFFFFFFFFFFF, "dst": 0}},
        [("output", 2)],
        ufid=ufid,
    )


def raw(f):
    """The kernel's dump reply for ``f``, with counters that differ each time."""
    items = ([("ufid", f.ufid)] if f.ufid else []) + [
        ("key", f.key),
        ("mask", f.mask),
        ("actions", f.actions),
    ]
    raw.calls += 1
    return FlowFamily.attrs.encode([*items, ("used", raw.calls)])


raw.calls = 0


def same(got, want):
    return [(f.key, f.mask, f.actions, f.ufid) for f in got] == [
        (f.key, f.mask, f.actions, f.ufid) for f in want
    ]


class ScriptedClient:
    """Each dump returns the next scripted list; the flow count read before
    dump i is counts[i], after it counts[i + 1]; get_flow finds ``installed``."""

    def __init__(self, dumps, counts, installed=()):
        self.dumps, self.counts = list(dumps), list(counts)
        self.installed = {flowdump.flow_id(f): f for f in installed}
        self.reads = 0
        self.lookups = []

    def get_datapath(self, name):
        count = self.counts[min(self.reads, len(self.counts) - 1)]
        self.reads += 1
        return SimpleNamespace(name=name, stats={"flows": count})

    def flow_replies(self, _dp):
        return [raw(f) for f in self.dumps.pop(0)]

    decode_flows = staticmethod(Client.decode_flows)

    def get_flow(self, _dp, key=None, mask=None, ufid=None):
        ident = ufid if ufid is not None else Flow(key, mask, []).identity()
        self.lookups.append(ident)
        if ident not in self.installed:
            raise errors.NoSuchFlow("flow gone")
        return self.installed[ident]


def test_a_still_table_takes_one_dump():
    flows = [flow(1), flow(2, ufid=b"u" * 16)]
    dump = flowdump.dump_flows(ScriptedClient([flows], [2, 2]), "dp0")
    assert (dump.consistent, dump.attempts) == (True, 1) and same(dump.flows, flows)


def test_a_duplicate_means_another_dump():
    a, b = flow(1), flow(2)
    client = ScriptedClient([[a, b, b], [a, b]], [2, 2, 2])
    dump = flowdump.dump_flows(client, "dp0")
    assert (dump.consistent, dump.attempts, dump.duplicates) == (True, 2, 1)
    assert same(dump.flows, [a, b])


def test_a_moving_count_means_another_dump():
    a, b = flow(1), flow(2)
    client = ScriptedClient([[a], [a, b]], [1, 2, 2])
    dump = flowdump.dump_flows(client, "dp0")
    assert (dump.consistent, dump.attempts) == (True, 2) and same(dump.flows, [a, b])


def test_a_table_that_never_holds_still_is_merged_and_says_so():
    a, b, gone, skipped = flow(1), flow(2), flow(3), flow(4, ufid=b"s" * 16)
    # "skipped" is installed throughout but the last dump missed it; "gone" was deleted.
    client = ScriptedClient([[a, gone, skipped], [a, b, b]], [3, 4, 5], installed=[a, b, skipped])
    dump = flowdump.dump_flows(client, "dp0", attempts=2)
    assert not dump.consistent and dump.attempts == 2
    assert same(dump.flows, [a, b, skipped])
    assert client.lookups == [gone.identity(), b"s" * 16]
    with pytest.raises(
        flowdump.InconsistentDump,
        match=r"datapath dp0 changed during each of 2 "
        r"dumps.*purge: true needs one that is: nothing was changed",
    ):
        flowdump.require_consistent(dump, "purge: true")


def test_require_consistent_passes_a_proven_dump():
    dump = flowdump.FlowDump("dp0", [flow(1)], True, 1, 0)
    assert flowdump.require_consistent(dump, "purge") == dump.flows


def test_confirm_takes_two_dumps_that_agree():
    a, b, c = flow(1), flow(2), flow(3)
    # One flow deleted and one added during dump 2: the count holds, the lists differ.
    client = ScriptedClient([[a, b], [a, c], [a, c]], [2, 2, 2, 2])
    dump = flowdump.dump_flows(client, "dp0", confirm=True)
    assert (dump.consistent, dump.attempts) == (True, 3) and same(dump.flows, [a, c])
    quiet = flowdump.dump_flows(ScriptedClient([[a], [a]], [1, 1, 1]), "dp0", confirm=True)
    assert (quiet.consistent, quiet.attempts) == (True, 2)


# One flow's set(tunnel(tun_id=0x7,ipv6_dst=2001:db8::2,ttl=64)),output,output
# actions in two dumps of the 6.1 kernel: with the tunnel ID padded (it fell
# unaligned in the message) and without.
PADDED_ACTIONS = bytes.fromhex(
    "340003003000100004000e000c000000000000000000000714000d0020010db8"
    "000000000000000000000002050004004000000008000100010000000800010002000000"
)
ALIGNED_ACTIONS = bytes.fromhex(
    "300003002c0010000c000000000000000000000714000d0020010db8000000000000"
    "000000000002050004004000000008000100010000000800010002000000"
)
ACTIONS_MAP = FlowFamily.attrs.lookup("actions")[1].attrs


def reply(actions, used=None):
    """A dump reply of flow 7 with the kernel's ``actions`` bytes as they are."""
    f = flow(7)
    head = FlowFamily.attrs.encode([("key", f.key), ("mask", f.mask)])
    kind = FlowFamily.attrs.lookup("actions")[0]
    tail = FlowFamily.attrs.encode([("used", used)]) if used is not None else b""
    return head + struct.pack("=HH", 4 + len(actions), kind) + actions + tail


def test_padding_is_dropped_at_every_level_and_nothing_else():
    assert ACTIONS_MAP.without_padding(PADDED_ACTIONS) == ALIGNED_ACTIONS
    assert ACTIONS_MAP.without_padding(ALIGNED_ACTIONS) == ALIGNED_ACTIONS
    assert ACTIONS_MAP.decode_list(PADDED_ACTIONS) == ACTIONS_MAP.decode_list(ALIGNED_ACTIONS)


def test_a_flow_has_one_digest_and_id_whatever_its_padding_and_counters():
    padded, aligned = reply(PADDED_ACTIONS, used=5), reply(ALIGNED_ACTIONS)
    assert flowdump.table_digest([padded]) == flowdump.table_digest([aligned])
    assert flowdump.raw_id(padded) == flowdump.raw_id(aligned)
    other = ALIGNED_ACTIONS.replace(bytes.fromhex("0714000d"), bytes.fromhex("0814000d"))
    assert flowdump.table_digest([reply(other)]) != flowdump.table_digest([aligned])


def test_a_table_digest_is_of_the_flows_in_any_order():
    one, two = raw(flow(1)), raw(flow(2))
    assert flowdump.table_digest([one, two]) == flowdump.table_digest([two, one])
    assert flowdump.table_digest([one, two]) != flowdump.table_digest([one])
    assert flowdump.table_digest([one]) != flowdump.table_digest([raw(flow(3))])
