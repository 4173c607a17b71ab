# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state document (docs/state.md): its schema, parsed and validated.

:func:`parse_document` takes the document as data (what YAML or JSON gives)
and returns a :class:`Document`, or raises :class:`checks.DocumentError`
naming the path of the first thing wrong, before anything is read from or
sent to the kernel. :meth:`Document.to_dict` gives the document back in its
one normal form, which :func:`parse_document` reads again to the same
document.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from .. import errors
from ..client import VPORT_TYPES
from ..flowplan import declared_flows
from ..flows import DP_MAX_PORTS, Flow
from ..text import format_actions, format_key
from ..tunnels import udp_port
from .checks import DocumentError, choice, ifname, integer, join, mapping, sequence
from .links import Link, check_link

VERSION = 1
TOP_KEYS = ("version", "datapaths")
DATAPATH_KEYS = ("state", "link", "vports", "flows")
VPORT_KEYS = ("type", "port", "port_no", "link")
FLOW_KEYS = ("match", "key", "actions")
STATES = ("present", "absent")
LOCAL_PORT = 0
PORT_NO_MAX = DP_MAX_PORTS - 1


class Vport:
    """A vport as declared: ``type``; ``port`` (the UDP port of vxlan and
    geneve, default filled in); ``port_no`` (None: any); ``link`` (internal
    ports only; None: not managed)."""

    __slots__ = ("link", "name", "port", "port_no", "type")

    def __init__(
        self,
        name: str,
        type: str,
        port: int | None = None,  # pylint: disable=redefined-builtin
        port_no: int | None = None,
        link: Link | None = None,
    ) -> None:
        self.name = name
        self.type = type
        self.port = port
        self.port_no = port_no
        self.link = link

    def describe(self) -> str:
        """``vxlan, port 4789, port_no 1`` (plan lines)."""
        parts = [self.type] + (["port %d" % self.port] if self.port is not None else [])
        return ", ".join(
            parts + (["port_no %d" % self.port_no] if self.port_no is not None else [])
        )

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"type": self.type}
        if self.port is not None:
            out["port"] = self.port
        if self.port_no is not None:
            out["port_no"] = self.port_no
        if self.link is not None:
            out["link"] = link_dict(self.link)
        return out


class Datapath:
    """A datapath as declared (``present`` False: to be removed).

    ``link`` is the local port's (the device named like the datapath);
    ``vports`` maps name to :class:`Vport`, in document order; the flows are
    the document's entries, or the kernel's :class:`Flow` objects for a
    datapath read by :mod:`.show` (then printed only when asked). ``table``
    names a datapath's flow table as read (its ifindex and the digest of a
    consistent dump, :func:`flowdump.table_digest`); None when declared, or
    not proven complete.
    """

    __slots__ = (
        "_entries",
        "_flows",
        "_provisional",
        "link",
        "name",
        "present",
        "table",
        "vports",
    )

    def __init__(
        self,
        name: str,
        present: bool = True,
        link: Link | None = None,
        vports: dict[str, Vport] | None = None,
        entries: list[dict] | None = None,
    ) -> None:
        self.name = name
        self.present = present
        self.link = link
        self.vports = dict(vports or {})
        self.table: str | None = None
        self._entries: list[dict] | None = list(entries or [])
        # (ports key, [Flow]) of the last flows() call
        self._flows: tuple[tuple, list[Flow]] | None = None
        self._provisional = assign_port_numbers(
            self.vports.values(), (), join(join("datapaths", name), "vports")
        )

    @classmethod
    def read(
        cls,
        name: str,
        link: Link | None,
        vports: dict[str, Vport],
        flows: list[Flow],
        table: str | None = None,
    ) -> Datapath:
        """A datapath as the kernel has it: every vport has its number."""
        datapath = cls(name, True, link, vports)
        datapath.table = table
        datapath._entries = None
        datapath._flows = (_ports_key(datapath.ports()), list(flows))
        return datapath

    def ports(self) -> dict[str, int]:
        """Vport name -> number, the local port included: the numbers asked
        for, the others the lowest free ones in document order."""
        ports = {self.name: LOCAL_PORT}
        ports.update(self._provisional)
        return ports

    def entries(self) -> list[dict]:
        """The flows as document entries (``key``, ``actions``)."""
        if self._entries is None:
            names = {number: name for name, number in self.ports().items()}
            # Read from the kernel (read()): the flows are there.
            self._entries = flow_entries(cast(tuple[tuple, list[Flow]], self._flows)[1], names)
        return self._entries

    def flows(self, ports: dict[str, int] | None = None) -> list[Flow]:
        """The flows, checked like the odp_flow module's, with the vport
        numbers ``ports`` (default :meth:`ports`); errors name the entry
        (``datapaths.ovl.flows[3].match.eth.src``)."""
        ports = self.ports() if ports is None else ports
        key = _ports_key(ports)
        if self._flows is not None and self._flows[0] == key:
            return self._flows[1]
        where = join(join("datapaths", self.name), "flows")
        entries = self.entries()
        for index, entry in enumerate(entries):
            _check_entry(entry, join(where, index))
        try:
            flows = declared_flows(entries, ports)
        except errors.ValidationError as exc:
            raise DocumentError(
                join("datapaths", self.name) + "." + exc.field, exc.value, exc.reason
            )
        self._flows = (key, flows)
        return flows

    def to_dict(self) -> dict:
        if not self.present:
            return {"state": "absent"}
        out: dict[str, Any] = {}
        if self.link is not None:
            out["link"] = link_dict(self.link)
        out["vports"] = {name: vport.to_dict() for name, vport in self.vports.items()}
        out["flows"] = [dict(entry) for entry in self.entries()]
        return out


