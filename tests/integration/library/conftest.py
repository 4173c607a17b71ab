"""Fixtures for kernel tests of the vswitch_odp library.

Every test in this directory needs the openvswitch kernel module and root.
`make test` runs them inside the sandbox kernel (tests/sandbox/run), where
ODP_SANDBOX=1.  Outside the sandbox they are skipped unless the module is
loaded or loadable; inside, a missing module is an error, never a skip.
"""

import json
import os
import re
import subprocess
import sys
import uuid
from collections import namedtuple

import pytest
from vswitch_odp import Client, errors

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
import fault_count
from fault_count import pytest_runtest_logreport, pytest_terminal_summary  # noqa: F401 pylint: disable=wrong-import-position,unused-import

IN_SANDBOX = os.environ.get("ODP_SANDBOX") == "1"
SKIP_REASON = "needs the openvswitch kernel module: run through tests/sandbox/run (make test)"
HERE = os.path.dirname(os.path.abspath(__file__))

Veth = namedtuple("Veth", "host peer netns")


def run(*argv, check=True):
    """Run argv (no shell), return the CompletedProcess; output captured."""
    return subprocess.run(
        list(argv),
        check=check,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def pings_received(ns, address, count, interval):
    """Echo replies received of ``count`` requests sent every ``interval`` s
    from namespace ``ns`` (a lost reply is counted, not raised)."""
    out = run(
        "ip",
        "netns",
        "exec",
        ns,
        "ping",
        "-n",
        "-q",
        "-c",
        str(count),
        "-i",
        str(interval),
        "-W",
        "1",
        address,
        check=False,
    ).stdout
    return int(re.search(r"(\d+) received", out).group(1))


def _openvswitch_available():
    if os.path.isdir("/sys/module/openvswitch"):
        return True
    if os.geteuid() != 0:
        return False
    try:
        run("modprobe", "openvswitch", check=False)
    except OSError:
        return False
    return os.path.isdir("/sys/module/openvswitch")


def pytest_configure(config):
    fault_count.pytest_configure(config)
    config.addinivalue_line(
        "markers",
        "kernel(min=None, below=None): needs the openvswitch kernel module (auto-applied "
        "in tests/integration/library); with min/below, a kernel release (e.g. '6.11') from "
        "which or below which it can run: on other kernels the test is deselected",
    )
    config.addinivalue_line(
        "markers", "fault: bad input that must be refused cleanly (issue 15): `pytest -m fault`"
    )
    config.addinivalue_line(
        "markers",
        "tunnel_fallback: needs a kernel without the legacy tunnel vport "
        "types (ODP_SANDBOX_MODPROBE_DENY=vport-vxlan,vport-geneve,vport-gre)",
    )


def _release(text):
    """``(major, minor)`` of a kernel release such as ``6.1.0-18-amd64``."""
    return tuple(int(n) for n in re.findall(r"\d+", text)[:2])


def _kernel_mismatch(item, running):
    """Why the running kernel cannot run ``item`` (its kernel(min=, below=)
    markers), or None when it can."""
    for marker in item.iter_markers("kernel"):
        low, high = marker.kwargs.get("min"), marker.kwargs.get("below")
        if low is not None and running < _release(low):
            return "need Linux %s+" % low
        if high is not None and running >= _release(high):
            return "need a kernel below %s" % high
    return None


def _deselect_by_kernel(config, items, mine):
    """A kernel test never skips in the sandbox: of ``mine``, the tests of
    other kernels are deselected from ``items``, and one line says which and why."""
    release = os.uname().release
    running = _release(release)
    why = {item: _kernel_mismatch(item, running) for item in mine}
    unfit = [item for item in mine if why[item]]
    if not unfit:
        return
    config.hook.pytest_deselected(items=unfit)
    items[:] = [item for item in items if not why.get(item)]
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            "kernel %s: deselected %s"
            % (release, ", ".join("%s (%s)" % (item.name, why[item]) for item in unfit))
        )


def pytest_collection_modifyitems(config, items):
    mine = [i for i in items if str(i.fspath).startswith(HERE + os.sep)]
    for item in mine:
        item.add_marker(pytest.mark.kernel)
    _deselect_by_kernel(config, items, mine)
    mine = [i for i in mine if i in items]
    # Tests of the fallback for kernels without the legacy tunnel vport types
    # run in their own boot, where tests/run-all refuses those modules
    # (ODP_SANDBOX_MODPROBE_DENY); a normal boot cannot exercise them.
    if "vport-vxlan" not in os.environ.get("ODP_SANDBOX_MODPROBE_DENY", ""):
        fallback = [i for i in mine if i.get_closest_marker("tunnel_fallback")]
        if fallback:
            config.hook.pytest_deselected(items=fallback)
            items[:] = [i for i in items if i not in fallback]
    if mine and not IN_SANDBOX and not _openvswitch_available():
        skip = pytest.mark.skip(reason=SKIP_REASON)
        for item in mine:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def in_sandbox():
    """True when running inside the sandbox kernel."""
    return IN_SANDBOX


