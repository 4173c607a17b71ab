"""Kernel tests of the flow-table record (state/settled.py): a no-op apply
it proves skips parsing the flows, and anything that makes it untrue is
planned in full: flows changed by other writers (the client, ovs-dpctl),
another document, the datapath made again, a record that is damaged."""

import json
import uuid

import pytest
from conftest import run
from test_state import overlay
from vswitch_odp import errors
from vswitch_odp.state import document as state_document
from vswitch_odp.state import settled
from vswitch_odp.state.apply import apply
from vswitch_odp.state.checks import DocumentError
from vswitch_odp.state.document import parse_document
from vswitch_odp.text import format_key


@pytest.fixture
def parses(monkeypatch):
    """How many times the flows of a document were parsed (and checked)."""
    calls = []
    real = state_document.declared_flows

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(state_document, "declared_flows", counted)
    return calls


def record_of(client, dp):
    with open(client.locks.path(dp, settled.SUFFIX), encoding="utf-8") as handle:
        return json.load(handle)


def applied(client, document, **kwargs):
    return apply(client, parse_document(document, check_flows=False), **kwargs)


def built(client, datapaths):
    """A new datapath made by apply from the overlay document: its name,
    the vports' tag, the document."""
    dp, tag = datapaths(), uuid.uuid4().hex[:4]
    document = overlay(dp, tag)
    assert applied(client, document).changed
    return dp, tag, document


def test_a_verified_apply_is_recorded_and_the_no_op_parses_nothing(client, datapaths, parses):
    dp, _tag, document = built(client, datapaths)
    record = record_of(client, dp)
    assert record["table"].startswith("%d:" % client.get_datapath(dp).ifindex)
    parses.clear()
    again = applied(client, document)
    assert not again.changed and again.plan.summary() == "no changes"
    assert parses == []
    assert record_of(client, dp) == record
    # Check mode believes the record too, and writes nothing.
    assert not applied(client, document, check=True).changed
    assert parses == []


def test_flows_changed_by_other_writers_are_planned_in_full(client, datapaths, parses):
    dp, _tag, document = built(client, datapaths)
    count = len(client.flows(dp))
    (target,) = [f for f in client.flows(dp) if "02:00:00:00:0a:02" in format_key(f.key, f.mask)]

    def modify():
        target.actions = []
        client.put_flow(dp, target, mode="modify")

    for change, counts in (
        (modify, {"added": 0, "modified": 1, "removed": 0}),
        (
            lambda: client.delete_flow(dp, key=target.key, mask=target.mask),
            {"added": 1, "modified": 0, "removed": 0},
        ),
        (lambda: run("ovs-dpctl", "del-flows", dp), {"added": count, "modified": 0, "removed": 0}),
    ):
        change()
        parses.clear()
        result = applied(client, document)
        assert result.plan.counts() == counts
        assert parses and len(client.flows(dp)) == count
        parses.clear()
        assert not applied(client, document).changed and parses == []


def test_another_document_is_planned_in_full(client, datapaths, parses):
    dp, _tag, document = built(client, datapaths)
    flows = document["datapaths"][dp]["flows"]
    flows[0]["actions"] = "drop"
    parses.clear()
    result = applied(client, document)
    assert result.plan.counts() == {"added": 0, "modified": 1, "removed": 0}
    assert parses


def test_the_datapath_made_again_is_planned_in_full(client, datapaths, parses):
    dp, _tag, document = built(client, datapaths)
    old = record_of(client, dp)
    client.delete_datapath(dp)
    assert applied(client, document).changed
    new = record_of(client, dp)
    assert new["table"] != old["table"] and new["declared"] == old["declared"]
    parses.clear()
    assert not applied(client, document).changed and parses == []


def test_a_damaged_record_costs_the_full_plan_only(client, datapaths, parses):
    dp, _tag, document = built(client, datapaths)
    path = client.locks.path(dp, settled.SUFFIX)
    record = record_of(client, dp)
    for damage in ("{not json", json.dumps([1, 2]), json.dumps({**record, "declared": "0" * 32})):
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(damage)
        parses.clear()
        assert not applied(client, document).changed
        assert parses
        assert record_of(client, dp) == record  # the full plan wrote it again


def test_a_bad_flow_is_refused_before_anything_changes(client, datapaths):
    dp, tag, document = built(client, datapaths)
    spec = document["datapaths"][dp]
    spec["vports"]["new" + tag] = {"type": "internal"}
    spec["flows"].append({"key": "in_port(red%s),eth(src=not-a-mac)" % tag, "actions": "drop"})
    vports = sorted(v.name for v in client.vports(dp))
    with pytest.raises(DocumentError) as raised:
        applied(client, document)
    assert "datapaths.%s.flows[%d]" % (dp, len(spec["flows"]) - 1) in str(raised.value)
    assert "not-a-mac" in str(raised.value)
    assert isinstance(raised.value, errors.OdpError)
    assert sorted(v.name for v in client.vports(dp)) == vports
