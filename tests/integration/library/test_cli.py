"""Kernel tests of the odp command: the seed document's walkthrough and more.

``odp`` runs in-process (``cli.main``) with captured output; only what needs
a real process (``datapath listen`` and its signals, tcpdump, ping) is
spawned. Commands for another namespace run after setns() in this process.
"""

import ctypes
import io
import os
import re
import select
import shlex
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager, redirect_stderr, redirect_stdout

import pytest
from conftest import run
from vswitch_odp import cli

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def odp(*argv, status=0, stdin=None):
    """``odp ARGV`` in-process: ``(stdout, stderr)``; asserts the exit status."""
    out, err = io.StringIO(), io.StringIO()
    saved_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin or "")
    try:
        with redirect_stdout(out), redirect_stderr(err):
            got = cli.main([str(a) for a in argv])
    finally:
        sys.stdin = saved_stdin
    assert got == status, "odp %s -> %s: %s" % (" ".join(map(str, argv)), got, err.getvalue())
    return out.getvalue(), err.getvalue()


@contextmanager
def in_netns(name):
    """Run this process (single-threaded) in network namespace ``name``."""
    with open("/proc/self/ns/net") as home, open("/run/netns/" + name) as target:
        if _libc.setns(target.fileno(), CLONE_NEWNET):
            raise OSError(ctypes.get_errno(), "setns %s" % name)
        try:
            yield
        finally:
            _libc.setns(home.fileno(), CLONE_NEWNET)


def ping(ns, address, count=1, ok=True):
    result = run(
        "ip",
        "netns",
        "exec",
        ns,
        "ping",
        "-n",
        "-c",
        str(count),
        "-i",
        "0.2",
        "-W",
        "1",
        address,
        check=False,
    )
    assert (result.returncode == 0) == ok, result.stdout
    return result.stdout


@pytest.fixture
def dp(kernel):
    """A fresh datapath name in the root namespace, deleted afterwards."""
    name = "o" + uuid.uuid4().hex[:8]
    yield name
    cli.main(["datapath", "delete", name])


@pytest.fixture
def pair(dp, veth):
    """Datapath ``dp`` joining two namespaces through netdev vports (no flows)."""
    a = veth(addr="10.77.0.1/24")
    b = veth(addr="10.77.0.2/24")
    odp("d", "a", dp)  # abbreviations: odp datapath add
    odp("v", "a", "n", dp, a.host)
    odp("vport", "add", "netdev", dp, b.host)
    return a, b


def test_walkthrough_ping_through_flows(dp, pair):
    a, b = pair
    assert re.search(r"^\d+: %s$" % dp, odp("datapath")[0], re.M)
    assert odp("vport", "list", dp)[0].splitlines()[1:] == [
        "netdev %s %s" % (dp, a.host),
        "netdev %s %s" % (dp, b.host),
    ]
    ping(a.netns, "10.77.0.2", ok=False)
    odp("flow", "add", dp, "--in-port=" + a.host, "--output=" + b.host)
    odp("f", "a", dp, "--in-port", b.host, "--output", a.host)
    ping(a.netns, "10.77.0.2", count=2)
    lines = odp("flow", "list", dp)[0].splitlines()
    assert sorted(lines) == sorted(
        [
            "--in-port=%s --output=%s" % (a.host, b.host),
            "--in-port=%s --output=%s" % (b.host, a.host),
        ]
    )
    stats = odp("flow", "list", dp, "--stats")[0]
    assert re.search(
        r"--in-port=%s --output=%s  # packets:[1-9]\d* bytes:[1-9]\d* used:\d+\.\d+s"
        % (a.host, b.host),
        stats,
    ), stats
    odp("flow", "clear", dp, "--in-port=" + a.host)
    assert "packets:0 bytes:0" in odp("flow", "list", dp, "--stats")[0]
    odp("flow", "delete", dp, "--in-port=" + a.host)
    assert odp("flow", "list", dp)[0] == "--in-port=%s --output=%s\n" % (b.host, a.host)
    ping(a.netns, "10.77.0.2", ok=False)
    odp("vport", "delete", dp, b.host)
    odp("vport", "delete", a.host)  # go-odp's form, without the datapath
    assert odp("vport", "list", dp)[0].splitlines()[1:] == []


def test_flow_add_replaces_actions(dp, pair):
    a, b = pair
    odp("flow", "add", dp, "--in-port=" + a.host, "--output=" + b.host)
    odp("flow", "add", dp, "--in-port=" + a.host, "--output=%s,%s" % (b.host, a.host))
    assert odp("flow", "list", dp)[0] == "--in-port=%s --output=%s,%s\n" % (a.host, b.host, a.host)


