# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``odp flow``: list, get, add, delete, clear and flush flows.

Every flow is printed as the ``flow add`` options that recreate it
(:mod:`text.flags`), in listings and in error messages alike, with
vport names and UFIDs as ovs-dpctl prints them (``ufid:UUID``).
"""

from __future__ import annotations

import os
import re
import shlex
import stat
import sys
from collections.abc import Iterator
from typing import Optional, cast

from ..errors import NoSuchDatapath, NoSuchFlow, OdpError
from ..flowcheck import validate_flow
from ..flowfilter import FlowFilter, port_number
from ..flows import Flow, complete_key, monotonic_ms, used_seconds
from ..flowstream import StreamedDump
from ..netlink import error_for
from ..text import flags as flow_options
from ..text import format_actions, format_key, format_ufid, parse_ufid
from ..text.listing import DumpFormatter
from .output import emit, emit_json, emit_lines, json_array_lines, quote, say
from .parser import PROG, UsageError, command_name, parse_flow_line
from .progress import Progress

_QUOTING = re.compile(r"['\"\\]")
_SHELL_BLANKS = re.compile("[ \t\r\n]+")  # shlex's whitespace
# Flows per transaction of flow add --file: memory stays bounded, and one
# put_flows call is big enough to batch well.
BATCH = 1000
FlowId = tuple[Optional[dict], Optional[dict], Optional[bytes]]  # key, mask, UFID


# -- vports, UFIDs and the printed forms ---------------------------------------


def ports(client, datapath: str) -> dict[str, int]:
    """Vport name -> port number, for the options that name vports."""
    return {v.name: v.port_no for v in client.vports(datapath)}


def port_names(client, datapath: str) -> dict[int, str]:
    return _inverse(ports(client, datapath))


def flow_words(key, mask, actions, names, ufid=None, keep_actions=True) -> list[str]:
    """The ``flow add`` options of a flow, ``--ufid`` first when given."""
    words = [] if key is None else flow_options.format_flow_words(key, mask, actions, names)
    if not keep_actions:
        words = [w for w in words if not w.startswith("--%s=" % flow_options.TEXT_ACTIONS)]
    if ufid is not None:
        words.insert(0, "--ufid=" + format_ufid(ufid))
    return words


def flow_line(key, mask, actions, names, ufid=None, keep_actions=True) -> str:
    return " ".join(quote(w) for w in flow_words(key, mask, actions, names, ufid, keep_actions))


def flow_what(datapath: str, key, mask, ufid, names) -> str:
    """``flow --in-port=va ... in datapath dp0``: a flow in a message."""
    return "flow %s in datapath %s" % (flow_line(key, mask, (), names, ufid, False), datapath)


def told(error: OdpError, verb: str, datapath: str, key, mask, ufid, names) -> OdpError:
    """A kernel refusal about one flow, told with the flow as ``flow list``
    prints it; any other error as it is."""
    if not hasattr(error, "extack") or isinstance(error, NoSuchDatapath):
        return error  # not the kernel's answer about this flow
    what = flow_what(datapath, key, mask, ufid, names)
    if verb == "add" and isinstance(error, NoSuchFlow):
        # A flow NEW fails with ENOENT when a flow with another mask already
        # matches the new key: the kernel refuses overlapping flows.
        return OdpError(
            "%s: a flow with another mask already matches this key (the kernel "
            "refuses overlapping flows; delete that one first)" % what
        )
    return error_for(cast(int, error.errno), verb, what, NoSuchFlow, error.extack)


def _options(flow, names, with_ufid, formatter) -> str:
    """:func:`flow_line` of ``flow``; a dump's flows by ``formatter``'s plans."""
    if formatter is None:
        return flow_line(flow.key, flow.mask, flow.actions, names, flow.ufid if with_ufid else None)
    words = formatter.words(flow)  # quoted
    if with_ufid and flow.ufid is not None:
        words.insert(0, quote("--ufid=" + format_ufid(flow.ufid)))
    return " ".join(words)


def _listing(flow, names, args, now_ms, with_ufid, formatter=None) -> str:
    line = _options(flow, names, with_ufid, formatter)
    if args.get("stats"):
        # A comment, so that the line still reads back into ``flow add``.
        used = used_seconds(flow.used, now_ms)
        line += "  # packets:%d bytes:%d used:%s" % (
            flow.packets,
            flow.bytes,
            "never" if used is None else "%.3fs" % used,
        )
    return line


def _flow_json(flow, names, now_ms, formatter=None) -> dict:
    return {
        "options": _options(flow, names, False, formatter),
        "key": format_key(flow.key, flow.mask, names),
        "actions": format_actions(flow.actions, names),
        "ufid": None if flow.ufid is None else format_ufid(flow.ufid),
        "packets": flow.packets,
        "bytes": flow.bytes,
        "used": used_seconds(flow.used, now_ms),
    }


# -- the commands ---------------------------------------------------------------


def flow_list(client, args) -> None:
    """Stream the flows of one dump (:class:`flowstream.StreamedDump`): a
    line per flow, or with ``--json`` a streamed JSON array, an object a line."""
    datapath = args.positionals[0]
    vports = ports(client, datapath)
    names = _inverse(vports)
    in_port = args.get("in-port")
    keep = FlowFilter(
        None if in_port is None else port_number(in_port, vports, "--in-port"),
        args.get("filter"),
        names,
    )
    dump = StreamedDump(client, datapath, keep)
    now_ms = monotonic_ms()
    formatter = DumpFormatter(names, quote)
    if args.get("json"):
        emit_lines(json_array_lines(_flow_json(flow, names, now_ms, formatter) for flow in dump))
    else:
        with_ufid = args.get("ufid")
        emit_lines(_listing(flow, names, args, now_ms, with_ufid, formatter) for flow in dump)
    if not dump.consistent:
        say(
            "the flow table of datapath %s changed during the listing (%d flows listed, %d "
            "returned twice and dropped): flows added or deleted meanwhile may be missing; "
            "list again for a complete one" % (datapath, dump.seen, dump.duplicates)
        )


def _identify(args, vports: dict[str, int]) -> FlowId:
    """``(key, mask, ufid)`` of the one flow a command names."""
    if not args.flow:
        ufid = _ufid_of(args.get("ufid"), None)
        if ufid is None:
            flush = (
                "; %s flow flush DATAPATH deletes every flow" % PROG
                if args.path[-1] == "delete"
                else ""
            )
            raise UsageError(
                "%s: which flow? Give its key options, --key or --ufid%s"
                % (command_name(args.path), flush)
            )
        return None, None, ufid
    options = flow_options.flow_from_options(args.flow, vports, with_actions=False)
    return options.key, options.mask, _ufid_of(args.get("ufid"), options.ufid)


def _one_flow(client, args, operation, verb: str):
    """``(operation(datapath, key, mask, ufid=ufid), port names)`` for the
    one flow the command names, a refusal told with that flow."""
    datapath = args.positionals[0]
    vports = ports(client, datapath)
    key, mask, ufid = _identify(args, vports)
    try:
        return operation(datapath, key, mask, ufid=ufid), _inverse(vports)
    except OdpError as exc:
        raise told(exc, verb, datapath, key, mask, ufid, _inverse(vports))


def flow_get(client, args) -> None:
    flow, names = _one_flow(client, args, client.get_flow, "get")
    if args.get("json"):
        emit_json(_flow_json(flow, names, monotonic_ms()))
    else:
        emit(_listing(flow, names, args, monotonic_ms(), True))


def flow_delete(client, args) -> None:
    _one_flow(client, args, client.delete_flow, "delete")


def flow_clear(client, args) -> None:
    _one_flow(client, args, client.clear_flow_stats, "clear the statistics of")


def flow_flush(client, args) -> None:
    client.flush_flows(args.positionals[0])


def _inverse(vports: dict[str, int]) -> dict[int, str]:
    return {number: name for name, number in vports.items()}


def _ufid_of(given: str | None, in_key: bytes | None) -> bytes | None:
    """The UFID of ``--ufid`` or of a ``--key=ufid:UUID,...`` (one, or the same)."""
    ufid = parse_ufid(given, "--ufid") if given else None
    if ufid is not None and in_key is not None and ufid != in_key:
        raise UsageError(
            "--ufid=%s and --key=%s,... name two flows" % (format_ufid(ufid), format_ufid(in_key))
        )
    return in_key if ufid is None else ufid


def _flow_of(items, ufid: str | None, vports: dict[str, int]) -> Flow:
    options = flow_options.flow_from_options(items, vports)
    return Flow(options.key, options.mask, options.actions, ufid=_ufid_of(ufid, options.ufid))


def flow_add(client, args) -> None:
    datapath = args.positionals[0]
    path = args.get("file")
    vports = ports(client, datapath)
    names = _inverse(vports)
    if path is None:
        flow = _flow_of(args.flow, args.get("ufid"), vports)
        try:
            client.put_flow(datapath, flow)
        except OdpError as exc:
            raise told(exc, "add", datapath, flow.key, flow.mask, flow.ufid, names)
        return
    if args.flow or args.get("ufid"):
        raise UsageError("--file takes every flow from the file: no other flow options")
    source = FlowFile(path, args)
    sender = _FileSender(client, datapath, path, names)
    progress = Progress(sys.stderr, source.size) if _terminal(sys.stderr) else None
    seen: dict[int, int] = {}  # the hash of each flow's match -> its line
    try:
        for number, items, ufid in source:
            try:
                flow = _flow_of(items, ufid, vports)
                key, mask = complete_key(flow.key, flow.mask)
                validate_flow(key, mask, flow.actions)
            except OdpError as exc:
                raise OdpError("%s:%d: %s" % (path, number, exc))
            # A hash, not the match: 200,000 lines in little memory.
            ident = hash(flow.identity())
            if ident in seen:
                raise OdpError("%s:%d: the same flow key as line %d" % (path, number, seen[ident]))
            seen[ident] = number
            sender.add(number, flow)
            if progress is not None:
                progress.update(sender.applied, source.done)
    except (OdpError, UsageError) as exc:
        # Refused before it was sent: the flows of the lines before it go in.
        sender.send()
        raise type(exc)(
            "%s; stopped there: the %s before it %s applied, none from that line "
            "on" % (exc, flows_count(sender.applied), "was" if sender.applied == 1 else "were")
        )
    finally:
        if progress is not None:
            progress.finish(sender.applied, source.done)
    sender.send()


def flows_count(count: int) -> str:
    return "%d flow%s" % (count, "" if count == 1 else "s")


def _terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class _FileSender:
    """The flows of a file, sent :data:`BATCH` at a time; the first refusal
    stops the file, told with its line and what was applied."""

    def __init__(self, client, datapath: str, path: str, names: dict[int, str]) -> None:
        self.client, self.datapath, self.path, self.names = client, datapath, path, names
        self.batch: list[tuple[int, Flow]] = []
        self.applied = 0

    def add(self, number: int, flow: Flow) -> None:
        self.batch.append((number, flow))
        if len(self.batch) >= BATCH:
            self.send()

    def send(self) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        try:
            results = self.client.put_flows(self.datapath, [flow for _number, flow in batch])
        except OdpError as exc:
            raise OdpError(
                "%s:%d-%d: %s; nothing of these lines was sent: the %s before them "
                "applied" % (self.path, batch[0][0], batch[-1][0], exc, flows_count(self.applied))
            )
        for index, error in enumerate(results):
            if error is None:
                continue
            number, flow = batch[index]
            after = results[index + 1 :]
            more = sum(1 for later in after if later is None)
            self.applied += index + more
            error = told(error, "add", self.datapath, flow.key, flow.mask, flow.ufid, self.names)
            sent_with = (
                "; the kernel had lines %d-%d in the same batch, and applied %d of "
                "those %d" % (batch[index + 1][0], batch[-1][0], more, len(after))
                if after
                else ""
            )
            raise OdpError(
                "%s:%d: %s; stopped there: %s applied, those of the lines before "
                "it%s; no later line was sent"
                % (self.path, number, error, flows_count(self.applied), sent_with)
            )
        self.applied += len(batch)


# -- flow files -------------------------------------------------------------------


class FlowFile:
    """The flows of file ``path`` (``-``: stdin) as ``(line number, flow
    options, ufid)``, read a line at a time: each line read as ``flow add``
    options, ``#`` starting a comment, as in ``flow list --stats`` output.
    Text that is not UTF-8, or binary, is refused with its line (in a file,
    before the first line is handed on). ``done`` is
    the bytes read so far, ``size`` the file's (None for stdin or a pipe)."""

    def __init__(self, path: str, args) -> None:
        self.path, self.args = path, args
        self.done = 0
        self.size: int | None = None
        self.handle = self._open()

    def _open(self):
        if self.path == "-":
            return getattr(sys.stdin, "buffer", None) or _encoded(sys.stdin)
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 (kept open for the reader) pylint: disable=consider-using-with
        except OSError as exc:
            raise OdpError("cannot read flow file %s: %s" % (self.path, exc.strerror))
        info = os.fstat(handle.fileno())
        if stat.S_ISREG(info.st_mode):
            self.size = info.st_size
            self._check_text(handle)
        return handle

    def _check_text(self, handle) -> None:
        """A file that is not text changes nothing: its bytes are checked
        before any flow is sent (a quick pass, no parsing; stdin is checked
        line by line as it comes)."""
        try:
            for number, raw in enumerate(handle, 1):
                _text_line(self.path, number, raw.rstrip(b"\n").rstrip(b"\r"))
            handle.seek(0)
        except BaseException:
            handle.close()
            raise

    def __iter__(self) -> Iterator[tuple[int, list, str | None]]:
        path, args = self.path, self.args
        try:
            for number, raw in enumerate(self.handle, 1):
                self.done += len(raw)
                line = _text_line(path, number, raw.rstrip(b"\n").rstrip(b"\r"))
                try:
                    words = shell_words(line)
                    if words:
                        yield (number, *parse_flow_line(args.command, args.path, words))
                except (ValueError, UsageError) as exc:
                    raise UsageError("%s:%d: %s" % (path, number, exc))
        except OSError as exc:
            raise OdpError("cannot read flow file %s: %s" % (path, exc.strerror))
        finally:
            if self.handle is not getattr(sys.stdin, "buffer", sys.stdin):
                self.handle.close()


