# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the streaming commands (``datapath listen``, ``vport monitor``) stop:
SIGINT or SIGTERM ends the stream with exit status 0."""

from __future__ import annotations

import contextlib
import signal


class Stop(Exception):
    """SIGINT or SIGTERM arrived: stop the stream."""


def _raise_stop(_signum, _frame):
    raise Stop()


@contextlib.contextmanager
def until_signalled():
    """Run the body until SIGINT or SIGTERM, which end it quietly; both
    count even when the shell started us with SIGINT ignored (``... &``)."""
    previous = {
        number: signal.signal(number, _raise_stop) for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    except Stop:
        pass  # the normal way to stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
