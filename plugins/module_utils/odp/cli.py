# -*- coding: utf-8 -*-
# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``odp`` command: go-odp's tool, on the vswitch_odp client.

Subcommands work as in ``ip``: any word may be shortened while it stays
unambiguous (``odp d a dp0`` is ``odp datapath add dp0``), and an exact word
beats a longer one (``list`` against ``listen``). Options are ``--name=value``
(or ``--name value``) and may sit anywhere after the command words.

Errors are one line on stderr, ``odp: ...``, with exit status 1 (2 for a
command line that does not parse); ``ODP_DEBUG=1`` shows the traceback.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

import json
import os
import shlex
import signal
import struct
import subprocess
import sys
import time

from .text import flags as flow_options
from .errors import NoSuchFlow, OdpError, PermissionDenied
from .flows import Flow

PROG = "odp"
EXIT_ERROR = 1
EXIT_USAGE = 2
# tcpdump reads the pcap stream from stdin: -l prints line by line, -n
# avoids name lookups that would stall each packet.
TCPDUMP = ["tcpdump", "-n", "-l", "-r", "-"]
PCAP_HEADER = struct.Struct("=IHHiIII")
PCAP_RECORD = struct.Struct("=IIII")
PCAP_MAGIC_NSEC = 0xa1b23c4d
PCAP_SNAPLEN = 65535
LINKTYPE_ETHERNET = 1
ZERO_METADATA = ("recirc_id", "dp_hash", "skb_priority", "skb_mark", "ct_state", "ct_zone",
                 "ct_mark", "ct_label")


class UsageError(Exception):
    """The command line does not parse."""


class Stop(Exception):
    """SIGINT or SIGTERM arrived: stop listening."""


# -- the command tree -------------------------------------------------------

class Option:
    """``--name`` (a switch) or ``--name=VALUE``."""

    def __init__(self, name, help_text, metavar=None):
        self.name = name
        self.help = help_text
        self.metavar = metavar


JSON = Option("json", "print JSON for scripts")


class Command:
    """A leaf: its positional arguments, options and handler."""

    def __init__(self, args, descr, handler, options=(), nargs=None):
        self.args = args
        self.descr = descr
        self.handler = handler
        self.options = dict((o.name, o) for o in options)
        words = args.split()
        self.nargs = nargs or (len([w for w in words if not w.startswith("[")]), len(words))


class Group:
    """Named subcommands; ``default`` runs when no word follows."""

    def __init__(self, children, default=None):
        self.children = children
        self.default = default


def resolve(word, names, path):
    """The one command name ``word`` stands for: itself, or the only name it
    is a prefix of."""
    if word in names:
        return word
    matches = sorted(name for name in names if name.startswith(word))
    where = " ".join((PROG,) + tuple(path))
    if not matches:
        raise UsageError('unknown command "%s %s"; one of: %s'
                         % (where, word, ", ".join(sorted(names))))
    if len(matches) > 1:
        raise UsageError('ambiguous command "%s %s": %s'
                         % (where, word, ", ".join(matches)))
    return matches[0]


class Args:
    """What a handler gets: positionals, options (name -> value(s)) and the
    flow options in command-line order."""

    def __init__(self, path, positionals, options, flow):
        self.path = path
        self.positionals = positionals
        self.options = options
        self.flow = flow

    def get(self, name, default=None):
        return self.options.get(name, default)


def parse_leaf(command, path, tokens, flow=False):
    """Split ``tokens`` into positionals and options for ``command``."""
    positionals, options, flow_items = [], {}, []
    tokens = list(tokens)
    only_positionals = False
    while tokens:
        token = tokens.pop(0)
        if only_positionals or token == "-" or not token.startswith("-"):
            positionals.append(token)
            continue
        if token == "--":
            only_positionals = True
            continue
        name, has_value, value = token.lstrip("-").partition("=")
        option = command.options.get(name)
        is_flow = flow and name in flow_options.FLOW_OPTION_NAMES
        if option is None and not is_flow:
            raise UsageError("unknown option --%s for \"%s\"" % (name, " ".join((PROG,) + path)))
        if option is not None and option.metavar is None:
            if has_value:
                raise UsageError("option --%s takes no value" % name)
            options[name] = True
            continue
        if not has_value:
            if not tokens:
                raise UsageError("option --%s needs a value" % name)
            value = tokens.pop(0)
        if is_flow:
            flow_items.append((name, value))
        else:
            options[name] = value
    low, high = command.nargs
    if not low <= len(positionals) <= high:
        raise UsageError("%s: %s arguments; usage: %s %s" % (
            " ".join((PROG,) + path), "too many" if len(positionals) > high else "missing",
            " ".join((PROG,) + path), command.args))
    return Args(path, positionals, options, flow_items)


