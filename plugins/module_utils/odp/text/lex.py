# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lexing the flow text: ``name(args)`` and ``name=value`` items between commas,
and the did-you-mean hint every "unknown name" error of the syntax carries."""

from __future__ import annotations

import difflib
import re
import reprlib

from ..errors import ValidationError

_CLOSE = {"(": ")", "[": "]", "{": "}"}
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SPECIAL = re.compile(r"[,()\[\]{}]")
_PARENS = re.compile(r"[()]")
# How much of a long input an error message quotes.
QUOTE_CHARS = 60


def split(text: str, field: str) -> list:
    """Top-level comma separated items of ``text``; brackets must balance."""
    items, stack, start = [], [], 0
    for match in _SPECIAL.finditer(text):  # the special characters only: keys are long
        char, index = match.group(), match.start()
        if char in _CLOSE:
            stack.append(_CLOSE[char])
        elif char != ",":
            if not stack or stack.pop() != char:
                raise ValidationError(field, text, "unbalanced %r at offset %d" % (char, index))
        elif not stack:
            items.append(text[start:index].strip())
            start = index + 1
    if stack:
        raise ValidationError(field, text, "unbalanced parentheses: %r missing" % stack[-1])
    items.append(text[start:].strip())
    if items == [""]:
        return []
    if "" in items:
        raise ValidationError(field, text, "empty item between commas")
    return items


def call(item: str, field: str):
    """``name(args)`` -> ``(name, args)``; a bare ``name`` -> ``(name, None)``."""
    paren = item.find("(")
    if paren < 0:
        return item, None
    name = item[:paren].strip()
    if not _NAME_RE.match(name) or not item.endswith(")"):
        raise ValidationError(field, item, "expected name(...), trailing text after ')'?")
    depth = 0
    last = len(item) - 1
    for match in _PARENS.finditer(item, paren):
        depth += 1 if match.group() == "(" else -1
        if depth == 0 and match.start() != last:
            raise ValidationError(field, item, "trailing text after %r" % item[: match.start() + 1])
    return name, item[paren + 1 : -1]


def options(text: str, field: str) -> list:
    """Items of an argument list as ``(name, value)``: ``name=value`` gives a
    string, ``name(inner)`` the inner text, a bare ``name`` None."""
    result = []
    for item in split(text, field):
        name, sep, value = item.partition("=")
        if sep and "(" not in name:
            result.append((name.strip(), value.strip()))
        else:
            result.append(call(item, field))
    return result


def items_of(value, field: str) -> list:
    """The structured (dict) form reduced to the same items as the text."""
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, str):
        return options(value, field)
    raise ValidationError(field, value, "expected a dict or a text of name=value items")


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = QUOTE_CHARS


def quote(value) -> str:
    """What an error message should repeat of a long or deeply nested value."""
    if isinstance(value, str):
        return value if len(value) <= QUOTE_CHARS else value[:QUOTE_CHARS] + "..."
    return _REPR.repr(value)


# --------------------------------------------------------------------------
# Did you mean: fewest edits first (a swap of neighbours is one edit), so that
# ``dts`` gives ``dst`` rather than ``tos``, which difflib ranks the same.


def closest(name: str, choices) -> str | None:
    """The choice ``name`` most likely misspells, or None."""
    name = str(name)
    limit = max(1, len(name) // 3)
    best = None
    for index, choice in enumerate(choices):
        choice = str(choice)
        edits = _edits(name, choice)
        ratio = difflib.SequenceMatcher(None, name, choice).ratio()
        if edits > limit and ratio < 0.6:  # 0.6: difflib's own cutoff
            continue
        rank = (edits, -ratio, index)
        if best is None or rank < best[0]:
            best = (rank, choice)
    return None if best is None else best[1]


def did_you_mean(name: str, choices) -> str:
    """`` (did you mean 'x'?)`` for an error message, or an empty string."""
    choice = closest(name, choices)
    return "" if choice is None else " (did you mean %r?)" % choice


def _edits(first: str, second: str) -> int:
    """Optimal string alignment distance: insertions, deletions,
    substitutions and swaps of two neighbouring characters."""
    previous2: list[int] = []
    previous = list(range(len(second) + 1))
    for i, char in enumerate(first, 1):
        current = [i] + [0] * len(second)
        for j, other in enumerate(second, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            if i > 1 and j > 1 and char == second[j - 2] and first[i - 2] == other:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]
