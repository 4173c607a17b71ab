# -*- coding: utf-8 -*-
# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Flow dumps that stay right while other programs change the flow table.

The kernel's flow dump (``ovs_flow_cmd_dump``) walks its hash table with a
``(bucket, index in bucket)`` cursor kept between the dump's messages, and
never sets ``NLM_F_DUMP_INTR``: a flow inserted at the head of the bucket
being read shifts the rest, and one is returned twice; a flow deleted before
the cursor shifts them back, and one is skipped; a rehash (the table grew)
moves everything. :meth:`netlink.Transport.dump`'s restart on
``NLM_F_DUMP_INTR`` never fires for it.

:func:`dump_flows` therefore checks each dump itself: no flow twice (by UFID,
else by key and mask), and the datapath's flow count the same before, after
and in the dump. A dump that passes is ``consistent``: the table held still.
When the table keeps changing, the dumps are merged: the last one, plus the
flows of earlier ones that a lookup finds still installed, each once. Every
flow installed throughout is then in the result unless each dump skipped it;
the result says it is not ``consistent``, and a caller that must not act on
a possibly incomplete table (a purge) refuses it (:func:`require_consistent`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

from . import errors

try:
    from typing import Dict, List, Tuple  # noqa: F401 pylint: disable=unused-import
except ImportError:  # pragma: no cover
    pass

# Dumps tried before settling for a merged, unproven result.
DUMP_ATTEMPTS = 4


class InconsistentDump(errors.OdpError):
    """The flow table changed during every dump: a complete list could not be proven."""


class FlowDump:
    """The flows of a datapath: ``flows`` (each once), whether the dump is
    ``consistent`` (proven complete), how many dumps it took (``attempts``)
    and the ``duplicates`` the kernel returned on the way."""

    __slots__ = ("datapath", "flows", "consistent", "attempts", "duplicates")

    def __init__(self, datapath, flows, consistent, attempts, duplicates):
        self.datapath = datapath
        self.flows = flows
        self.consistent = consistent
        self.attempts = attempts
        self.duplicates = duplicates

    def __repr__(self):
        return "FlowDump(%r, %d flows, consistent=%r, attempts=%d)" % (
            self.datapath, len(self.flows), self.consistent, self.attempts)


def flow_id(flow):
    """What tells one installed flow from another: its UFID, else its match."""
    return flow.ufid if flow.ufid is not None else flow.identity()


def unique_flows(flows):
    # type: (...) -> Tuple[Dict[object, object], int]
    """``({flow_id: flow}, duplicates)`` of one dump, in dump order."""
    found = {}
    duplicates = 0
    for flow in flows:
        ident = flow_id(flow)
        if ident in found:
            duplicates += 1
        found[ident] = flow
    return found, duplicates


def dump_flows(client, datapath, attempts=DUMP_ATTEMPTS):
    # type: (...) -> FlowDump
    """Dump the flows of ``datapath`` through ``client``, checked as the
    module says; up to ``attempts`` dumps."""
    dp = client.get_datapath(datapath if isinstance(datapath, str) else datapath.name)
    earlier = {}
    duplicates = 0
    for attempt in range(1, attempts + 1):
        before = dp.stats.get("flows")
        found, twice = unique_flows(client.iter_flows(dp))
        dp = client.get_datapath(dp.name)
        duplicates += twice
        if not twice and before == dp.stats.get("flows") == len(found):
            return FlowDump(dp.name, list(found.values()), True, attempt, duplicates)
        if attempt < attempts:
            earlier.update(found)
    # The table kept changing: the last dump, plus what earlier dumps saw
    # that is still installed (the last one may have skipped it).
    for ident, flow in earlier.items():
        if ident not in found:
            still = _lookup(client, dp, flow)
            if still is not None:
                found[ident] = still
    return FlowDump(dp.name, list(found.values()), False, attempts, duplicates)


def require_consistent(dump, purpose):
    """``dump``'s flows; :class:`InconsistentDump` naming ``purpose`` when
    the dump is not proven complete."""
    if not dump.consistent:
        raise InconsistentDump(
            "the flow table of datapath %s changed during each of %d dumps, so the list of its "
            "flows is not proven complete; %s needs one that is: nothing was changed, try again "
            "when the table is quieter" % (dump.datapath, dump.attempts, purpose))
    return dump.flows


def _lookup(client, dp, flow):
    try:
        if flow.ufid is not None:
            return client.get_flow(dp, ufid=flow.ufid)
        return client.get_flow(dp, key=flow.key, mask=flow.mask)
    except errors.NoSuchFlow:
        return None
