# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Values on the ``odp`` command line: integers and ``name=value`` lists,
refused as usage errors (exit status 2) before anything is sent."""

from __future__ import annotations

from collections.abc import Sequence

from .parser import UsageError


def integer(what: str, text: str, low: int, high: int, expected: str) -> int:
    """``text`` as a decimal integer from ``low`` to ``high``; ``what`` names
    the option or argument in the error, ``expected`` says what it takes."""
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        raise UsageError("%s: invalid value %r: expected %s" % (what, text, expected))
    return int(text)


def pairs(what: str, text: str, names: Sequence[str]) -> dict[str, str]:
    """``a=1,b=2`` as ``{"a": "1", "b": "2"}``; only ``names``, each once."""
    out: dict[str, str] = {}
    for item in text.split(","):
        name, eq, value = item.partition("=")
        if not eq or name not in names or name in out or not value:
            raise UsageError(
                "%s: invalid value %r: expected %s"
                % (what, text, ",".join("%s=..." % n for n in names))
            )
        out[name] = value
    return out


def words(text: str) -> list[str]:
    """``a,b`` as ``["a", "b"]``; the empty text is the empty list."""
    return [word for word in text.split(",") if word] if text else []
