# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``odp`` command tree: go-odp's commands, and ours.

A command is one entry here and one handler function ``handler(client,
args)``; help, the man page and completion come from this tree.
"""

from __future__ import annotations

from .ct_limit import ct_limit_delete, ct_limit_set, ct_limit_show
from .datapath import datapath_add, datapath_delete, datapath_list, datapath_set
from .flow import flow_add, flow_clear, flow_delete, flow_flush, flow_get, flow_list
from .listen import datapath_listen
from .meter import meter_add, meter_delete, meter_features, meter_list
from .parser import FLOW_FULL, FLOW_KEY, Command, Group, Option
from .psample import psample_listen
from .state import state_apply, state_show
from .vport import vport_add, vport_delete, vport_list
from .vport_monitor import vport_monitor

JSON = Option("json", "print JSON for scripts")
PORT = Option("port", "UDP port", metavar="N")
FORCE = Option(
    "force",
    "attach it even if it carries the host's default route or the "
    "address the SSH connection to this host arrives on",
)
UFID = Option("ufid", "the flow's UFID (ufid:UUID, as ovs-dpctl prints it)", metavar="UFID")
FLOW_FILE = Option(
    "file", "one flow's options per line (- for stdin), sent in batches", metavar="F", values="file"
)
STATS = Option("stats", "add packets, bytes and seconds since last use")
LIST_UFID = Option("ufid", "print each flow's UFID (ufid:UUID) first, for flows that have one")
LIST_IN_PORT = Option(
    "in-port",
    "only the flows a packet from this vport (name or number) "
    "would meet: its own and those wildcarding in_port",
    metavar="VPORT",
    values="vport",
)
LIST_FILTER = Option(
    "filter",
    "only the flows whose key, as ovs-dpctl prints it (with vport names), contains TEXT",
    metavar="TEXT",
)
KEYS = Option("keys", "print each miss's key as flow options")
UPCALLS = Option(
    "upcalls",
    "print one line per upcall: miss or action, the vport it came in "
    "on, the userdata (ovs-vswitchd cookies decoded), the key",
)
PACKET = Option("packet", "add each sampled packet's bytes, in hex")
FLOW_ARGS = "<datapath> <key options>"
DP_STATS = Option("stats", "add each datapath's settings (as datapath set takes them) and counters")
USER_FEATURES = Option(
    "user-features",
    "the datapath's user features, all of them: "
    "comma-separated names (unaligned, vport_pids, tc_recirc_sharing, "
    "dispatch_upcall_per_cpu) or none",
    metavar="F[,F...]",
)
MASKS_CACHE = Option(
    "masks-cache-size",
    "masks cache entries per CPU: 0 (off) or a power of two up to 4096 (Linux 5.9+)",
    metavar="N",
)
UNIT = Option(
    "unit", "the bands' unit: kbps (the default) or pkts (packets per second)", metavar="UNIT"
)
CT_DEFAULT = Option(
    "default", "the limit of zones without one of their own (0: unlimited)", metavar="N"
)
CT_DELETE_DEFAULT = Option("default", "reset the default limit to unlimited")
# Room for as many words as a command line holds.
MANY = 1 << 16
FORMAT = Option("format", "yaml or json (default yaml, json without PyYAML)", metavar="FORMAT")
CHECK = Option("check", "print the plan and change nothing")
APPLY_FORCE = Option(
    "force",
    "attach netdev vports even if one carries the host's default "
    "route or the address the SSH connection arrives on",
)
DIFF = Option("diff", "print each datapath's document before and after, as a unified diff")


def _list_datapaths():
    return Command("", "list datapaths", datapath_list, [DP_STATS, JSON])


COMMANDS = Group(
    {
        "datapath": Group(
            {
                "add": Command("<datapath>", "add a datapath", datapath_add, values=[None]),
                "delete": Command(
                    "<datapath>", "delete a datapath, with its vports and flows", datapath_delete
                ),
                "list": _list_datapaths(),
                "set": Command(
                    "<datapath>",
                    "change a datapath's settings (what --stats shows)",
                    datapath_set,
                    [USER_FEATURES, MASKS_CACHE],
                ),
                "listen": Command(
                    "<datapath>",
                    "show upcalls through tcpdump (--keys: misses' "
                    "flow keys; --upcalls: one line each)",
                    datapath_listen,
                    [KEYS, UPCALLS],
                ),
            },
            default=_list_datapaths(),
        ),
        "vport": Group(
            {
                "add": Group(
                    {
                        "netdev": Command(
                            "<datapath> <netdev>",
                            "attach a network device as a vport",
                            vport_add("netdev"),
                            [FORCE],
                            values=["datapath", "netdev"],
                        ),
                        "internal": Command(
                            "<datapath> <vport>", "add an internal vport", vport_add("internal")
                        ),
                        "vxlan": Command(
                            "<datapath> <vport>",
                            "add a VXLAN vport (--port default 4789)",
                            vport_add("vxlan"),
                            [PORT],
                        ),
                        "geneve": Command(
                            "<datapath> <vport>",
                            "add a Geneve vport (--port default 6081)",
                            vport_add("geneve"),
                            [PORT],
                        ),
                        "gre": Command("<datapath> <vport>", "add a GRE vport", vport_add("gre")),
                    }
                ),
                "delete": Command(
                    "[<datapath>] <vport>",
                    "delete a vport",
                    vport_delete,
                    nargs=(1, 2),
                    values=["datapath vport", "vport"],
                ),
                "list": Command(
                    "[<datapath>]", "list vports in `vport add` form", vport_list, [JSON]
                ),
                "monitor": Command(
                    "[<datapath>]",
                    "print vport events as they happen, one line each, until interrupted",
                    vport_monitor,
                ),
            },
            default=Command("", "list every vport in `vport add` form", vport_list, [JSON]),
        ),
        "show": Command(
            "[<datapath>...]",
            "print the datapaths (default: all) as a state document",
            state_show,
            [FORMAT],
            nargs=(0, 4096),
            values=["datapath"],
        ),
        "apply": Command(
            "<file>",
            "apply a state document (- for stdin): plan, apply, verify; roll back on failure",
            state_apply,
            [CHECK, DIFF, APPLY_FORCE],
            values=[None],
        ),
        "flow": Group(
            {
                "add": Command(
                    "<datapath> <key options> <action options>",
                    "add a flow, or replace the actions of the flow with that key",
                    flow_add,
                    [UFID, FLOW_FILE],
                    nargs=(1, 1),
                    flow=FLOW_FULL,
                    usage=["odp flow add <datapath> --file=F"],
                ),
                "delete": Command(
                    FLOW_ARGS,
                    "delete a flow, by key or UFID (flush: every flow)",
                    flow_delete,
                    [UFID],
                    nargs=(1, 1),
                    flow=FLOW_KEY,
                ),
                "clear": Command(
                    FLOW_ARGS,
                    "reset a flow's statistics",
                    flow_clear,
                    [UFID],
                    nargs=(1, 1),
                    flow=FLOW_KEY,
                ),
                "get": Command(
                    FLOW_ARGS,
                    "print one flow, by key or UFID, as flow list does",
                    flow_get,
                    [UFID, STATS, JSON],
                    nargs=(1, 1),
                    flow=FLOW_KEY,
                ),
                "flush": Command(
                    "<datapath>",
                    "delete every flow of a datapath (ovs-dpctl del-flows)",
                    flow_flush,
                ),
                "list": Command(
                    "<datapath>",
                    "list flows in `flow add` form",
                    flow_list,
                    [STATS, JSON, LIST_UFID, LIST_IN_PORT, LIST_FILTER],
                ),
            }
        ),
        "meter": Group(
            {
                "add": Command(
                    "<datapath> <meter> <band>...",
                    "add a meter, or replace its bands; a band is rate=N[,burst=N][,type=drop]",
                    meter_add,
                    [UNIT],
                    nargs=(3, MANY),
                    values=["datapath", None],
                ),
                "delete": Command(
                    "<datapath> <meter>", "delete a meter (none there: nothing to do)", meter_delete
                ),
                "list": Command(
                    "<datapath>",
                    "list meters with their counters (ids below 1024 and those flows use)",
                    meter_list,
                    [JSON],
                ),
                "features": Command(
                    "<datapath>", "print what the kernel's meters can do", meter_features, [JSON]
                ),
            }
        ),
        "psample": Group(
            {
                "listen": Command(
                    "[<group>...]",
                    "print the packets tc's sample action and the "
                    "datapath's psample action sample (of every group, or those "
                    "given), one line each, until interrupted",
                    psample_listen,
                    [PACKET],
                    nargs=(0, MANY),
                ),
            }
        ),
        "ct-limit": Group(
            {
                "set": Command(
                    "[<zone>=<limit>...]",
                    "set conntrack connection limits, the default "
                    "and per zone (of the network namespace, not a datapath)",
                    ct_limit_set,
                    [CT_DEFAULT],
                    nargs=(0, MANY),
                ),
                "show": Command(
                    "[<zone>...]",
                    "print the default limit and the zones' own, or the "
                    "limit and connection count of each zone given",
                    ct_limit_show,
                    [JSON],
                    nargs=(0, MANY),
                ),
                "delete": Command(
                    "[<zone>...]",
                    "drop zones' limits (they take the default again)",
                    ct_limit_delete,
                    [CT_DELETE_DEFAULT],
                    nargs=(0, MANY),
                ),
            }
        ),
    }
)
