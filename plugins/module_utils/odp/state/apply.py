# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Applying a state document: checkpoint, plan, apply, verify, roll back.

:func:`apply` reads the datapaths the document owns (the checkpoint), makes
the plan's changes in order (datapaths, vports, links, each datapath's flows
in batches through the flow engine, removals last), reads the result back
and checks that its plan against the document is empty. On any failure,
applying or verifying, it puts the checkpoint back with the same planner
(the plan from what is there to the checkpoint, every datapath the apply
created marked absent), verifies that too, and raises
:class:`errors.ApplyFailed` naming the object, the kernel's reason and
whether the rollback was verified.

Nothing outside the owned datapaths is changed: the planner refuses a
document that would take their names or UDP ports before anything is sent.
A process killed mid-apply leaves a state between the checkpoint and the
document; applying the document again converges, since every plan starts
from what the kernel has.

A verified result, and a no-op found by a full plan, are recorded
(:mod:`.settled`): the next apply of the same document to the same flow
table skips parsing and planning its flows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Callable

from .. import errors
from ..cutoff import cutoff_reason, refusal
from ..flowplan import Journal, apply_plan, flow_text
from ..tunnels import DEFAULT_PORTS
from .checks import DocumentError, join
from .document import LOCAL_PORT, Datapath, Document, Vport
from .links import LinkChange, apply_links, read_links
from .plan import Change, DatapathChange, FlowChange, LinkStep, Plan, VportChange, plan
from .settled import Records
from .show import show


class ApplyResult:
    """What :func:`apply` did (or, in check mode, would do).

    ``plan`` is the plan from the checkpoint; ``before`` the owned datapaths
    as they were (the checkpoint), ``after`` as they are now (read back), or
    in check mode as the plan would leave them; ``changed`` is True when the
    plan is not empty (in check mode: would change).
    """

    def __init__(self, plan_: Plan, before: Document, after: Document, check: bool) -> None:
        self.plan = plan_
        self.before = before
        self.after = after
        self.check = check

    @property
    def changed(self) -> bool:
        return bool(self.plan)


@contextlib.contextmanager
def _held(client, names: Iterable[str], check: bool) -> Iterator[None]:
    """Each owned datapath's writer lock (``client.exclusive``), taken in
    name order so that two applies never wait on each other; from the read
    to the verification, so that no other writer of this library changes
    what is planned. Check mode reads only, and takes none (as the modules)."""
    with contextlib.ExitStack() as stack:
        if not check:
            for name in sorted(names):
                stack.enter_context(client.exclusive(name))
        yield


def apply(
    client,
    desired: Document,
    check: bool = False,
    planned: Callable[[Plan], None] | None = None,
    force: bool = False,
) -> ApplyResult:
    """Make the datapaths ``desired`` owns exactly as it declares them.

    With ``check``, only plan: nothing is sent. ``planned`` is called with
    the plan before any change is made (to show it). Raises
    :class:`checks.DocumentError` for a document the host refuses before
    anything is changed (a name or UDP port of a datapath it does not own, a
    netdev vport whose device does not exist or, unless ``force``, carries
    the host's connection), and :class:`errors.ApplyFailed` once a change
    failed or the result did not verify, after rolling back to the
    checkpoint.
    """
    names = sorted(desired.datapaths)
    records = Records(client)
    with _held(client, names, check):
        current = _current(client, names)
        checkpoint = owned(current, names)
        skipped = set()

        def settled(have, want, ports):
            if records.settled(have, want, ports):
                skipped.add(want.name)
                return True
            return False

        changes = plan(current, desired, settled)
        check_host(client, changes, force)
        if planned is not None:
            planned(changes)
        if not check and not changes:
            _record(records, current, desired, changes, skipped)
        if check or not changes:
            return ApplyResult(
                changes,
                checkpoint,
                predicted(checkpoint, desired, changes) if changes else checkpoint,
                check,
            )
        try:
            execute(client, changes)
            after = show_owned(client, names)
            left = plan(after, desired)
            if left:
                raise errors.OdpError(
                    "the state read back differs from the document: %s"
                    % "; ".join(left.lines()[:3] + (["..."] if len(left.lines()) > 3 else []))
                )
        except errors.OdpError as exc:
            raise _rolled_back(client, checkpoint, names, exc)
        _record(records, after, desired, left)
        return ApplyResult(changes, checkpoint, after, check)


def _record(
    records: Records, read: Document, desired: Document, changes: Plan, skipped=frozenset()
) -> None:
    """Record each owned datapath whose flows ``read`` (a complete read
    with an empty plan ``changes`` to ``desired``) shows as declared; one
    proven by its record already is left as it is."""
    for name, want in desired.datapaths.items():
        have = read.datapaths.get(name)
        if want.present and have is not None and name not in skipped:
            records.store(have, want, changes.ports[name])


def _current(client, names: Iterable[str]) -> Document:
    """The owned datapaths as they are, and the others' vports only: what
    the planner needs to refuse taking their names and UDP ports (their
    flows are not read)."""
    mine = set(names)
    everything = client.datapaths()
    current = show(client, [dp.name for dp in everything if dp.name in mine], "apply")
    for dp in everything:
        if dp.name not in mine:
            vports = {
                vport.name: Vport(
                    vport.name,
                    vport.type,
                    vport.port if vport.type in DEFAULT_PORTS else None,
                    vport.port_no,
                )
                for vport in client.vports(dp)
                if vport.port_no != LOCAL_PORT
            }
            current.datapaths[dp.name] = Datapath.read(dp.name, None, vports, [])
    return current


