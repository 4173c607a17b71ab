# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan from the current state document to a desired one.

:func:`plan` returns a :class:`Plan`: the ordered :class:`Change` objects
that make the datapaths the desired document names exactly as it declares
them, each shown as one line per object (``+`` create, ``~`` modify, ``-``
remove), in the order they are to be made:

1. removals that free a name, a vport number or a UDP port that a creation
   needs (a vport replaced, renamed, renumbered);
2. datapaths created, then vports (each with an explicit number, so that
   the plan and the kernel agree), then link settings;
3. each datapath's flows: removed, modified, then added, as the flow engine
   sends them (the kernel refuses to create a flow that an old one still
   matches, so the old one goes first);
4. vports removed, then datapaths.

A datapath the desired document names is owned: vports it does not
declare are removed (not the local port), flows it does not declare are
removed (purge). Datapaths it does not name are left alone; using one of
their names or UDP ports is an error, before anything is changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Callable, Optional, cast

from ..flowplan import FlowPlan, flow_text, plan_flows
from ..flows import Flow
from ..text import format_actions, format_key
from .checks import DocumentError, join
from .document import LOCAL_PORT, Datapath, Document, Vport, assign_port_numbers
from .links import LinkChange

Resource = tuple
Counts = tuple[int, int, int]
# (current datapath, desired one, its vport numbers) -> flows known to match
Settled = Callable[[Optional[Datapath], Datapath, dict[str, int]], bool]


class Change:
    """One step of a plan, on datapath ``datapath``; ``op`` is create,
    modify or remove."""

    kind = ""
    op = ""
    datapath = ""

    def lines(self) -> list[str]:
        raise NotImplementedError

    def counts(self) -> Counts:
        """(added, modified, removed) objects."""
        return {"create": (1, 0, 0), "modify": (0, 1, 0), "remove": (0, 0, 1)}[self.op]


class DatapathChange(Change):
    """A datapath created, or removed with all it holds (``current``)."""

    kind = "datapath"

    def __init__(self, op: str, name: str, current: Datapath | None = None) -> None:
        self.op = op
        self.datapath = name
        self.current = current

    def lines(self) -> list[str]:
        if self.op == "create":
            return ["+ datapath %s" % self.datapath]
        current = cast(Datapath, self.current)  # what a removal removes
        return [
            "- datapath %s (with its %s and %s)"
            % (
                self.datapath,
                _count(len(current.vports), "vport"),
                _count(len(current.flows()), "flow"),
            )
        ]


def _count(number: int, noun: str) -> str:
    return "%d %s%s" % (number, noun, "" if number == 1 else "s")


class VportChange(Change):
    """A vport created (``vport.port_no`` is the number it gets) or removed
    (``vport`` as it is); ``note`` says why, for replacements."""

    kind = "vport"

    def __init__(self, op: str, datapath: str, vport: Vport, note: str = "") -> None:
        self.op = op
        self.datapath = datapath
        self.vport = vport
        self.note = note

    def lines(self) -> list[str]:
        sign = "+" if self.op == "create" else "-"
        line = "%s vport %s/%s: %s" % (sign, self.datapath, self.vport.name, self.vport.describe())
        return [line + (" (%s)" % self.note if self.note else "")]


class LinkStep(Change):
    """The link settings of a datapath's device (``change.name``)."""

    kind = "link"
    op = "modify"

    def __init__(self, datapath: str, change: LinkChange) -> None:
        self.datapath = datapath
        self.change = change

    def lines(self) -> list[str]:
        return ["~ link %s/%s: %s" % (self.datapath, self.change.name, self.change.text())]


class FlowChange(Change):
    """The flows of a datapath removed, modified and added, in that order: a
    :class:`flowplan.FlowPlan`. ``port_names`` print the flows added and
    modified, ``old_names`` the flows removed and the actions replaced;
    ``old`` holds the current flows that ``flows.modify`` changes."""

    kind = "flows"
    op = "modify"

    def __init__(
        self,
        datapath: str,
        flows: FlowPlan,
        port_names: dict[int, str],
        old_names: dict[int, str],
        old: dict[tuple, Flow],
    ) -> None:
        self.datapath = datapath
        self.flows = flows
        self.port_names = port_names
        self.old_names = old_names
        self.old = old

    def lines(self) -> list[str]:
        names, old_names, dp = self.port_names, self.old_names, self.datapath
        removed = sorted(
            "- flow %s: %s" % (dp, flow_text(flow, old_names)) for flow in self.flows.delete
        )
        modified = sorted(
            "~ flow %s: %s, actions:%s -> %s"
            % (
                dp,
                format_key(flow.key, flow.mask, names),
                format_actions(self.old[flow.identity()].actions, old_names),
                format_actions(flow.actions, names),
            )
            for flow in self.flows.modify
        )
        added = sorted("+ flow %s: %s" % (dp, flow_text(flow, names)) for flow in self.flows.add)
        return removed + modified + added

    def counts(self) -> Counts:
        return len(self.flows.add), len(self.flows.modify), len(self.flows.delete)


