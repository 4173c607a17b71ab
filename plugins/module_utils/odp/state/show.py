# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The current state of a host's datapaths, read from the kernel, as a
state document (:class:`document.Document`).

Vports come from the client, the link settings of internal ports (and of
each datapath's local port) over rtnetlink, and flows from one dump per
datapath, kept as the kernel's :class:`Flow` objects: printed as document
entries (vport names, sorted, statistics left out) only when the document
is written out.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..flowdump import require_consistent
from ..tunnels import DEFAULT_PORTS
from .document import LOCAL_PORT, Datapath, Document, Vport
from .links import read_links


def show(client, names: Iterable[str] | None = None, complete_for: str | None = None) -> Document:
    """The datapaths ``names`` (default: every datapath of the client's
    network namespace) as they are; :class:`errors.NoSuchDatapath` for a
    name that does not exist.

    With ``complete_for`` (what needs it, e.g. ``"apply"``), a flow table
    that kept changing while it was dumped is refused
    (:class:`flowdump.InconsistentDump`) instead of shown incomplete: an
    apply removes every flow it does not list."""
    if names is None:
        datapaths = client.datapaths()
    else:
        datapaths = [client.get_datapath(name) for name in dict.fromkeys(names)]

    def flows_of(dp):
        dump = client.flow_dump(dp, digest=True)
        if complete_for is not None:
            require_consistent(dump, complete_for)
        # The table as the kernel has it (this incarnation of the datapath,
        # these flows): what a flow-table record is compared with.
        table = "%d:%s" % (dp.ifindex, dump.digest) if dump.digest is not None else None
        return dump.flows, table

    read = [(dp, client.vports(dp), flows_of(dp)) for dp in datapaths]
    devices = [dp.name for dp in datapaths]
    devices += [
        vport.name
        for _dp, vports, _flows in read
        for vport in vports
        if vport.type == "internal" and vport.port_no != LOCAL_PORT
    ]
    links = read_links(devices, client.netns)
    document = Document()
    for dp, vports, (flows, table) in read:
        declared = {}
        for vport in vports:
            if vport.port_no == LOCAL_PORT:
                continue
            declared[vport.name] = Vport(
                vport.name,
                vport.type,
                vport.port if vport.type in DEFAULT_PORTS else None,
                vport.port_no,
                links.get(vport.name) if vport.type == "internal" else None,
            )
        document.datapaths[dp.name] = Datapath.read(
            dp.name, links.get(dp.name), declared, flows, table
        )
    return document
