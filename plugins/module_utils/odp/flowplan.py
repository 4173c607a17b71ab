# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Flows as declared, and the plan that turns a datapath's flows into them.

* :func:`declared_flows`: flow entries (``{match|key, actions}``, as the
  ``odp_flow`` module and state documents write them) checked and normalised
  before anything is sent;
* :func:`plan_flows`: want/have by :meth:`Flow.identity`, with purge;
* :func:`apply_or_restore`: the plan in batches, undone on a kernel refusal.
"""

from . import errors, flowcheck, flows, text
from .attrs import IMMUTABLE


def declared_flows(entries, ports, present=True, many=True):
    """The flows a task declares, as :class:`Flow` objects, all checked
    before anything is sent: each entry is ``{match|key, actions}``.

    Keys are completed and normalised the way the kernel stores them.
    Errors name the entry (``flows[3].``) when ``many``.
    """
    declared: dict[tuple, tuple[int, flows.Flow]] = {}
    parsed_actions: dict = {}  # the actions of each text or list once (a table repeats a few)
    for index, entry in enumerate(entries):
        where = "flows[%d]." % index if many else ""
        flow = declared_flow(entry, ports, present, where, parsed_actions)
        ident = flow.identity()
        first = declared.get(ident)
        if first is not None and not flow.same_actions(first[1]):
            raise errors.ValidationError(
                where.rstrip("."),
                entry.get("match") or entry.get("key"),
                "flows[%d] has the same match with other actions" % first[0],
            )
        declared.setdefault(ident, (index, flow))
    return [flow for _index, flow in declared.values()]


def declared_flow(entry, ports, present, where, parsed_actions=None):
    source = "match" if entry.get("match") is not None else "key"
    given = entry.get(source)
    # As the odp command's --key='': an empty match would take every packet.
    if given in ({}, None) or (isinstance(given, str) and not given.strip()):
        raise errors.ValidationError(
            where + source,
            given,
            "empty: it would match every packet "
            "of every port; a flow for all of them says key: eth()",
        )
    try:
        if source == "match":
            key, mask = text.key_from_match(entry["match"], ports)
        else:
            key, mask = text.parse_key(entry["key"], ports)
        actions = _memo_actions(entry.get("actions"), ports, parsed_actions) if present else []
        key, mask = flows.complete_key(key, mask)
        flowcheck.validate_flow(key, mask, actions)
    except errors.ValidationError as exc:
        # Name the option: flows[2].match.eth.src, key.ipv4.dst, actions[1].
        field = exc.field
        if not field.startswith(("actions", source)):
            field = "%s.%s" % (source, field)
        raise errors.ValidationError(where + field, exc.value, exc.reason)
    # Send the key as the kernel stores it, so a dump gives back the same
    # key and the flow can be found by it again.
    return flows.Flow.normalized(key, mask, actions)


def _memo_actions(actions, ports, memo):
    """:func:`declared_actions` through ``memo`` (given as text or list ->
    tuple of its actions): shared only when every value is immutable, each
    flow getting a list of its own."""
    if memo is None:
        return declared_actions(actions, ports)
    given = repr(actions)
    cached = memo.get(given)
    if cached is not None:
        return list(cached)
    parsed = declared_actions(actions, ports)
    if all(value.__class__ in IMMUTABLE for _name, value in parsed):
        memo[given] = tuple(parsed)
    return parsed


def declared_actions(actions, ports):
    """``actions`` given as a list (structured) or as ovs-dpctl text."""
    if actions is None:
        raise errors.ValidationError(
            "actions", actions, "required with state=present (an empty list drops the packets)"
        )
    if isinstance(actions, list):
        return text.actions_from_list(actions, ports)
    if isinstance(actions, str) and not actions.strip():
        raise errors.ValidationError(
            "actions",
            actions,
            "empty: give [] or drop to drop the packets, else the actions in ovs-dpctl syntax",
        )
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

    def touched(self):
        return {flow.identity() for flow in self.add + self.modify + self.delete}


def plan_flows(current, desired, present=True, purge=False, scope=None):
    """The :class:`FlowPlan` from the ``current`` flows to the ``desired`` ones.

    Flows are matched by :meth:`Flow.identity` (the key as the kernel stores
    it), so equivalent spellings are the same flow. With ``present`` False
    the desired flows are removed; with ``purge`` every current flow not
    desired is removed too. ``scope`` (a set of identities) limits the flows
    looked at, for undoing a partial change.
    """
    have = {flow.identity(): flow for flow in current}
    if scope is not None:
        have = {ident: flow for ident, flow in have.items() if ident in scope}
    want = {flow.identity(): flow for flow in desired}
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
    gone = {flow.identity() for flow in plan.delete}
    modified = {flow.identity(): flow for flow in plan.modify}
    after = [modified.get(flow.identity(), flow) for flow in current if flow.identity() not in gone]
    return after + plan.add


# How each step of a plan is sent, and how the journal undoes it.
_STEPS = (("delete", "deleted"), ("modify", "modified"), ("add", "added"))
# What undoes each kind of journal entry.
_UNDO = {"added": "delete", "modified": "modify", "deleted": "add"}
MAX_LISTED = 5  # flows named in a message about a failed restore


def send(client, datapath, step, batch):
    """One step of a plan for ``batch``: ``delete``, ``modify`` (new actions
    on installed flows) or ``add``; the kernel's answer per flow."""
    if step == "delete":
        return client.delete_flows(datapath, batch)
    return client.put_flows(datapath, batch, mode="modify" if step == "modify" else "create")


