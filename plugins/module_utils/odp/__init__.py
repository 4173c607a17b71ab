# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vswitch.odp: the Open vSwitch kernel datapath over generic netlink.

``Client`` talks to the kernel; ``Flow`` and the ovs-dpctl text syntax
(``parse_flow``, ``format_flow``...) are pure Python.  pyroute2 is only
imported when a tunnel netdev is made or inspected.
"""

# The one version: pyproject.toml reads it; galaxy.yml must say the same (tests/packaging).
__version__ = "0.1.0"

from . import errors
from .client import Client, Datapath, Vport
from .errors import (
    AlreadyExists,
    KernelModuleMissing,
    KernelRejected,
    LockTimeout,
    NoSuchDatapath,
    NoSuchFlow,
    NoSuchVport,
    NotFound,
    OdpError,
    PermissionDenied,
    PortBusy,
    Unsupported,
    ValidationError,
)
from .flows import Flow
from .text import (
    actions_from_list,
    format_actions,
    format_flow,
    format_key,
    key_from_match,
    parse_actions,
    parse_flow,
    parse_key,
)

__all__ = [
    "AlreadyExists",
    "Client",
    "Datapath",
    "Flow",
    "KernelModuleMissing",
    "KernelRejected",
    "LockTimeout",
    "NoSuchDatapath",
    "NoSuchFlow",
    "NoSuchVport",
    "NotFound",
    "OdpError",
    "PermissionDenied",
    "PortBusy",
    "Unsupported",
    "ValidationError",
    "Vport",
    "actions_from_list",
    "errors",
    "format_actions",
    "format_flow",
    "format_key",
    "key_from_match",
    "parse_actions",
    "parse_flow",
    "parse_key",
]
