# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``odp ct-limit``: conntrack connection limits, the default and per zone
(ct_limits.py). They belong to the network namespace (``-n NETNS``), not to
a datapath; a limit of 0 is no limit."""

from __future__ import annotations

from .. import ct_limits
from .output import emit, emit_json
from .parser import UsageError
from .values import integer

LIMIT_EXPECTED = "a connection limit, 0 (unlimited) to %d" % ct_limits.MAX_LIMIT


def zone(text: str) -> int:
    return integer(
        "<zone>", text, 0, ct_limits.MAX_ZONE, "a conntrack zone, 0 to %d" % ct_limits.MAX_ZONE
    )


def ct_limit_set(client, args) -> None:
    default = args.get("default")
    default = (
        None
        if default is None
        else integer("--default", default, 0, ct_limits.MAX_LIMIT, LIMIT_EXPECTED)
    )
    zones = {}
    for word in args.positionals:
        number, eq, limit = word.partition("=")
        if not eq:
            raise UsageError("<zone>=<limit>: invalid value %r: expected ZONE=LIMIT" % word)
        zones[zone(number)] = integer(
            "zone %s limit" % number, limit, 0, ct_limits.MAX_LIMIT, LIMIT_EXPECTED
        )
    if default is None and not zones:
        raise UsageError("odp ct-limit set: give --default=N and/or ZONE=LIMIT words")
    client.ct_limits.set(default=default, zones=zones or None)


def limit_line(entry: ct_limits.ZoneLimit) -> str:
    if entry.zone is None:
        return "zone=default limit=%d" % entry.limit
    return "zone=%d limit=%d count=%d" % (entry.zone, entry.limit, entry.count)


def ct_limit_show(client, args) -> None:
    zones = [zone(word) for word in args.positionals] if args.positionals else None
    found = client.ct_limits.get(zones)
    if args.get("json"):
        emit_json([{"zone": e.zone, "limit": e.limit, "count": e.count} for e in found])
        return
    for entry in found:
        emit(limit_line(entry))


def ct_limit_delete(client, args) -> None:
    zones = [zone(word) for word in args.positionals]
    if not zones and not args.get("default"):
        raise UsageError("odp ct-limit delete: give zones and/or --default")
    client.ct_limits.delete(zones, default=bool(args.get("default")))
