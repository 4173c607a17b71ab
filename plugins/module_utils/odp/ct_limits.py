# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection limits per conntrack zone (the ``ovs_ct_limit`` family).

A ``ct(commit)`` action refuses (drops) a packet that would open one
connection more than its zone's limit allows. Zones without a limit of their
own take the default limit; a limit of 0 is no limit, the kernel's default.
Limits belong to the network namespace, not to a datapath, so they outlive
the datapaths.

The kernel ignores (logs only) zone ids out of range and partial entries:
they are refused here first.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import errors
from .families import CtLimitFamily
from .family_request import request

CT = CtLimitFamily
MAX_ZONE = 0xFFFF
MAX_LIMIT = 0xFFFFFFFF
WHAT = "conntrack zone limits"


class ZoneLimit:
    """One zone's limit: ``zone`` is ``None`` for the default limit,
    ``limit`` 0 means unlimited, ``count`` is the zone's connections now
    (0 for the default entry, which the kernel does not count)."""

    __slots__ = ("count", "limit", "zone")

    def __init__(self, zone: int | None, limit: int, count: int = 0) -> None:
        self.zone = zone
        self.limit = limit
        self.count = count

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ZoneLimit) and (self.zone, self.limit, self.count) == (
            other.zone,
            other.limit,
            other.count,
        )

    def __repr__(self) -> str:
        return "ZoneLimit(%s, limit=%d, count=%d)" % (
            "default" if self.zone is None else self.zone,
            self.limit,
            self.count,
        )


def _zone(zone: object) -> int:
    return errors.check_int(
        "zone", zone, 0, MAX_ZONE, "a conntrack zone is an integer from 0 to %d" % MAX_ZONE
    )


def _limit(field: str, limit: object) -> int:
    return errors.check_int(
        field,
        limit,
        0,
        MAX_LIMIT,
        "a connection limit is an integer from 0 (unlimited) to %d" % MAX_LIMIT,
    )


def _entries(zones: Iterable[int], default: bool) -> list[dict]:
    if isinstance(zones, (int, str, bytes, dict)) or zones is None:
        raise errors.ValidationError("zones", zones, "a list of conntrack zones")
    entries = [{"zone_id": CT.DEFAULT_ZONE}] if default else []
    return entries + [{"zone_id": _zone(zone)} for zone in zones]


class CtLimits:
    """Get, set and delete conntrack zone limits (made by ``Client.ct_limits``)."""

    def __init__(self, transport) -> None:
        self.transport = transport

    def _request(self, cmd: int, op: str, entries: list[dict] | None) -> dict:
        items = [] if entries is None else [("zone_limits", entries)]
        ((_ifindex, attrs),) = request(
            self.transport, CT, cmd, op, WHAT, attrs=CT.attrs.encode(items)
        )
        return attrs

    def get(self, zones: Iterable[int] | None = None) -> list[ZoneLimit]:
        """The default limit and every zone's own (``zones`` ``None``), or
        the limit that applies to each of ``zones`` with its connection count."""
        entries = None if zones is None else _entries(zones, False)
        if entries == []:
            return []
        attrs = self._request(CT.CMD_GET, "get", entries)
        out = [
            ZoneLimit(
                None if entry["zone_id"] == CT.DEFAULT_ZONE else entry["zone_id"],
                entry["limit"],
                entry["count"],
            )
            for entry in attrs.get("zone_limits", [])
        ]
        return sorted(out, key=lambda item: -1 if item.zone is None else item.zone)

    def set(self, default: int | None = None, zones: dict[int, int] | None = None) -> None:
        """Set the ``default`` limit and/or the limits of ``zones`` (zone -> limit)."""
        entries = []
        if default is not None:
            entries.append({"zone_id": CT.DEFAULT_ZONE, "limit": _limit("default", default)})
        if zones is not None and not isinstance(zones, dict):
            raise errors.ValidationError("zones", zones, "a dict of zone to limit")
        for zone, limit in sorted((zones or {}).items()):
            entries.append({"zone_id": _zone(zone), "limit": _limit("zones[%s]" % zone, limit)})
        if not entries:
            raise errors.ValidationError("zones", zones, "give a default limit or zone limits")
        self._request(CT.CMD_SET, "set", entries)

    def delete(self, zones: Iterable[int] = (), default: bool = False) -> None:
        """Drop the limits of ``zones`` (they take the default again) and,
        with ``default``, reset the default to unlimited. Absent ones are fine."""
        entries = _entries(zones, default)
        if not entries:
            raise errors.ValidationError("zones", zones, "give zones or default=True")
        self._request(CT.CMD_DEL, "delete", entries)
