"""Kernel tests of what the argparse command added: -n NETNS, flow get and
flush, UFIDs (with ovs-dpctl as the peer that installs and reads them), the
cut-off check, completion from the kernel, and readers that go away.

Commands run in-process (test_cli.odp) unless a real process is the point
(pipes, completion as an unprivileged user).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid

import pytest
from conftest import run
from test_cli import dp, odp, pair  # noqa: F401 pylint: disable=unused-import
from vswitch_odp import Client, Flow

UFID = "ufid:00000001-0002-0003-0004-000500060007"
ODP = [sys.executable, "-m", "vswitch_odp.cli"]
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
LIBRARY = os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "plugins", "module_utils", "odp"
)
_NOBODY_PATH = []


def as_nobody(argv):
    """``odp`` ARGV run as user nobody: ``subprocess.run`` keywords with a
    copy of the library nobody can read (a checkout may sit in a directory
    only root enters, as `mktemp -d` makes them, and the venv's editable
    install points into it)."""
    if not _NOBODY_PATH:
        top = tempfile.mkdtemp(prefix="odp-nobody-")
        os.chmod(top, 0o755)
        shutil.copytree(
            LIBRARY, os.path.join(top, "vswitch_odp"), ignore=shutil.ignore_patterns("__pycache__")
        )
        _NOBODY_PATH.append(top)
    return {
        "args": NOBODY + ODP + list(argv),
        "env": dict(os.environ, PYTHONPATH=_NOBODY_PATH[0]),
        "stdout": subprocess.PIPE,
        "stderr": subprocess.PIPE,
        "text": True,
    }


def dump(datapath, netns=None):
    """ovs-dpctl's dump-flows -m lines (the independent reader)."""
    prefix = ["ip", "netns", "exec", netns] if netns else []
    return run(*([*prefix, "ovs-dpctl", "dump-flows", "-m", "system@" + datapath])).stdout


# -- -n NETNS --------------------------------------------------------------------


def test_netns_works_on_that_namespaces_datapaths(kernel, netns, veth):
    ns = netns()
    inside = veth(ns=ns)
    name = "n" + uuid.uuid4().hex[:8]
    odp("-n", ns, "datapath", "add", name)
    try:
        odp("vport", "add", "internal", name, "p1", "--netns", ns)
        odp("--netns=" + ns, "vport", "add", "netdev", name, inside.peer)
        odp("-n", ns, "flow", "add", name, "--in-port=p1", "--output=" + inside.peer)
        # Only that namespace has the datapath; the kernel says so to ovs-dpctl too.
        assert name not in odp("datapath")[0]
        assert ("%s: %s" % (name, name)) not in run("ovs-dpctl", "show").stdout
        shown = run("ip", "netns", "exec", ns, "ovs-dpctl", "show", "system@" + name).stdout
        assert "p1 (internal)" in shown and inside.peer in shown
        assert odp("-n", ns, "vport", "list", name)[0].splitlines() == [
            "internal %s %s" % (name, name),
            "internal %s p1" % name,
            "netdev %s %s" % (name, inside.peer),
        ]
        assert odp("-n", ns, "flow", "list", name)[0] == "--in-port=p1 --output=%s\n" % inside.peer
        assert "in_port(p1)" in dump(name, ns)
    finally:
        odp("-n", ns, "datapath", "delete", name)
    assert run("ip", "netns", "exec", ns, "ovs-dpctl", "show", check=False).stdout == ""


def test_missing_namespace_is_one_line(kernel):
    _out, err = odp("-n", "odp-nosuch-ns", "datapath", status=1)
    assert err.startswith("odp: network namespace odp-nosuch-ns does not exist")
    assert err.count("\n") == 1


# -- flows: get, flush, UFIDs, messages ----------------------------------------------


def test_ufids_with_ovs_dpctl(dp, pair):
    a, b = pair
    # ovs-dpctl installs a flow with a UFID; odp lists, gets and deletes it by UFID.
    run(
        "ovs-dpctl",
        "add-flow",
        "system@" + dp,
        "%s,in_port(1),eth(),eth_type(0x0806),arp()" % UFID,
        "2",
    )
    line = "--ufid=%s --in-port=%s --eth-type=0x0806 --output=%s" % (UFID, a.host, b.host)
    assert odp("flow", "list", dp, "--ufid")[0] == line + "\n"
    assert odp("flow", "list", dp)[0] == line.split(" ", 1)[1] + "\n"
    assert odp("flow", "get", dp, "--ufid=" + UFID)[0] == line + "\n"
    # The kernel finds a flow installed with a UFID by its UFID only.
    odp("flow", "get", dp, "--in-port=" + a.host, "--eth-type=0x0806", status=1)
    odp("flow", "delete", dp, "--ufid=" + UFID[5:])  # the bare UUID is taken too
    assert dump(dp) == ""
    # odp installs one with a UFID; ovs-dpctl reads the same UFID back.
    odp("flow", "add", dp, *line.split())
    assert dump(dp).startswith(UFID + ", ")
    _out, err = odp("flow", "get", dp, "--ufid=ufid:00000009-0002-0003-0004-000500060007", status=1)
    assert err == (
        "odp: flow --ufid=ufid:00000009-0002-0003-0004-000500060007 in datapath %s "
        "does not exist\n" % dp
    )
    # A flow without a UFID is found by its key.
    odp("flow", "add", dp, "--in-port=" + b.host, "--tcp-dst=80", "--output=" + a.host)
    assert odp("flow", "get", dp, "--in-port=" + b.host, "--tcp-dst=80", "--stats")[0].startswith(
        "--in-port=%s --eth-type=0x0800 --ipv4-proto=6 --tcp-dst=80 --output=%s  # packets:0 "
        "bytes:0 used:never" % (b.host, a.host)
    )


