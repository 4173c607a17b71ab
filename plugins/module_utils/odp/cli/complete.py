# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shell completion: ``odp __complete BREAKS LINE`` prints the candidates for
the last word of LINE, one per line.

The bash and zsh scripts (completion/) only pass the line: the words come
from the command tree, and datapath and vport names from the kernel (a
datapath or vport GET needs no privileges). ``BREAKS`` are the characters
the shell splits words on (bash's COMP_WORDBREAKS, empty for zsh): each
candidate is printed from the last of them on, as the shell wants it.
Completion never fails: what cannot be looked up is not offered.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Iterable, Sequence
from typing import Callable

from ..errors import OdpError
from .parser import (
    HELP,
    HELP_WORD,
    NETNS,
    VERSION,
    VPORT_VALUED,
    Command,
    Group,
    Option,
    UsageError,
    resolve,
    value_options,
)

ENTRY = "__complete"
NETNS_DIR = "/run/netns"
SYS_NET = "/sys/class/net"


def main(argv: Sequence[str], root: Group, open_client: Callable) -> int:
    if len(argv) != 2:
        return 2
    breaks, line = argv
    sys.stdout.write("".join(word + "\n" for word in candidates(root, line, open_client, breaks)))
    return 0


def split_line(line: str) -> list[str]:
    """The shell words of ``line`` up to the cursor; the last one is the word
    being completed ('' after a space). An open quote is closed."""
    for closing in ("", "'", '"'):
        try:
            words = shlex.split(line + closing)
        except ValueError:
            continue
        if not closing and (not line or line[-1] in " \t") and not line.endswith("\\ "):
            words.append("")
        return words or [""]
    return line.split() or [""]


class _Names:
    """Datapath, vport, device and namespace names, looked up once."""

    def __init__(self, open_client: Callable, netns: str | None):
        self.open_client = open_client
        self.netns = netns

    def _client_lookup(self, lookup: Callable) -> list[str]:
        try:
            with self.open_client(self.netns) as client:
                return list(lookup(client))
        except (OdpError, OSError, ValueError):
            return []  # no module, no such namespace, no privileges: nothing to offer

    def datapaths(self) -> list[str]:
        return self._client_lookup(lambda client: sorted(dp.name for dp in client.datapaths()))

    def vports(self, datapath: str | None) -> list[str]:
        def lookup(client):
            datapaths = [client.get_datapath(datapath)] if datapath else client.datapaths()
            return sorted(name for dp in datapaths for name in _vport_names(client, dp))

        return self._client_lookup(lookup)

    def netdevs(self) -> list[str]:
        if self.netns:
            return []  # another namespace's devices: /sys/class/net shows ours
        return _listdir(SYS_NET)

    @staticmethod
    def namespaces() -> list[str]:
        return _listdir(NETNS_DIR)

    def of(self, kinds: str | None, datapath: str | None) -> list[str]:
        found = []
        for kind in (kinds or "").split():
            found += {
                "datapath": self.datapaths,
                "netdev": self.netdevs,
                "netns": self.namespaces,
                "vport": lambda: self.vports(datapath),
            }[kind]()
        return found


def _vport_names(client, dp) -> Iterable[str]:
    """Names from one vport dump, without the tunnel lookup of
    ``Client.vports`` (which loads pyroute2: too slow for a keystroke)."""
    from ..families import VportFamily  # pylint: disable=import-outside-toplevel

    for _ifindex, attrs in client.transport.dump(VportFamily, VportFamily.CMD_GET, dp.ifindex):
        yield attrs["name"]


def _listdir(path: str) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def _option_words(options: Iterable[Option]) -> list[str]:
    words = []
    for option in options:
        words.append("--%s%s" % (option.name, "" if option.switch else "="))
    return words


def _walk(root: Group, words: Sequence[str]):
    """``(node, path, positionals, netns)`` after ``words``."""
    node: Group | Command = root
    path: tuple[str, ...] = ()
    positionals: list[str] = []
    netns: str | None = None
    words = list(words)
    takes_value = value_options(root)
    while words:
        word = words.pop(0)
        if word == "--":
            positionals += words
            break
        if word.startswith("-") and word != "-":
            name, equals, value = word.lstrip("-").partition("=")
            has_value = bool(equals)
            if not word.startswith("--") and word[1] == NETNS.short and name != NETNS.name:
                # -n NS, -nNS, -n=NS
                name, value = NETNS.name, word[2:].lstrip("=")
                has_value = bool(value)
            if not has_value and words and _takes_value(node, name, takes_value):
                value, has_value = words.pop(0), True
            if name == NETNS.name and has_value:
                netns = value
            continue
        if isinstance(node, Group):
            if word == HELP_WORD:
                continue
            name = resolve(word, node.children, path)
            path += (name,)
            node = node.children[name]
        else:
            positionals.append(word)
    return node, path, positionals, netns


def _takes_value(node, name: str, anywhere: frozenset) -> bool:
    """Whether option ``name`` consumes the next word: as the command says,
    or, before the command words, as any command's option of that name."""
    if isinstance(node, Group):
        return name in anywhere
    options = [o for o in [*node.options, NETNS] if o.name == name]
    if options:
        return not options[0].switch
    return any(flow_name == name for flow_name, _m, _h, _s in node.flow_options())


def _options_of(node, path) -> list[str]:
    if isinstance(node, Group):
        options = ([VERSION] if not path else []) + [NETNS, HELP]
        if node.default is not None:
            options = node.default.options + options
        return _option_words(options)
    flow = node.shown_flow_options("key") + node.shown_flow_options("action")
    return _option_words([*node.options, NETNS, HELP]) + ["--%s=" % o[0] for o in flow]


def _value_words(node, name: str, value: str, positionals, names: _Names) -> list[str]:
    """Candidates for ``--name=value``."""
    datapath = positionals[0] if positionals else None
    if name == NETNS.name:
        found = names.namespaces()
    elif isinstance(node, Command) and node.flow and name in VPORT_VALUED:
        found = names.vports(datapath) if datapath else []
        if name == "output" and "," in value:
            # --output=a,b,c: complete the last vport of the list.
            head = value[: value.rindex(",") + 1]
            found = [head + vport for vport in found]
    else:
        return []
    return ["--%s=%s" % (name, item) for item in found]


def candidates(root: Group, line: str, open_client: Callable, breaks: str = "") -> list[str]:
    words = split_line(line)[1:]  # the first word is odp itself
    if not words:
        return []
    current = words[-1]
    try:
        node, path, positionals, netns = _walk(root, words[:-1])
    except UsageError:
        return []  # a word that is no command: nothing follows from it
    names = _Names(open_client, netns)
    if current.startswith("-") and "=" in current:
        name, _eq, value = current.lstrip("-").partition("=")
        found = _value_words(node, name, value, positionals, names)
    elif current.startswith("-"):
        found = _options_of(node, path)
    elif isinstance(node, Group):
        found = sorted(node.children) + ([HELP_WORD] if not path else [])
    elif len(positionals) < len(node.values):
        found = names.of(node.values[len(positionals)], positionals[0] if positionals else None)
    else:
        found = []
    matching = sorted({word for word in found if word.startswith(current)})
    cut = max(current.rfind(char) for char in breaks) + 1 if breaks else 0
    return [word[cut:] for word in matching]
