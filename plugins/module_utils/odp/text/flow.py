# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whole flows, as ovs-dpctl dump lines: ``[ufid:UUID, ]KEY[, stats], actions:ACTIONS``,
and UFIDs in ovs-dpctl's form, ``ufid:00000001-0002-0003-0004-000500060007``."""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable

from ..errors import ValidationError
from .action import format_actions, parse_action_text
from .context import Ctx
from .key import TCP_FLAGS, TCP_FLAGS_EXACT, format_key, key_text_items, parse_key_items
from .lex import split
from .scalar import format_flags

UFID_PREFIX = "ufid:"
_UFID_RE = re.compile(
    r"^[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?"
    r"[0-9A-Fa-f]{12}$"
)
_STAT_PREFIXES = ("packets:", "bytes:", "used:", "flags:", "dp:", "offloaded:", "dp-extra-info:")


def format_ufid(ufid: bytes) -> str:
    """``ufid:UUID``, as ovs-dpctl prints a 16-byte UFID: four host-order
    32-bit words written as a UUID."""
    words = struct.unpack("=4I", bytes(ufid))
    return UFID_PREFIX + "%08x-%04x-%04x-%04x-%04x%08x" % (
        words[0],
        words[1] >> 16,
        words[1] & 0xFFFF,
        words[2] >> 16,
        words[2] & 0xFFFF,
        words[3],
    )


def parse_ufid(text: str, field: str = "ufid") -> bytes:
    """The 16 bytes of ``ufid:UUID`` (the ``ufid:`` is optional)."""
    if not isinstance(text, str):
        raise ValidationError(field, text, "expected a UUID")
    digits = text.strip()
    if digits.startswith(UFID_PREFIX):
        digits = digits[len(UFID_PREFIX) :]
    if not _UFID_RE.match(digits):
        raise ValidationError(
            field, text, "expected a UUID such as 00000001-0002-0003-0004-000500060007"
        )
    number = int(digits.replace("-", ""), 16)
    return struct.pack("=4I", *[(number >> (96 - 32 * i)) & 0xFFFFFFFF for i in range(4)])


def split_ufid(text: str):
    """``(ufid or None, rest)`` of a key text that may start ``ufid:UUID,``."""
    if not text.lstrip().startswith(UFID_PREFIX):
        return None, text
    head, _comma, rest = text.strip().partition(",")
    return parse_ufid(head), rest


def parse_flow(text: str, ports: dict | None = None) -> tuple[dict, dict, list, bytes | None]:
    """A flow line (``[ufid:U,] KEY[, stats], actions:ACTIONS`` or ``KEY ACTIONS``)
    -> ``(key, mask, actions, ufid)``; statistics are ignored, ufid is 16 bytes or None."""
    if not isinstance(text, str):
        raise ValidationError("flow", text, "expected text")
    text = text.strip()
    head, actions_text = _split_flow(text)
    ufid = None
    key_items = []
    for item in split(head, "flow"):
        if item.startswith(UFID_PREFIX):
            ufid = parse_ufid(item, "ufid")
        elif not item.startswith(_STAT_PREFIXES):
            key_items.append(item)
    ctx = Ctx(ports)
    key, mask = parse_key_items(key_text_items(",".join(key_items), ""), "", ctx)
    return key, mask, parse_action_text(actions_text, "actions", ctx), ufid


def _split_flow(text):
    depth = 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth:
            continue
        if text.startswith("actions:", index) and (index == 0 or text[index - 1] in ", \t"):
            return text[:index].rstrip(", \t"), text[index + len("actions:") :].strip()
        if (
            char in " \t"
            and text[index - 1] not in ", \t"
            and not text[index:].lstrip().startswith((*_STAT_PREFIXES, "actions:"))
            and not _lone_ufid(text[:index])
        ):
            return text[:index], text[index:].strip()
    raise ValidationError("flow", text, "no actions (expected 'KEY actions:ACTIONS')")


def _lone_ufid(head):
    """``ufid:UUID`` with no key after it yet (a space there ends no key)."""
    head = head.strip()
    return head.startswith(UFID_PREFIX) and "," not in head


def format_flow(
    key: dict,
    mask: dict | None,
    actions: Iterable,
    port_names: dict | None = None,
    stats: dict | None = None,
    ufid: bytes | None = None,
    verbose: bool = False,
) -> str:
    """The ovs-dpctl dump line of a flow; ``stats`` is a dict of packets, bytes,
    used (ms ago, or None) and tcp_flags."""
    parts = []
    if ufid is not None:
        parts.append(format_ufid(ufid))
    parts.append(format_key(key, mask, port_names, verbose))
    if stats is not None:
        used = stats.get("used")
        parts.append(
            "packets:%d, bytes:%d, used:%s"
            % (
                stats.get("packets", 0),
                stats.get("bytes", 0),
                "never" if used is None else "%.3fs" % (used / 1000.0),
            )
        )
        if stats.get("tcp_flags"):
            parts.append(
                "flags:" + format_flags(stats["tcp_flags"], None, TCP_FLAGS, TCP_FLAGS_EXACT)
            )
    return ", ".join(parts) + ", actions:" + format_actions(actions, port_names)
