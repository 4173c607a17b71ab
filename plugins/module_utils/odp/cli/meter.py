# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``odp meter``: add, list and delete a datapath's meters (meters.py).

A band is ``rate=N[,burst=N][,type=drop]``, in the meter's ``--unit``
(kbps, or pkts: packets per second); a listing line is ``key=value`` words:
the unit and bands this library set (when it did: the kernel does not report
them), what went through the meter, then what exceeded each band.
"""

from __future__ import annotations

from .. import meters
from .output import emit, emit_json
from .parser import UsageError
from .values import integer, pairs

BAND_FIELDS = ("rate", "burst", "type")


def meter_id(text: str) -> int:
    return integer("<meter>", text, 0, meters.MAX_ID, "a meter id, 0 to %d" % meters.MAX_ID)


def band(text: str) -> meters.Band:
    """``rate=N[,burst=N][,type=drop]`` as a :class:`meters.Band`."""
    fields = pairs("<band>", text, BAND_FIELDS)
    if "rate" not in fields:
        raise UsageError("<band>: invalid value %r: a band needs rate=N" % text)
    numbers = {
        name: integer(
            "<band> " + name,
            fields[name],
            0,
            meters.MAX_RATE,
            "an integer, 0 to %d" % meters.MAX_RATE,
        )
        for name in ("rate", "burst")
        if name in fields
    }
    return meters.Band(numbers["rate"], numbers.get("burst"), fields.get("type", "drop"))


def band_text(config: dict) -> str:
    """A recorded band as ``meter add`` takes it: ``rate=N,burst=N,type=drop``."""
    return ",".join("%s=%s" % (name, config[name]) for name in BAND_FIELDS)


def meter_add(client, args) -> None:
    unit = args.get("unit", "kbps")
    if unit not in meters.UNITS:
        raise UsageError("--unit: invalid value %r: expected kbps or pkts" % unit)
    datapath, number = args.positionals[:2]
    bands = [band(text) for text in args.positionals[2:]]
    client.meters.set(datapath, meter_id(number), bands, unit=unit)


def meter_line(meter: meters.Meter) -> str:
    words = ["meter=%d" % meter.id]
    # The unit and bands this library set (the kernel does not report them).
    if meter.unit is not None:
        words.append("unit=%s" % meter.unit)
    for index, config in enumerate(meter.bands or ()):
        words.append("band%d=%s" % (index, band_text(config)))
    words += ["packets=%d" % meter.packets, "bytes=%d" % meter.bytes]
    for index, stats in enumerate(meter.band_stats):
        words += [
            "band%d.packets=%d" % (index, stats.get("packets", 0)),
            "band%d.bytes=%d" % (index, stats.get("bytes", 0)),
        ]
    return " ".join(words)


def meter_list(client, args) -> None:
    found = client.meters.list(args.positionals[0])
    if args.get("json"):
        emit_json([meter.info() for meter in found])
        return
    for meter in found:
        emit(meter_line(meter))


def meter_delete(client, args) -> None:
    client.meters.delete(args.positionals[0], meter_id(args.positionals[1]))


def meter_features(client, args) -> None:
    features = client.meters.features(args.positionals[0])
    if args.get("json"):
        emit_json(
            {
                "max_meters": features.max_meters,
                "max_bands": features.max_bands,
                "band_types": features.band_types,
                "flags": features.flags,
            }
        )
        return
    emit(
        "max_meters=%d max_bands=%d band_types=%s flags=%s"
        % (
            features.max_meters,
            features.max_bands,
            ",".join(features.band_types) or "none",
            ",".join(features.flags),
        )
    )