class Plan:
    """The changes in order, and the vport numbers of each datapath once
    they are made (``ports``: datapath -> vport name -> number)."""

    def __init__(self, changes: Iterable[Change], ports: dict[str, dict[str, int]]) -> None:
        self.changes = list(changes)
        self.ports = ports

    def __bool__(self) -> bool:
        return bool(self.changes)

    def lines(self) -> list[str]:
        return [line for change in self.changes for line in change.lines()]

    def counts(self) -> dict[str, int]:
        added = modified = removed = 0
        for change in self.changes:
            counts = change.counts()
            added += counts[0]
            modified += counts[1]
            removed += counts[2]
        return {"added": added, "modified": modified, "removed": removed}

    def summary(self) -> str:
        if not self.changes:
            return "no changes"
        return "Plan: {added} to add, {modified} to change, {removed} to remove.".format(
            **self.counts()
        )


# ---------------------------------------------------------------- planning


def plan(current: Document, desired: Document, settled: Settled | None = None) -> Plan:
    """The :class:`Plan` taking ``current`` (as :func:`show.show` reads it:
    every vport numbered) to ``desired``. Conflicts with the datapaths that
    ``desired`` does not own, or a vport number that cannot be found, raise
    :class:`checks.DocumentError` (nothing is planned). The flows of a
    datapath that ``settled`` says already match (a flow-table record,
    :mod:`.settled`) are not planned."""
    _check_unowned(current, desired)
    steps = _Steps()
    ports = {}
    for name in sorted(desired.datapaths):
        want, have = desired.datapaths[name], current.datapaths.get(name)
        if not want.present:
            if have is not None:
                steps.remove(DatapathChange("remove", name, have), _held_by_datapath(have))
            continue
        if have is None:
            steps.create(DatapathChange("create", name), [("name", name)])
        ports[name] = _plan_datapath(steps, want, have, settled)
    return Plan(steps.ordered(), ports)


class _Steps:
    """The changes by phase; a removal that frees what a creation needs
    (``Resource`` tuples) moves ahead of every creation."""

    def __init__(self):
        self.needed: set[Resource] = set()
        self.creations: dict[str, list[Change]] = {"datapath": [], "vport": []}
        self.links = []
        self.flows = []
        self.removals = []  # (change, resources freed)

    def create(self, change: Change, resources: Iterable[Resource]) -> None:
        self.creations[change.kind].append(change)
        self.needed.update(resources)

    def remove(self, change: Change, resources: Iterable[Resource]) -> None:
        self.removals.append((change, set(resources)))

    def ordered(self) -> list[Change]:
        early = [change for change, freed in self.removals if freed & self.needed]
        late = [change for change, freed in self.removals if not freed & self.needed]

        def by_kind(changes, kind):
            return [change for change in changes if change.kind == kind]

        return (
            by_kind(early, "vport")
            + by_kind(early, "datapath")
            + self.creations["datapath"]
            + self.creations["vport"]
            + self.links
            + self.flows
            + by_kind(late, "vport")
            + by_kind(late, "datapath")
        )


def _plan_datapath(
    steps: _Steps, want: Datapath, have: Datapath | None, settled: Settled | None
) -> dict[str, int]:
    """Plan one owned datapath's vports, links and flows; its vport numbers."""
    name = want.name
    have_vports, have_ports = {}, {}
    if have is not None:
        # Numbered as the kernel has them (a document written by hand may not say).
        have_ports = have.ports()
        have_vports = {
            vport.name: Vport(
                vport.name, vport.type, vport.port, have_ports[vport.name], vport.link
            )
            for vport in have.vports.values()
        }
    numbers, replaced = _numbers(want, have_vports)
    for vport in want.vports.values():
        old = have_vports.get(vport.name)
        new = Vport(vport.name, vport.type, vport.port, numbers[vport.name], vport.link)
        if old is not None and vport.name not in replaced:
            continue
        if old is not None:
            steps.remove(
                VportChange("remove", name, old, "replaced: %s" % replaced[vport.name]),
                _held_by_vport(name, old),
            )
        steps.create(
            VportChange("create", name, new, "replacement" if old else ""),
            _held_by_vport(name, new),
        )
    for vport_name, old in have_vports.items():
        if vport_name not in want.vports:
            steps.remove(VportChange("remove", name, old), _held_by_vport(name, old))

    kept = {
        vport_name: have_vports[vport_name]
        for vport_name in want.vports
        if vport_name in have_vports and vport_name not in replaced
    }
    if want.link is not None:
        _link(steps, name, name, have.link if have is not None else None, want.link)
    for vport in want.vports.values():
        if vport.link is not None:
            old = kept.get(vport.name)
            _link(steps, name, vport.name, old.link if old is not None else None, vport.link)

    ports = {name: LOCAL_PORT}
    ports.update(numbers)
    if settled is not None and settled(have, want, ports):
        return ports
    current = have.flows() if have is not None else []
    flows = plan_flows(current, want.flows(ports), purge=True)
    if flows:
        modified = {flow.identity() for flow in flows.modify}
        before = {flow.identity(): flow for flow in current if flow.identity() in modified}
        steps.flows.append(FlowChange(name, flows, _names(ports), _names(have_ports), before))
    return ports


