# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What this library last set on each meter of a datapath: its unit and bands.

The kernel reports a meter's counters only, never its bands or unit, so
without a record a second run could not tell whether a meter is already as
asked. :class:`meters.Meters` keeps one JSON file per datapath beside the
datapath's lock (:mod:`lock`)::

    /run/vswitch-odp/net-<inode>/<datapath>.meters.json
    {"ifindex": 7, "meters": {"1": {"unit": "pkts", "bands": [...]}}}

and writes it under that lock, after the kernel took the change. The record
is a cache, never the truth about the kernel:

* it holds the datapath's ifindex, and is ignored once that changes (the
  datapath was deleted and made again: its meters went with it);
* an entry counts only for a meter the kernel has;
* a meter set by another tool (ovs-vswitchd) has no entry, or a wrong one
  if it replaced a meter this library set: its bands read as unknown, or
  as what this library set last.

/run is a tmpfs, so the record goes at reboot, with the datapaths.
"""

from __future__ import annotations

from . import errors, records

SUFFIX = ".meters.json"


def load(path: str, ifindex: int) -> dict[int, dict]:
    """The recorded ``{"unit", "bands"}`` of each meter id; empty when the
    file is missing, unreadable or of another incarnation of the datapath."""
    record = records.read(path)
    if not isinstance(record, dict) or record.get("ifindex") != ifindex:
        return {}
    meters = record.get("meters")
    if not isinstance(meters, dict):
        return {}
    found = {}
    for key, config in meters.items():
        if key.isdigit() and isinstance(config, dict) and {"unit", "bands"} <= set(config):
            found[int(key)] = config
    return found


def update(path: str, ifindex: int, meter_id: int, config: dict | None) -> None:
    """Record ``config`` for ``meter_id`` (``None``: forget it), atomically.

    The caller holds the datapath's lock, so there is one writer. An error
    here comes after the kernel changed the meter: it says so.
    """
    meters = load(path, ifindex)
    if config is None:
        if meter_id not in meters:
            return
        del meters[meter_id]
    else:
        meters[meter_id] = config
    document = {"ifindex": ifindex, "meters": {str(k): v for k, v in sorted(meters.items())}}
    try:
        records.write(path, document)
    except OSError as exc:
        error = errors.OdpError(
            "meter %d was changed in the kernel, but its band record %s could not be "
            "written (%s): its bands read as unknown until it is set again"
            % (meter_id, path, exc.strerror)
        )
        error.changed = True
        raise error from exc
