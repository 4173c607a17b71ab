# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Datapath settings (``OVS_DP_CMD_SET``): user features and the masks cache size.

The kernel resets the user features of a SET that leaves them out, so every
request carries them: the caller's, or the datapath's current ones. The
masks cache (Linux 5.9+) holds 0 (off) or a power of two up to 4096 entries
per CPU (``PCPU_MIN_UNIT_SIZE / sizeof(struct mask_cache_entry)``); a kernel
without it would silently ignore the attribute, so its absence from the
datapath's own report is answered with :class:`errors.Unsupported` before
anything is sent.
"""

from __future__ import annotations

import errno
from collections.abc import Sequence

from . import errors
from .families import DatapathFamily
from .netlink import NLM_F_ECHO

DP = DatapathFamily
FEATURE_BITS = {name: bit for bit, name in DP.FEATURE_NAMES}
MAX_MASKS_CACHE = 4096


def feature_bits(features: Sequence[str]) -> int:
    """The ``OVS_DP_F_*`` bits of feature names (``unaligned``, ``vport_pids``...)."""
    if isinstance(features, (str, bytes)) or not isinstance(features, (list, tuple, set)):
        raise errors.ValidationError("features", features, "a list of feature names")
    bits = 0
    for name in features:
        if name not in FEATURE_BITS:
            raise errors.ValidationError(
                "features", name, "the datapath features are %s" % ", ".join(FEATURE_BITS)
            )
        bits |= FEATURE_BITS[name]
    return bits


def check_masks_cache_size(size: object) -> int:
    """A masks cache size, checked: 0 or a power of two up to 4096."""
    reason = "0 (no cache) or a power of two up to %d" % MAX_MASKS_CACHE
    value = errors.check_int("masks_cache_size", size, 0, MAX_MASKS_CACHE, reason)
    if value & (value - 1):
        raise errors.ValidationError("masks_cache_size", size, reason)
    return value


def _check_masks_cache(datapath, size: object) -> int:
    value = check_masks_cache_size(size)
    if datapath.masks_cache_size is None:
        raise errors.Unsupported(
            "cannot set the masks cache size of datapath %s: the running "
            "kernel has none (Linux 5.9+)" % datapath.name
        )
    return value


def set_datapath(
    transport, datapath, features: Sequence[str] | None = None, masks_cache_size: int | None = None
) -> tuple[int, dict]:
    """Apply the settings to ``datapath`` (a ``Datapath`` just read from the
    kernel); the kernel's ``(ifindex, attrs)`` reply, with what it accepted.
    ``None`` keeps a setting as it is. Everything is checked first."""
    bits = datapath.user_features if features is None else feature_bits(features)
    items = [("user_features", bits)]
    if masks_cache_size is not None:
        items.append(("masks_cache_size", _check_masks_cache(datapath, masks_cache_size)))
    names = [name for name in FEATURE_BITS if bits & FEATURE_BITS[name]]
    what = "datapath %s (features %s)" % (datapath.name, ", ".join(names) or "none")
    ((ifindex, attrs),) = transport.request(
        DP,
        DP.CMD_SET,
        datapath.ifindex,
        DP.attrs.encode(items),
        NLM_F_ECHO,
        what=what,
        missing=dict.fromkeys(
            (errno.ENODEV, errno.ENOENT), (errors.NoSuchDatapath, "datapath %s" % datapath.name)
        ),
    )
    return ifindex, attrs