def _names(ports: dict[str, int]) -> dict[int, str]:
    return {number: name for name, number in ports.items()}


def _numbers(
    want: Datapath, have_vports: dict[str, Vport]
) -> tuple[dict[str, int], dict[str, str]]:
    """The vport numbers once planned, and the vports replaced (name -> why).

    A vport keeps its number unless it asks for another, or another asks for
    it; a replaced one keeps it if it can; a new one gets the number it asks
    for, else the lowest one free of every number in use now (a vport
    removed later still holds its number when vports are created).
    """
    asked = {
        vport.port_no: vport.name for vport in want.vports.values() if vport.port_no is not None
    }
    replaced = {}
    chosen = {}
    where = join(join("datapaths", want.name), "vports")
    for vport in want.vports.values():
        old = have_vports.get(vport.name)
        if old is None:
            continue
        _check_replaceable(old, vport, join(where, vport.name))
        old_no = cast(int, old.port_no)  # a vport the kernel has is numbered
        why = []
        if old.type != vport.type:
            why.append("type %s -> %s" % (old.type, vport.type))
        elif old.port != vport.port:
            why.append("port %s -> %s" % (old.port, vport.port))
        if vport.port_no is not None and vport.port_no != old_no:
            why.append("port_no %d -> %d" % (old_no, vport.port_no))
        elif vport.port_no is None and asked.get(old_no, vport.name) != vport.name:
            why.append("port_no %d is asked for by vport %s" % (old_no, asked[old_no]))
        if why:
            replaced[vport.name] = ", ".join(why)
        if vport.port_no is None and old.port_no not in asked:
            chosen[vport.name] = old.port_no
    pending = [
        Vport(vport.name, vport.type, vport.port, chosen.get(vport.name, vport.port_no))
        for vport in want.vports.values()
    ]
    taken = {vport.port_no for vport in have_vports.values() if vport.port_no is not None}
    return assign_port_numbers(pending, taken, where), replaced


def _check_replaceable(old: Vport, new: Vport, where: str) -> None:
    """A netdev vport's device is not the datapath's: detaching it leaves it
    there, and removing any other vport deletes its device. Neither can
    become the other under the same name."""
    if old.type == new.type or "netdev" not in (old.type, new.type):
        return
    if old.type == "netdev":
        reason = (
            "vport %s is a netdev vport now: detaching it leaves its device, which "
            "then holds the name a %s vport needs" % (old.name, new.type)
        )
    else:
        reason = (
            "vport %s is a %s vport now: removing it deletes its device, so there is "
            "no device left to attach as a netdev vport" % (old.name, old.type)
        )
    raise DocumentError(
        join(where, "type"),
        new.type,
        reason + "; rename the vport, or remove it in a first document",
    )


def _link(steps: _Steps, datapath: str, device: str, have, want) -> None:
    change = LinkChange(device, have, want)
    if change:
        steps.links.append(LinkStep(datapath, change))


def _held_by_vport(datapath: str, vport: Vport) -> list[Resource]:
    """What a vport holds that another cannot have at the same time."""
    held = [("name", vport.name), ("port_no", datapath, vport.port_no)]
    if vport.port is not None:
        held.append(("udp", vport.port))
    if vport.type == "gre":
        held.append(("gre",))
    return held


def _held_by_datapath(datapath: Datapath) -> list[Resource]:
    held = [("name", datapath.name)]
    for vport in datapath.vports.values():
        held += _held_by_vport(datapath.name, vport)
    return held


def _check_unowned(current: Document, desired: Document) -> None:
    """Names, UDP ports and the GRE device of datapaths ``desired`` does not
    own cannot be given to the ones it owns."""
    held = {}
    for dp_name, datapath in current.datapaths.items():
        if dp_name in desired.datapaths:
            continue
        for resource in _held_by_datapath(datapath):
            if resource[0] != "port_no":
                held[resource] = dp_name
    for dp_name, datapath in desired.datapaths.items():
        where = join("datapaths", dp_name)
        if not datapath.present:
            continue
        _refuse(held, ("name", dp_name), where, dp_name, "the name")
        for vport in datapath.vports.values():
            field = join(join(where, "vports"), vport.name)
            _refuse(held, ("name", vport.name), field, vport.name, "the name")
            if vport.port is not None:
                _refuse(held, ("udp", vport.port), join(field, "port"), vport.port, "the UDP port")
            if vport.type == "gre":
                _refuse(
                    held, ("gre",), join(field, "type"), vport.type, "the GRE device (one per host)"
                )


def _refuse(held, resource, where, value, what) -> None:
    owner = held.get(resource)
    if owner is not None:
        raise DocumentError(
            where,
            value,
            "%s is taken by datapath %s, which this document does not own" % (what, owner),
        )
