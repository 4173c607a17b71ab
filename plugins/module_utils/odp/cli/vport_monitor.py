# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``odp vport monitor``: vport events (vport_events.py), one line each.

A line is ``KIND DATAPATH VPORT type=TYPE port_no=N``; KIND is created,
deleted, changed, datapath_created or datapath_deleted, and a lone
``overflow`` says events were lost (list the vports again). ``odp: monitoring
...`` on stderr says the subscription is in place: nothing after it is missed.
"""

from __future__ import annotations

from .output import emit, say
from .signals import until_signalled


def event_line(event) -> str:
    if event.kind == "overflow":
        return "overflow"
    return "%s %s %s type=%s port_no=%s" % (
        event.kind,
        event.datapath,
        event.name,
        event.type,
        event.port_no,
    )


def vport_monitor(client, args) -> None:
    datapath = args.positionals[0] if args.positionals else None
    with until_signalled():
        with client.vport_events(datapath) as events:
            say(
                "monitoring vport events of %s"
                % ("datapath %s" % datapath if datapath else "every datapath")
            )
            for event in events:
                emit(event_line(event))
