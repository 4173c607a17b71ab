# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the ``odp`` command writes: lines on stdout, one-line errors on stderr."""

from __future__ import annotations

import json
import os
import shlex
import signal
import sys
from collections.abc import Iterable, Iterator

PROG = "odp"
# A reader that went away (``odp flow list dp0 | head``): the status a
# process killed by SIGPIPE has in the shell, without the traceback.
EXIT_READER_GONE = 128 + signal.SIGPIPE


def emit(line: str = "") -> None:
    """One line on stdout, flushed: output is often piped into grep."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def emit_lines(lines: Iterable[str]) -> None:
    """Lines on stdout as they come, flushed once at the end: a listing of
    100,000 flows, not a flush per line (a pipe still gets every full buffer)."""
    write = sys.stdout.write
    for line in lines:
        write(line + "\n")
    sys.stdout.flush()


def emit_json(value) -> None:
    emit(json.dumps(value, indent=2, sort_keys=True))


def json_array_lines(values: Iterable) -> Iterator[str]:
    """A JSON array streamed: ``[``, each value on one line, ``]``; the whole
    output is still one JSON document."""
    yield "["
    previous = None
    for value in values:
        if previous is not None:
            yield previous + ","
        previous = json.dumps(value, sort_keys=True)
    if previous is not None:
        yield previous
    yield "]"


def say(message) -> None:
    """One error line on stderr."""
    sys.stderr.write("%s: %s\n" % (PROG, message))
    sys.stderr.flush()


def quote(word: str) -> str:
    """``--name=value`` with only the value shell-quoted, for readability."""
    name, _eq, value = word.partition("=")
    return "%s=%s" % (name, shlex.quote(value))


def reader_gone() -> int:
    """Stop quietly once stdout's reader is gone: what is still buffered
    goes to /dev/null, so that Python's flush at exit does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass  # stdout is no file descriptor (tests): nothing to flush at exit
    return EXIT_READER_GONE
