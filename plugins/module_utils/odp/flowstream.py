# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One flow dump streamed in bounded memory, each flow once, with what it proves.

:func:`flowdump.dump_flows` holds every flow of a dump to prove the list
complete, or to merge several dumps. A listing (``odp flow list``,
odp_facts) streams instead: flows are decoded a chunk at a time and handed
on, and only a 16-byte id per flow is kept (:func:`flowdump.raw_id`), about
15 MB at 200,000 flows. What a streamed dump guarantees:

* no flow twice: a flow the kernel returns again (its cursor shifted under
  churn, see :mod:`flowdump`) is dropped, and counted in ``duplicates``;
* afterwards, ``consistent`` says whether the table held still: no
  duplicates, and the datapath's flow count the same before, after and in
  the dump. When it is false, flows added or deleted during the dump may be
  missing; the flows that were handed on were each installed at some point
  of the dump.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

from .flowdump import raw_id
from .flowfilter import FlowFilter

# Flows decoded at a time: few enough to stay small, enough for the decoder
# to run in bulk.
CHUNK = 512


class StreamedDump:
    """Iterate once for the flows of one dump of ``datapath`` that pass
    ``flow_filter``; then ``seen`` (flows in the dump, each once),
    ``matched`` (those handed on), ``duplicates`` and ``consistent``."""

    def __init__(self, client, datapath, flow_filter: FlowFilter | None = None) -> None:
        self.client = client
        self.datapath = datapath if isinstance(datapath, str) else datapath.name
        self.flow_filter = flow_filter or FlowFilter()
        self.seen = 0
        self.matched = 0
        self.duplicates = 0
        self.consistent: bool | None = None  # known once iterated

    def __iter__(self) -> Iterator:
        client, keep = self.client, self.flow_filter
        dp = client.get_datapath(self.datapath)
        before = dp.stats.get("flows")
        ids = set()
        replies = iter(client.flow_replies(dp))
        while True:
            fresh, read = [], 0
            for raw in islice(replies, CHUNK):
                read += 1
                ident = raw_id(raw)
                if ident in ids:
                    self.duplicates += 1
                else:
                    ids.add(ident)
                    fresh.append(raw)
            if not read:
                break
            self.seen = len(ids)
            for flow in client.decode_flows(fresh):
                if keep.keeps_all or keep.matches(flow):
                    self.matched += 1
                    yield flow
        after = client.get_datapath(dp.name).stats.get("flows")
        self.consistent = not self.duplicates and before == after == self.seen
