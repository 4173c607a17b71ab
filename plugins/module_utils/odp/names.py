# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one rule for a network device name: what the kernel's dev_valid_name()
takes, which is also what a datapath or vport may be called."""

from __future__ import annotations

import re

from .errors import ValidationError

# IFNAMSIZ is 16 with the trailing NUL.
IFNAME_MAX = 15
_IFNAME = re.compile(r"^[^/:\s]{1,%d}$" % IFNAME_MAX)
IFNAME_RULE = "must be 1 to %d characters without '/', ':' or whitespace" % IFNAME_MAX


def check_ifname(field: str, name: object) -> str:
    """``name`` when the kernel would take it as a device name, else a
    :class:`ValidationError` naming ``field``."""
    if not isinstance(name, str) or not _IFNAME.match(name) or name in (".", ".."):
        raise ValidationError(field, name, IFNAME_RULE)
    return name
