# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A progress line on a terminal's stderr: ``flow add --file`` of many flows."""

from __future__ import annotations

import time
from typing import Callable, TextIO

# Redrawn at most this often: a terminal is slow to write to.
INTERVAL = 0.5


def format_progress(sent: int, seconds: float, done: int = 0, total: int | None = None) -> str:
    """``12,000 flows sent, 6,000 flows/s, 0:05 left``: the flows sent, the
    rate, and the time left from the bytes of the file ``done`` of ``total``
    (none for stdin, or before a rate is known)."""
    words = "%s flow%s sent" % (format(sent, ","), "" if sent == 1 else "s")
    if seconds <= 0 or not sent:
        return words
    words += ", %s flows/s" % format(int(sent / seconds), ",")
    if total and 0 < done < total:
        left = seconds * (total - done) / done
        words += ", %s left" % format_duration(left)
    return words


def format_duration(seconds: float) -> str:
    """``0:05``, ``12:40``, ``1:02:03``: whole seconds, rounded up."""
    whole = int(seconds) + (seconds % 1 > 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return "%d:%02d:%02d" % (hours, minutes, secs)
    return "%d:%02d" % (minutes, secs)


class Progress:
    """Redraws :func:`format_progress` on ``stream`` (a terminal) in place."""

    def __init__(
        self, stream: TextIO, total: int | None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.stream = stream
        self.total = total
        self.clock = clock
        self.start = clock()
        self.shown = self.start  # nothing before INTERVAL: a quick file leaves no trace
        self.drawn = False

    def update(self, sent: int, done: int) -> None:
        now = self.clock()
        if now - self.shown >= INTERVAL:
            self._draw(sent, done, now)

    def finish(self, sent: int, done: int) -> None:
        """The last figures, and the line ended; nothing when none was drawn
        (a quick file leaves no trace)."""
        if self.drawn:
            self._draw(sent, done, self.clock())
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self, sent: int, done: int, now: float) -> None:
        self.shown = now
        self.drawn = True
        # \r back to the start, \x1b[K clears what a longer line left.
        line = format_progress(sent, now - self.start, done, self.total)
        self.stream.write("\r%s\x1b[K" % line)
        self.stream.flush()
