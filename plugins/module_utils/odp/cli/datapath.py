# -*- coding: utf-8 -*-
# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``odp datapath``: list, add and delete datapaths (``listen``: listen.py)."""

from __future__ import annotations

from .output import emit, emit_json


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
