"""Unit tests of the Ansible modules' decision logic (module_utils/odp_module.py):
declared flows and key normalisation, want/have planning with purge, the
restore after a kernel refusal, changed/diff/check mode, the cut-off check.

The kernel is replaced by a fake client; the library is the real one. Needs
ansible (the .venv); skipped where it is missing (.venv-pyroute2-0.7).
"""

import contextlib
import errno
import socket
import sys
from types import SimpleNamespace

import pytest

pytest.importorskip("ansible")

# The module_utils import the library as part of the collection
# (ansible_collections.vswitch.odp: tests/unit/conftest.py).
from ansible_collections.vswitch.odp.plugins.module_utils import odp_module as om
from ansible_collections.vswitch.odp.plugins.module_utils.odp import (
    cutoff,
    errors,
    flowplan,
    netlink,
)
from ansible_collections.vswitch.odp.plugins.module_utils.odp.flows import Flow

PORTS = {"p1": 1, "p2": 2, "p3": 3}
NAMES = {number: name for name, number in PORTS.items()}


class FakeClient:
    """The flow operations of client.Client on a dict, with refusals on demand."""

    def __init__(self, flows=(), refuse=lambda flow: False):
        self.table = {flow.identity(): flow for flow in flows}
        self.refuse = refuse
        self.sent = []
        self.locked = 0

    @contextlib.contextmanager
    def exclusive(self, _datapath):
        self.locked += 1
        yield

    def flows(self, _datapath):
        return list(self.table.values())

    def put_flows(self, _datapath, flows, mode="upsert"):
        results = []
        for flow in flows:
            self.sent.append((mode, flow))
            ident = flow.identity()
            if self.refuse(flow):
                results.append(errors.KernelRejected("invalid argument"))
            elif mode == "create" and ident in self.table:
                results.append(errors.AlreadyExists("exists"))
            elif mode == "modify" and ident not in self.table:
                results.append(errors.NoSuchFlow("no such flow"))
            else:
                self.table[ident] = Flow(flow.key, flow.mask, list(flow.actions))
                results.append(None)
        return results

    def delete_flows(self, _datapath, flows):
        results = []
        for flow in flows:
            self.sent.append(("delete", flow))
            results.append(
                None if self.table.pop(flow.identity(), None) else errors.NoSuchFlow("no such flow")
            )
        return results

    def lines(self):
        return sorted(flowplan.flow_text(flow, NAMES) for flow in self.table.values())


def declared(*entries, **kwargs):
    return flowplan.declared_flows(list(entries), PORTS, **kwargs)


def one(**entry):
    return declared(entry)[0]


ARP_P1 = {"match": {"in_port": "p1", "eth": {}, "eth_type": 0x0806}, "actions": [{"output": "p2"}]}


# ---------------------------------------------------------------- declared flows


def test_two_spellings_of_a_match_are_one_flow():
    text = one(key="in_port(p1),eth(),eth_type(0x0806),arp()", actions="p2")
    structured = one(**ARP_P1)
    assert text.identity() == structured.identity()
    assert text.same_actions(structured)


def test_a_match_without_eth_is_another_flow():
    # Without eth() the kernel matches packets without an Ethernet header (L3).
    layer3 = one(key="in_port(p1),eth_type(0x0806)", actions="p2")
    assert layer3.identity() != one(**ARP_P1).identity()


def test_masked_values_compare_equal():
    a = one(
        match={"in_port": "p1", "eth_type": 0x0800, "ipv4": {"dst": "10.1.2.3/16"}}, actions="p2"
    )
    b = one(key="in_port(1),eth(),eth_type(0x0800),ipv4(dst=10.1.0.0/255.255.0.0)", actions="p2")
    assert a.identity() == b.identity()
    # The text without eth() is a layer 3 packet: another flow.
    c = one(key="in_port(1),eth_type(0x0800),ipv4(dst=10.1.0.0/255.255.0.0)", actions="p2")
    assert a.identity() != c.identity()


def test_errors_name_the_entry_and_field():
    with pytest.raises(errors.ValidationError) as info:
        declared(ARP_P1, {"match": {"in_port": "nosuch"}, "actions": []})
    assert info.value.field.startswith("flows[1].match")
    assert "nosuch" in str(info.value)
    with pytest.raises(errors.ValidationError) as info:
        declared({"match": {"eth": {"src": "02:00:00:00:00:zz"}}, "actions": []})
    assert "flows[0].match.eth" in str(info.value)
    with pytest.raises(errors.ValidationError) as info:
        declared({"match": {"in_port": "p1"}, "actions": [{"output": "nosuch"}]})
    assert info.value.field.startswith("flows[0].actions")