def owned(document: Document, names: Iterable[str]) -> Document:
    """The datapaths of ``document`` among ``names``."""
    return Document(
        {name: document.datapaths[name] for name in names if name in document.datapaths}
    )


def show_owned(client, names: Iterable[str]) -> Document:
    """The datapaths among ``names`` that exist, as they are."""
    wanted = set(names)
    return show(client, sorted(dp.name for dp in client.datapaths() if dp.name in wanted))


def check_host(client, changes: Plan, force: bool = False) -> None:
    """What only the host can say about the netdev vports to attach: their
    device exists, and (unless ``force``) is not the one the host is
    reached through (:func:`cutoff.cutoff_reason`)."""
    attached = [
        change
        for change in changes.changes
        if isinstance(change, VportChange)
        and change.op == "create"
        and change.vport.type == "netdev"
    ]
    if not attached:
        return
    found = read_links([change.vport.name for change in attached], client.netns)
    for change in attached:
        name = change.vport.name
        where = join(join(join("datapaths", change.datapath), "vports"), name)
        if name not in found:
            raise DocumentError(
                where,
                name,
                "a netdev vport attaches an existing network "
                "device, and there is no device %s" % name,
            )
        reason = None if force else cutoff_reason(name, netns=client.netns)
        if reason is not None:
            override = "apply with force (odp apply --force)"
            raise DocumentError(where, name, refusal(name, change.datapath, reason, override))


# ---------------------------------------------------------------- making changes


def execute(client, changes: Plan) -> None:
    """Make the changes in order; the first failure is raised, naming what it
    was about (``vport ovl/red: ...``)."""
    links: list[LinkStep] = []  # consecutive link changes: one rtnetlink socket
    for change in [*changes.changes, None]:
        if links and not isinstance(change, LinkStep):
            _attempt(links[0], apply_links, [step.change for step in links], client.netns)
            links = []
        if change is None:
            break
        if isinstance(change, LinkStep):
            links.append(change)
        else:
            _attempt(change, _make, client, change)


def _attempt(change: Change, function, *args) -> None:
    try:
        function(*args)
    except errors.OdpError as exc:
        # Name the object as the plan line does, keeping the error's class.
        if not isinstance(change, FlowChange):  # a flow's error names its datapath
            exc.args = ("%s: %s" % (change.lines()[0], exc),)
        raise


def _make(client, change: Change) -> None:
    if isinstance(change, DatapathChange):
        if change.op == "create":
            client.create_datapath(change.datapath)
        else:
            client.delete_datapath(change.datapath)
    elif isinstance(change, VportChange):
        vport = change.vport
        if change.op == "create":
            client.create_vport(
                change.datapath, vport.name, vport.type, port=vport.port, port_no=vport.port_no
            )
        else:
            client.delete_vport(change.datapath, vport.name)
    elif isinstance(change, FlowChange):
        # The rollback puts back the whole checkpoint: this journal is not undone.
        refused = apply_plan(client, change.datapath, change.flows, Journal(), change.old)
        if refused is not None:
            flow, error = refused
            error.args = (
                "the kernel refused the flow %s: %s" % (flow_text(flow, change.port_names), error),
            )
            raise error
    else:
        raise AssertionError("unknown change %r" % change)


# ---------------------------------------------------------------- rolling back


def _rolled_back(
    client, checkpoint: Document, names: list[str], cause: errors.OdpError
) -> errors.ApplyFailed:
    """Put ``checkpoint`` back; the error to raise, saying whether it was."""
    target = Document(dict(checkpoint.datapaths))
    for name in names:
        target.datapaths.setdefault(name, Datapath(name, present=False))
    problem = None
    try:
        now = show_owned(client, names)
        execute(client, plan(now, target))
        left = plan(show_owned(client, names), target)
        if left:
            problem = "the state read back still differs: %s" % left.lines()[0]
    except errors.OdpError as exc:
        problem = str(exc)
    if problem is None:
        detail = "rolled back: the owned datapaths are as they were before (verified)"
    else:
        detail = (
            "ROLLBACK FAILED (%s): the owned datapaths are neither as before nor as "
            "the document says; apply again, or apply the state shown before" % problem
        )
    return errors.ApplyFailed("%s; %s" % (cause, detail), cause, problem is None)


# ---------------------------------------------------------------- check mode


def predicted(current: Document, desired: Document, changes: Plan) -> Document:
    """The owned datapaths as ``changes`` would leave them (for check mode's
    diff): the declared vports with their numbers, the link settings
    declared over the current ones, the declared flows."""
    after = Document()
    for name, want in desired.datapaths.items():
        if not want.present:
            continue
        have = current.datapaths.get(name)
        ports = changes.ports[name]
        vports = {}
        for vport in want.vports.values():
            old = have.vports.get(vport.name) if have is not None else None
            kept = old is not None and old.type == vport.type and old.port_no == ports[vport.name]
            vports[vport.name] = Vport(
                vport.name,
                vport.type,
                vport.port,
                ports[vport.name],
                _link_after(old.link if kept and old else None, vport.link),
            )
        link = _link_after(have.link if have is not None else None, want.link)
        after.datapaths[name] = Datapath.read(name, link, vports, want.flows(ports))
    return after


def _link_after(have: dict | None, want: dict | None) -> dict | None:
    if want is None:
        return have
    return {
        field: value
        for field, value in LinkChange("", have, want).after().items()
        if value is not None
    }