class Document:
    """A state document: datapaths by name (the ones it owns)."""

    __slots__ = ("datapaths",)

    def __init__(self, datapaths: dict[str, Datapath] | None = None) -> None:
        self.datapaths = dict(datapaths or {})

    def to_dict(self) -> dict:
        return {
            "version": VERSION,
            "datapaths": {name: self.datapaths[name].to_dict() for name in sorted(self.datapaths)},
        }


def link_dict(link: Link) -> dict:
    """A link in the document's order of settings."""
    return {field: link[field] for field in ("mac", "mtu", "up", "addresses") if field in link}


def flow_entries(flows: Iterable[Flow], port_names: dict[int, str]) -> list[dict]:
    """Flows as document entries with vport names, sorted, statistics left out."""
    texts = sorted(
        (format_key(flow.key, flow.mask, port_names), format_actions(flow.actions, port_names))
        for flow in flows
    )
    return [{"key": key, "actions": actions} for key, actions in texts]


def assign_port_numbers(
    vports: Iterable[Vport], taken: Iterable[int], where: str = "vports"
) -> dict[str, int]:
    """Name -> number for ``vports``: the number each asks for, else the
    lowest one free of those asked for and of ``taken``, in order."""
    vports = list(vports)
    used = set(taken) | {v.port_no for v in vports if v.port_no is not None}
    numbers = {}
    candidate = 1
    for vport in vports:
        if vport.port_no is not None:
            numbers[vport.name] = vport.port_no
            continue
        while candidate in used:
            candidate += 1
        if candidate > PORT_NO_MAX:
            raise DocumentError(
                join(join(where, vport.name), "port_no"),
                None,
                "no free vport number left (1 to %d)" % PORT_NO_MAX,
            )
        numbers[vport.name] = candidate
        used.add(candidate)
    return numbers


def _ports_key(ports: dict[str, int]) -> tuple:
    return tuple(sorted(ports.items()))


# ---------------------------------------------------------------- parsing


def parse_document(value: Any, check_flows: bool = True) -> Document:
    """The :class:`Document` that ``value`` (a parsed YAML or JSON document)
    declares, checked entirely: schema, names, numbers, and every flow.

    Without ``check_flows``, the flows' matches and actions are checked
    when first planned, still before anything is sent (:func:`.apply.apply`
    plans everything first): a no-op apply that a flow-table record proves
    (:mod:`.settled`) then never parses them."""
    if not isinstance(value, dict):
        raise DocumentError(
            "document",
            value,
            "a state document is a mapping with version: %d and datapaths" % VERSION,
        )
    mapping(value, "", "settings", TOP_KEYS)
    version = value.get("version")
    if isinstance(version, bool) or version != VERSION:
        raise DocumentError(
            "version",
            version,
            "this library reads version %d documents%s"
            % (VERSION, "; add version: 1" if version is None else ""),
        )
    where = "datapaths"
    datapaths = {}
    for name, spec in mapping(value.get("datapaths"), where, "datapath names to datapaths").items():
        ifname(name, join(where, name))
        datapaths[name] = _datapath(name, spec, join(where, name))
    document = Document(datapaths)
    _check_unique(document)
    if check_flows:
        for datapath in document.datapaths.values():
            datapath.flows()
    return document


