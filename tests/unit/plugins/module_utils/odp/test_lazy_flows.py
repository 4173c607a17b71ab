"""Dumped flows decode lazily (Flow.from_reply) exactly like the eager
decoder, on every key, mask and action list captured from the kernel."""

import itertools
import json
import os

import pytest
from vswitch_odp import flows
from vswitch_odp.attrs import pack_attr
from vswitch_odp.errors import OdpError
from vswitch_odp.families import FlowFamily
from vswitch_odp.flows import Flow

DATA = os.path.join(os.path.dirname(__file__), "data", "kernel_flows.json")
with open(DATA) as handle:
    KERNEL = json.load(handle)["flows"]

FIELDS = ("key", "mask", "actions", "ufid", "packets", "bytes", "used", "tcp_flags")
IDS = {name: kind for kind, (name, _codec) in FlowFamily.attrs.by_id.items()}
UFID = bytes(range(16))


def reply(part, stats=True):
    """An ``ovs_flow`` reply as the kernel writes one: the captured key, mask
    and actions, plus statistics and a UFID."""
    raw = b""
    if stats:
        raw += pack_attr(IDS["ufid"], UFID)
    for name in ("key", "mask", "actions"):
        if part.get(name) is not None:
            raw += pack_attr(IDS[name], bytes.fromhex(part[name]))
    if stats:
        raw += FlowFamily.attrs.encode(
            [("stats", {"packets": 7, "bytes": 4242}), ("used", 123456), ("tcp_flags", 0x12)]
        )
    return raw


REPLIES = [reply(part) for record in KERNEL for part in record.get("dump", [])]
REPLIES += [reply(part, stats=False) for record in KERNEL for part in record.get("dump", [])]


def eager(raw):
    """Every field as the general decoder gives it."""
    attrs = FlowFamily.attrs.decode(raw)
    stats = attrs.get("stats") or {}
    return {
        "key": attrs.get("key", {}),
        "mask": attrs.get("mask"),
        "actions": attrs.get("actions", []),
        "ufid": attrs.get("ufid"),
        "packets": stats.get("packets", 0),
        "bytes": stats.get("bytes", 0),
        "used": attrs.get("used"),
        "tcp_flags": attrs.get("tcp_flags", 0),
    }


def decode_all(flow):
    """Read (and so decode) every lazy field of ``flow``."""
    return flow.key, flow.mask, flow.actions


def test_captured_dumps_cover_keys_masks_and_actions():
    assert len(REPLIES) >= 40
    assert any(eager(raw)["actions"] for raw in REPLIES)
    assert any(eager(raw)["mask"] for raw in REPLIES)


@pytest.mark.parametrize("index", range(len(REPLIES)))
@pytest.mark.parametrize("order", [FIELDS, tuple(reversed(FIELDS)), ("used", *FIELDS)])
def test_lazy_fields_equal_eager_ones(index, order):
    raw = REPLIES[index]
    expected = eager(raw)
    flow = Flow.from_reply(raw)
    for name in order:
        assert getattr(flow, name) == expected[name], name


@pytest.mark.parametrize("index", range(len(REPLIES)))
def test_identity_from_mask_bytes_equals_general_identity(index):
    raw = REPLIES[index]
    expected = eager(raw)
    want = flows.identity(expected["key"], expected["mask"])
    # Twice: the first builds the shape's plan, the second uses it.
    for _round in range(2):
        assert Flow.from_reply(raw).identity() == want
    assert flows._SHAPES  # pylint: disable=protected-access
    decoded_first = Flow.from_reply(raw)
    assert decode_all(decoded_first)
    assert decoded_first.identity() == want


def test_identity_plan_masks_each_flows_own_values():
    """Flows of one mask shape with other values: each identity is its own."""
    part = next(
        p
        for record in KERNEL
        for p in record.get("dump", [])
        if "eth" in (eager(reply(p))["mask"] or {})
    )
    base = eager(reply(part))
    for src in (0x020000000001, 0x020000000002, 0x0A0000000003):
        key = dict(base["key"], eth=dict(base["key"]["eth"], src=src))
        raw = FlowFamily.attrs.encode(
            [("key", key), ("mask", base["mask"]), ("actions", base["actions"])]
        )
        assert Flow.from_reply(raw).identity() == flows.identity(key, base["mask"])


def test_decoded_values_are_each_flows_own():
    raw = next(raw for raw in REPLIES if eager(raw)["mask"] and eager(raw)["actions"])
    expected = eager(raw)
    first, second = Flow.from_reply(raw), Flow.from_reply(raw)
    assert decode_all(second)
    name = next(iter(first.mask))
    first.mask[name] = "changed"
    first.key["changed"] = 1
    first.actions.append(("output", 9))
    later = Flow.from_reply(raw)
    for flow in (second, later):
        assert (flow.key, flow.mask, flow.actions) == (
            expected["key"],
            expected["mask"],
            expected["actions"],
        )


def test_setting_a_field_before_decoding_keeps_the_others():
    raw = next(raw for raw in REPLIES if eager(raw)["actions"])
    expected = eager(raw)
    flow = Flow.from_reply(raw)
    flow.actions = [("output", 5)]
    flow.packets = 1
    assert flow.actions == [("output", 5)] and flow.packets == 1
    assert (flow.key, flow.mask, flow.ufid, flow.bytes) == (
        expected["key"],
        expected["mask"],
        expected["ufid"],
        expected["bytes"],
    )


def test_malformed_reply_is_an_odp_error_on_first_use():
    raw = next(iter(REPLIES))
    for cut, name in itertools.product((3, 9), ("packets", "key")):
        truncated = raw[:4] + b"\xff\x00" + raw[6:cut]
        with pytest.raises(OdpError, match="malformed flow"):
            getattr(Flow.from_reply(truncated), name)
