"""Shell completion without a kernel: the candidates of ``odp __complete``
(words, options, names from a fake client), and the bash and zsh scripts
of completion/ run by the real shells."""

import os
import shutil
import subprocess
import sys

import pytest
from vswitch_odp.cli import commands, complete

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "..", ".."))
BASH_SCRIPT = os.path.join(REPO, "completion", "bash", "odp")
ZSH_DIR = os.path.join(REPO, "completion", "zsh")
VENV_BIN = os.path.dirname(sys.executable)


class Datapath:
    def __init__(self, name, ifindex):
        self.name, self.ifindex = name, ifindex


class Transport:
    """The vport dump of the fake kernel."""

    def __init__(self, vports):
        self.vports = vports

    def dump(self, _family, _cmd, ifindex):
        return [(ifindex, {"name": name}) for name in self.vports[ifindex]]


class NamesClient:
    """Datapaths dp0 (vports dp0, eth1, vx) and dp1 (dp1, p9)."""

    opened = []

    def __init__(self, netns=None):
        self.opened.append(netns)
        self.transport = Transport({1: ["dp0", "eth1", "vx"], 2: ["dp1", "p9"]})

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def datapaths(self):
        return [Datapath("dp0", 1), Datapath("dp1", 2)]

    def get_datapath(self, name):
        (found,) = [dp for dp in self.datapaths() if dp.name == name]
        return found


def complete_line(line, breaks=""):
    NamesClient.opened = []
    return complete.candidates(commands.COMMANDS, line, NamesClient, breaks)


@pytest.mark.parametrize(
    "line,expected",
    [
        (
            "odp ",
            ["apply", "ct-limit", "datapath", "flow", "help", "meter", "psample", "show", "vport"],
        ),
        ("odp fl", ["flow"]),
        ("odp flow ", ["add", "clear", "delete", "flush", "get", "list"]),
        ("odp f l", ["list"]),
        ("odp help f", ["flow"]),
        ("odp vport add ", ["geneve", "gre", "internal", "netdev", "vxlan"]),
        ("odp nosuch ", []),
        ("odp flow list dp0 ", []),
        ("odp meter ", ["add", "delete", "features", "list"]),
        ("odp ct-limit ", ["delete", "set", "show"]),
        ("odp vport mon", ["monitor"]),
    ],
)
def test_words(line, expected):
    assert complete_line(line) == expected


@pytest.mark.parametrize(
    "line,expected",
    [
        ("odp --", ["--help", "--netns=", "--version"]),
        ("odp datapath --", ["--help", "--json", "--netns=", "--stats"]),
        (
            "odp flow list dp0 --",
            ["--filter=", "--help", "--in-port=", "--json", "--netns=", "--stats", "--ufid"],
        ),
        (
            "odp datapath set dp0 --",
            ["--help", "--masks-cache-size=", "--netns=", "--user-features="],
        ),
        ("odp datapath listen dp0 --", ["--help", "--keys", "--netns=", "--upcalls"]),
        ("odp flow add dp0 --in-p", ["--in-port="]),
        (
            "odp flow add dp0 --set-tunnel-t",
            [
                "--set-tunnel-tos=",
                "--set-tunnel-tp-dst=",
                "--set-tunnel-tp-src=",
                "--set-tunnel-ttl=",
            ],
        ),
        ("odp vport add vxlan dp0 vx --p", ["--port="]),
    ],
)
def test_options(line, expected):
    assert complete_line(line) == expected


def test_key_only_commands_offer_no_actions():
    offered = complete_line("odp flow delete dp0 --")
    assert "--in-port=" in offered and "--ufid=" in offered and "--output=" not in offered


@pytest.mark.parametrize(
    "line,expected",
    [
        ("odp datapath delete ", ["dp0", "dp1"]),
        ("odp d del d", ["dp0", "dp1"]),
        ("odp flow list dp", ["dp0", "dp1"]),
        ("odp flow add dp0 --in-port=", ["--in-port=dp0", "--in-port=eth1", "--in-port=vx"]),
        ("odp flow add dp1 --in-port=p", ["--in-port=p9"]),
        ("odp flow add dp0 --output=eth1,v", ["--output=eth1,vx"]),
        ("odp vport delete dp0 e", ["eth1"]),
        ("odp vport delete ", ["dp0", "dp1", "eth1", "p9", "vx"]),
        ("odp datapath add ", []),  # a new name
        ("odp vport add internal dp0 ", []),  # a new name
    ],
)
def test_names_from_the_kernel(line, expected):
    assert complete_line(line) == expected