def _datapath(name: str, spec: Any, where: str) -> Datapath:
    spec = mapping(spec, where, "settings", DATAPATH_KEYS)
    state = choice(spec.get("state", "present"), join(where, "state"), STATES)
    if state == "absent":
        for key in DATAPATH_KEYS[1:]:
            if key in spec:
                raise DocumentError(
                    join(where, key),
                    spec[key],
                    "a datapath with state: absent is removed, and declares nothing else",
                )
        return Datapath(name, present=False)
    link = check_link(spec["link"], join(where, "link")) if spec.get("link") is not None else None
    vports = {}
    field = join(where, "vports")
    for vport_name, vport in mapping(spec.get("vports"), field, "vport names to vports").items():
        vports[vport_name] = _vport(vport_name, vport, join(field, vport_name))
    entries = sequence(spec.get("flows"), join(where, "flows"), "flows (match or key, and actions)")
    for index, entry in enumerate(entries):
        _check_entry(entry, join(join(where, "flows"), index))
    return Datapath(name, True, link, vports, entries)


def _vport(name: str, spec: Any, where: str) -> Vport:
    ifname(name, where)
    spec = mapping(spec, where, "settings", VPORT_KEYS)
    if "type" not in spec:
        raise DocumentError(
            join(where, "type"), None, "required: one of %s" % ", ".join(VPORT_TYPES)
        )
    vport_type = choice(spec["type"], join(where, "type"), VPORT_TYPES)
    try:
        port = udp_port(vport_type, spec.get("port"), join(where, "port"))
    except errors.ValidationError as exc:
        raise DocumentError(exc.field, exc.value, exc.reason)
    port_no = spec.get("port_no")
    if port_no is not None:
        integer(
            port_no, join(where, "port_no"), 1, PORT_NO_MAX, "a vport number (0 is the local port)"
        )
    link = None
    if spec.get("link") is not None:
        if vport_type != "internal":
            raise DocumentError(
                join(where, "link"),
                spec["link"],
                "link settings are "
                "managed for internal vports only (a %s vport's device is "
                "not the datapath's)" % vport_type,
            )
        link = check_link(spec["link"], join(where, "link"))
    return Vport(name, vport_type, port, port_no, link)


def _check_entry(entry: Any, where: str) -> None:
    entry = mapping(entry, where, "match or key, and actions", FLOW_KEYS)
    if entry.get("match") is not None and entry.get("key") is not None:
        raise DocumentError(join(where, "key"), entry["key"], "give match or key, not both")
    if entry.get("match") is None and entry.get("key") is None:
        raise DocumentError(where, entry, "needs match (a mapping) or key (ovs-dpctl text)")
    if entry.get("actions") is None:
        raise DocumentError(
            join(where, "actions"), None, "required (an empty list drops the packets)"
        )


def _check_unique(document: Document) -> None:
    """Names are the host's network device names: one per document. Vport
    numbers are one per datapath, UDP ports one per host, and a host has one
    metadata-mode GRE device."""
    owner = {
        name: "datapath %s (its local port)" % name
        for name, datapath in document.datapaths.items()
        if datapath.present
    }
    udp: dict[int, str] = {}
    gre = None
    for dp_name, datapath in document.datapaths.items():
        numbers: dict[int, str] = {}
        for name, vport in datapath.vports.items():
            where = join(join(join("datapaths", dp_name), "vports"), name)
            if name in owner:
                raise DocumentError(where, name, "this name is already %s" % owner[name])
            owner[name] = "vport %s of datapath %s" % (name, dp_name)
            if vport.port_no is not None:
                if vport.port_no in numbers:
                    raise DocumentError(
                        join(where, "port_no"),
                        vport.port_no,
                        "also the number of vport %s" % numbers[vport.port_no],
                    )
                numbers[vport.port_no] = name
            if vport.port is not None:
                if vport.port in udp:
                    raise DocumentError(
                        join(where, "port"),
                        vport.port,
                        "UDP port also taken by %s" % udp[vport.port],
                    )
                udp[vport.port] = "%s vport %s of datapath %s" % (vport.type, name, dp_name)
            if vport.type == "gre":
                if gre is not None:
                    raise DocumentError(
                        join(where, "type"),
                        "gre",
                        "a host has one GRE "
                        "vport (one metadata-mode GRE device per network "
                        "namespace); %s is one" % gre,
                    )
                gre = "vport %s of datapath %s" % (name, dp_name)