def test_flush_and_delete_without_a_key(dp, pair):
    a, b = pair
    odp("flow", "add", dp, "--in-port=" + a.host, "--output=" + b.host)
    odp("flow", "add", dp, "--in-port=" + b.host, "--output=" + a.host)
    _out, err = odp("flow", "delete", dp, status=2)
    assert "odp flow flush DATAPATH deletes every flow" in err
    assert len(odp("flow", "list", dp)[0].splitlines()) == 2
    odp("flow", "flush", dp)
    assert dump(dp) == "" and odp("flow", "list", dp)[0] == ""
    odp("flow", "flush", dp)  # an empty table flushes too


def test_messages_show_flows_as_list_prints_them(dp, pair):
    a, b = pair
    _out, err = odp("flow", "delete", dp, "--in-port=" + a.host, "--eth-type=0x0806", status=1)
    assert err == "odp: flow --in-port=%s --eth-type=0x0806 in datapath %s does not exist\n" % (
        a.host,
        dp,
    )
    odp("flow", "add", dp, "--in-port=" + a.host, "--output=" + b.host)
    _out, err = odp(
        "flow",
        "add",
        dp,
        "--in-port=" + a.host,
        "--eth-src=02:00:00:00:00:01",
        "--output=" + b.host,
        status=1,
    )
    assert err.startswith(
        "odp: flow --in-port=%s --eth-src=02:00:00:00:00:01 in datapath %s: "
        "a flow with another mask already matches this key" % (a.host, dp)
    )


def test_binary_flow_file_changes_nothing(dp, pair, tmp_path):
    a, b = pair
    path = tmp_path / "flows"
    line = "--in-port=%s --output=%s\n" % (a.host, b.host)
    path.write_bytes(line.encode() + b"\x00\x01\x02\n")
    _out, err = odp("flow", "add", dp, "--file=%s" % path, status=1)
    assert err.startswith("odp: %s:2: a NUL byte" % path)
    assert dump(dp) == ""


def test_datapath_by_ifindex_as_go_odp(dp, pair):
    a, b = pair
    ifindex = next(
        line.split(":")[0] for line in odp("datapath")[0].splitlines() if line.endswith(": " + dp)
    )
    odp("flow", "add", ifindex, "--in-port=" + a.host, "--output=" + b.host)
    assert odp("flow", "list", dp)[0] == "--in-port=%s --output=%s\n" % (a.host, b.host)


def test_used_is_seconds_since_last_use(dp, pair):
    a, b = pair
    odp("flow", "add", dp, "--in-port=" + a.host, "--output=" + b.host)
    run("ip", "netns", "exec", a.netns, "ping", "-c", "1", "-W", "1", "10.77.0.2", check=False)
    (flow,) = json.loads(odp("flow", "list", dp, "--json")[0])
    assert flow["packets"] > 0 and 0 <= flow["used"] < 30, flow
    seconds = float(
        re.search(r"used:(\d+\.\d{3})s$", odp("flow", "list", dp, "--stats")[0]).group(1)
    )
    # Not compared with the JSON's: UML's jiffies, which the kernel's "used"
    # counts in, lag its clock under load, so a later reading can be smaller.
    assert 0 <= seconds < 30


# -- vport add netdev: the cut-off check -------------------------------------------------


def test_netdev_with_the_namespaces_default_route_is_refused(kernel, netns, veth):
    ns = netns()
    inside = veth(ns=ns, addr="10.79.0.1/24")
    run("ip", "-n", ns, "route", "add", "default", "via", "10.79.0.254")
    name = "c" + uuid.uuid4().hex[:8]
    odp("-n", ns, "datapath", "add", name)
    try:
        _out, err = odp("-n", ns, "vport", "add", "netdev", name, inside.peer, status=1)
        assert err == (
            "odp: refusing to attach %s to datapath %s: network device %s carries "
            "the default route of network namespace %s, and a netdev vport takes "
            "over all of the device's traffic, which would cut the host off; use "
            "--force to attach it anyway\n" % (inside.peer, name, inside.peer, ns)
        )
        assert inside.peer not in run("ip", "netns", "exec", ns, "ovs-dpctl", "show").stdout
        odp("-n", ns, "vport", "add", "netdev", name, inside.peer, "--force")
        assert inside.peer in run("ip", "netns", "exec", ns, "ovs-dpctl", "show").stdout
    finally:
        odp("-n", ns, "datapath", "delete", name)


