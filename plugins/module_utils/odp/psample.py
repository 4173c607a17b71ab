# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""psample: what a datapath's ``psample`` action (Linux 6.11+) sends, through
the ``psample`` generic netlink family rather than as an upcall.

:func:`check_supported` asks the kernel, not its version: the family must
exist (CONFIG_PSAMPLE; the kernel autoloads it on lookup) and the datapath
must take a ``psample`` action, which older openvswitch modules refuse as
an unknown action. It asks with a flow of its own, on a key no packet has
(the local port with ethertype 0x88b5, IEEE's local experimental one),
deleted again at once.
"""

from __future__ import annotations

from . import errors
from .flows import Flow

FAMILY = "psample"
PROBE_KEY = {"in_port": 0, "eth": {"src": 0, "dst": 0}, "eth_type": 0x88B5}


def check_supported(client, datapath: str, group: int) -> None:
    """Return when the kernel can send ``datapath``'s psample samples of
    ``group``; :class:`errors.Unsupported` saying what is missing otherwise."""
    if client.transport.family(FAMILY) is None:
        raise errors.Unsupported("psample is not supported by this kernel: it has no psample "
                                 "generic netlink family (CONFIG_PSAMPLE)")
    probe = Flow(PROBE_KEY, actions=[("psample", {"group": group})])
    try:
        client.put_flow(datapath, probe, mode="create")
    except (errors.KernelRejected, errors.Unsupported) as exc:
        raise errors.Unsupported("psample is not supported by this kernel: its openvswitch "
                                 "module refuses the psample action (Linux 6.11+): %s" % exc)
    client.delete_flow(datapath, key=PROBE_KEY)
