# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``odp`` command: go-odp's tool, on the vswitch_odp client.

Subcommands work as in ``ip``: any word may be shortened while it stays
unambiguous (``odp d a dp0`` is ``odp datapath add dp0``), and an exact word
beats a longer one (``list`` against ``listen``). ``-n NETNS`` works in a
network namespace, as ``ip -n`` does. The tree is in commands.py, the
parsing in parser.py, and each command is one function of datapath.py,
listen.py, vport.py, flow.py or state.py (show, apply).

Errors are one line on stderr, ``odp: ...``, with exit status 1 (2 for a
command line that does not parse, 141 when the reader of the output went
away; ``odp apply`` has more, see state.py); ``ODP_DEBUG=1`` shows the
traceback.
"""

from __future__ import annotations

import os
import sys
from typing import cast

from ..errors import OdpError, PermissionDenied
from . import complete, output, parser
from .commands import COMMANDS
from .datapath import by_ifindex
from .output import emit, say
from .parser import PROG, UsageError, resolve  # noqa: F401 pylint: disable=unused-import
from .vport import vport_line  # noqa: F401 pylint: disable=unused-import

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
PACKAGE = "vswitch-odp"


def _open_client(netns: str | None = None):
    from ..client import Client  # pylint: disable=import-outside-toplevel

    return Client(netns=netns)  # the client pulls in netlink: help needs neither


def version() -> str:
    """The package's version: ``vswitch_odp.__version__``, else its metadata."""
    try:
        from .. import __version__  # pylint: disable=import-outside-toplevel

        return __version__
    except ImportError:
        pass
    try:
        from importlib.metadata import PackageNotFoundError  # pylint: disable=import-outside-toplevel
        from importlib.metadata import version as installed  # pylint: disable=import-outside-toplevel
    except ImportError:  # pragma: no cover (Python < 3.8)
        return "unknown"
    try:
        return installed(PACKAGE)
    except PackageNotFoundError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    """Run one ``odp`` command; the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = os.environ.get("ODP_DEBUG") == "1"
    try:
        if argv[:1] == [complete.ENTRY]:
            return complete.main(argv[1:], COMMANDS, _open_client)
        request = parser.parse_command_line(argv, COMMANDS)
        if request.kind == "help":
            sys.stdout.write(parser.help_text(COMMANDS, request.path))
            sys.stdout.flush()
            return 0
        if request.kind == "version":
            emit("%s %s" % (PROG, version()))
            return 0
        args = cast(parser.Args, request.args)  # a "run" request has them
        with _open_client(args.netns) as client:
            by_ifindex(client, args)
            # A handler may return an exit status of its own (odp apply).
            return args.command.handler(client, args) or 0
    except BrokenPipeError:
        return output.reader_gone()
    except UsageError as exc:
        return _fail(exc, EXIT_USAGE, debug)
    except PermissionDenied as exc:
        told = (
            exc
            if "CAP_NET_ADMIN" in str(exc)
            else PermissionDenied("%s (odp needs root or CAP_NET_ADMIN)" % exc)
        )
        return _fail(told, EXIT_ERROR, debug, exc)
    except OdpError as exc:
        return _fail(exc, EXIT_ERROR, debug)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:  # pylint: disable=broad-except
        # A bug: still one line for the user, the traceback for developers.
        return _fail(
            OdpError(
                "internal error: %s: %s (ODP_DEBUG=1 shows the traceback)"
                % (type(exc).__name__, exc)
            ),
            EXIT_ERROR,
            debug,
            exc,
        )


def _fail(error: Exception, status: int, debug: bool, cause: Exception | None = None) -> int:
    if debug:
        raise cause or error
    say(error)
    return status