def test_actions_are_required_when_present_only():
    with pytest.raises(errors.ValidationError) as info:
        declared({"match": {"in_port": "p1"}}, many=False)
    assert info.value.field == "actions"
    assert declared({"match": {"in_port": "p1"}}, present=False)[0].actions == []


def test_empty_actions_drop():
    assert one(match={"in_port": "p1"}, actions=[]).actions == []


def test_duplicate_match_with_other_actions_is_refused_same_is_merged():
    other = {"key": "in_port(p1),eth(),eth_type(0x0806)", "actions": "p3"}
    with pytest.raises(errors.ValidationError) as info:
        declared(ARP_P1, other)
    assert "flows[0]" in str(info.value) and info.value.field == "flows[1]"
    assert len(declared(ARP_P1, dict(ARP_P1))) == 1


# ---------------------------------------------------------------- planning


def test_same_key_and_actions_is_unchanged():
    current = declared(ARP_P1)
    again = declared({"key": "in_port(p1),eth(),eth_type(0x0806),arp()", "actions": "p2"})
    assert not flowplan.plan_flows(current, again, purge=True)


def test_other_actions_modify_the_installed_flow():
    installed = one(**ARP_P1)
    installed.ufid = b"u" * 16
    plan = flowplan.plan_flows([installed], declared(dict(ARP_P1, actions="p3")))
    assert not plan.add and not plan.delete
    (modified,) = plan.modify
    assert modified.key == installed.key and modified.ufid == installed.ufid
    assert flowplan.flow_text(modified, NAMES).endswith("actions:p3")


def test_purge_removes_what_is_not_declared():
    current = declared(ARP_P1, {"match": {"in_port": "p2"}, "actions": "p1"})
    plan = flowplan.plan_flows(current, declared(ARP_P1), purge=True)
    assert [flowplan.flow_text(f, NAMES) for f in plan.delete] == [
        flowplan.flow_text(current[1], NAMES)
    ]
    assert not flowplan.plan_flows(current, declared(ARP_P1))


def test_absent_removes_only_installed_flows():
    current = declared(ARP_P1)
    wanted = declared(ARP_P1, {"match": {"in_port": "p3"}}, present=False)
    plan = flowplan.plan_flows(current, wanted, present=False)
    assert len(plan.delete) == 1 and not plan.add and not plan.modify


def test_expected_flows_for_the_diff():
    current = declared(ARP_P1, {"match": {"in_port": "p2"}, "actions": "p1"})
    desired = declared(dict(ARP_P1, actions="p3"), {"match": {"in_port": "p3"}, "actions": []})
    plan = flowplan.plan_flows(current, desired, purge=True)
    after = sorted(flowplan.flow_text(f, NAMES) for f in flowplan.expected_flows(current, plan))
    assert after == sorted(flowplan.flow_text(f, NAMES) for f in desired)


# ---------------------------------------------------------------- applying


def test_apply_sends_deletes_modifies_adds_in_batches():
    current = declared(ARP_P1, {"match": {"in_port": "p2"}, "actions": "p1"})
    client = FakeClient(current)
    desired = declared(dict(ARP_P1, actions="p3"), {"match": {"in_port": "p3"}, "actions": []})
    plan = flowplan.plan_flows(current, desired, purge=True)
    flowplan.apply_or_restore(client, "dp", current, plan)
    assert [mode for mode, _flow in client.sent] == ["delete", "modify", "create"]
    assert client.lines() == sorted(flowplan.flow_text(f, NAMES) for f in desired)


def test_a_refused_flow_restores_the_table():
    current = declared(ARP_P1, {"match": {"in_port": "p2"}, "actions": "p1"})
    client = FakeClient(current, refuse=lambda flow: flow.key.get("in_port") == 3)
    before = client.lines()
    desired = declared(
        dict(ARP_P1, actions="p3"),
        {"match": {"in_port": "p1", "eth_type": 0x86DD}, "actions": "p2"},
        {"match": {"in_port": "p3"}, "actions": []},
    )
    plan = flowplan.plan_flows(current, desired, purge=True)
    with pytest.raises(errors.KernelRejected) as info:
        flowplan.apply_or_restore(client, "dp", current, plan, NAMES)
    assert client.lines() == before
    assert "in_port(p3)" in str(info.value) and "restored" in str(info.value)


def test_a_failed_restore_says_so():
    current = declared(ARP_P1)
    client = FakeClient(current, refuse=lambda flow: flow.key.get("in_port") in (1, 3))
    plan = flowplan.plan_flows(
        current, declared({"match": {"in_port": "p3"}, "actions": []}), purge=True
    )
    with pytest.raises(errors.KernelRejected) as info:
        flowplan.apply_or_restore(client, "dp", current, plan, NAMES)
    assert "restoring the flow table failed" in str(info.value)