def test_mac_mask_form(dp, pair):
    a, b = pair
    odp(
        "flow",
        "add",
        dp,
        "--in-port=" + a.host,
        "--eth-src=02:00:00:00:00:00:ff:ff:ff:ff:ff:00",
        "--output=" + b.host,
    )
    odp(
        "flow",
        "add",
        dp,
        "--in-port=" + b.host,
        "--eth-dst=02:00:00:00:01:00&ff:ff:ff:ff:00:00",
        "--output=" + a.host,
    )
    assert sorted(odp("flow", "list", dp)[0].splitlines()) == sorted(
        [
            "--in-port=%s --eth-src=02:00:00:00:00:00:ff:ff:ff:ff:ff:00 --output=%s"
            % (a.host, b.host),
            "--in-port=%s --eth-dst=02:00:00:00:00:00:ff:ff:ff:ff:00:00 --output=%s"
            % (b.host, a.host),
        ]
    )
    dump = run("ovs-dpctl", "dump-flows", "system@" + dp).stdout
    assert "eth(src=02:00:00:00:00:00/ff:ff:ff:ff:ff:00" in dump, dump


def test_list_lines_round_trip(dp, pair):
    a, b = pair
    odp(
        "flow",
        "add",
        dp,
        "--in-port=" + a.host,
        "--eth-type=0x0800",
        "--ipv4-dst=10.77.0.0/24",
        "--set-tunnel-id=0000000000000009",
        "--set-tunnel-ipv4-dst=192.0.2.9",
        "--set-tunnel-ttl=64",
        "--output=" + b.host,
    )
    odp("flow", "add", dp, "--in-port=" + b.host, "--tunnel-df=false", "--output=" + a.host)
    odp("flow", "add", dp, "--in-port=" + a.host, "--tcp-dst=80", "--output=" + b.host)
    # A flow from another tool, with attributes no flag names.
    run(
        "ovs-dpctl",
        "add-flow",
        "system@" + dp,
        "in_port(2),eth(),eth_type(0x0806),arp(op=1)",
        "push_vlan(vid=5,pcp=0),1",
    )
    before = odp("flow", "list", dp)[0]
    assert len(before.splitlines()) == 4 and "--key=" in before and "--actions=" in before
    # The kernel's dump of the flags' set(tunnel) lists as the same flags.
    assert (
        "--set-tunnel-id=0000000000000009 --set-tunnel-ipv4-dst=192.0.2.9 "
        "--set-tunnel-ttl=64 --output=" + b.host in before
    )
    assert (
        "--in-port=%s --eth-type=0x0800 --ipv4-proto=6 --tcp-dst=80 --output=%s" % (a.host, b.host)
        in before
    )
    # Each line back through `flow add` as arguments...
    run("ovs-dpctl", "del-flows", "system@" + dp)
    for line in before.splitlines():
        odp("flow", "add", dp, *shlex.split(line))
    assert sorted(odp("flow", "list", dp)[0].splitlines()) == sorted(before.splitlines())
    # ... and all of them as a file on stdin, with statistics comments.
    stats = odp("flow", "list", dp, "--stats")[0]
    run("ovs-dpctl", "del-flows", "system@" + dp)
    odp("flow", "add", dp, "--file=-", stdin=stats)
    assert sorted(odp("flow", "list", dp)[0].splitlines()) == sorted(before.splitlines())


def test_json_listings(dp, pair):
    import json

    a, b = pair
    odp("flow", "add", dp, "--in-port=" + a.host, "--output=" + b.host)
    assert dp in [d["name"] for d in json.loads(odp("datapath", "--json")[0])]
    vports = json.loads(odp("vport", "list", dp, "--json")[0])
    assert [(v["type"], v["name"]) for v in vports][1:] == [("netdev", a.host), ("netdev", b.host)]
    (flow,) = json.loads(odp("flow", "list", dp, "--json")[0])
    assert flow["options"] == "--in-port=%s --output=%s" % (a.host, b.host)


def test_bad_input(dp, pair):
    a, b = pair
    _out, err = odp(
        "flow",
        "add",
        dp,
        "--in-port=" + a.host,
        "--eth-src=02:00:00:00:00:0z",
        "--output=" + b.host,
        status=1,
    )
    assert (
        err == "odp: --eth-src: invalid value '02:00:00:00:00:0z': expected a MAC address "
        "such as 02:00:00:00:00:01\n"
    )
    _out, err = odp("flow", "add", dp, "--in-port=nosuchport", "--output=" + b.host, status=1)
    assert err.startswith("odp: --in-port: invalid value 'nosuchport': no such vport")
    _out, err = odp("flow", "add", dp, "--in-port=" + a.host, "--output=nosuchport", status=1)
    assert "nosuchport" in err and err.count("\n") == 1
    assert odp("flow", "list", dp)[0] == ""
    _out, err = odp("flow", "list", "nosuchdp", status=1)
    assert "nosuchdp" in err and err.count("\n") == 1
    _out, err = odp("datapath", "delete", "nosuchdp", status=1)
    assert "nosuchdp" in err and err.count("\n") == 1
    _out, err = odp("datapath", "lis", dp, status=2)
    assert err == 'odp: ambiguous command "odp datapath lis": list, listen\n'
    _out, err = odp("vport", "add", "netdev", dp, "nosuchdev0", status=1)
    assert "nosuchdev0" in err and err.count("\n") == 1
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
    assert "overlapping flows" in err and err.count("\n") == 1


