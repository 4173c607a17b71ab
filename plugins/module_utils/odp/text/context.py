# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state of one parse or format call: vport maps, verbosity, and how deep
the input nests, bounded as the kernel bounds it (net/openvswitch/flow_netlink.c)."""

from __future__ import annotations

from contextlib import contextmanager

from ..errors import ValidationError
from .lex import quote

# How deep each kind of nesting may go, and why.
LIMITS = {
    # __ovs_nla_copy_actions: "if (depth > OVS_COPY_ACTIONS_MAX_DEPTH) return -EOVERFLOW",
    # the top-level list being depth 0.
    "actions": (16, "action lists nest at most 16 deep (the kernel's OVS_COPY_ACTIONS_MAX_DEPTH)"),
    # parse_vlan_from_nlattrs reads two VLAN headers, each with its encap().
    "encap": (2, "encap() nests at most 2 deep (the kernel reads two VLAN headers)"),
}


class Ctx:
    """``ports`` maps vport names to numbers (parsing), ``port_names`` numbers
    to names (printing); ``verbose`` prints every field, as ``dump-flows -m``."""

    def __init__(
        self, ports: dict | None = None, port_names: dict | None = None, verbose: bool = False
    ):
        self.ports = ports
        self.port_names = port_names
        self.verbose = verbose
        self._depth = dict.fromkeys(LIMITS, 0)

    @contextmanager
    def nested(self, what: str, field: str, value):
        """One level deeper into ``what`` (``actions`` or ``encap``), refused
        past the kernel's limit before the recursion can go any further."""
        limit, reason = LIMITS[what]
        if self._depth[what] >= limit:
            raise ValidationError(field, quote(value), reason)
        self._depth[what] += 1
        try:
            yield
        finally:
            self._depth[what] -= 1