def read_flow_file(path: str, args) -> Iterator[tuple[int, list, str | None]]:
    """``(line number, flow options, ufid)`` of each flow of ``path``, streamed
    (:class:`FlowFile`)."""
    return iter(FlowFile(path, args))


def _encoded(text_stream) -> Iterator[bytes]:
    """A text stream's lines as UTF-8 bytes (stdin replaced by tests)."""
    return (line.encode("utf-8") for line in text_stream)


def shell_words(line: str) -> list[str]:
    """``shlex.split(line, comments=True)``; a line without quotes or
    backslashes is split without shlex, whose tokenizer is most of the cost
    of reading a large file."""
    if _QUOTING.search(line):
        return shlex.split(line, comments=True)
    return [word for word in _SHELL_BLANKS.split(line.split("#", 1)[0]) if word]


def read_bytes(path: str, what: str = "flow file") -> bytes:
    """The bytes of file ``path`` (``-``: stdin); an error naming ``what``."""
    if path == "-":
        stdin = getattr(sys.stdin, "buffer", None)
        return stdin.read() if stdin is not None else sys.stdin.read().encode("utf-8")
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise OdpError("cannot read %s %s: %s" % (what, path, exc.strerror))


def _text_line(path: str, number: int, raw: bytes) -> str:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise OdpError(
            "%s:%d: not UTF-8 text (byte 0x%02x at column %d): not a flow file?"
            % (path, number, raw[exc.start], exc.start + 1)
        )
    if "\0" in line:
        raise OdpError(
            "%s:%d: a NUL byte at column %d: binary data, not a flow file"
            % (path, number, line.index("\0") + 1)
        )
    return line
