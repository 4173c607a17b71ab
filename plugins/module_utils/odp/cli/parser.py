# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``odp`` command line: the command tree's model, its words, and argparse.

Command words are resolved first, as ``ip`` does: a word may be shortened
while it stays unambiguous, and an exact word beats a longer one (``list``
against ``listen``). The rest of the line goes to an argparse parser built
for that one command, once go-odp's spellings are brought to argparse's:
Go's flag package takes ``-in-port=x`` as well as ``--in-port=x``, and
``--keys=false`` for a switch. Options may sit anywhere after the command
words, as ``--name=value`` or ``--name value``; ``--`` ends them; flow
options keep their command-line order.
"""

from __future__ import annotations

import argparse
import functools
import textwrap
from collections.abc import Sequence
from typing import Callable, cast

from ..text import flags as flow_options
from ..text.lex import closest
from .output import PROG

WIDTH = 80
HELP_POSITION = 30
HELP_WORD = "help"
# go-odp's boolean words (Go's strconv.ParseBool), for ``--switch=BOOL``.
GO_TRUE = ("1", "t", "T", "true", "TRUE", "True")
GO_FALSE = ("0", "f", "F", "false", "FALSE", "False")
SHORTEN_HINT = "Commands and words may be shortened while unambiguous (odp d a dp0)."


class UsageError(Exception):
    """The command line does not parse (exit status 2)."""


class Option:
    """``--name`` (a switch when ``metavar`` is None) or ``--name=METAVAR``.

    ``values`` says what completes the value: ``"datapath"``, ``"vport"``,
    ``"netns"``, ``"file"`` or None.
    """

    def __init__(
        self,
        name: str,
        help_text: str,
        metavar: str | None = None,
        short: str | None = None,
        values: str | None = None,
    ):
        self.name = name
        self.help = help_text
        self.metavar = metavar
        self.short = short
        self.values = values

    @property
    def switch(self) -> bool:
        return self.metavar is None

    def spelling(self) -> str:
        """``[--name=METAVAR]`` as usage lines show it."""
        return "[--%s%s]" % (self.name, "" if self.switch else "=%s" % self.metavar)


NETNS = Option(
    "netns",
    "work in network namespace NETNS (a name under /run/netns, as ip -n)",
    "NETNS",
    short="n",
    values="netns",
)
HELP = Option("help", "show this help", short="h")
VERSION = Option("version", "print the version", short="V")
COMMON_OPTIONS = (NETNS, HELP)

# Flow options: (name, METAVAR, help, "key" or "action"), from the flag dialect.
KEY_TEXT_HELP = "the whole key in ovs-dpctl syntax, instead of key options"
FLOW_OPTIONS = (
    [
        (flag.name, flow_options.METAVARS[flag.kind], flag.help, "key")
        for flag in flow_options.KEY_FLAGS
    ]
    + [(flow_options.TEXT_KEY, "TEXT", KEY_TEXT_HELP, "key")]
    # A set action takes no mask: its metavar stops before "[/MASK]".
    + [
        (flag.name, flow_options.METAVARS[flag.kind].split("[")[0], flag.help, "action")
        for flag in flow_options.SET_TUNNEL_FLAGS
    ]
    + [
        (
            flow_options.OUTPUT,
            "VPORT[,VPORT...]",
            "output to these vports, after any set",
            "action",
        ),
        (flow_options.TEXT_ACTIONS, "TEXT", "the whole action list in ovs-dpctl syntax", "action"),
    ]
)
VPORT_VALUED = ("in-port", flow_options.OUTPUT)
FLOW_KEY = "key"  # Command.flow: key options only (actions are refused)
FLOW_FULL = "flow"  # Command.flow: key and action options


class Command:
    """A leaf of the tree: positional arguments, options and one handler.

    ``args`` is go-odp's ``<datapath> <vport>`` notation (``[<x>]``
    optional); ``flow`` is None, FLOW_KEY or FLOW_FULL. ``values`` says
    what completes each positional: space-separated kinds of names
    (``"datapath"``, ``"vport"``, ``"netdev"``), or None; by default a
    ``<datapath>`` takes datapath names.
    """

    def __init__(
        self,
        args: str,
        descr: str,
        handler: Callable,
        options: Sequence[Option] = (),
        nargs: tuple[int, int] | None = None,
        flow: str | None = None,
        usage: Sequence[str] = (),
        values: Sequence[str | None] | None = None,
    ):
        self.args = args
        self.descr = descr
        self.handler = handler
        self.options = list(options)
        self.flow = flow
        self.usage = list(usage)  # more usage lines, after the first
        words = [w for w in args.split() if w.startswith(("<", "["))]
        self.nargs = nargs or (len([w for w in words if not w.startswith("[")]), len(words))
        self.values = (
            list(values)
            if values is not None
            else ["datapath" if w.strip("[]") == "<datapath>" else None for w in words]
        )

    def all_options(self) -> list[Option]:
        return self.options + list(COMMON_OPTIONS)

    def flow_options(self) -> list[tuple[str, str, str, str]]:
        """Every flow option this command takes.

        A key-only command takes the action options too, so that it can say
        that it takes none (a clearer error than an unknown option).
        """
        return list(FLOW_OPTIONS) if self.flow else []

    def shown_flow_options(self, section: str) -> list[tuple[str, str, str, str]]:
        return [
            o
            for o in self.flow_options()
            if o[3] == section and (section == "key" or self.flow == FLOW_FULL)
        ]

    def usage_line(self, path: Sequence[str]) -> str:
        words = [PROG] + list(path) + ([self.args] if self.args else [])
        return " ".join(words + [o.spelling() for o in self.options])


class Group:
    """Named subcommands; ``default`` runs when no word follows."""

    def __init__(self, children: dict[str, Group | Command], default: Command | None = None):
        self.children = children
        self.default = default

    def leaves(self, path: tuple[str, ...] = ()):
        """``(path, command)`` of every command under this group, in order."""
        if self.default is not None:
            yield path, self.default
        for name in sorted(self.children):
            child = self.children[name]
            if isinstance(child, Group):
                yield from child.leaves((*path, name))
            else:
                yield (*path, name), child


def command_name(path: Sequence[str]) -> str:
    """``odp flow add``: the command ``path`` names, as messages say it."""
    return " ".join((PROG, *tuple(path)))


def resolve(word: str, names, path: Sequence[str]) -> str:
    """The one command name ``word`` stands for: itself, or the only name it
    is a prefix of."""
    if word in names:
        return word
    matches = sorted(name for name in names if name.startswith(word))
    where = command_name(path)
    if not matches:
        guess = closest(word, names)
        hint = ' (did you mean "%s"?)' % guess if guess else ""
        raise UsageError(
            'unknown command "%s %s"%s; one of: %s' % (where, word, hint, ", ".join(sorted(names)))
        )
    if len(matches) > 1:
        raise UsageError('ambiguous command "%s %s": %s' % (where, word, ", ".join(matches)))
    return matches[0]


class Args:
    """What a handler gets: ``positionals``, ``options`` (name -> value),
    ``flow`` (the flow options, ``[(name, text)]`` in command-line order) and
    ``netns``; ``command`` and ``path`` say which command runs."""

    def __init__(
        self,
        command: Command,
        path: tuple[str, ...],
        positionals: list[str],
        options: dict,
        flow: list[tuple[str, str]],
    ):
        self.command = command
        self.path = path
        self.positionals = positionals
        self.options = options
        self.flow = flow

    def get(self, name: str, default=None):
        value = self.options.get(name)
        return default if value is None else value

    @property
    def netns(self) -> str | None:
        return self.options.get("netns")


class Request:
    """What the command line asks: ``help`` (of ``path``), ``version``, or
    ``run`` (``args.command`` with ``args``)."""

    def __init__(self, kind: str, path: tuple[str, ...] = (), args: Args | None = None):
        self.kind = kind
        self.path = path
        self.args = args


# -- the words --------------------------------------------------------------


def value_options(root: Group) -> frozenset:
    """Long and short names of every option that takes a value: what an
    option met before the command words consumes."""
    names = {name for name, _m, _h, _s in FLOW_OPTIONS} | {NETNS.name, NETNS.short}
    for _path, command in root.leaves():
        names.update(o.name for o in command.options if not o.switch)
    return frozenset(names)


def _is_option(token: str) -> bool:
    return token.startswith("-") and token != "-"


def parse_command_line(argv: Sequence[str], root: Group) -> Request:
    """The :class:`Request` of ``argv`` (the words after ``odp``)."""
    tokens = list(argv)
    node: Group | Command = root
    path: tuple[str, ...] = ()
    held = []  # options before the command's last word (``odp -n ns1 vport``)
    takes_value = value_options(root)
    while isinstance(node, Group):
        while tokens and _is_option(tokens[0]) and tokens[0] != "--":
            token = tokens.pop(0)
            held.append(token)
            if "=" not in token and token.lstrip("-") in takes_value and tokens:
                held.append(tokens.pop(0))
        if any(t in ("-h", "--help") for t in held) or tokens[:1] == [HELP_WORD]:
            return Request(
                "help", _help_path(node, path, tokens[1:] if tokens[:1] == [HELP_WORD] else tokens)
            )
        if not path and any(t in ("-V", "--version") for t in held):
            return Request("version")
        if not tokens:
            if node.default is None:
                raise UsageError(
                    '"%s" needs a subcommand: %s'
                    % (command_name(path), ", ".join(sorted(node.children)))
                )
            node = node.default
            break
        name = resolve(tokens.pop(0), node.children, path)
        path += (name,)
        node = node.children[name]
    tokens = held + tokens
    if any(t in ("-h", "--help") for t in _before_end(tokens)):
        return Request("help", path)
    return Request("run", path, parse_leaf(node, path, tokens))


def _help_path(node, path, words):
    """The path ``odp help flow add`` (or ``odp flow a --help``) asks about."""
    for word in words:
        if _is_option(word) or not isinstance(node, Group):
            continue
        name = resolve(word, node.children, path)
        path += (name,)
        node = node.children[name]
    return path


def _before_end(tokens):
    return tokens[: tokens.index("--")] if "--" in tokens else tokens


def find(root: Group, path: Sequence[str]) -> Group | Command:
    node: Group | Command = root
    for name in path:
        node = cast(Group, node).children[name]  # every node above a leaf is a Group
    return node


# -- one command's options ----------------------------------------------------


class _FlowOption(argparse.Action):
    """Appends ``(name, value)`` to ``flow``: flow options keep their order."""

    def __call__(self, parser, namespace, values, option_string=None):
        namespace.flow.append((option_string[2:], values))


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError("%s: %s" % (self.prog, message))


@functools.cache
def build_parser(command: Command, path: tuple[str, ...]) -> argparse.ArgumentParser:
    """The argparse parser of one command: its options, the common ones
    and its flow options (positionals are counted by :func:`parse_leaf`).
    Built once: ``flow add --file`` parses every line with it."""
    parser = _Parser(prog=command_name(path), add_help=False, allow_abbrev=False)
    for option in [*command.options, NETNS]:
        names = ["--" + option.name] + (["-" + option.short] if option.short else [])
        if option.switch:
            parser.add_argument(*names, dest=option.name, action="store_true")
        else:
            parser.add_argument(*names, dest=option.name, metavar=option.metavar)
    for name, metavar, _help, _section in command.flow_options():
        parser.add_argument("--" + name, dest="flow", action=_FlowOption, metavar=metavar)
    parser.add_argument("positionals", nargs="*")
    return parser


@functools.cache
def _long_options(command: Command) -> dict[str, Option | None]:
    """Long option name -> Option (None for a flow option, which takes a value)."""
    names: dict[str, Option | None] = {o.name: o for o in [*command.options, NETNS]}
    names.update((name, None) for name, _m, _h, _s in command.flow_options())
    return names


def _unknown_option(command, path, token):
    where = command_name(path)
    guess = closest(token.lstrip("-").partition("=")[0], _long_options(command))
    hint = " (did you mean --%s?)" % guess if guess else ""
    return UsageError('unknown option %s for "%s"%s' % (token.partition("=")[0], where, hint))


def normalize(command: Command, path: Sequence[str], tokens: Sequence[str]) -> list[str]:
    """``tokens`` as argparse reads them unambiguously: every option long and
    joined to its value (``--name=value``), go-odp's single dash and
    ``--switch=BOOL`` rewritten; ``--`` and what follows kept as they are.

    Unknown options are refused here, with the likely intended one.
    """
    longs = _long_options(command)
    shorts = {o.short: o for o in [*command.options, NETNS] if o.short}
    out: list[str] = []
    tokens = list(tokens)
    while tokens:
        token = tokens.pop(0)
        if token == "--":
            return [*out, token, *tokens]
        if not _is_option(token):
            out.append(token)
            continue
        name, equals, value = token.lstrip("-").partition("=")
        has_value = bool(equals)
        if not token.startswith("--") and token[1] in shorts and name not in longs:
            # A short option: -n NS, -nNS or -n=NS.
            short, rest = shorts[token[1]], token[2:]
            if short.switch and rest:
                raise UsageError("option -%s takes no value" % short.short)
            name, has_value, value = short.name, bool(rest), rest[1:] if rest[:1] == "=" else rest
        if name not in longs:
            raise _unknown_option(command, path, token)
        option = longs[name]
        if option is not None and option.switch:
            if not has_value or value in GO_TRUE:
                out.append("--" + name)
            elif value not in GO_FALSE:
                raise UsageError(
                    "option --%s takes no value (or true or false, as in go-odp)" % name
                )
            continue
        if not has_value:
            if not tokens:
                raise UsageError("option --%s needs a value" % name)
            value = tokens.pop(0)
        out.append("--%s=%s" % (name, value))
    return out


def parse_leaf(command: Command, path: Sequence[str], tokens: Sequence[str]) -> Args:
    """The :class:`Args` of ``tokens`` for ``command``."""
    tokens = normalize(command, path, tokens)
    end = tokens.index("--") if "--" in tokens else len(tokens)
    namespace = argparse.Namespace(flow=[])
    build_parser(command, tuple(path)).parse_args(tokens[:end], namespace)
    positionals = list(namespace.positionals) + tokens[end + 1 :]
    low, high = command.nargs
    if not low <= len(positionals) <= high:
        where = command_name(path)
        raise UsageError(
            "%s: %s arguments; usage: %s %s"
            % (where, "too many" if len(positionals) > high else "missing", where, command.args)
        )
    options = {o.name: getattr(namespace, o.name) for o in [*command.options, NETNS]}
    return Args(command, tuple(path), positionals, options, list(namespace.flow))


def parse_flow_line(
    command: Command, path: Sequence[str], words: Sequence[str]
) -> tuple[list[tuple[str, str]], str | None]:
    """``(flow options, ufid)`` of one line of a flow file, read as
    ``command`` reads its flow options, ``--ufid`` included. Nothing else
    goes on a line, so argparse is not needed: this is the hot path of a
    file of many thousand flows."""
    flow_names = frozenset(name for name, _m, _h, _s in command.flow_options())
    items, ufid = [], None
    for token in normalize(command, path, words):
        name, _eq, value = token[2:].partition("=")
        if token.startswith("--") and name in flow_names:
            items.append((name, value))
        elif token.startswith("--") and name == "ufid":
            ufid = value
        else:
            raise UsageError("a line holds flow options only")
    return items, ufid


# -- help ---------------------------------------------------------------------


def _wrap(text: str, indent: int, first: int = 0) -> list[str]:
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=" " * first,
        subsequent_indent=" " * indent,
        break_on_hyphens=False,
        break_long_words=False,
    )


def _option_lines(spelling: str, text: str) -> list[str]:
    """``  --name=X   help``, the help wrapped in its column (80 columns)."""
    head = "  " + spelling
    if len(head) + 2 > HELP_POSITION:
        return [head, *_wrap(text, HELP_POSITION, HELP_POSITION)]
    return _wrap(head.ljust(HELP_POSITION) + text, HELP_POSITION)


def option_spelling(option: Option) -> str:
    long = "--" + option.name + ("" if option.switch else "=%s" % option.metavar)
    return ("-%s, " % option.short if option.short else "") + long


def command_help(command: Command, path: Sequence[str]) -> str:
    lines = _wrap("Usage: " + command.usage_line(path), 11)
    for usage in command.usage:
        lines += _wrap(usage, 11, 7)
    lines += ["", *_wrap(command.descr[0].upper() + command.descr[1:] + ".", 0)]
    lines += ["", "Options:"]
    for option in command.all_options():
        lines += _option_lines(option_spelling(option), option.help)
    for section, title in (
        ("key", "Flow key options (each matches one field; omitted fields are wildcards):"),
        ("action", "Action options (none: the flow drops what it matches):"),
    ):
        shown = command.shown_flow_options(section)
        if shown:
            lines += ["", *_wrap(title, 0)]
            for name, metavar, text, _section in shown:
                lines += _option_lines("--%s=%s" % (name, metavar), text)
    lines += ["", SHORTEN_HINT]
    return "\n".join(lines) + "\n"


def group_help(root: Group, path: Sequence[str]) -> str:
    """go-odp's help: every command under ``path``, with what it does."""
    node = cast(Group, find(root, path))
    lines = ["Usage:"]
    for leaf_path, command in node.leaves(tuple(path)):
        lines += _wrap(command.usage_line(leaf_path), 8, 2)
        lines += _wrap(command.descr, 6, 6)
    lines += ["", "Options of every command:"]
    for option in ([VERSION] if not path else []) + list(COMMON_OPTIONS):
        lines += _option_lines(option_spelling(option), option.help)
    lines += [
        "",
        SHORTEN_HINT,
        '"%s COMMAND --help" shows the options of a command.' % command_name(path),
    ]
    return "\n".join(lines) + "\n"


def help_text(root: Group, path: Sequence[str]) -> str:
    node = find(root, path)
    if isinstance(node, Group):
        return group_help(root, path)
    return command_help(node, path)
