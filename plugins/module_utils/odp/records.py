# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The JSON records this library keeps beside a datapath's lock (:mod:`lock`).

A record is a cache of what this library did, never the truth about the
kernel: reading one that is missing or unreadable gives None, and the
caller treats that as knowing nothing. It is written whole or not at all
(a temporary file renamed over it), by a caller holding the datapath's
lock, so there is one writer.
"""

from __future__ import annotations

import json
import os
from typing import Any


def read(path: str) -> Any:
    """The record at ``path`` as data; None when missing or unreadable."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def write(path: str, record: Any) -> None:
    """Replace the record at ``path`` with ``record``, atomically; OSError
    when the directory or the file cannot be written."""
    os.makedirs(os.path.dirname(path), 0o700, exist_ok=True)
    # One writer holds the lock; the pid tells a leftover of a killed one.
    temporary = "%s.%d.tmp" % (path, os.getpid())
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle, sort_keys=True)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
