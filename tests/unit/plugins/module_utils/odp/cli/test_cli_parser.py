"""The odp command line on argparse, without a kernel: the words and their
abbreviations (every one the old parser accepted), go-odp's spellings,
did-you-mean, help within 80 columns, --version, -n NETNS, and the new flow
commands (get, flush, UFIDs) against a fake client."""

import errno
import json
import os
import shlex
import subprocess
import sys
import time

import pytest
from test_cli import ZERO_ETH, Vport, fake, run  # noqa: F401 pylint: disable=unused-import
from vswitch_odp import cli, cutoff, flows, netlink, text
from vswitch_odp.cli import commands, parser
from vswitch_odp.errors import NoSuchDatapath, NoSuchFlow

UFID_TEXT = "ufid:00000001-0002-0003-0004-000500060007"
UFID = text.parse_ufid(UFID_TEXT)

# The command tree of the parser before argparse (cli.py's COMMANDS at
# 321dcc1), frozen: every abbreviation it accepted must keep its meaning.
OLD_TREE = {
    "datapath": {"add": None, "delete": None, "list": None, "listen": None},
    "vport": {
        "add": {"netdev": None, "internal": None, "vxlan": None, "geneve": None, "gre": None},
        "delete": None,
        "list": None,
    },
    "flow": {"add": None, "delete": None, "clear": None, "list": None},
}
# The old parser's groups that ran a command with no further word.
OLD_DEFAULTS = {("datapath",), ("vport",)}


def old_prefixes(word, siblings):
    """What the old resolver took for ``word``: itself, or a prefix of no other sibling."""
    return [
        word[:n]
        for n in range(1, len(word) + 1)
        if word[:n] == word or not any(s.startswith(word[:n]) for s in siblings if s != word)
    ]


def old_abbreviations(tree=None, path=()):
    """``(typed words, full path)`` for every path of the old tree."""
    tree = OLD_TREE if tree is None else tree
    for name, child in tree.items():
        for typed in old_prefixes(name, tree):
            yield (typed,), (*path, name)
            if child:
                for rest, full in old_abbreviations(child, (*path, name)):
                    yield (typed, *rest), full


OLD_ABBREVIATIONS = sorted(set(old_abbreviations()))


def test_the_frozen_tree_is_big():
    assert len(OLD_ABBREVIATIONS) > 300


def test_every_old_abbreviation_keeps_its_meaning():
    wrong = []
    for typed, full in OLD_ABBREVIATIONS:
        request = parser.parse_command_line([*list(typed), "--help"], commands.COMMANDS)
        if (request.kind, request.path) != ("help", full):
            wrong.append((" ".join(typed), request.path))
    assert wrong == []


def test_old_groups_still_run_their_default():
    for path in OLD_DEFAULTS:
        request = parser.parse_command_line(list(path), commands.COMMANDS)
        assert request.kind == "run" and request.args.command.handler.__name__.endswith("_list")


@pytest.mark.parametrize(
    "words,message",
    [
        ("datapath li", 'ambiguous command "odp datapath li": list, listen'),
        ("v a g", 'ambiguous command "odp vport add g": geneve, gre'),
        ("flow f", None),  # flush is the only flow command that starts with f
    ],
)
def test_ambiguity(words, message):
    if message is None:
        request = parser.parse_command_line([*words.split(), "dp0"], commands.COMMANDS)
        assert request.args.path == ("flow", "flush")
        return
    with pytest.raises(parser.UsageError) as info:
        parser.parse_command_line(words.split(), commands.COMMANDS)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "argv,message",
    [
        (["flow", "add", "dp0", "--in-prot=eth1"], "(did you mean --in-port?)"),
        (["flow", "add", "dp0", "--outptu", "eth1"], "(did you mean --output?)"),
        (["flow", "list", "dp0", "--stast"], "(did you mean --stats?)"),
        (["flwo", "list", "dp0"], 'unknown command "odp flwo" (did you mean "flow"?)'),
        (["datapath", "lsit"], 'unknown command "odp datapath lsit" (did you mean "list"?)'),
        (["vport", "add", "vxaln", "dp0", "vx"], '(did you mean "vxlan"?)'),
    ],
)
def test_did_you_mean(argv, message, fake, capsys):
    status, out, err = run(capsys, *argv)
    assert (status, out) == (cli.EXIT_USAGE, "") and message in err and err.count("\n") == 1
    assert fake.calls == []


