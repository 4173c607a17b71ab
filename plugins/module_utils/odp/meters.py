# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Meters of a datapath (the ``ovs_meter`` family): rate limiters that flows
use through a ``("meter", id)`` action.

A meter has bands; a packet above a band's rate (after its burst) is counted
in that band and, for a ``drop`` band, dropped. What the kernel does and does
not do, and so what this module checks first:

* it has no meter dump: :meth:`Meters.list` asks for each id in turn;
* it reports a meter's counters only, never its bands or unit: what this
  library set is kept beside the datapath's lock (:mod:`meter_record`) and
  read back as :attr:`Meter.unit` and :attr:`Meter.bands`;
* setting a meter replaces it, with fresh counters unless the request
  carries some (:meth:`Meters.set` carries the old ones over by default);
* 6.1 keeps one meter per table slot (id modulo the table size, 1024 at
  first) and refuses a second one there with EBUSY;
* 6.1 starts and caps each band's bucket at ``burst``: a zero burst drops
  every packet, so a burst is at least 1.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
from collections.abc import Iterable, Iterator, Sequence
from typing import Callable, cast

from . import errors, meter_record
from .actions import actions_named
from .attrs import CodecError
from .families import MeterFamily
from .family_request import request
from .netlink import KernelError

MF = MeterFamily
MAX_ID = 0xFFFFFFFF
MAX_RATE = 0xFFFFFFFF
UNITS = ("kbps", "pkts")
# Every kernel meter counts, takes kbps or packets per second and a burst
# (dpif-netlink reports the same fixed set, DP_SUPPORTED_METER_FLAGS_MASK).
FLAGS = ("kbps", "pktps", "burst", "stats")
# Ids Meters.list() asks for by default, besides those the flows name.
SCAN_IDS = 1024

Resolve = Callable[[object], tuple[str, int]]
RecordPath = Callable[[str], str]


class Band:
    """One band of a meter, as given to :meth:`Meters.set`.

    ``rate`` is in the meter's unit (kbps or packets per second) and
    ``burst`` in kilobits or packets; ``None`` takes the rate, as
    ovs-vswitchd does for a meter without a burst.
    """

    __slots__ = ("burst", "rate", "type")

    def __init__(self, rate: int, burst: int | None = None, type: str = "drop") -> None:  # pylint: disable=redefined-builtin
        self.type = type
        self.rate = rate
        self.burst = burst

    def __repr__(self) -> str:
        return "Band(rate=%r, burst=%r, type=%r)" % (self.rate, self.burst, self.type)


class MeterFeatures:
    """What the kernel's meters can do (OVS_METER_CMD_FEATURES)."""

    __slots__ = ("band_types", "flags", "max_bands", "max_meters")

    def __init__(self, attrs: dict) -> None:
        self.max_meters = attrs.get("max_meters", 0)
        self.max_bands = attrs.get("max_bands", 0)
        types = [band.get("type") for _name, band in attrs.get("bands", [])]
        self.band_types = [MF.BAND_TYPES.get(t, "type%s" % t) for t in types]
        self.flags = list(FLAGS)

    def __repr__(self) -> str:
        return "MeterFeatures(max_meters=%d, max_bands=%d, band_types=%r)" % (
            self.max_meters,
            self.max_bands,
            self.band_types,
        )


