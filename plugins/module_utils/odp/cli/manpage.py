# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""odp(1), generated from the command tree at build time (tools/odp_build_backend.py).

``python -m vswitch_odp.cli.manpage`` prints it.
"""

from __future__ import annotations

import re
import sys
from typing import cast

from .parser import COMMON_OPTIONS, PROG, VERSION, Command, Group, option_spelling

DESCRIPTION = (
    "odp drives the Open vSwitch kernel datapath directly, over generic netlink: datapaths, "
    "vports and flows, with no ovs-vswitchd and no OVSDB. It keeps the syntax of go-odp's "
    "tool, and its listings read back as its input: each line of odp vport list is a vport "
    "add command, each line of odp flow list the options of a flow add.",
    "As with ip(8), a command word may be shortened while it stays unambiguous (odp d a dp0 "
    "is odp datapath add dp0), and an exact word beats a longer one (list against listen). "
    "Options are written --name=value or --name value, anywhere after the command words; -- "
    "ends them. go-odp's -name=value and --switch=false are taken too.",
    "odp needs root, or CAP_NET_ADMIN, to change the datapath; listing it needs no "
    "privileges. The openvswitch kernel module must be loaded, or loadable.",
)
FLOWS = (
    "A flow is a key, which matches packets, and a list of actions. Key options match one "
    "field each; fields that no option names are wildcards. Numbers take /MASK (or &MASK) for "
    "a masked match. --key and --actions take the ovs-dpctl syntax instead, for everything "
    "the options do not cover. With no action option, the flow drops what it matches."
)
EXIT_STATUS = [
    ("0", "success"),
    ("1", "an error from the datapath, or a bad value, with a one-line message"),
    ("2", "a command line that does not parse"),
    ("3", "odp apply: changed, and the result verified (--check: changes to make)"),
    ("4", "odp apply: failed, and rolled back: the datapaths are as they were"),
    ("5", "odp apply: failed, and the rollback failed too: check the datapaths"),
    ("130", "interrupted (SIGINT)"),
    (
        "141",
        "the reader of the output went away (odp flow list dp0 | head), "
        "as for a process killed by SIGPIPE",
    ),
]
EXAMPLES = [
    (
        "A datapath joining two network devices:",
        [
            "odp datapath add dp0",
            "odp vport add netdev dp0 veth-a",
            "odp vport add netdev dp0 veth-b",
            "odp flow add dp0 --in-port=veth-a --output=veth-b",
            "odp flow add dp0 --in-port=veth-b --output=veth-a",
            "odp flow list --stats dp0",
        ],
    ),
    (
        "Save the datapaths as a state document, and make them so again later:",
        ["odp show > state.yml", "odp apply --check state.yml", "odp apply state.yml"],
    ),
    (
        "Save a flow table and restore it, in one batch:",
        ["odp flow list dp0 > flows", "odp flow flush dp0", "odp flow add dp0 --file=flows"],
    ),
    ("The datapaths of a network namespace:", ["odp -n ns1 datapath"]),
]


def _text(text: str) -> str:
    """Plain text as roff: backslashes and hyphens escaped, no line taken
    for a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return re.sub(r"(?m)^([.'])", r"\\&\1", text)


def _bold(text: str) -> str:
    return "\\fB%s\\fR" % _text(text)


def _usage(words: str) -> str:
    """A usage line: the command words bold, the rest as written."""
    head, rest = [], words.split()
    while rest and not rest[0].startswith(("<", "[")):
        head.append(rest.pop(0))
    return _bold(" ".join(head)) + (" " + _text(" ".join(rest)) if rest else "")


def _item(term: str, text: str) -> list[str]:
    return [".TP", term, _text(text)]


def _option(spelling: str) -> str:
    """``--name=METAVAR`` with the name bold and the metavar italic."""
    name, eq, metavar = spelling.partition("=")
    return _bold(name) + ("=\\fI%s\\fR" % _text(metavar) if eq else "")


def render(root: Group, version: str | None = None) -> str:
    """The man page, as roff (man macros)."""
    if version is None:
        from . import version as installed  # pylint: disable=import-outside-toplevel

        version = installed()
    lines = [
        '.TH ODP 1 "" "%s" "User Commands"' % _text("vswitch-odp " + version),
        ".SH NAME",
        "odp \\- control the Open vSwitch kernel datapath",
        ".SH SYNOPSIS",
        "%s [\\fB\\-n\\fR \\fINETNS\\fR] \\fICOMMAND\\fR [\\fIARGUMENTS\\fR] "
        "[\\fIOPTIONS\\fR]" % _bold(PROG),
        ".br",
        "%s \\fBhelp\\fR [\\fICOMMAND\\fR]" % _bold(PROG),
        ".br",
        "%s \\fB\\-\\-version\\fR" % _bold(PROG),
        ".SH DESCRIPTION",
    ]
    for paragraph in DESCRIPTION:
        lines += [".PP", _text(paragraph)]
    lines += [".SH COMMANDS"]
    for path, command in root.leaves():
        lines += [".TP", _usage(command.usage_line(path))]
        lines += [_text(command.descr[0].upper() + command.descr[1:] + ".")]
        for usage in command.usage:
            lines += [".br", "Also: " + _usage(usage)]
        for option in command.options:
            lines += [".RS", ".TP", _option(option_spelling(option)), _text(option.help), ".RE"]
    lines += [".SH OPTIONS", "Every command takes:"]
    for option in [VERSION, *list(COMMON_OPTIONS)]:
        short, _comma, long = option_spelling(option).rpartition(", ")
        term = (_bold(short) + ", " if short else "") + _option(long)
        lines += _item(term, option.help)
    flow_add = cast(Command, cast(Group, root.children["flow"]).children["add"])
    lines += [".SH FLOWS", _text(FLOWS)]
    for section, title in (("key", "Key options"), ("action", "Action options")):
        lines += [".SS " + title]
        for name, metavar, text, _section in flow_add.shown_flow_options(section):
            lines += _item(_option("--%s=%s" % (name, metavar)), text)
    lines += [".SH EXIT STATUS"]
    for status, text in EXIT_STATUS:
        lines += _item(_bold(status), text)
    lines += [".SH ENVIRONMENT"]
    lines += _item(_bold("ODP_DEBUG=1"), "show the traceback of an error, for developers")
    lines += [".SH FILES"]
    lines += _item(
        _bold("/run/netns/NETNS"),
        "the network namespaces that -n names, as ip netns add makes them",
    )
    lines += [".SH EXAMPLES"]
    for text, commands in EXAMPLES:
        lines += [".PP", _text(text), ".PP", ".nf", ".RS"] + [_text(c) for c in commands]
        lines += [".RE", ".fi"]
    lines += [".SH SEE ALSO", "\\fBovs\\-dpctl\\fR(8), \\fBip\\-netns\\fR(8), \\fBtcpdump\\fR(8)"]
    return "\n".join(lines) + "\n"


def main() -> int:
    from .commands import COMMANDS  # pylint: disable=import-outside-toplevel

    sys.stdout.write(render(COMMANDS))
    return 0


if __name__ == "__main__":
    sys.exit(main())  # pylint: disable=ansible-bad-function