def test_no_guess_for_nonsense(capsys):
    _status, _out, err = run(capsys, "flow", "add", "dp0", "--zzzzzz=1")
    assert "did you mean" not in err and "--zzzzzz" in err


# -- go-odp's syntax and the old parser's forms --------------------------------


def parsed(*argv):
    request = parser.parse_command_line(list(argv), commands.COMMANDS)
    assert request.kind == "run"
    return request.args


@pytest.mark.parametrize(
    "argv,path,positionals,options,flow",
    [
        # go-odp's own command lines (tool/odp/main.go).
        (["datapath"], ("datapath",), [], {"json": False}, []),
        (
            ["datapath", "listen", "dp", "--keys"],
            ("datapath", "listen"),
            ["dp"],
            {"keys": True},
            [],
        ),
        (
            ["vport", "add", "vxlan", "dp", "vx", "--port=4789"],
            ("vport", "add", "vxlan"),
            ["dp", "vx"],
            {"port": "4789"},
            [],
        ),
        (["vport", "delete", "vx"], ("vport", "delete"), ["vx"], {}, []),
        (
            [
                "flow",
                "add",
                "dp",
                "--in-port=a",
                "--eth-src=02:00:00:00:00:01&ff:ff:ff:ff:ff:00",
                "--set-tunnel-ipv4-dst=10.0.0.1",
                "--output=a,b",
            ],
            ("flow", "add"),
            ["dp"],
            {},
            [
                ("in-port", "a"),
                ("eth-src", "02:00:00:00:00:01&ff:ff:ff:ff:ff:00"),
                ("set-tunnel-ipv4-dst", "10.0.0.1"),
                ("output", "a,b"),
            ],
        ),
        (["flow", "list", "dp", "--stats"], ("flow", "list"), ["dp"], {"stats": True}, []),
        # Go's flag package: one dash, a separate value, and BOOL for a switch.
        (
            ["flow", "add", "dp", "-in-port", "a", "-output=b"],
            ("flow", "add"),
            ["dp"],
            {},
            [("in-port", "a"), ("output", "b")],
        ),
        (["flow", "list", "-stats=true", "dp"], ("flow", "list"), ["dp"], {"stats": True}, []),
        (["flow", "list", "dp", "--stats=false"], ("flow", "list"), ["dp"], {"stats": False}, []),
        (["datapath", "listen", "-keys", "dp"], ("datapath", "listen"), ["dp"], {"keys": True}, []),
        # The old parser's: options before the words, values after a space, --, -.
        (["--json", "vport"], ("vport",), [], {"json": True}, []),
        (
            ["vport", "add", "vxlan", "--port", "4790", "dp0", "vx"],
            ("vport", "add", "vxlan"),
            ["dp0", "vx"],
            {"port": "4790"},
            [],
        ),
        (["flow", "add", "--file", "-", "dp0"], ("flow", "add"), ["dp0"], {"file": "-"}, []),
        (["datapath", "add", "--", "-odd"], ("datapath", "add"), ["-odd"], {}, []),
        (
            ["vport", "delete", "--", "dp0", "--json"],
            ("vport", "delete"),
            ["dp0", "--json"],
            {},
            [],
        ),
        (
            ["f", "a", "dp0", "--key", "in_port(1),eth()", "--actions", "2"],
            ("flow", "add"),
            ["dp0"],
            {},
            [("key", "in_port(1),eth()"), ("actions", "2")],
        ),
    ],
)
def test_command_lines(argv, path, positionals, options, flow):
    args = parsed(*argv)
    assert (args.path, args.positionals, args.flow) == (path, positionals, flow)
    for name, value in options.items():
        assert args.options[name] == value


def test_flow_options_keep_their_order():
    args = parsed("flow", "add", "dp0", "--output=b", "--in-port=a", "--output", "c")
    assert args.flow == [("output", "b"), ("in-port", "a"), ("output", "c")]