def test_names_in_the_namespace():
    complete_line("odp -n ns1 datapath delete ")
    assert NamesClient.opened == ["ns1"]
    for line, netns in (
        ("odp datapath delete --netns=ns2 d", "ns2"),
        ("odp -nns3 d del ", "ns3"),
        ("odp -netns=ns4 d del ", "ns4"),
        ("odp --netns ns5 d del ", "ns5"),
        ("odp -n=ns6 d del ", "ns6"),
    ):
        complete_line(line)
        assert NamesClient.opened == [netns]


def test_values_before_the_words_are_skipped():
    assert complete_line("odp --port 4790 vport add vx") == ["vxlan"]


def test_a_switch_takes_no_word():
    assert complete_line("odp flow list --ufid dp") == ["dp0", "dp1"]
    # get's --ufid takes a value: the datapath is the word after it.
    assert complete_line("odp flow get --ufid u dp0 --in-port=e") == ["--in-port=eth1"]


def test_bash_word_breaks():
    """bash splits --in-port=x at '=': it wants the text after it."""
    assert complete_line("odp flow add dp0 --in-port=e", breaks=" \"'=:") == ["eth1"]
    assert complete_line("odp flow add dp0 --in-", breaks=" \"'=:") == ["--in-port="]


def test_lookups_that_fail_offer_nothing():
    def broken(netns=None):
        raise OSError(13, "no")

    assert complete.candidates(commands.COMMANDS, "odp datapath delete ", broken) == []


def test_split_line():
    assert complete.split_line("odp flow ") == ["odp", "flow", ""]
    assert complete.split_line("odp fl") == ["odp", "fl"]
    assert complete.split_line("odp flow add dp0 --key='in_port(") == [
        "odp",
        "flow",
        "add",
        "dp0",
        "--key=in_port(",
    ]


def test_the_entry_point_prints_one_candidate_a_line(capsys):
    assert complete.main(["", "odp vport add g"], commands.COMMANDS, NamesClient) == 0
    assert capsys.readouterr().out == "geneve\ngre\n"


# -- the shell scripts, in the real shells (names need a kernel: the sandbox tests) --


def shell_env():
    return dict(os.environ, PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""))


def bash_complete(line):
    script = (
        'source "$1"; COMP_LINE=$2; COMP_POINT=${#COMP_LINE}; '
        'read -r -a COMP_WORDS <<< "$COMP_LINE"; COMP_WORDS[0]=odp; _odp; '
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    proc = subprocess.run(
        ["bash", "-c", script, "bash", BASH_SCRIPT, line],
        env=shell_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return [word for word in proc.stdout.splitlines() if word]


@pytest.mark.installed
@pytest.mark.parametrize(
    "line,expected",
    [
        ("odp fl", ["flow"]),
        ("odp flow ", ["add", "clear", "delete", "flush", "get", "list"]),
        ("odp flow list dp0 --st", ["--stats"]),
        ("odp flow add dp0 --in-p", ["--in-port="]),
    ],
)
def test_bash_script(line, expected):
    assert bash_complete(line) == expected


@pytest.mark.installed
@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed (apt install zsh)")
@pytest.mark.parametrize(
    "words,expected",
    [
        (["odp", "fl"], ["compadd -- flow"]),
        (["odp", "flow", "add", "dp0", "--in-p"], ["compadd -S  -- --in-port="]),
        (
            ["odp", "flow", "list", "dp0", "--"],
            [
                "compadd -S  -- --filter= --in-port= --netns=",
                "compadd -- --help --json --stats --ufid",
            ],
        ),
        (["odp", "flow", "add", "dp0", "--file=/tm"], ["_files"]),
    ],
)
def test_zsh_script(words, expected):
    """The zsh function with compadd and _files stubbed: what it offers."""
    script = (
        'fpath=("$1" $fpath); autoload -Uz _odp; '
        'compadd() { print -r -- "compadd $*" }; _files() { print -r -- _files }; '
        'shift; words=("$@"); CURRENT=$#; _odp'
    )
    proc = subprocess.run(
        ["zsh", "-f", "-c", script, "zsh", ZSH_DIR, *words],
        env=shell_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.splitlines() == expected, proc.stderr