def dispatch(argv):
    """Walk the tree along ``argv``; ``(command, args)`` or a help request."""
    node, path = COMMANDS, ()
    held = []  # options met before the leaf (``odp --json vport``)
    tokens = list(argv)
    while isinstance(node, Group):
        while tokens and tokens[0].startswith("-") and tokens[0] != "-":
            held.append(tokens.pop(0))
        if any(t in ("-h", "--help") for t in held) or tokens[:1] == ["help"]:
            return None, path
        if not tokens:
            if node.default is None:
                raise UsageError('"%s" needs a subcommand: %s' % (
                    " ".join((PROG,) + path), ", ".join(sorted(node.children))))
            node = node.default
            break
        name = resolve(tokens.pop(0), node.children, path)
        path += (name,)
        node = node.children[name]
    tokens = held + tokens
    if "-h" in tokens or "--help" in tokens:
        return None, path
    return node, parse_leaf(node, path, tokens, flow=node.handler in FLOW_HANDLERS)


def usage_lines(node, path):
    """go-odp style usage: one line per command under ``node``."""
    if isinstance(node, Command):
        opts = " ".join("[--%s%s]" % (o.name, "=" + o.metavar if o.metavar else "")
                        for o in node.options.values())
        line = " ".join(w for w in ((PROG,) + path + (node.args, opts)) if w)
        if len(line) > 52:
            return ["  " + line, "  %-52s %s" % ("", node.descr)]
        return ["  %-52s %s" % (line, node.descr)]
    lines = usage_lines(node.default, path) if node.default else []
    for name in sorted(node.children):
        lines += usage_lines(node.children[name], path + (name,))
    return lines


def help_text(path):
    node = COMMANDS
    for name in path:
        node = node.children[name]
    lines = ["Usage:"] + usage_lines(node, path)
    if isinstance(node, Command) and node.handler in FLOW_HANDLERS:
        lines += ["", "Flow key options (each matches one field; omitted fields are wildcards):"]
        lines += _flag_lines(flow_options.KEY_FLAGS)
        lines += ["  --%-32s %s" % ("key=TEXT", "the whole key in ovs-dpctl syntax, instead of flags")]
        if node.handler is flow_add:
            lines += ["", "Action options:"]
            lines += _flag_lines(flow_options.SET_TUNNEL_FLAGS)
            lines += ["  --%-32s %s" % ("output=VPORT[,VPORT...]", "output to these vports, after any set"),
                      "  --%-32s %s" % ("actions=TEXT", "the whole action list in ovs-dpctl syntax"),
                      "  --%-32s %s" % ("file=F", "one flow's options per line (- for stdin), one batch")]
    lines += ["", "Commands and words may be shortened while unambiguous (odp d a dp0)."]
    return "\n".join(lines) + "\n"


def _flag_lines(flags):
    lines = []
    for flag in flags:
        metavar = flow_options.METAVARS[flag.kind]
        if flag.name.startswith("set-"):
            metavar = metavar.split("[")[0]  # a set action takes no mask
        lines.append("  --%-32s %s" % ("%s=%s" % (flag.name, metavar), flag.help))
    return lines


# -- output helpers ---------------------------------------------------------

