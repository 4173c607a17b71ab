"""The format plans of ``odp flow list`` (text.listing) print every dumped
flow exactly as the general formatter (text.flags.format_flow_words) does."""

import pytest
from test_lazy_flows import REPLIES, eager
from vswitch_odp.cli.output import quote
from vswitch_odp.families import FlowFamily
from vswitch_odp.flows import Flow, complete_key
from vswitch_odp.text import listing
from vswitch_odp.text.flags import format_flow_words
from vswitch_odp.text.listing import DumpFormatter

# Port 3 is named like a number: it prints as the number.
NAMES = [None, {}, {1: "p1", 2: "p2", 3: "7", 4: "vxlan_sys_4789"}]


def general(raw, names):
    flow = eager(raw)
    return format_flow_words(flow["key"], flow["mask"], flow["actions"], names)


def fields(i):
    """Values that differ from flow to flow, as a dump's do."""
    return {
        "in_port": 1 + i % 4,
        "eth": {"src": 0x020000000001 + i * 0x10101, "dst": 0xFFFFFFFFFFFF - i},
        "eth_type": 0x0800,
        "ipv4": {"src": 0x0A000000 + i * 7919, "dst": 0xC0A80000 + i, "proto": 17, "ttl": i % 256},
        "udp": {"src": i, "dst": 65535 - i},
    }


def masked(i):
    """Flows of masks the flags express (masked fields, in_port wildcarded)
    and of masks they do not (ttl)."""
    key, mask = complete_key(fields(i), None)
    mask = dict(mask)
    mask["ipv4"] = dict(mask["ipv4"], dst=0xFFFFFF00, src=0, ttl=0, tos=0, frag=0)
    if i % 3 == 0:
        mask["ipv4"]["ttl"] = 0xF0
    mask["in_port"] = 0xFFFF0000 if i % 2 else 0xFFFFFFFF
    mask["eth"] = {"src": 0xFFFFFF000000, "dst": 0}
    return key, mask


def encoded(key, mask, actions):
    parts = [("key", key)] + ([("mask", mask)] if mask is not None else [])
    return FlowFamily.attrs.encode([*parts, ("actions", actions)])


ACTION_LISTS = [[("output", 2)], [("output", 3), ("output", 1)], [], [("userspace", {"pid": 7})]]
SYNTHETIC = [encoded(*complete_key(fields(i), None), ACTION_LISTS[i % 4]) for i in range(60)] + [
    encoded(*masked(i), ACTION_LISTS[i % 3]) for i in range(60)
]
SYNTHETIC += [encoded(fields(i), None, [("output", i % 5)]) for i in range(20)]  # no mask


@pytest.mark.parametrize("names", NAMES)
def test_plans_print_every_captured_flow_as_the_general_formatter(names):
    formatter = DumpFormatter(names)
    # Twice: the first flow of a shape builds its plan, the others use it.
    for raw in REPLIES + REPLIES:
        assert formatter.words(Flow.from_reply(raw)) == general(raw, names)
    assert formatter.plans


@pytest.mark.parametrize("names", NAMES)
def test_flows_of_one_shape_print_their_own_values(names):
    formatter = DumpFormatter(names)
    seen = set()
    for raw in SYNTHETIC:
        words = formatter.words(Flow.from_reply(raw))
        assert words == general(raw, names)
        seen.add(tuple(words))
    assert len(seen) > 100  # each flow its own values, not the first of its shape's
    # A handful of shapes for 140 flows: the plans are shared.
    assert len(formatter.plans) <= 10
    assert any(word.startswith("--eth-src=") for words in seen for word in words)
    assert any(word.startswith("--key=") for words in seen for word in words)


def test_memos_are_bounded(monkeypatch):
    monkeypatch.setattr(listing, "MAX_PLANS", 2)
    monkeypatch.setattr(listing, "MAX_ACTIONS", 2)
    formatter = DumpFormatter(NAMES[2])
    for raw in REPLIES:
        assert formatter.words(Flow.from_reply(raw)) == general(raw, NAMES[2])
        assert len(formatter.plans) <= 2 and len(formatter.actions) <= 2


def test_a_flow_changed_by_its_caller_prints_as_changed():
    formatter = DumpFormatter(NAMES[2])
    raw = SYNTHETIC[0]
    formatter.words(Flow.from_reply(raw))  # the plan of this shape
    flow = Flow.from_reply(raw)
    flow.mask["ipv4"]["dst"] = 0xFFFF0000
    flow.actions.append(("output", 4))
    words = formatter.words(flow)
    assert words == format_flow_words(flow.key, flow.mask, flow.actions, NAMES[2])
    assert words != general(raw, NAMES[2])
    # The plan kept nothing of that flow's mask: the next flow prints as dumped.
    assert formatter.words(Flow.from_reply(raw)) == general(raw, NAMES[2])


def test_words_are_quoted_once_each():
    formatter = DumpFormatter(NAMES[2], quote)
    for raw in REPLIES + SYNTHETIC + REPLIES:
        assert formatter.words(Flow.from_reply(raw)) == [quote(w) for w in general(raw, NAMES[2])]
