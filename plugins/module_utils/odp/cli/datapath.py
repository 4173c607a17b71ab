# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``odp datapath``: list, add and delete datapaths (``listen``: listen.py)."""

from __future__ import annotations

from ..dp_settings import MAX_MASKS_CACHE
from ..errors import NoSuchDatapath
from .output import emit, emit_json
from .parser import UsageError
from .values import integer, words


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
        emit_json(
            [
                {
                    "name": dp.name,
                    "ifindex": dp.ifindex,
                    "features": dp.features,
                    "stats": dp.stats,
                    "masks_cache_size": dp.masks_cache_size,
                    "dispatch": dp.dispatch,
                }
                for dp in datapaths
            ]
        )
        return
    for dp in datapaths:
        emit("%s: %s%s" % (dp.ifindex, dp.name, settings_words(dp) if args.get("stats") else ""))


def settings_words(dp) -> str:
    """`` user-features=a,b masks-cache-size=N hit=...``: what ``datapath set``
    sets, in its option spelling, then the kernel's counters."""
    words = ["user-features=" + (",".join(dp.features) or "none")]
    if dp.masks_cache_size is not None:  # Linux 5.9+
        words.append("masks-cache-size=%d" % dp.masks_cache_size)
    words += ["%s=%s" % (name, dp.stats[name]) for name in sorted(dp.stats)]
    return " " + " ".join(words)


def datapath_set(client, args) -> None:
    features = args.get("user-features")
    size = args.get("masks-cache-size")
    if features is None and size is None:
        raise UsageError("odp datapath set: give --user-features and/or --masks-cache-size")
    if features is not None:
        features = [] if features == "none" else words(features)
    if size is not None:
        size = integer(
            "--masks-cache-size",
            size,
            0,
            MAX_MASKS_CACHE,
            "0 or a power of two up to %d" % MAX_MASKS_CACHE,
        )
    client.set_datapath(args.positionals[0], features=features, masks_cache_size=size)


def datapath_add(client, args) -> None:
    client.create_datapath(args.positionals[0])


def datapath_delete(client, args) -> None:
    client.delete_datapath(args.positionals[0])