def emit(line=""):
    """One line on stdout, flushed: output is often piped into grep."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def emit_json(value):
    emit(json.dumps(value, indent=2, sort_keys=True))


def _open_client():
    from .client import Client  # the client pulls in netlink; help needs neither
    return Client()


# -- datapaths --------------------------------------------------------------

def datapath_list(client, args):
    datapaths = client.datapaths()
    if args.get("json"):
        emit_json([dict(name=dp.name, ifindex=dp.ifindex, features=dp.features, stats=dp.stats)
                   for dp in datapaths])
        return
    for dp in datapaths:
        emit("%s: %s" % (dp.ifindex, dp.name))


def datapath_add(client, args):
    client.create_datapath(args.positionals[0])


def datapath_delete(client, args):
    client.delete_datapath(args.positionals[0])


def datapath_listen(client, args):
    from .upcalls import Listener
    datapath = args.positionals[0]
    port_names = _port_names(client, datapath)
    show_keys = args.get("keys")
    tcpdump = None
    # Both signals stop listening, even when the shell started us with
    # SIGINT ignored (``odp datapath listen dp0 &``).
    previous = dict((number, signal.signal(number, _raise_stop))
                    for number in (signal.SIGINT, signal.SIGTERM))
    try:
        with Listener(datapath, transport=client.transport) as listener:
            tcpdump = None if show_keys else _start_tcpdump()
            for upcall in listener:
                if upcall.cmd != "miss":
                    continue
                if show_keys:
                    emit(_flow_line(_miss_key(upcall.key), None, (), port_names,
                                    keep_actions=False))
                else:
                    _write_pcap_record(tcpdump.stdin, upcall.packet)
    except Stop:
        pass  # the normal way to stop listening
    except BrokenPipeError:
        # The reader (head, grep -m) is gone: stop quietly, and keep Python
        # from complaining when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if tcpdump is not None:
            _stop_tcpdump(tcpdump)


def _miss_key(key):
    """A miss's key without the metadata the kernel reports as zero when
    there is none: noise for a reader, and a flow that matched ``ct_label(0)``
    exactly would need conntrack labels, which not every kernel has."""
    return dict((name, value) for name, value in key.items()
                if name not in ZERO_METADATA or value)


def _raise_stop(_signum, _frame):
    raise Stop()


def _start_tcpdump():
    """tcpdump reading pcap from our pipe, in its own session so that a Ctrl-C
    reaches only us: we then close its input and it prints what it has."""
    try:
        tcpdump = subprocess.Popen(TCPDUMP, stdin=subprocess.PIPE, start_new_session=True)
    except OSError as exc:
        raise OdpError("cannot start tcpdump: %s" % exc)
    tcpdump.stdin.write(PCAP_HEADER.pack(PCAP_MAGIC_NSEC, 2, 4, 0, 0, PCAP_SNAPLEN, LINKTYPE_ETHERNET))
    tcpdump.stdin.flush()
    return tcpdump


def _write_pcap_record(pipe, packet):
    seconds, nanoseconds = divmod(time.time_ns(), 10 ** 9)
    pipe.write(PCAP_RECORD.pack(seconds, nanoseconds, len(packet), len(packet)) + packet)
    pipe.flush()


def _stop_tcpdump(tcpdump):
    try:
        tcpdump.stdin.close()
    except BrokenPipeError:
        pass
    tcpdump.wait()


# -- vports -----------------------------------------------------------------

def vport_list(client, args):
    names = args.positionals or [dp.name for dp in client.datapaths()]
    vports = [vport for name in names for vport in client.vports(name)]
    if args.get("json"):
        emit_json([dict(datapath=v.datapath, name=v.name, type=v.type, port_no=v.port_no,
                        port=v.port) for v in vports])
        return
    for vport in vports:
        emit(vport_line(vport))


def vport_line(vport):
    """A vport in ``vport add`` form: ``vxlan dp0 vx --port=4789``."""
    words = [vport.type, vport.datapath, vport.name]
    if vport.port is not None:
        words.append("--port=%d" % vport.port)
    return " ".join(words)


def _vport_add(vport_type):
    def add(client, args):
        datapath, name = args.positionals
        port = args.get("port")
        # The client applies the default ports (vxlan 4789, geneve 6081).
        client.create_vport(datapath, name, vport_type, port=None if port is None else _udp_port(port))
    return add


def _udp_port(text):
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise UsageError("--port: invalid value %r: expected a UDP port, 1 to 65535" % text)
    return int(text)


def vport_delete(client, args):
    name = args.positionals[-1]
    if len(args.positionals) == 2:
        client.delete_vport(args.positionals[0], name)
    else:
        # go-odp took the vport name alone: vport names are global.
        client.delete_vport(client.find_vport(name).datapath, name)


# -- flows ------------------------------------------------------------------

def _ports(client, datapath):
    return dict((v.name, v.port_no) for v in client.vports(datapath))


def _port_names(client, datapath):
    return dict((number, name) for name, number in _ports(client, datapath).items())


def _flow_line(key, mask, actions, port_names, keep_actions=True):
    words = flow_options.format_flow_words(key, mask, actions, port_names)
    if not keep_actions:
        words = [w for w in words if not w.startswith("--actions=")]
    return " ".join(_quote(word) for word in words)


def _quote(word):
    """``--name=value`` with only the value shell-quoted, for readability."""
    name, _eq, value = word.partition("=")
    return "%s=%s" % (name, shlex.quote(value))


def flow_list(client, args):
    datapath = args.positionals[0]
    port_names = _port_names(client, datapath)
    flows = client.flows(datapath)
    if args.get("json"):
        emit_json([_flow_json(flow, port_names) for flow in flows])
        return
    for flow in flows:
        line = _flow_line(flow.key, flow.mask, flow.actions, port_names)
        if args.get("stats"):
            # A comment, so that the line still reads back into ``flow add``.
            line += "  # packets:%d bytes:%d used:%s" % (flow.packets, flow.bytes, _used(flow.used))
        emit(line)


def _used(used):
    """Seconds since last use, as ovs-dpctl prints it: the kernel reports the
    time of last use in milliseconds of the monotonic clock."""
    if not used:
        return "never"
    return "%.3fs" % max(time.monotonic() - used / 1000.0, 0.0)


def _flow_json(flow, port_names):
    from .text import format_actions, format_key
    return dict(
        options=_flow_line(flow.key, flow.mask, flow.actions, port_names),
        key=format_key(flow.key, flow.mask, port_names),
        actions=format_actions(flow.actions, port_names),
        packets=flow.packets, bytes=flow.bytes, used=flow.used)


def _parse_flow(client, datapath, items, with_actions=True):
    return flow_options.flow_from_options(items, _ports(client, datapath), with_actions)


def flow_add(client, args):
    datapath = args.positionals[0]
    path = args.get("file")
    if path is None:
        flow = Flow(*_parse_flow(client, datapath, args.flow))
        try:
            client.put_flow(datapath, flow)
        except NoSuchFlow as exc:
            raise _overlap(exc)
        return
    if args.flow:
        raise UsageError("--file takes every flow from the file: no other flow options")
    ports = _ports(client, datapath)
    lines = _read_flow_file(path, args)
    flows = []
    for number, items in lines:
        try:
            flows.append(Flow(*flow_options.flow_from_options(items, ports)))
        except OdpError as exc:
            raise OdpError("%s:%d: %s" % (path, number, exc))
    failed = [(number, error) for (number, _items), error in zip(lines, client.put_flows(datapath, flows))
              if error is not None]
    for number, error in failed:
        _say("%s:%d: %s" % (path, number, _overlap(error) if isinstance(error, NoSuchFlow) else error))
    if failed:
        raise OdpError("%d of %d flows from %s not installed" % (len(failed), len(flows), path))


def _overlap(error):
    """A flow NEW fails with ENOENT when a flow with another mask already
    matches the new key: the kernel refuses overlapping flows."""
    return OdpError("%s: a flow with another mask already matches this key (the kernel "
                    "refuses overlapping flows; delete that one first)"
                    % str(error).replace(" does not exist", ""))


def _read_flow_file(path, args):
    """``[(line number, flow options)]`` of ``path`` (``-``: stdin); ``#``
    starts a comment, as in ``flow list --stats`` output."""
    handle = sys.stdin if path == "-" else _open_text(path)
    try:
        lines = handle.read().splitlines()
    finally:
        if handle is not sys.stdin:
            handle.close()
    command = COMMANDS.children["flow"].children["add"]
    result = []
    for number, line in enumerate(lines, 1):
        try:
            words = shlex.split(line, comments=True)
            # The datapath is the command line's; "-" stands in for it.
            line_args = parse_leaf(command, args.path, ["-"] + words, flow=True) if words else None
        except (ValueError, UsageError) as exc:
            raise UsageError("%s:%d: %s" % (path, number, exc))
        if line_args is None:
            continue
        if line_args.options:
            raise UsageError("%s:%d: a line holds flow options only" % (path, number))
        result.append((number, line_args.flow))
    return result


def _open_text(path):
    try:
        return open(path)
    except OSError as exc:
        raise OdpError("cannot read flow file %s: %s" % (path, exc.strerror))


def flow_delete(client, args):
    datapath = args.positionals[0]
    key, mask, _actions = _parse_flow(client, datapath, args.flow, with_actions=False)
    client.delete_flow(datapath, key, mask)


def flow_clear(client, args):
    datapath = args.positionals[0]
    key, mask, _actions = _parse_flow(client, datapath, args.flow, with_actions=False)
    client.clear_flow_stats(datapath, key, mask)


FLOW_HANDLERS = (flow_add, flow_delete, flow_clear)
PORT = Option("port", "UDP port", metavar="N")

COMMANDS = Group({
    "datapath": Group({
        "add": Command("<datapath>", "add a datapath", datapath_add),
        "delete": Command("<datapath>", "delete a datapath", datapath_delete),
        "list": Command("", "list datapaths", datapath_list, [JSON]),
        "listen": Command("<datapath>", "show misses through tcpdump (--keys: their flow keys)",
                          datapath_listen, [Option("keys", "print each miss's key as flow options")]),
    }, default=Command("", "list datapaths", datapath_list, [JSON])),
    "vport": Group({
        "add": Group({
            "netdev": Command("<datapath> <netdev>", "add a network device as a vport",
                              _vport_add("netdev")),
            "internal": Command("<datapath> <vport>", "add an internal vport", _vport_add("internal")),
            "vxlan": Command("<datapath> <vport>", "add a VXLAN vport (--port default 4789)",
                             _vport_add("vxlan"), [PORT]),
            "geneve": Command("<datapath> <vport>", "add a Geneve vport (--port default 6081)",
                              _vport_add("geneve"), [PORT]),
            "gre": Command("<datapath> <vport>", "add a GRE vport", _vport_add("gre")),
        }),
        "delete": Command("[<datapath>] <vport>", "delete a vport", vport_delete, nargs=(1, 2)),
        "list": Command("[<datapath>]", "list vports in `vport add` form", vport_list, [JSON]),
    }, default=Command("", "list every vport in `vport add` form", vport_list, [JSON])),
    "flow": Group({
        "add": Command("<datapath> <key options> <action options>",
                       "add a flow, or replace the actions of the flow with that key",
                       flow_add, [Option("file", "flows from a file", metavar="F")], nargs=(1, 1)),
        "delete": Command("<datapath> <key options>", "delete a flow", flow_delete, nargs=(1, 1)),
        "clear": Command("<datapath> <key options>", "reset a flow's statistics", flow_clear, nargs=(1, 1)),
        "list": Command("<datapath>", "list flows in `flow add` form", flow_list,
                        [Option("stats", "add packets, bytes and last use"), JSON]),
    }),
})


def main(argv=None):
    """Run one ``odp`` command; the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = os.environ.get("ODP_DEBUG") == "1"
    try:
        command, args = dispatch(argv)
        if command is None:
            sys.stdout.write(help_text(args))
            return 0
        with _open_client() as client:
            command.handler(client, args)
        return 0
    except UsageError as exc:
        return _fail(exc, EXIT_USAGE, debug)
    except PermissionDenied as exc:
        if "CAP_NET_ADMIN" not in str(exc):
            exc = "%s (odp needs root or CAP_NET_ADMIN)" % exc
        return _fail(exc, EXIT_ERROR, debug)
    except OdpError as exc:
        return _fail(exc, EXIT_ERROR, debug)
    except KeyboardInterrupt:
        return 130


def _fail(error, status, debug):
    if debug and isinstance(error, Exception):
        raise error
    _say(error)
    return status


def _say(message):
    """One error line on stderr."""
    sys.stderr.write("%s: %s\n" % (PROG, message))
    sys.stderr.flush()


if __name__ == "__main__":
    # `python -m vswitch_odp.cli`: a command, not an Ansible module (which never runs this).
    sys.exit(main())  # pylint: disable=ansible-bad-function