class Journal:
    """What a run did to a flow table, in order: ``(done, flow)`` with
    ``done`` "deleted" (``flow`` is the old flow), "modified" (the old flow)
    or "added" (the new flow). Undoing it touches nothing else."""

    def __init__(self):
        self.entries = []

    def __len__(self):
        return len(self.entries)

    def record(self, done, flows):
        self.entries.extend((done, flow) for flow in flows)

    def identities(self):
        return {flow.identity() for _done, flow in self.entries}

    def undo(self, client, datapath):
        """Undo the entries, last first: delete what was added, put the old
        actions back on what was modified, re-create what was deleted (with
        its UFID). A list of ``(flow, error)`` the kernel refused."""
        refused: list[tuple[flows.Flow, errors.OdpError]] = []
        runs: list[tuple[str, list[flows.Flow]]] = []  # consecutive entries of one kind, in reverse
        for done, flow in reversed(self.entries):
            if runs and runs[-1][0] == done:
                runs[-1][1].append(flow)
            else:
                runs.append((done, [flow]))
        for done, batch in runs:
            try:
                results = send(client, datapath, _UNDO[done], batch)
            except errors.OdpError as exc:
                results = [exc] * len(batch)
            refused.extend(
                (flow, error) for flow, error in zip(batch, results) if error is not None
            )
        return refused


def apply_plan(client, datapath, plan, journal, before):
    """Send ``plan`` in batches: deletions, modifications, then additions,
    recording in ``journal`` every change the kernel made (``before``: the
    flows as they were, by identity, for the old actions of modified flows).

    Returns ``(flow, error)`` for the first flow the kernel refused, else None;
    the later steps are not sent after a refusal.
    """
    for step, done in _STEPS:
        batch = getattr(plan, step)
        if not batch:
            continue
        olds = (
            (lambda flows: [before[flow.identity()] for flow in flows])
            if step == "modify"
            else list
        )
        try:
            results = send(client, datapath, step, batch)
        except errors.ValidationError:
            raise  # refused before anything was sent
        except errors.OdpError:
            # The step failed as a whole (the socket, a lost reply): any of
            # its flows may have been changed, so the undo covers them all
            # and the check after it decides.
            journal.record(done, olds(batch))
            raise
        journal.record(done, olds([flow for flow, error in zip(batch, results) if error is None]))
        for flow, error in zip(batch, results):
            if error is not None:
                return flow, error
    return None


def apply_or_restore(client, datapath, before, plan, port_names=None):
    """Apply ``plan``; when the kernel refuses a flow, undo exactly what this
    run did (its :class:`Journal`), verify the flows it touched against
    ``before`` (the flows as they were) with a fresh dump, and raise the
    refusal. The raised error's ``restored`` is True only when verified (and
    its ``changed`` False: the datapath is as it was).

    The datapath's lock is held throughout (re-entrant for the caller that
    holds it across read, plan and apply), so no other writer interleaves.
    """
    with client.exclusive(datapath):
        journal = Journal()
        old = {flow.identity(): flow for flow in before}
        try:
            refused = apply_plan(client, datapath, plan, journal, old)
        except errors.OdpError as exc:
            refused = None, exc  # the socket or a batch failed as a whole
        if refused is None:
            return
        flow, error = refused
        if flow is None and not journal:
            raise error  # nothing was sent (a flow the library refused)
        undo_refused = journal.undo(client, datapath) if journal else []
        try:
            wrong = unrestored(client.flows(datapath), old, journal.identities()) if journal else []
        except errors.OdpError as exc:
            wrong = [(None, "the check after the restore failed: %s" % exc)]
    what = (
        "the kernel refused the flow %s (%s)" % (flow_text(flow, port_names), error)
        if flow is not None
        else "the change failed (%s)" % error
    )
    if not wrong:
        detail = (
            "nothing had been changed"
            if not journal
            else "the flow table was restored as it was before the task (%d changes undone, "
            "verified)" % len(journal)
        )
    else:
        listed = "; ".join(
            why if f is None else "%s: %s" % (flow_text(f, port_names), why)
            for f, why in wrong[:MAX_LISTED]
        )
        more = " and %d more" % (len(wrong) - MAX_LISTED) if len(wrong) > MAX_LISTED else ""
        reasons = "; ".join(sorted({str(e) for _f, e in undo_refused}))[:500]
        detail = (
            "restoring the flow table failed: %d of the %d changes could not be undone "
            "(%s%s)%s: check the datapath's flows"
            % (
                len(wrong),
                len(journal),
                listed,
                more,
                "; the kernel said: %s" % reasons if reasons else "",
            )
        )
    failure = errors.KernelRejected("%s; %s" % (what, detail))
    failure.restored = not wrong
    failure.changed = bool(wrong)  # the datapath is as it was only when verified
    failure.errno = getattr(error, "errno", None)
    raise failure


def unrestored(now, before, identities):
    """``[(flow, what is wrong)]`` for the ``identities`` whose flows in
    ``now`` (a fresh dump) differ from ``before`` (identity -> flow)."""
    current = {flow.identity(): flow for flow in now}
    wrong = []
    for ident in identities:
        old, new = before.get(ident), current.get(ident)
        if old is None and new is not None:
            wrong.append((new, "added by this task and still there"))
        elif old is not None and new is None:
            wrong.append((old, "missing (it was there before the task)"))
        elif old is not None and new is not None and not old.same_actions(new):
            wrong.append((old, "its actions are now %s" % text.format_actions(new.actions)))
    return wrong


def flow_text(flow, port_names=None):
    """One ovs-dpctl line for a flow: ``KEY, actions:ACTIONS``."""
    return text.format_flow(flow.key, flow.mask, flow.actions, port_names)
