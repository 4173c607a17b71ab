# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``odp show`` and ``odp apply``: the datapaths as a state document
(docs/state.md).

``odp apply`` prints the plan, one line per object, and the summary line,
then applies it; its exit status says what happened:

* 0: no changes (the datapaths are as the document says);
* 3: changed, and the result verified (with ``--check``: changes to make);
* 4: failed, and rolled back: the datapaths are as they were (verified);
* 5: failed, and the rollback failed too: the state is neither;
* 1: an error before anything was changed (the document, a name another
  datapath holds, permissions); 2: a command line that does not parse.
"""

from __future__ import annotations

import difflib

from ..errors import ApplyFailed
from ..state import formats
from ..state.apply import apply
from ..state.document import Document, parse_document
from ..state.show import show
from .flow import read_bytes
from .output import emit, say
from .parser import UsageError

EXIT_NO_CHANGES = 0
EXIT_CHANGED = 3
EXIT_ROLLED_BACK = 4
EXIT_ROLLBACK_FAILED = 5
FORMATS = ("yaml", "json")


def _format(args) -> str:
    fmt = args.get("format") or ("yaml" if formats.have_yaml() else "json")
    if fmt not in FORMATS:
        raise UsageError("odp show: --format is yaml or json, not %r" % fmt)
    return fmt


def state_show(client, args) -> None:
    document = show(client, args.positionals or None)
    text = formats.dump(document.to_dict(), _format(args))
    emit(text.rstrip("\n"))


def state_apply(client, args) -> int:
    path = args.positionals[0]
    source = "stdin" if path == "-" else path
    desired = parse_document(
        formats.load(read_bytes(path, "state document"), source), check_flows=False
    )

    def planned(changes):
        for line in changes.lines():
            emit(line)

    try:
        result = apply(
            client,
            desired,
            check=bool(args.get("check")),
            planned=planned,
            force=bool(args.get("force")),
        )
    except ApplyFailed as exc:
        say(exc)
        return EXIT_ROLLED_BACK if exc.restored else EXIT_ROLLBACK_FAILED
    if args.get("diff"):
        for line in diff_lines(result.before, result.after):
            emit(line)
    emit(result.plan.summary())
    return EXIT_CHANGED if result.changed else EXIT_NO_CHANGES


def diff_lines(before: Document, after: Document) -> list[str]:
    """A unified diff of each owned datapath's document, before and after."""
    fmt = "yaml" if formats.have_yaml() else "json"
    lines = []
    for name in sorted(set(before.datapaths) | set(after.datapaths)):
        old, new = (_text(document, name, fmt) for document in (before, after))
        lines += [
            line.rstrip("\n")
            for line in difflib.unified_diff(old, new, "%s (before)" % name, "%s (after)" % name)
        ]
    return lines


def _text(document: Document, name: str, fmt: str) -> list[str]:
    datapath = document.datapaths.get(name)
    if datapath is None:
        return []
    return formats.dump({name: datapath.to_dict()}, fmt).splitlines(True)
