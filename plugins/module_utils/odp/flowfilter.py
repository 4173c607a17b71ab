# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which flows a listing keeps: ``odp flow list``'s and odp_facts' filters.

Two tests, both optional, both needed when both are given:

* ``in_port``: the flows a packet arriving on that vport (by number) would
  be matched against, which are the flows with that ``in_port`` and the
  flows that wildcard it (the kernel dumps those as ``in_port(0)`` under
  the mask 0xffff0000);
* ``key_contains``: a substring of the key as ovs-dpctl prints it, with
  vport names (``odp flow list --json``'s ``key``, odp_facts' ``key``), as
  ovs-dpctl's ``filter=`` takes a piece of a flow's text.
"""

from __future__ import annotations

from .errors import ValidationError
from .text import format_key

_EXACT = 0xFFFFFFFF


class FlowFilter:
    """A test on dumped flows; ``FlowFilter()`` keeps every flow."""

    __slots__ = ("in_port", "key_contains", "port_names")

    def __init__(
        self,
        in_port: int | None = None,
        key_contains: str | None = None,
        port_names: dict[int, str] | None = None,
    ) -> None:
        if in_port is not None and (
            isinstance(in_port, bool) or not isinstance(in_port, int) or not 0 <= in_port <= _EXACT
        ):
            raise ValidationError("in_port", in_port, "a vport number (0 to 4294967295)")
        if key_contains is not None and not isinstance(key_contains, str):
            raise ValidationError("key_contains", key_contains, "a piece of key text")
        self.in_port = in_port
        self.key_contains = key_contains or None
        self.port_names = port_names

    @property
    def keeps_all(self) -> bool:
        return self.in_port is None and self.key_contains is None

    def matches(self, flow) -> bool:
        """Whether ``flow`` (a :class:`flows.Flow`) passes both tests."""
        if self.in_port is not None and not self._from_port(flow.key, flow.mask):
            return False
        if self.key_contains is not None:
            return self.key_contains in format_key(flow.key, flow.mask, self.port_names)
        return True

    def _from_port(self, key: dict, mask: dict | None) -> bool:
        port = key.get("in_port")
        if port is None:
            return True  # no in_port in the key: any port
        bits = _EXACT if mask is None else mask.get("in_port", 0)
        return (port ^ self.in_port) & bits == 0


def port_number(value, port_numbers: dict[str, int], field: str = "in_port") -> int:
    """The vport number of ``value``: a vport name of ``port_numbers``, or a
    number (a flow may name a port that is not, or no longer, a vport)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value)
    if text in port_numbers:
        return port_numbers[text]
    if text.isdigit():
        return int(text)
    raise ValidationError(
        field,
        value,
        "no such vport (the datapath has %s)" % (", ".join(sorted(port_numbers)) or "none"),
    )