@pytest.mark.parametrize(
    "argv,message",
    [
        (["vport", "add", "vxlan", "dp0", "vx", "--port"], "option --port needs a value"),
        (["datapath", "--json=maybe"], "option --json takes no value (or true or false"),
        (["datapath", "add", "dp0", "--bogus"], 'unknown option --bogus for "odp datapath add"'),
        (["datapath", "add", "dp0", "-x"], 'unknown option -x for "odp datapath add"'),
        (
            ["vport", "add", "vxlan", "dp0"],
            "missing arguments; usage: odp vport add vxlan <datapath> <vport>",
        ),
        (["flow", "list", "dp0", "dp1"], "too many arguments"),
        (
            [],
            '"odp" needs a subcommand: apply, ct-limit, datapath, flow, meter, psample, show, vport',
        ),
    ],
)
def test_usage_errors(argv, message):
    with pytest.raises(parser.UsageError) as info:
        parser.parse_command_line(argv, commands.COMMANDS)
    assert message in str(info.value)


# -- -n NETNS ------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["-n", "ns1", "datapath"],
        ["--netns", "ns1", "datapath"],
        ["--netns=ns1", "d", "list"],
        ["-nns1", "datapath"],
        ["-n=ns1", "datapath"],
        ["datapath", "-n", "ns1"],
        ["vport", "list", "dp0", "--netns=ns1"],
        ["-netns=ns1", "datapath"],
    ],
)
def test_netns_anywhere(argv, fake, capsys):
    assert run(capsys, *argv)[::2] == (0, "")
    assert fake.netns == "ns1"


def test_no_netns_is_the_callers(fake, capsys):
    run(capsys, "datapath")
    assert fake.netns is None


# -- help and version --------------------------------------------------------------


def all_paths():
    yield ()
    for path, _command in commands.COMMANDS.leaves():
        for end in range(1, len(path) + 1):
            yield path[:end]


HELP_PATHS = sorted(set(all_paths()))


@pytest.mark.parametrize("path", HELP_PATHS, ids=lambda p: " ".join(p) or "odp")
def test_help_fits_80_columns(path, capsys):
    status, out, err = run(capsys, *([*list(path), "--help"]))
    assert (status, err) == (0, "") and out.startswith("Usage:")
    wide = [line for line in out.splitlines() if len(line) > 80]
    assert wide == []


def test_help_flow_and_flow_help_are_the_flow_commands(capsys):
    _status, via_word, _err = run(capsys, "help", "flow")
    _status, via_option, _err = run(capsys, "flow", "--help")
    assert via_word == via_option
    for name in ("add", "clear", "delete", "flush", "get", "list"):
        assert "odp flow %s <datapath>" % name in via_word
    assert "odp vport" not in via_word


def test_help_word_takes_abbreviations(capsys):
    _status, out, _err = run(capsys, "help", "f", "a")
    assert out.startswith("Usage: odp flow add <datapath>") and "--in-port=VPORT" in out


def test_key_only_commands_show_no_action_options(capsys):
    _status, out, _err = run(capsys, "flow", "delete", "--help")
    assert "--in-port=VPORT" in out and "--ufid=UFID" in out and "--output" not in out


@pytest.mark.parametrize("option", ["--version", "-V"])
def test_version(option, capsys):
    assert run(capsys, option) == (0, "odp %s\n" % cli.version(), "")
    assert cli.version() != "unknown"  # the .venv has the package installed (editable)


def test_version_is_the_package_version():
    from importlib.metadata import version

    assert cli.version() == getattr(
        __import__("vswitch_odp"), "__version__", None
    ) or cli.version() == version("vswitch-odp")


# -- a reader that goes away ---------------------------------------------------------