def numbered(count, port="p1", actions="p2"):
    return declared(
        *[
            {
                "match": {
                    "in_port": port,
                    "eth_type": 0x0800,
                    "ipv4": {"dst": "10.0.%d.%d" % (i >> 8, i & 255)},
                },
                "actions": actions,
            }
            for i in range(count)
        ]
    )


@pytest.mark.fault
@pytest.mark.parametrize("where", ["first", "middle", "last"])
@pytest.mark.parametrize("step", ["delete", "modify", "add"])
def test_the_journal_undoes_exactly_what_was_done(step, where):
    """Purge 30 flows (10 kept with new actions, 20 replaced by 20 others),
    one refusal at the first, a middle or the last flow of a step."""
    old = numbered(30)
    desired = numbered(10, actions="p3") + declared(
        *[
            {
                "match": {"in_port": "p2", "eth_type": 0x0800, "ipv4": {"dst": "10.9.0.%d" % i}},
                "actions": "p1",
            }
            for i in range(20)
        ]
    )
    plan = flowplan.plan_flows(old, desired, purge=True)
    batch = getattr(plan, step)
    victim = batch[{"first": 0, "middle": len(batch) // 2, "last": -1}[where]].identity()
    foreign = one(match={"in_port": "p3"}, actions="p1")
    client = FakeClient(old)
    deletes = client.delete_flows

    def delete_flows(datapath, flows):
        if step == "delete" and any(f.identity() == victim for f in flows):
            results = deletes(datapath, [f for f in flows if f.identity() != victim])
            results.insert(
                [f.identity() for f in flows].index(victim), errors.KernelRejected("refused")
            )
            return results
        return deletes(datapath, flows)

    def refuse(flow):
        # Another writer (not this run) adds a flow while the plan applies.
        client.table.setdefault(foreign.identity(), foreign)
        return step != "delete" and flow.identity() == victim

    client.refuse = refuse
    client.delete_flows = delete_flows
    before = client.lines()
    with pytest.raises(errors.KernelRejected) as info:
        flowplan.apply_or_restore(client, "dp", old, plan, NAMES)
    assert info.value.restored and "restored" in str(info.value) and "verified" in str(info.value)
    # As before, plus the other writer's flow: the restore did not undo it.
    assert client.lines() == sorted([*before, flowplan.flow_text(foreign, NAMES)])
    assert client.locked == 1
    # Only flows this run changed were sent back: the refused one only once, refused.
    sent = [flow.identity() for _mode, flow in client.sent]
    assert sent.count(victim) == (0 if step == "delete" else 1)
    assert len(sent) > len(set(sent))  # something was undone


def test_a_refused_first_request_changes_nothing():
    current = numbered(3)
    client = FakeClient(current, refuse=lambda flow: True)
    plan = flowplan.plan_flows(current, numbered(3, actions="p3"))
    with pytest.raises(errors.KernelRejected, match="nothing had been changed") as info:
        flowplan.apply_or_restore(client, "dp", current, plan, NAMES)
    assert info.value.restored and len(client.sent) == 3  # no undo was needed


@pytest.mark.fault
def test_a_flow_refused_before_sending_is_raised_as_it_is():
    current = numbered(2)
    client = FakeClient(current)

    def delete_flows(_datapath, _flows):
        raise errors.ValidationError("flow", "x", "too long")

    client.delete_flows = delete_flows
    plan = flowplan.plan_flows(current, [], purge=True)
    with pytest.raises(errors.ValidationError, match="too long"):
        flowplan.apply_or_restore(client, "dp", current, plan, NAMES)
    assert client.sent == []


@pytest.mark.fault
def test_a_step_that_fails_halfway_is_undone_whole():
    """The additions' transaction dies after installing half of them (a lost
    reply): the undo removes every flow of the step, and verifies."""
    current = numbered(4)
    client = FakeClient(current)
    puts, failures = client.put_flows, [1]

    def put_flows(datapath, flows, mode="upsert"):
        if mode == "create" and failures:
            failures.pop()
            puts(datapath, flows[: len(flows) // 2], mode)
            raise errors.OdpError("cannot send requests 3 to 5 of a transaction: lost replies")
        return puts(datapath, flows, mode)

    client.put_flows = put_flows
    before = client.lines()
    plan = flowplan.plan_flows(current, numbered(4, port="p2"), purge=True)
    with pytest.raises(errors.KernelRejected) as info:
        flowplan.apply_or_restore(client, "dp", current, plan, NAMES)
    assert info.value.restored and not info.value.changed, str(info.value)
    assert "lost replies" in str(info.value) and client.lines() == before


@pytest.mark.fault
def test_a_failed_transaction_is_undone_from_the_journal():
    current = numbered(4)
    client = FakeClient(current)

    def put_flows(_datapath, _flows, mode="upsert"):
        raise errors.OdpError("cannot send requests: the socket broke")

    client.put_flows = put_flows
    plan = flowplan.plan_flows(current, numbered(2, actions="p3"), purge=True)
    with pytest.raises(errors.KernelRejected) as info:
        flowplan.apply_or_restore(client, "dp", current, plan, NAMES)
    # The 2 deletions were undone... by put_flows, which fails too: say so.
    assert not info.value.restored and info.value.changed
    assert "2 of the 4 changes could not be undone" in str(info.value)
    assert "missing (it was there before the task)" in str(info.value)


# ---------------------------------------------------------------- changed, diff, check mode


def module(check_mode=False, diff=False):
    return SimpleNamespace(
        check_mode=check_mode,
        _diff=diff,
        result={"changed": False},
        _diff_before={},
        _diff_after={},
    )


@pytest.mark.parametrize("check_mode", [False, True])
def test_converge_applies_unless_check_mode(check_mode):
    fake, calls = module(check_mode, diff=True), []
    out = om.OdpModule.converge(
        fake, {"state": "absent"}, {"state": "present"}, lambda: calls.append(1) or "made"
    )
    assert fake.result["changed"]
    assert calls == ([] if check_mode else [1])
    assert out == (None if check_mode else "made")
    assert fake._diff_after == {"state": "present"}


def test_converge_unchanged_and_lazy_diff():
    fake = module()
    om.OdpModule.converge(
        fake,
        lambda: pytest.fail("diff computed"),
        None,
        lambda: pytest.fail("applied"),
        changed=False,
    )
    assert not fake.result["changed"]


def refuse(changed=None):
    def apply():
        error = errors.PermissionDenied("flow in_port(1): needs root or CAP_NET_ADMIN")
        if changed is not None:
            error.changed = changed
        raise error

    return apply


@pytest.mark.parametrize("changed", [None, False, True])
def test_a_failed_apply_is_changed_only_when_the_error_says_so(changed):
    fake = module(diff=True)
    with pytest.raises(errors.PermissionDenied):
        om.OdpModule.converge(fake, {}, {"state": "present"}, refuse(changed))
    assert fake.result["changed"] is bool(changed)


def test_error_messages_say_what_to_do():
    assert "CAP_NET_ADMIN" in om.error_message(errors.PermissionDenied("datapath dp0: denied"))
    assert "modprobe" in om.error_message(errors.KernelModuleMissing("no openvswitch"))


def _family_lookup_error(code, family="ovs_datapath"):
    """The error the library raises when the kernel answers ``code`` to the
    lookup of ``family``: the real message path of netlink.Transport."""

    class Socket:
        def send(self, _data):
            return None

    def refuse(_seq, _header):
        raise netlink.KernelError(code)

    transport = netlink.Transport.__new__(netlink.Transport)
    transport.sock, transport._seq, transport._families = Socket(), 0, {}
    transport._collect = refuse
    with pytest.raises(errors.OdpError) as info:
        transport.family(family)
    return info.value


def test_error_messages_say_it_once():
    """The library's hint is not repeated (it said "not loaded (modprobe
    openvswitch)" twice when the module was missing)."""
    missing = _family_lookup_error(errno.ENOENT)
    assert isinstance(missing, errors.KernelModuleMissing)
    message = om.error_message(missing)
    assert message.count("modprobe") == 1 and message.count("not loaded") == 1, message
    message = om.error_message(netlink.error_for(errno.EPERM, "create", "datapath dp0"))
    assert message.count("CAP_NET_ADMIN") == 1 and "become: true" in message, message


# ---------------------------------------------------------------- cut-off check


def test_connection_address_from_ssh_connection():
    found = cutoff.connection_addresses({"SSH_CONNECTION": "192.0.2.9 50000 198.18.0.1 22"})
    assert "198.18.0.1" in found


def test_established_ssh_sockets_from_proc(tmp_path):
    table = tmp_path / "tcp"
    # 198.18.0.1:22 <- 192.0.2.9:50000 established; a listening socket; another port.
    # /proc prints the address as a host-order 32-bit word.
    local = "010012C6" if sys.byteorder == "little" else "C6120001"
    table.write_text(
        "  sl  local_address rem_address   st\n"
        "   0: %s:0016 090200C0:C350 01 0\n"
        "   1: 00000000:0016 00000000:0000 0A 0\n"
        "   2: 0200000A:0050 090200C0:C351 01 0\n" % local
    )
    assert cutoff._established_local(str(table), socket.AF_INET, {22}) == {"198.18.0.1"}
