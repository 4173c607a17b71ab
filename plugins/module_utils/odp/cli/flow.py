# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``odp flow``: list, get, add, delete, clear and flush flows.

Every flow is printed as the ``flow add`` options that recreate it
(:mod:`text.flags`), in listings and in error messages alike, with
vport names and UFIDs as ovs-dpctl prints them (``ufid:UUID``).
"""

from __future__ import annotations

import re
import shlex
import sys
from typing import Dict, List, Optional, Tuple, cast

from ..text import flags as flow_options
from ..text import format_actions, format_key, format_ufid, parse_ufid
from ..errors import NoSuchDatapath, NoSuchFlow, OdpError
from ..flows import Flow, monotonic_ms, used_seconds
from ..netlink import error_for
from .output import emit, emit_json, quote, say
from .parser import PROG, UsageError, command_name, parse_flow_line

_QUOTING = re.compile(r"['\"\\]")
_SHELL_BLANKS = re.compile("[ \t\r\n]+")  # shlex's whitespace
FlowId = Tuple[Optional[dict], Optional[dict], Optional[bytes]]  # key, mask, UFID


# -- vports, UFIDs and the printed forms ---------------------------------------

def ports(client, datapath: str) -> Dict[str, int]:
    """Vport name -> port number, for the options that name vports."""
    return dict((v.name, v.port_no) for v in client.vports(datapath))


def port_names(client, datapath: str) -> Dict[int, str]:
    return _inverse(ports(client, datapath))


def flow_words(key, mask, actions, names, ufid=None, keep_actions=True) -> List[str]:
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
        return OdpError("%s: a flow with another mask already matches this key (the kernel "
                        "refuses overlapping flows; delete that one first)" % what)
    return error_for(cast(int, error.errno), verb, what, NoSuchFlow, error.extack)


def _listing(flow, names, args, now_ms, with_ufid) -> str:
    line = flow_line(flow.key, flow.mask, flow.actions, names, flow.ufid if with_ufid else None)
    if args.get("stats"):
        # A comment, so that the line still reads back into ``flow add``.
        used = used_seconds(flow.used, now_ms)
        line += "  # packets:%d bytes:%d used:%s" % (
            flow.packets, flow.bytes, "never" if used is None else "%.3fs" % used)
    return line


def _flow_json(flow, names, now_ms) -> dict:
    return dict(
        options=flow_line(flow.key, flow.mask, flow.actions, names),
        key=format_key(flow.key, flow.mask, names),
        actions=format_actions(flow.actions, names),
        ufid=None if flow.ufid is None else format_ufid(flow.ufid),
        packets=flow.packets, bytes=flow.bytes, used=used_seconds(flow.used, now_ms))


# -- the commands ---------------------------------------------------------------

def flow_list(client, args) -> None:
    datapath = args.positionals[0]
    names = port_names(client, datapath)
    flows = client.flows(datapath)
    now_ms = monotonic_ms()
    if args.get("json"):
        emit_json([_flow_json(flow, names, now_ms) for flow in flows])
        return
    for flow in flows:
        emit(_listing(flow, names, args, now_ms, args.get("ufid")))


def _identify(args, vports: Dict[str, int]) -> FlowId:
    """``(key, mask, ufid)`` of the one flow a command names."""
    if not args.flow:
        ufid = _ufid_of(args.get("ufid"), None)
        if ufid is None:
            flush = ("; %s flow flush DATAPATH deletes every flow" % PROG
                     if args.path[-1] == "delete" else "")
            raise UsageError("%s: which flow? Give its key options, --key or --ufid%s"
                             % (command_name(args.path), flush))
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


def _inverse(vports: Dict[str, int]) -> Dict[int, str]:
    return dict((number, name) for name, number in vports.items())


def _ufid_of(given: Optional[str], in_key: Optional[bytes]) -> Optional[bytes]:
    """The UFID of ``--ufid`` or of a ``--key=ufid:UUID,...`` (one, or the same)."""
    ufid = parse_ufid(given, "--ufid") if given else None
    if ufid is not None and in_key is not None and ufid != in_key:
        raise UsageError("--ufid=%s and --key=%s,... name two flows"
                         % (format_ufid(ufid), format_ufid(in_key)))
    return in_key if ufid is None else ufid


def _flow_of(items, ufid: Optional[str], vports: Dict[str, int]) -> Flow:
    options = flow_options.flow_from_options(items, vports)
    return Flow(options.key, options.mask, options.actions,
                ufid=_ufid_of(ufid, options.ufid))


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
    numbers: list[int] = []
    flows: list[Flow] = []
    seen: dict[tuple, int] = {}
    for number, items, ufid in read_flow_file(path, args):
        try:
            flow = _flow_of(items, ufid, vports)
        except OdpError as exc:
            raise OdpError("%s:%d: %s" % (path, number, exc))
        if flow.identity() in seen:
            raise OdpError("%s:%d: the same flow key as line %d" % (
                path, number, seen[flow.identity()]))
        seen[flow.identity()] = number
        numbers.append(number)
        flows.append(flow)
    failed = [(number, flow, error) for number, flow, error
              in zip(numbers, flows, client.put_flows(datapath, flows)) if error is not None]
    for number, flow, error in failed:
        error = told(error, "add", datapath, flow.key, flow.mask, flow.ufid, names)
        say("%s:%d: %s" % (path, number, error))
    if failed:
        raise OdpError("%d of %d flows from %s not installed" % (len(failed), len(flows), path))


# -- flow files -------------------------------------------------------------------

def read_flow_file(path: str, args) -> List[Tuple[int, list, Optional[str]]]:
    """``[(line number, flow options, ufid)]`` of ``path`` (``-``: stdin),
    each line read as ``flow add`` options; ``#`` starts a comment, as in
    ``flow list --stats`` output. Every line is checked before any flow is
    sent: text that is not UTF-8, or binary, is refused with its line."""
    result = []
    for number, raw in enumerate(read_bytes(path).split(b"\n"), 1):
        line = _text_line(path, number, raw.rstrip(b"\r"))
        try:
            words = shell_words(line)
            if words:
                result.append((number,) + parse_flow_line(args.command, args.path, words))
        except (ValueError, UsageError) as exc:
            raise UsageError("%s:%d: %s" % (path, number, exc))
    return result


def shell_words(line: str) -> List[str]:
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
        raise OdpError("%s:%d: not UTF-8 text (byte 0x%02x at column %d): not a flow file?"
                       % (path, number, raw[exc.start], exc.start + 1))
    if "\0" in line:
        raise OdpError("%s:%d: a NUL byte at column %d: binary data, not a flow file"
                       % (path, number, line.index("\0") + 1))
    return line
