# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks a state document is made of, each naming the path of what it
checks: ``datapaths.ovl.vports.red.port_no: invalid value 0: ...``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import errors
from ..names import check_ifname
from ..text.lex import did_you_mean

BRIEF_TEXT = 60


class DocumentError(errors.ValidationError):
    """A state document that does not validate; ``field`` is the path.

    The message shows a long or structured value briefly (``a list of 10000
    items``), so an error about a whole section stays one readable line.
    """

    def __init__(self, field: str, value: Any, reason: str) -> None:
        errors.ValidationError.__init__(self, field, value, reason)
        self.args = ("%s: invalid value %s: %s" % (field, brief(value), reason),)


def brief(value: Any) -> str:
    """``value`` as an error message shows it."""
    if isinstance(value, dict):
        return "a mapping" if value else "an empty mapping"
    if isinstance(value, (list, tuple)):
        return "a list of %d items" % len(value) if value else "an empty list"
    if isinstance(value, str) and len(value) > BRIEF_TEXT:
        return repr(value[:BRIEF_TEXT] + "...")
    return repr(value)


def join(where: str, name: Any) -> str:
    """The path of ``name`` (a key, or a list index) below ``where``."""
    if isinstance(name, int):
        return "%s[%d]" % (where, name)
    return "%s.%s" % (where, name) if where else str(name)


def mapping(value: Any, where: str, what: str, allowed: Iterable[str] | None = None) -> dict:
    """``value`` as a mapping (empty when None); with ``allowed``, its keys
    must be among them."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DocumentError(where, value, "must be a mapping of %s" % what)
    if allowed is not None:
        allowed = tuple(allowed)
        for key in value:
            if key not in allowed:
                raise DocumentError(
                    join(where, key),
                    value[key],
                    "unknown setting%s; one of: %s"
                    % (did_you_mean(key, allowed), ", ".join(allowed)),
                )
    return value


def sequence(value: Any, where: str, what: str) -> list:
    """``value`` as a list (empty when None)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise DocumentError(where, value, "must be a list of %s" % what)
    return value


def integer(value: Any, where: str, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DocumentError(where, value, "%s is an integer from %d to %d" % (what, low, high))
    return value


def boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise DocumentError(where, value, "must be true or false")
    return value


def choice(value: Any, where: str, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if value not in choices:
        raise DocumentError(
            where, value, "must be one of %s%s" % (", ".join(choices), did_you_mean(value, choices))
        )
    return value


def ifname(name: Any, where: str) -> str:
    """A network device name, by the client's rule (what the kernel accepts)."""
    try:
        return check_ifname(where, name)
    except errors.ValidationError as exc:
        raise DocumentError(where, name, exc.reason)
