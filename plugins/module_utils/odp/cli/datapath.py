# -*- coding: utf-8 -*-
# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``odp datapath``: list, add and delete datapaths (``listen``: listen.py)."""

from __future__ import annotations

from ..errors import NoSuchDatapath
from .output import emit, emit_json


def by_ifindex(client, args) -> None:
    """go-odp takes a datapath's ifindex where its name goes: a number that
    names no datapath is looked up as an ifindex."""
    kinds = (args.command.values[0] or "").split() if args.command.values else []
    if "datapath" not in kinds or not args.positionals or not args.positionals[0].isdigit():
        return
    if "vport" in kinds and len(args.positionals) < args.command.nargs[1]:
        return  # vport delete VPORT: the one word is a vport
    try:
        client.get_datapath(args.positionals[0])
        return
    except NoSuchDatapath:
        pass
    for dp in client.datapaths():
        if str(dp.ifindex) == args.positionals[0]:
            args.positionals[0] = dp.name
            return


def datapath_list(client, args) -> None:
    datapaths = client.datapaths()
    if args.get("json"):
        emit_json([dict(name=dp.name, ifindex=dp.ifindex, features=dp.features, stats=dp.stats)
                   for dp in datapaths])
        return
    for dp in datapaths:
        emit("%s: %s" % (dp.ifindex, dp.name))


def datapath_add(client, args) -> None:
    client.create_datapath(args.positionals[0])


def datapath_delete(client, args) -> None:
    client.delete_datapath(args.positionals[0])
