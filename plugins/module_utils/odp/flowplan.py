# -*- coding: utf-8 -*-
# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Flows as declared, and the plan that turns a datapath's flows into them.

* :func:`declared_flows`: flow entries (``{match|key, actions}``, as the
  ``odp_flow`` module and state documents write them) checked and normalised
  before anything is sent;
* :func:`plan_flows`: want/have by :meth:`Flow.identity`, with purge;
* :func:`apply_or_restore`: the plan in batches, undone on a kernel refusal.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

from . import errors, flows, text


def declared_flows(entries, ports, present=True, many=True):
    """The flows a task declares, as :class:`Flow` objects, all checked
    before anything is sent: each entry is ``{match|key, actions}``.

    Keys are completed and normalised the way the kernel stores them.
    Errors name the entry (``flows[3].``) when ``many``.
    """
    declared = {}
    for index, entry in enumerate(entries):
        where = "flows[%d]." % index if many else ""
        flow = declared_flow(entry, ports, present, where)
        ident = flow.identity()
        first = declared.get(ident)
        if first is not None and not flow.same_actions(first[1]):
            raise errors.ValidationError(
                where.rstrip("."), entry.get("match") or entry.get("key"),
                "flows[%d] has the same match with other actions" % first[0])
        declared.setdefault(ident, (index, flow))
    return [flow for _index, flow in declared.values()]


def declared_flow(entry, ports, present, where):
    source = "match" if entry.get("match") is not None else "key"
    given = entry.get(source)
    # As the odp command's --key='': an empty match would take every packet.
    if given in ({}, None) or (isinstance(given, str) and not given.strip()):
        raise errors.ValidationError(where + source, given, "empty: it would match every packet "
                                     "of every port; a flow for all of them says key: eth()")
    try:
        if source == "match":
            key, mask = text.key_from_match(entry["match"], ports)
        else:
            key, mask = text.parse_key(entry["key"], ports)
        actions = declared_actions(entry.get("actions"), ports) if present else []
        key, mask = flows.complete_key(key, mask)
        flows.validate_flow(key, mask, actions)
    except errors.ValidationError as exc:
        # Name the option: flows[2].match.eth.src, key.ipv4.dst, actions[1].
        field = exc.field
        if not field.startswith(("actions", source)):
            field = "%s.%s" % (source, field)
        raise errors.ValidationError(where + field, exc.value, exc.reason)
    # Send the key as the kernel stores it, so a dump gives back the same
    # key and the flow can be found by it again.
    return flows.Flow.normalized(key, mask, actions)


def declared_actions(actions, ports):
    """``actions`` given as a list (structured) or as ovs-dpctl text."""
    if actions is None:
        raise errors.ValidationError("actions", actions, "required with state=present "
                                     "(an empty list drops the packets)")
    if isinstance(actions, list):
        return text.actions_from_list(actions, ports)
    if isinstance(actions, str) and not actions.strip():
        raise errors.ValidationError("actions", actions, "empty: give [] or drop to drop the "
                                     "packets, else the actions in ovs-dpctl syntax")
    if isinstance(actions, (str, int)):
        return text.parse_actions(str(actions), ports)
    raise errors.ValidationError("actions", actions, "must be a list or ovs-dpctl text")


class FlowPlan:
    """What turns the flows of a datapath into the declared ones."""

    def __init__(self, add=(), modify=(), delete=()):
        self.add = list(add)
        self.modify = list(modify)  # the new flows; their match exists already
        self.delete = list(delete)

    def __bool__(self):
        return bool(self.add or self.modify or self.delete)

    __nonzero__ = __bool__

    def touched(self):
        return set(flow.identity() for flow in self.add + self.modify + self.delete)


def plan_flows(current, desired, present=True, purge=False, scope=None):
    """The :class:`FlowPlan` from the ``current`` flows to the ``desired`` ones.

    Flows are matched by :meth:`Flow.identity` (the key as the kernel stores
    it), so equivalent spellings are the same flow. With ``present`` False
    the desired flows are removed; with ``purge`` every current flow not
    desired is removed too. ``scope`` (a set of identities) limits the flows
    looked at, for undoing a partial change.
    """
    have = dict((flow.identity(), flow) for flow in current)
    if scope is not None:
        have = dict((ident, flow) for ident, flow in have.items() if ident in scope)
    want = dict((flow.identity(), flow) for flow in desired)
    plan = FlowPlan()
    if not present:
        plan.delete = [have[ident] for ident in want if ident in have]
        return plan
    for ident, flow in want.items():
        old = have.get(ident)
        if old is None:
            plan.add.append(flow)
        elif not flow.same_actions(old):
            # Keep the installed key (and UFID) so the kernel finds the flow.
            plan.modify.append(flows.Flow(old.key, old.mask, flow.actions, old.ufid))
    if purge:
        plan.delete = [flow for ident, flow in have.items() if ident not in want]
    return plan


def expected_flows(current, plan):
    """The flows a datapath holds once ``plan`` is applied (for the diff)."""
    gone = set(flow.identity() for flow in plan.delete)
    modified = dict((flow.identity(), flow) for flow in plan.modify)
    after = [modified.get(flow.identity(), flow) for flow in current
             if flow.identity() not in gone]
    return after + plan.add


def apply_plan(client, datapath, plan):
    """Send ``plan`` in batches: deletions, modifications, then additions.

    Returns ``(flow, error)`` for the first flow the kernel refused, else None;
    the later steps are not sent after a refusal.
    """
    steps = ((plan.delete, client.delete_flows, {}),
             (plan.modify, client.put_flows, {"mode": "modify"}),
             (plan.add, client.put_flows, {"mode": "create"}))
    for batch, send, options in steps:
        if not batch:
            continue
        for flow, error in zip(batch, send(datapath, batch, **options)):
            if error is not None:
                return flow, error
    return None


def apply_or_restore(client, datapath, before, plan, port_names=None):
    """Apply ``plan``; when the kernel refuses a flow, put the flows the plan
    touched back as they were in ``before`` and raise the refusal."""
    refused = apply_plan(client, datapath, plan)
    if refused is None:
        return
    flow, error = refused
    undo = plan_flows(client.flows(datapath), before, purge=True, scope=plan.touched())
    # The undo covers only flows we changed; it cannot leave more undone than
    # trying nothing would.
    undo_failed = apply_plan(client, datapath, undo)
    detail = ("the flow table was restored as it was before the task" if undo_failed is None
              else "restoring the flow table failed too (%s): check the datapath's flows"
              % undo_failed[1])
    raise errors.KernelRejected("the kernel refused the flow %s (%s); %s"
                                % (flow_text(flow, port_names), error, detail))


def flow_text(flow, port_names=None):
    """One ovs-dpctl line for a flow: ``KEY, actions:ACTIONS``."""
    return text.format_flow(flow.key, flow.mask, flow.actions, port_names)