# -- datapath listen (a real process: it takes signals and runs tcpdump) -----


def _read_until(proc, pattern, timeout):
    """Output of ``proc`` until ``pattern`` shows (or the timeout passes)."""
    data = b""
    deadline = time.monotonic() + timeout
    while not re.search(pattern, data) and time.monotonic() < deadline:
        if select.select([proc.stdout], [], [], 0.2)[0]:
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            data += chunk
    return data


def _listen(dp, ns, extra, pattern, stop):
    proc = subprocess.Popen(
        [sys.executable, "-m", "vswitch_odp.cli", "datapath", "listen", dp, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        data = b""
        # The listener subscribes some time after it starts: ping until misses show.
        for _attempt in range(20):
            run("ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "1", "10.77.0.2", check=False)
            data += _read_until(proc, pattern, 0.5)
            if re.search(pattern, data):
                break
        proc.send_signal(stop)
        rest, _stderr = proc.communicate(timeout=10)
        return proc.returncode, (data + rest).decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_listen_pipes_misses_into_tcpdump(dp, pair, stop):
    a, _b = pair
    status, output = _listen(dp, a.netns, [], rb"ARP, Request who-has 10\.77\.0\.2|ICMP echo", stop)
    assert status == 0, output
    assert re.search(r"ARP, Request who-has 10\.77\.0\.2|ICMP echo request", output), output
    assert "Traceback" not in output


def test_listen_keys(dp, pair):
    a, _b = pair
    status, output = _listen(dp, a.netns, ["--keys"], rb"eth_type\(0x0806\)", signal.SIGINT)
    assert status == 0, output
    (line,) = [line for line in output.splitlines() if "eth_type(0x0806)" in line][:1]
    # A miss's key, in `flow add` option form, with the vport by name.
    assert line.startswith("--key=") and a.host in line, output
    odp("flow", "add", dp, *shlex.split(line), "--output=" + a.host)
    assert len(odp("flow", "list", dp)[0].splitlines()) == 1


# -- the seed's VXLAN example, between two namespaces ------------------------


def test_vxlan_overlay_built_with_odp(kernel, netns):
    hosts = [netns("odph"), netns("odph")]
    tag = uuid.uuid4().hex[:6]
    underlay = ["u1" + tag, "u2" + tag]
    run(
        "ip",
        "link",
        "add",
        underlay[0],
        "netns",
        hosts[0],
        "type",
        "veth",
        "peer",
        "name",
        underlay[1],
        "netns",
        hosts[1],
    )
    under_ips = ["192.168.77.1", "192.168.77.2"]
    over_ips = ["10.78.0.1", "10.78.0.2"]
    for index, ns in enumerate(hosts):
        run("ip", "-n", ns, "addr", "add", under_ips[index] + "/24", "dev", underlay[index])
        run("ip", "-n", ns, "link", "set", underlay[index], "up")
        run("ip", "-n", ns, "link", "set", "lo", "up")
        peer = 1 - index
        with in_netns(ns):
            odp("datapath", "add", "dp")
            odp("vport", "add", "internal", "dp", "ovl")
            odp("vport", "add", "vxlan", "dp", "vx")
            # Host 0 sends VNI 5 and host 1 expects it; host 1 answers with the
            # seed's example as written (VNI 0).
            vni = ["--set-tunnel-id=0000000000000005"] if index == 0 else []
            odp(
                "flow",
                "add",
                "dp",
                "--in-port=ovl",
                "--set-tunnel-ipv4-src=" + under_ips[index],
                "--set-tunnel-ipv4-dst=" + under_ips[peer],
                "--set-tunnel-ttl=64",
                *vni,
                "--output=vx",
            )
            match = ["--tunnel-id=0000000000000005"] if index == 1 else []
            odp("flow", "add", "dp", "--in-port=vx", *match, "--output=ovl")
            assert "vxlan dp vx --port=4789" in odp("vport")[0]
        run("ip", "-n", ns, "addr", "add", over_ips[index] + "/24", "dev", "ovl")
        run("ip", "-n", ns, "link", "set", "ovl", "up")
    capture = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            hosts[1],
            "tcpdump",
            "-n",
            "-l",
            "-c",
            "1",
            "-i",
            underlay[1],
            "udp",
            "port",
            "4789",
            "and",
            "src",
            under_ips[0],
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        # tcpdump says "listening on" once its filter is in place.
        while b"listening on" not in capture.stderr.readline():
            assert capture.poll() is None, capture.stderr.read()
        ping(hosts[0], over_ips[1], count=2)
        out, _err = capture.communicate(timeout=10)
    finally:
        if capture.poll() is None:
            capture.kill()
            capture.wait()
    assert b"VXLAN" in out and b"vni 5" in out, out