@pytest.mark.installed
@pytest.mark.parametrize("argv", [["--help"], ["flow", "add", "--help"], ["--version"]])
def test_closed_pipe_ends_quietly(argv):
    """The reader is gone before odp writes: no traceback, SIGPIPE's status."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    proc = subprocess.run(
        [sys.executable, "-m", "vswitch_odp.cli", *argv],
        stdout=write_end,
        stderr=subprocess.PIPE,
        check=False,
    )
    os.close(write_end)
    assert (proc.returncode, proc.stderr) == (141, b"")


@pytest.mark.installed
def test_pipe_into_head_and_true():
    for reader in ("head -1", "true"):
        proc = subprocess.run(
            [
                "bash",
                "-c",
                '"$0" -m vswitch_odp.cli --help | %s; echo "status ${PIPESTATUS[0]}" >&2' % reader,
                sys.executable,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.stderr in ("status 0\n", "status 141\n"), proc.stderr
        assert proc.stdout == ("Usage:\n" if reader == "head -1" else "")


# -- flows: get, flush, UFIDs, messages ---------------------------------------------


def test_flush(fake, capsys):
    assert run(capsys, "flow", "flush", "dp0") == (0, "", "")
    assert fake.calls == [("flush_flows", "dp0")]


@pytest.mark.parametrize("command", ["delete", "clear", "get"])
def test_a_flow_command_without_a_flow(command, fake, capsys):
    status, _out, err = run(capsys, "flow", command, "dp0")
    assert status == cli.EXIT_USAGE and "Give its key options, --key or --ufid" in err
    assert ("flow flush DATAPATH deletes every flow" in err) == (command == "delete")
    assert fake.calls == []


@pytest.mark.parametrize("text", [UFID_TEXT, UFID_TEXT[5:], UFID_TEXT[5:].replace("-", "")])
def test_delete_by_ufid(text, fake, capsys):
    assert run(capsys, "flow", "delete", "dp0", "--ufid=" + text) == (0, "", "")
    assert fake.calls == [("delete_flow", "dp0", None, None, ("ufid", UFID))]


def test_bad_ufid_names_the_option(fake, capsys):
    status, _out, err = run(capsys, "flow", "delete", "dp0", "--ufid=ufid:1234")
    assert status == 1 and err.startswith("odp: --ufid: invalid value 'ufid:1234'")


def test_add_with_ufid(fake, capsys):
    assert run(capsys, "flow", "add", "dp0", "--ufid", UFID_TEXT, "--in-port=eth1")[0] == 0
    assert fake.calls == [
        (
            "put_flow",
            "dp0",
            ({"eth": ZERO_ETH, "in_port": 1}, {"eth": ZERO_ETH, "in_port": 0xFFFFFFFF}, []),
        )
    ]


def dumped(used=None, ufid=None):
    return flows.Flow(
        {"in_port": 1, "eth": dict(ZERO_ETH)},
        {"in_port": 0xFFFFFFFF, "eth": dict(ZERO_ETH)},
        [("output", 2)],
        ufid=ufid,
        packets=3,
        bytes=294,
        used=used,
    )


def test_list_ufids(fake, capsys):
    fake.flow_list = [dumped(ufid=UFID), dumped()]
    _status, out, _err = run(capsys, "flow", "list", "dp0", "--ufid")
    assert out.splitlines() == [
        "--ufid=%s --in-port=eth1 --output=eth2" % UFID_TEXT,
        "--in-port=eth1 --output=eth2",
    ]
    assert run(capsys, "flow", "list", "dp0")[1].count("ufid") == 0


def test_used_is_seconds_since_last_use_everywhere(fake, capsys):
    """--stats, --json and odp_facts: seconds since last use, or never (null)."""
    now_ms = int(time.monotonic() * 1000)
    fake.flow_list = [dumped(used=now_ms - 2500, ufid=UFID), dumped(used=None)]
    _status, out, _err = run(capsys, "flow", "list", "dp0", "--json")
    used, never = json.loads(out)
    assert 2.5 <= used["used"] < 10 and never["used"] is None
    assert used["ufid"] == UFID_TEXT and never["ufid"] is None
    _status, out, _err = run(capsys, "flow", "list", "dp0", "--stats")
    seconds = float(out.splitlines()[0].rsplit("used:", 1)[1].rstrip("s"))
    assert 2.5 <= seconds < 10 and out.splitlines()[1].endswith("used:never")


def test_get_prints_the_flow_as_list_does(fake, capsys, monkeypatch):
    asked = []

    def get_flow(datapath, key=None, mask=None, ufid=None):
        asked.append((datapath, key, mask, ufid))
        return dumped(ufid=UFID)

    monkeypatch.setattr(fake, "get_flow", get_flow, raising=False)
    status, out, _err = run(capsys, "flow", "get", "dp0", "--in-port=eth1", "--stats")
    assert status == 0 and out.startswith(
        "--ufid=%s --in-port=eth1 --output=eth2  # packets:3" % UFID_TEXT
    )
    assert asked == [
        ("dp0", {"eth": ZERO_ETH, "in_port": 1}, {"eth": ZERO_ETH, "in_port": 0xFFFFFFFF}, None)
    ]


@pytest.mark.parametrize(
    "argv,library_what,told",
    [
        (
            ["flow", "delete", "dp0", "--in-port=eth1"],
            "flow in_port(1),eth() in datapath dp0",
            "odp: flow --in-port=eth1 in datapath dp0 does not exist\n",
        ),
        (
            ["flow", "get", "dp0", "--ufid=" + UFID_TEXT],
            "flow ufid 0100... in datapath dp0",
            "odp: flow --ufid=%s in datapath dp0 does not exist\n" % UFID_TEXT,
        ),
        (
            ["flow", "add", "dp0", "--in-port=eth1", "--output=vx"],
            "flow in_port(1) in datapath dp0",
            "odp: flow --in-port=eth1 in datapath dp0: a flow with another mask already matches this "
            "key (the kernel refuses overlapping flows; delete that one first)\n",
        ),
    ],
)
def test_errors_show_the_flow_as_list_prints_it(argv, library_what, told, fake, capsys):
    fake.fail = netlink.error_for(errno.ENOENT, "delete", library_what, NoSuchFlow)
    assert run(capsys, *argv) == (1, "", told)


def test_kernel_refusals_keep_the_kernels_words(fake, capsys):
    fake.fail = netlink.error_for(errno.EINVAL, "create", "flow in_port(1)", extack="bad key")
    _status, _out, err = run(capsys, "flow", "add", "dp0", "--in-port=eth1", "--output=vx")
    assert err == (
        "odp: cannot add flow --in-port=eth1 in datapath dp0: rejected by the kernel "
        "(Invalid argument): kernel says: bad key\n"
    )


def test_other_errors_are_left_alone(fake, capsys):
    fake.fail = NoSuchDatapath("datapath dp0 does not exist")
    assert run(capsys, "flow", "flush", "dp0") == (1, "", "odp: datapath dp0 does not exist\n")


# -- flow files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data,message",
    [
        (
            b"--in-port=eth1 --output=eth2\n--in-port=eth2 \xff\xfe\n",
            ":2: not UTF-8 text (byte 0xff at column 16)",
        ),
        (b"\x7fELF\x02\x01\x00\x00\n", ":1: a NUL byte at column 7: binary data"),
        (
            b"--in-port=eth1 --output=eth2\n--in-port=eth1 --output=vx\n",
            ":2: the same flow key as line 1",
        ),
    ],
)
def test_bad_flow_files_name_the_line(data, message, fake, capsys, tmp_path):
    path = tmp_path / "flows"
    path.write_bytes(data)
    status, _out, err = run(capsys, "flow", "add", "dp0", "--file=%s" % path)
    assert status == 1 and err.startswith("odp: %s%s" % (path, message))
    if b"same" in message.encode():
        # The lines before the refused one were applied, and the message says so.
        assert sum(len(call[2]) for call in fake.calls) == 1
        assert "; stopped there: the 1 flow before it was applied" in err
    else:
        assert fake.calls == []  # a file that is not text changes nothing


@pytest.mark.parametrize(
    "line",
    [
        "--in-port=eth1 --output=eth2",
        "  --in-port=eth1\t--output=eth2  # packets:3 used:never",
        "--in-port=eth1#x --output=eth2",
        "# a comment",
        "",
        " \t ",
        "--key='in_port(1),eth()' x",
        '--actions="1,2" --in-port=eth1',
        "--in-port=a\\ b",
        "--in-port=eth1\x0b--output=x",
        "--in-port=é\u00a0x",
        "--key='a # b' # c",
    ],
)
def test_flow_file_words_are_the_shells(line):
    assert cli.flow.shell_words(line) == shlex.split(line, comments=True)


def test_flow_file_lines_may_carry_ufids(fake, capsys, tmp_path):
    path = tmp_path / "flows"
    path.write_text("--ufid=%s --in-port=eth1 --output=eth2\n" % UFID_TEXT)
    assert run(capsys, "flow", "add", "dp0", "--file", str(path))[0] == 0
    (call,) = fake.calls
    assert call[0] == "put_flows" and len(call[2]) == 1


def test_flow_file_lines_hold_flow_options_only(fake, capsys, tmp_path):
    path = tmp_path / "flows"
    path.write_text("--in-port=eth1 --output=eth2 --netns=x\n")
    status, _out, err = run(capsys, "flow", "add", "dp0", "--file", str(path))
    assert status == cli.EXIT_USAGE and ":1: a line holds flow options only" in err


# -- vport add netdev: the cut-off check ---------------------------------------------------


def test_netdev_that_cuts_the_host_off_is_refused(fake, capsys, monkeypatch):
    reason = "network device eth1 carries the default route of this host"
    monkeypatch.setattr(cutoff, "cutoff_reason", lambda name, environ=None, netns=None: reason)
    status, _out, err = run(capsys, "vport", "add", "netdev", "dp0", "eth1")
    assert (status, err) == (1, "odp: %s\n" % cutoff.refusal("eth1", "dp0", reason, "use --force"))
    assert "--force to attach it anyway" in err and fake.calls == []


def test_force_attaches_without_the_check(fake, capsys, monkeypatch):
    monkeypatch.setattr(cutoff, "cutoff_reason", lambda *a, **k: pytest.fail("checked"))
    assert run(capsys, "vport", "add", "netdev", "dp0", "eth1", "--force")[0] == 0
    assert fake.calls == [("create_vport", "dp0", "eth1", "netdev", ("port", None))]


def test_the_check_looks_in_the_namespace(fake, capsys, monkeypatch):
    seen = []
    monkeypatch.setattr(
        cutoff, "cutoff_reason", lambda name, environ=None, netns=None: seen.append(netns)
    )
    run(capsys, "-n", "ns1", "vport", "add", "netdev", "dp0", "eth1")
    assert seen == ["ns1"]


# -- go-odp: a datapath's ifindex for its name ------------------------------------------------


class Datapath:
    def __init__(self, name, ifindex):
        self.name, self.ifindex = name, ifindex


def test_datapath_by_ifindex(fake, capsys, monkeypatch):
    def get_datapath(name):
        raise NoSuchDatapath("datapath %s does not exist" % name)

    monkeypatch.setattr(fake, "get_datapath", get_datapath, raising=False)
    monkeypatch.setattr(fake, "datapaths", lambda: [Datapath("dp0", 7)])
    assert run(capsys, "flow", "flush", "7") == (0, "", "")
    run(capsys, "vport", "delete", "7", "eth1")
    assert fake.calls == [("flush_flows", "dp0"), ("delete_vport", "dp0", "eth1")]


def test_no_ifindex_lookup_for_names(fake, capsys, monkeypatch):
    monkeypatch.setattr(fake, "get_datapath", lambda name: pytest.fail("looked up"), raising=False)
    monkeypatch.setattr(fake, "find_vport", lambda name: Vport("dp0", name, 5))
    run(capsys, "flow", "flush", "dp0")
    run(capsys, "vport", "delete", "12")  # one word: a vport, not a datapath
    run(capsys, "datapath", "add", "12")  # a new datapath's name
    assert [call[0] for call in fake.calls] == ["flush_flows", "delete_vport", "create_datapath"]


def test_abbreviations_generated_from_the_old_tree_cover_it():
    leaves = {full for _typed, full in OLD_ABBREVIATIONS}
    assert ("vport", "add", "gre") in leaves and ("datapath", "listen") in leaves
    assert (("v", "a", "gr"), ("vport", "add", "gre")) in OLD_ABBREVIATIONS
    assert (("d", "list"), ("datapath", "list")) in OLD_ABBREVIATIONS
    assert not any(typed == ("d", "li") for typed, _full in OLD_ABBREVIATIONS)