class Meter:
    """A meter's counters as the kernel reported them.

    ``packets`` and ``bytes`` count what went through the meter,
    ``band_stats`` (one ``{"packets", "bytes"}`` per band, in band order)
    what exceeded each band; ``used`` is the kernel's monotonic clock in
    milliseconds when the meter last saw a packet (or was set).

    ``unit`` (``kbps`` or ``pkts``) and ``bands`` (``{"type", "rate",
    "burst"}`` dicts) are what this library last set on the meter, from its
    record (:mod:`meter_record`); ``None`` when unknown, as for a meter
    another tool set.
    """

    __slots__ = ("band_stats", "bands", "bytes", "datapath", "id", "packets", "unit", "used")

    def __init__(self, datapath: str, attrs: dict, config: dict | None = None) -> None:
        self.datapath = datapath
        self.unit = config["unit"] if config else None
        self.bands = [dict(band) for band in config["bands"]] if config else None
        self.id = attrs["id"]
        stats = attrs.get("stats") or {}
        self.packets = stats.get("packets", 0)
        self.bytes = stats.get("bytes", 0)
        self.used = attrs.get("used")
        self.band_stats = [
            dict(band.get("stats") or {"packets": 0, "bytes": 0})
            for _name, band in attrs.get("bands", [])
        ]

    def info(self) -> dict:
        """The meter as plain data, as ``odp meter list --json``, odp_facts
        and odp_meter give it."""
        return {
            "id": self.id,
            "unit": self.unit,
            "bands": self.bands,
            "packets": self.packets,
            "bytes": self.bytes,
            "used": self.used,
            "band_stats": self.band_stats,
        }

    def __repr__(self) -> str:
        return "Meter(%r, %d, packets=%d, band_stats=%r)" % (
            self.datapath,
            self.id,
            self.packets,
            self.band_stats,
        )


def _what(dp_name: str, meter_id: int) -> str:
    return "meter %d of datapath %s" % (meter_id, dp_name)


def _missing(dp_name: str, meter_id: int) -> dict:
    return {
        errno.ENODEV: (errors.NoSuchDatapath, "datapath %s" % dp_name),
        errno.ENOENT: (errors.NotFound, _what(dp_name, meter_id)),
    }


def check_id(meter_id: object) -> int:
    """A meter id, checked: an integer from 0 to 4294967295."""
    return errors.check_int(
        "meter", meter_id, 0, MAX_ID, "a meter id is an integer from 0 to %d" % MAX_ID
    )


def _band(field: str, meter_id: int, band: object) -> Band:
    """A :class:`Band`, or one made of a dict with its ``rate``, ``burst`` and ``type``."""
    if isinstance(band, dict):
        unknown = sorted(set(band) - set(Band.__slots__))
        if unknown or "rate" not in band:
            raise errors.ValidationError(
                field, band, "meter %d: a band takes rate and optionally burst and type" % meter_id
            )
        return Band(**band)
    if not isinstance(band, Band):
        raise errors.ValidationError(field, band, "meter %d: a band is a Band or a dict" % meter_id)
    return band


def meter_ids_in(actions: Iterable) -> Iterator[int]:
    """The meter ids of ``meter`` actions in an action list, nested ones included."""
    return actions_named(actions, "meter")


def check_config(
    meter_id: int, bands: Sequence[Band], unit: str, features: MeterFeatures | None
) -> dict:
    """A meter's ``unit`` and ``bands``, checked: ``{"unit", "bands"}``, each
    band a ``{"type", "rate", "burst"}`` dict with its burst filled in, as
    :attr:`Meter.bands` reads it back. Without ``features`` (a datapath that
    does not exist yet) the kernel's band count and types are not checked.
    """
    check_id(meter_id)
    if unit not in UNITS:
        raise errors.ValidationError("unit", unit, "meter %d: must be kbps or pkts" % meter_id)
    if not isinstance(bands, (list, tuple)) or not bands:
        raise errors.ValidationError(
            "bands", bands, "meter %d needs a list of one or more bands" % meter_id
        )
    if features is not None and len(bands) > features.max_bands:
        raise errors.ValidationError(
            "bands",
            list(bands),
            "meter %d: the kernel takes at most %d band(s)" % (meter_id, features.max_bands),
        )
    items = []
    for index, band in enumerate(bands):
        field = "bands[%d]" % index
        band = _band(field, meter_id, band)
        types = features.band_types if features is not None else list(MF.BAND_TYPE_IDS)
        if band.type not in types:
            raise errors.ValidationError(
                field + ".type",
                band.type,
                "meter %d: the kernel's band types are %s" % (meter_id, ", ".join(types) or "none"),
            )
        rate = errors.check_int(
            field + ".rate",
            band.rate,
            1,
            MAX_RATE,
            "meter %d: a rate is an integer from 1 to %d" % (meter_id, MAX_RATE),
        )
        burst = rate if band.burst is None else band.burst
        errors.check_int(
            field + ".burst",
            burst,
            1,
            MAX_RATE,
            "meter %d: a burst is an integer from 1 to %d (the 6.1 kernel "
            "drops every packet of a zero burst)" % (meter_id, MAX_RATE),
        )
        items.append({"type": band.type, "rate": rate, "burst": burst})
    return {"unit": unit, "bands": items}


