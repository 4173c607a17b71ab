# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``odp vport``: list, add and delete vports; a listing line is ``vport add`` input."""

from __future__ import annotations

from .. import cutoff, errors
from .output import emit, emit_json
from .values import integer


def vport_list(client, args) -> None:
    names = args.positionals or [dp.name for dp in client.datapaths()]
    vports = [vport for name in names for vport in client.vports(name)]
    if args.get("json"):
        emit_json(
            [
                {
                    "datapath": v.datapath,
                    "name": v.name,
                    "type": v.type,
                    "port_no": v.port_no,
                    "port": v.port,
                }
                for v in vports
            ]
        )
        return
    for vport in vports:
        emit(vport_line(vport))


def vport_line(vport) -> str:
    """A vport in ``vport add`` form: ``vxlan dp0 vx --port=4789``."""
    words = [vport.type, vport.datapath, vport.name]
    if vport.port is not None:
        words.append("--port=%d" % vport.port)
    return " ".join(words)


def vport_add(vport_type: str):
    """The ``vport add <vport_type>`` handler."""

    def add(client, args):
        datapath, name = args.positionals
        port = args.get("port")
        port = None if port is None else udp_port(port)
        if vport_type == "netdev" and not args.get("force"):
            refuse_cutoff(name, datapath, args.netns)
        # The client applies the default ports (vxlan 4789, geneve 6081).
        client.create_vport(datapath, name, vport_type, port=port)

    return add


def refuse_cutoff(name: str, datapath: str, netns) -> None:
    """Refuse a network device that carries the host's way in, as the
    odp_vport module does."""
    try:
        reason = cutoff.cutoff_reason(name, netns=netns)
    except errors.Unsupported as exc:
        raise errors.OdpError(
            "cannot check that attaching %s leaves the host reachable (%s); "
            "use --force to attach it without the check" % (name, exc)
        )
    if reason:
        raise errors.OdpError(cutoff.refusal(name, datapath, reason, "use --force"))


def udp_port(text: str) -> int:
    return integer("--port", text, 1, 65535, "a UDP port, 1 to 65535")


def vport_delete(client, args) -> None:
    name = args.positionals[-1]
    if len(args.positionals) == 2:
        client.delete_vport(args.positionals[0], name)
    else:
        # go-odp took the vport name alone: vport names are global.
        client.delete_vport(client.find_vport(name).datapath, name)