def test_netdev_the_ssh_connection_arrives_on_is_refused(dp, veth, monkeypatch):
    device = veth()
    run("ip", "addr", "add", "198.18.99.1/24", "dev", device.host)
    odp("datapath", "add", dp)
    monkeypatch.setenv("SSH_CONNECTION", "198.18.99.7 50022 198.18.99.1 22")
    _out, err = odp("vport", "add", "netdev", dp, device.host, status=1)
    assert (
        "network device %s holds 198.18.99.1, the address the SSH connection to this host "
        "arrives on"
        % device.host
        in err
        and "use --force" in err
    )
    assert device.host not in run("ovs-dpctl", "show", "system@" + dp).stdout


# -- completion: names from the kernel, for an unprivileged user -----------------------------


def complete_as_nobody(line):
    proc = subprocess.run(**as_nobody(["__complete", "", line]), check=True)
    assert proc.stderr == ""
    return proc.stdout.splitlines()


def test_completion_names_need_no_privileges(dp, pair):
    a, b = pair
    assert dp in complete_as_nobody("odp datapath delete ")
    assert complete_as_nobody("odp flow add %s --in-port=" % dp) == sorted(
        "--in-port=" + name for name in (dp, a.host, b.host)
    )
    assert complete_as_nobody("odp vport delete %s vh" % dp) == sorted([a.host, b.host])
    assert a.host in complete_as_nobody("odp vport add netdev %s vh" % dp)


def test_bash_completes_vport_names(dp, pair):
    a, _b = pair
    script = os.path.join(os.path.dirname(__file__), "..", "..", "..", "completion", "bash", "odp")
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    line = "odp flow add %s --in-port=%s" % (dp, a.host[:6])
    proc = subprocess.run(
        [
            "bash",
            "-c",
            'source "$1"; COMP_LINE=$2; COMP_POINT=${#2}; '
            'COMP_WORDS=(odp); _odp; printf "%s\\n" "${COMPREPLY[@]}"',
            "bash",
            script,
            line,
        ],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    assert a.host in proc.stdout.split()  # bash wants the text after "="


# -- readers that go away ------------------------------------------------------------------


def printing_commands(dp, a):
    return [
        ["datapath"],
        ["datapath", "--json"],
        ["vport"],
        ["vport", "list", dp, "--json"],
        ["flow", "list", dp],
        ["flow", "list", dp, "--json", "--ufid"],
        ["flow", "get", dp, "--in-port=" + a],
        ["--help"],
        ["--version"],
    ]


def test_every_printing_command_ends_quietly_on_a_closed_pipe(dp, pair):
    a, b = pair
    odp("flow", "add", dp, "--in-port=" + a.host, "--output=" + b.host)
    for argv in printing_commands(dp, a.host):
        read_end, write_end = os.pipe()
        os.close(read_end)
        proc = subprocess.run(ODP + argv, stdout=write_end, stderr=subprocess.PIPE, check=False)
        os.close(write_end)
        assert (proc.returncode, proc.stderr) == (141, b""), argv


@pytest.mark.parametrize("reader", ["head -1", "true"])
def test_a_long_listing_into_head_or_true(dp, pair, reader):
    """Thousands of flows (more than a pipe holds): the reader leaves early."""
    a, b = pair
    with Client() as client:
        ports = {v.name: v.port_no for v in client.vports(dp)}
        client.put_flows(
            dp,
            [
                Flow(
                    {"in_port": ports[a.host], "eth": {"src": n, "dst": 0}},
                    None,
                    [("output", ports[b.host])],
                )
                for n in range(1, 2001)
            ],
        )
    proc = subprocess.run(
        [
            "bash",
            "-c",
            '"$@" | %s; echo "status ${PIPESTATUS[0]}" >&2' % reader,
            "bash",
            *ODP,
            "flow",
            "list",
            dp,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.stderr == "status 141\n"
    assert len(proc.stdout.splitlines()) == (1 if reader == "head -1" else 0)


# -- docs/odp-command.md's runnable example ----------------------------------------------

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "..", "docs", "odp-command.md")


def test_the_docs_example_runs(kernel):
    with open(DOC) as handle:
        blocks = re.findall(r"```sh\n(.*?)```", handle.read(), re.S)
    assert blocks
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    for block in blocks:
        namespaces = set(re.findall(r"ip netns add (\S+)", block))
        try:
            proc = subprocess.run(
                ["bash", "-e", "-c", block], env=env, capture_output=True, text=True, check=False
            )
        finally:
            for ns in namespaces:
                run("ip", "netns", "delete", ns, check=False)
        assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
        assert proc.stdout.strip(), "the example shows what it does"