@pytest.fixture(scope="session")
def kernel():
    """Make sure the openvswitch module is loaded (fails inside the sandbox)."""
    if not _openvswitch_available():
        if IN_SANDBOX:
            pytest.fail("openvswitch module does not load inside the sandbox")
        pytest.skip(SKIP_REASON)
    return True


@pytest.fixture
def netns():
    """Factory: netns(prefix='odp') -> name of a new network namespace.

    Namespaces are deleted at teardown.
    """
    created = []

    def make(prefix="odp"):
        name = "%s-%s" % (prefix, uuid.uuid4().hex[:8])
        run("ip", "netns", "add", name)
        created.append(name)
        return name

    yield make
    for name in reversed(created):
        run("ip", "netns", "delete", name, check=False)


@pytest.fixture
def veth(netns):
    """Factory: veth(ns=None, addr=None) -> Veth(host, peer, netns).

    Creates a veth pair: `host` stays in the root namespace (up, no address,
    ready to become a vport), `peer` moves into `ns` (a new namespace when
    None), is brought up and gets `addr` (e.g. '10.0.0.1/24') if given.
    """
    created = []

    def make(ns=None, addr=None):
        ns = ns or netns()
        tag = uuid.uuid4().hex[:8]
        host, peer = "vh" + tag, "vp" + tag
        run("ip", "link", "add", host, "type", "veth", "peer", "name", peer, "netns", ns)
        created.append(host)
        run("ip", "link", "set", host, "up")
        run("ip", "-n", ns, "link", "set", "lo", "up")
        run("ip", "-n", ns, "link", "set", peer, "up")
        if addr:
            run("ip", "-n", ns, "addr", "add", addr, "dev", peer)
        return Veth(host, peer, ns)

    yield make
    for host in reversed(created):
        run("ip", "link", "delete", host, check=False)


@pytest.fixture
def odp(kernel):
    """(Client, scratch datapath): the datapath is deleted at teardown."""
    with Client() as client:
        dp = client.create_datapath("odpk%s" % uuid.uuid4().hex[:8])
        yield client, dp
        try:
            client.delete_datapath(dp.name)
        except errors.NoSuchDatapath:
            pass


Joined = namedtuple("Joined", "a b port_a port_b")
Side = namedtuple("Side", "host peer netns")


def peer_mac(side):
    """The MAC address of a veth's namespace end, as text."""
    out = run("ip", "-j", "-n", side.netns, "link", "show", "dev", side.peer).stdout
    return json.loads(out)[0]["address"]


@pytest.fixture
def joined(netns):
    """Factory: joined(client, datapath, subnet, host_netns=None) -> Joined.

    Two new namespaces with addresses subnet.1 (a) and subnet.2 (b), whose
    veths' other ends (in ``host_netns``, the client's namespace) are vports
    of ``datapath``; each knows the other's MAC, so IPv4 goes without ARP
    and a flow table of IPv4 alone carries it.
    """
    hosts = []

    def make(client, datapath, subnet, host_netns=None):
        where = ("-n", host_netns) if host_netns else ()
        sides = []
        for number in (1, 2):
            tag = uuid.uuid4().hex[:8]
            side = Side("vh" + tag, "vp" + tag, netns())
            run(
                "ip",
                *where,
                "link",
                "add",
                side.host,
                "type",
                "veth",
                "peer",
                "name",
                side.peer,
                "netns",
                side.netns,
            )
            hosts.append((where, side.host))
            run("ip", *where, "link", "set", side.host, "up")
            run("ip", "-n", side.netns, "link", "set", side.peer, "up")
            run(
                "ip",
                "-n",
                side.netns,
                "addr",
                "add",
                "%s.%d/24" % (subnet, number),
                "dev",
                side.peer,
            )
            sides.append(side)
        a, b = sides
        for near, far, number in ((a, b, 2), (b, a, 1)):
            run(
                "ip",
                "-n",
                near.netns,
                "neigh",
                "replace",
                "%s.%d" % (subnet, number),
                "lladdr",
                peer_mac(far),
                "dev",
                near.peer,
            )
        return Joined(
            a,
            b,
            client.create_vport(datapath, a.host).port_no,
            client.create_vport(datapath, b.host).port_no,
        )

    yield make
    for where, host in hosts:
        run("ip", *where, "link", "delete", host, check=False)


def unique(prefix):
    """A name no other test run uses: ``prefix`` and six hex digits."""
    return prefix + uuid.uuid4().hex[:6]


@pytest.fixture
def client(kernel):
    """A library client of the root namespace."""
    with Client() as odp:
        yield odp


@pytest.fixture
def datapaths(client):
    """Factory of new datapath names; those that exist at teardown are deleted."""
    names = []

    def make(prefix="dp"):
        names.append(unique(prefix))
        return names[-1]

    yield make
    for name in names:
        try:
            client.delete_datapath(name)
        except errors.NoSuchDatapath:
            pass
