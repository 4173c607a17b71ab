# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Flow dumps that stay right while other programs change the flow table.

The kernel's flow dump (``ovs_flow_cmd_dump``) walks its hash table with a
``(bucket, index in bucket)`` cursor kept between the dump's messages, and
never sets ``NLM_F_DUMP_INTR``: a flow inserted at the head of the bucket
being read shifts the rest, and one is returned twice; a flow deleted before
the cursor shifts them back, and one is skipped; a rehash (the table grew)
moves everything. :meth:`netlink.Transport.dump_attrs`'s restart on
``NLM_F_DUMP_INTR`` never fires for it.

:func:`dump_flows` therefore checks each dump itself: no flow twice (by UFID,
else by key and mask), and the datapath's flow count the same before, after
and in the dump. A dump that passes is ``consistent``: the table held still.
With ``confirm`` (what a purge asks for), two passing dumps in a row must
list the same flows. When the table keeps changing, the dumps are merged: the last one, plus the
flows of earlier ones that a lookup finds still installed, each once. Every
flow installed throughout is then in the result unless each dump skipped it;
the result says it is not ``consistent``, and a caller that must not act on
a possibly incomplete table (a purge) refuses it (:func:`require_consistent`).

Asked for, a consistent dump also carries the ``digest`` of the table
(:func:`table_digest`): what the state engine's flow-table record
(:mod:`.state.settled`) compares.
"""

import hashlib
from typing import Optional

from . import errors
from .attrs import NLA_HDR, NLA_TYPE_MASK
from .families import FlowFamily
from .keys import TUNNEL_KEY

# Dumps tried before settling for a merged, unproven result.
DUMP_ATTEMPTS = 4
_UFID, _KEY, _MASK, _ACTIONS = (
    FlowFamily.attrs.lookup(name)[0] for name in ("ufid", "key", "mask", "actions")
)
# What changes while a flow stays the same: left out of its digest.
_COUNTERS = frozenset(
    [FlowFamily.attrs.padding]
    + [FlowFamily.attrs.lookup(name)[0] for name in ("stats", "used", "tcp_flags")]
)
# The kernel pads a tunnel's 64-bit ID when it falls unaligned in the
# message, so one flow's key, mask or actions can differ by padding from
# one dump to the next: those with a padding header are written without.
_TUNNEL_PAD = NLA_HDR.pack(4, TUNNEL_KEY.padding)
_MAPS = {kind: FlowFamily.attrs.by_id[kind][1].attrs for kind in (_KEY, _MASK, _ACTIONS)}


_MATCH = (_KEY, _MASK)
_HEADER = NLA_HDR.unpack_from


def _digest(data):
    return hashlib.blake2b(data, digest_size=16)


class InconsistentDump(errors.OdpError):
    """The flow table changed during every dump: a complete list could not be proven."""


class FlowDump:
    """The flows of a datapath: ``flows`` (each once), whether the dump is
    ``consistent`` (proven complete), how many dumps it took (``attempts``)
    and the ``duplicates`` the kernel returned on the way; a consistent
    dump's ``digest`` (:func:`table_digest`) when asked for, else None."""

    __slots__ = ("attempts", "consistent", "datapath", "digest", "duplicates", "flows")

    def __init__(self, datapath, flows, consistent, attempts, duplicates, digest=None):
        self.datapath = datapath
        self.flows = flows
        self.consistent = consistent
        self.attempts = attempts
        self.duplicates = duplicates
        self.digest = digest

    def __repr__(self):
        return "FlowDump(%r, %d flows, consistent=%r, attempts=%d)" % (
            self.datapath,
            len(self.flows),
            self.consistent,
            self.attempts,
        )


def flow_id(flow):
    """What tells one installed flow from another: its UFID, else its match."""
    return flow.ufid if flow.ufid is not None else flow.identity()


def raw_id(raw):
    """What tells flows apart in raw dump replies (the kernel writes a flow
    the same way each time, but for alignment padding): the UFID, else a
    128-bit digest of the key and mask attributes, small enough to hold for
    100,000 flows."""
    return _identify(raw, False)[0]


def table_digest(raws) -> str:
    """A digest of a flow table from its dump replies: every flow's
    attributes as the kernel wrote them (key, mask, actions, UFID; without
    alignment padding), its counters left out, in any order. Two dumps
    have the same digest exactly when they list the same flows."""
    return _combined([_identify(raw, True)[1] for raw in raws])


