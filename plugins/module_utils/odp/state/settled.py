# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Flow tables known to be as a document declares them: the flow-table record.

Parsing a document's flows (ovs-dpctl text and matches, checked and
normalized) is most of what a no-op apply costs: about a second per 10,000
flows in the sandbox kernel. Its answer only depends on the document's
entries, the vport numbers and this library's code, and comparing with the
kernel only on the flows the kernel has. So after an apply whose result
verified, and after a no-op found by a full plan, :func:`.apply.apply`
records beside the datapath's lock (:mod:`records`)::

    /run/vswitch-odp/net-<inode>/<datapath>.flows.json
    {"table": "<ifindex>:<digest of the dump>", "declared": "<digest of the entries>"}

``table`` is the datapath's ifindex and :func:`flowdump.table_digest` of a
consistent dump (every flow's key, mask and actions as the kernel wrote
them); ``declared`` digests the document's flow entries with the vport
numbers and the library's version. A later apply whose read and document
give the same two values knows the flows need no change, and neither parses
nor plans them; anything else plans them in full: another document, any
flow added, removed or changed by anyone, the datapath made again (a new
ifindex), an upgrade. Vports and link settings are always planned. The
record is only ever believed for what it names, so a missing, stale or
unreadable one costs the full plan, nothing more; /run is a tmpfs, so it
goes at reboot with the datapaths.
"""

from __future__ import annotations

import hashlib
import json

from .. import __version__, records
from .document import Datapath

SUFFIX = ".flows.json"


def declared(datapath: Datapath, ports: dict[str, int]) -> str:
    """The digest of ``datapath``'s flow entries as the document gives them,
    with the vport numbers they are planned with."""
    text = json.dumps(
        [__version__, sorted(ports.items()), datapath.entries()],
        sort_keys=True,
        separators=(",", ":"),
        default=repr,
    )
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


class Records:
    """The flow-table records of a client's datapaths."""

    def __init__(self, client) -> None:
        self._path = lambda name: client.locks.path(name, SUFFIX)

    def settled(self, have: Datapath | None, want: Datapath, ports: dict[str, int]) -> bool:
        """Whether the record proves ``have``'s flows (as read) exactly those
        ``want`` declares with ``ports``."""
        if have is None or have.table is None:
            return False
        record = records.read(self._path(want.name))
        return (
            isinstance(record, dict)
            and record.get("table") == have.table
            and record.get("declared") == declared(want, ports)
        )

    def store(self, have: Datapath, want: Datapath, ports: dict[str, int]) -> None:
        """Record that ``have``'s flows (read back, verified) are ``want``'s.
        A record that cannot be written costs the next apply its full plan,
        so that is not an error."""
        if have.table is None:
            return
        try:
            records.write(
                self._path(want.name), {"table": have.table, "declared": declared(want, ports)}
            )
        except OSError:
            pass