class Meters:
    """Meter operations on the datapaths one transport reaches.

    Made by ``Client.meters``: ``resolve`` turns a datapath (name or
    ``Datapath``) into ``(name, ifindex)``, ``flows`` lists a datapath's
    flows (for the meter ids they use), ``record`` gives the path of a
    datapath's band record (:mod:`meter_record`; none kept without it).
    """

    def __init__(
        self,
        transport,
        resolve: Resolve,
        flows: Callable | None = None,
        hold: Callable | None = None,
        record: RecordPath | None = None,
    ) -> None:
        self.transport = transport
        self._resolve = resolve
        self._flows = flows
        self._record = record
        # The datapath's writer lock (Client.exclusive), taken by set and delete.
        self._hold = hold or (lambda _datapath: contextlib.nullcontext())
        self._features: MeterFeatures | None = None

    def features(self, datapath) -> MeterFeatures:
        """The meter features of the kernel, asked through ``datapath``."""
        dp_name, ifindex = self._resolve(datapath)
        ((_ifindex, attrs),) = request(
            self.transport,
            MF,
            MF.CMD_FEATURES,
            "get the meter features of",
            "datapath %s" % dp_name,
            ifindex,
            missing=errors.NoSuchDatapath,
        )
        features = self._features = MeterFeatures(attrs)
        return features

    def config(self, datapath, meter_id: int, bands: Sequence[Band], unit: str = "kbps") -> dict:
        """What :meth:`set` would set, checked against the kernel's features
        (asked through ``datapath``) and sending no change: see
        :func:`check_config`."""
        return check_config(meter_id, bands, unit, self._features or self.features(datapath))

    def set(
        self,
        datapath,
        meter_id: int,
        bands: Sequence[Band],
        unit: str = "kbps",
        keep_stats: bool = True,
    ) -> Meter | None:
        """Create meter ``meter_id``, or replace its bands; the meter it
        replaced (with its last counters), ``None`` when the id was free.
        ``bands`` are :class:`Band` or dicts of the same fields.

        ``unit`` is ``kbps`` (the default, as in ovs-ofctl) or ``pkts``
        (packets per second). With ``keep_stats`` the meter's packet and
        byte counters carry over a replacement (read just before it: the
        packets of the moment in between are not counted); band counters
        always restart. ``keep_stats=False`` is how to zero the counters.
        """
        with self._hold(datapath):
            return self._set(datapath, meter_id, bands, unit, keep_stats)

    def _set(
        self, datapath, meter_id: int, bands: Sequence[Band], unit: str, keep_stats: bool
    ) -> Meter | None:
        config = self.config(datapath, meter_id, bands, unit)
        items: list[tuple[str, object]] = [("id", meter_id)]
        items += [("kbps", True)] if unit == "kbps" else []
        dp_name, ifindex = self._resolve(datapath)
        if keep_stats:
            old = self._find(datapath, meter_id)
            if old is not None:
                items.append(("stats", {"packets": old.packets, "bytes": old.bytes}))
        items.append(
            (
                "bands",
                [
                    ("band", dict(band, type=MF.BAND_TYPE_IDS[band["type"]]))
                    for band in config["bands"]
                ],
            )
        )
        try:
            attrs = MF.attrs.encode(items)
        except CodecError as exc:
            raise errors.ValidationError("meter", meter_id, str(exc))
        features = cast(MeterFeatures, self._features)  # read by config
        explain: dict[int, tuple[type[errors.OdpError], str]] = {
            errno.EBUSY: (
                errors.KernelRejected,
                "cannot set %s: another meter holds its slot "
                "in the kernel's meter table (id modulo the table size, at least "
                "1024): choose another id" % _what(dp_name, meter_id),
            ),
            errno.EFBIG: (
                errors.KernelRejected,
                "cannot set %s: the datapath holds the most "
                "meters the kernel allows (%d)" % (_what(dp_name, meter_id), features.max_meters),
            ),
        }
        ((_ifindex, reply),) = request(
            self.transport,
            MF,
            MF.CMD_SET,
            "set",
            _what(dp_name, meter_id),
            ifindex,
            attrs,
            _missing(dp_name, meter_id),
            explain,
        )
        replaced = self._meter(dp_name, ifindex, reply) if "stats" in reply else None
        self._remember(dp_name, ifindex, meter_id, config)
        return replaced

    def _recorded(self, dp_name: str, ifindex: int) -> dict[int, dict]:
        return meter_record.load(self._record(dp_name), ifindex) if self._record else {}

    def _remember(self, dp_name: str, ifindex: int, meter_id: int, config: dict | None) -> None:
        if self._record:
            meter_record.update(self._record(dp_name), ifindex, meter_id, config)

    def _meter(self, dp_name: str, ifindex: int, attrs: dict) -> Meter:
        return Meter(dp_name, attrs, self._recorded(dp_name, ifindex).get(attrs["id"]))

    def _by_id(self, cmd: int, op: str, datapath, meter_id: int) -> tuple[str, int, dict]:
        """``(datapath name, ifindex, reply attrs)`` of a GET or DEL of ``meter_id``."""
        check_id(meter_id)
        dp_name, ifindex = self._resolve(datapath)
        ((_ifindex, attrs),) = request(
            self.transport,
            MF,
            cmd,
            op,
            _what(dp_name, meter_id),
            ifindex,
            MF.attrs.encode([("id", meter_id)]),
            _missing(dp_name, meter_id),
        )
        return dp_name, ifindex, attrs

    def get(self, datapath, meter_id: int) -> Meter:
        """Meter ``meter_id``'s counters (and recorded bands);
        :class:`errors.NotFound` when absent."""
        return self._meter(*self._by_id(MF.CMD_GET, "get", datapath, meter_id))

    def _find(self, datapath, meter_id: int) -> Meter | None:
        try:
            return self.get(datapath, meter_id)
        except errors.NoSuchDatapath:
            raise
        except errors.NotFound:
            return None

    def delete(self, datapath, meter_id: int) -> Meter | None:
        """Delete meter ``meter_id``; its last counters, ``None`` when there
        was no such meter (not an error: the kernel answers the same)."""
        with self._hold(datapath):
            dp_name, ifindex, attrs = self._by_id(MF.CMD_DEL, "delete", datapath, meter_id)
            meter = self._meter(dp_name, ifindex, attrs) if "stats" in attrs else None
            self._remember(dp_name, ifindex, meter_id, None)
        return meter

    def list(self, datapath, ids: Iterable[int] | None = None) -> builtins.list[Meter]:
        """The meters among ``ids``, by id, in batched requests.

        The kernel has no meter dump. By default the ids are 0 to
        ``SCAN_IDS - 1`` (ovs-vswitchd hands out low ids) and every id a
        ``meter`` action of the datapath's flows names; a meter with a
        higher id that no flow uses is not found.
        """
        dp_name, ifindex = self._resolve(datapath)
        if ids is None:
            wanted = set(range(SCAN_IDS))
            if self._flows is not None:
                for flow in self._flows(datapath):
                    wanted.update(meter_ids_in(flow.actions))
        else:
            wanted = {check_id(meter_id) for meter_id in ids}
        order = sorted(wanted)
        results = self.transport.transact(
            [
                (MF, MF.CMD_GET, ifindex, MF.attrs.encode([("id", meter_id)]), 0)
                for meter_id in order
            ]
        )
        recorded = self._recorded(dp_name, ifindex)
        meters = []
        for meter_id, result in zip(order, results):
            if isinstance(result, KernelError):
                if result.errno == errno.ENOENT:
                    continue
                raise result.to_error("get", _what(dp_name, meter_id), _missing(dp_name, meter_id))
            meters.append(Meter(dp_name, result[0][1], recorded.get(meter_id)))
        return meters

    def flush(self, datapath, ids: Iterable[int] | None = None) -> builtins.list[Meter]:
        """Delete every meter :meth:`list` finds; their last counters."""
        found = self.list(datapath, ids)
        for meter in found:
            self.delete(datapath, meter.id)
        return found