def _identify(raw, with_content):
    """(:func:`raw_id`, the digest of what the flow is, or None) of one
    reply (bytes), in one walk of its attributes, each taken whole."""
    match = []
    content = []
    ufid = None
    offset, end = 0, len(raw)
    while offset + 4 <= end:
        length, flagged = _HEADER(raw, offset)
        if length < 4 or offset + length > end:
            raise errors.OdpError("a flow dump reply is truncated at offset %d" % offset)
        kind = flagged & NLA_TYPE_MASK
        following = offset + ((length + 3) & ~3)
        if kind in _MATCH:
            part = _whole(raw, offset, length, following, flagged, kind)
            match.append(part)
            content.append(part)
        elif kind == _UFID:
            ufid = raw[offset + 4 : offset + length]
            content.append(raw[offset:following])
        elif with_content and kind not in _COUNTERS:
            content.append(_whole(raw, offset, length, following, flagged, kind))
        offset = following
    ident = ufid if ufid is not None else _digest(b"".join(match)).digest()
    return ident, (_digest(b"".join(content)).digest() if with_content else None)


def _whole(raw, offset, length, following, flagged, kind):
    """The attribute at ``offset``, header and payload, written without
    the tunnel ID's padding when it has some."""
    part = raw[offset:following]
    if kind in _MAPS and _TUNNEL_PAD in part:
        payload = _MAPS[kind].without_padding(raw[offset + 4 : offset + length])
        part = NLA_HDR.pack(4 + len(payload), flagged) + payload
    return part


def _combined(contents):
    return _digest(b"".join(sorted(contents))).hexdigest()


def unique_replies(raws, contents=None) -> tuple[dict[object, bytes], int]:
    """``({raw_id: raw}, duplicates)`` of one dump, in dump order; each
    flow's content digest appended to ``contents`` when given."""
    found = {}
    duplicates = 0
    with_content = contents is not None
    for raw in raws:
        ident, content = _identify(raw, with_content)
        if with_content:
            contents.append(content)
        if ident in found:
            duplicates += 1
        found[ident] = raw
    return found, duplicates


def dump_flows(client, datapath, attempts=DUMP_ATTEMPTS, confirm=False, digest=False) -> FlowDump:
    """Dump the flows of ``datapath`` through ``client``, checked as the
    module says; up to ``attempts`` dumps.

    A dump passes when it has no flow twice and the flow count held still
    around it. Flows deleted and as many added during the dump would pass
    that too: with ``confirm``, ``consistent`` takes two passing dumps in a
    row listing the same flows (for a purge; one more dump of a quiet table).
    With ``digest``, a consistent result carries :func:`table_digest`.
    """
    dp = client.get_datapath(datapath if isinstance(datapath, str) else datapath.name)
    previous = {}
    passed = None  # the flows of the last dump that passed, for confirm
    duplicates = 0
    for attempt in range(1, attempts + 1):
        before = dp.stats.get("flows")
        contents: Optional[list] = [] if digest else None
        found, twice = unique_replies(client.flow_replies(dp), contents)
        dp = client.get_datapath(dp.name)
        duplicates += twice
        ok = not twice and before == dp.stats.get("flows") == len(found)
        if ok and (not confirm or passed == set(found)):
            flows = client.decode_flows(found.values())
            table = _combined(contents) if contents is not None else None
            return FlowDump(dp.name, flows, True, attempt, duplicates, table)
        passed = set(found) if ok else None
        if attempt < attempts:
            # What this dump and the ones before saw (one copy at a time).
            previous.update(found)
            del found
    # The table kept changing: the last dump, plus what earlier dumps saw
    # that is still installed (the last one may have skipped it).
    missing = [raw for ident, raw in previous.items() if ident not in found]
    del previous  # before decoding: Flow objects are what takes the memory
    flows = client.decode_flows(found.values())
    del found
    for flow in client.decode_flows(missing):
        still = _lookup(client, dp, flow)
        if still is not None:
            flows.append(still)
    return FlowDump(dp.name, flows, False, attempts, duplicates)


def require_consistent(dump, purpose):
    """``dump``'s flows; :class:`InconsistentDump` naming ``purpose`` when
    the dump is not proven complete."""
    if not dump.consistent:
        raise InconsistentDump(
            "the flow table of datapath %s changed during each of %d dumps, so the list of its "
            "flows is not proven complete; %s needs one that is: nothing was changed, try again "
            "when the table is quieter" % (dump.datapath, dump.attempts, purpose)
        )
    return dump.flows


def _lookup(client, dp, flow):
    try:
        if flow.ufid is not None:
            return client.get_flow(dp, ufid=flow.ufid)
        return client.get_flow(dp, key=flow.key, mask=flow.mask)
    except errors.NoSuchFlow:
        return None
