"""psample against the real kernel: tc's sample action (psample.ko and
act_sample.ko, in the sandbox's 6.1 kernel) feeds the library's
SampleListener and ``odp psample listen``; the datapath's psample action
(Linux 6.11+) is probed, refused clearly before anything is sent where the
kernel lacks it, and sampled end to end where it has it.
"""

import re

import pytest
from conftest import run
from test_cli import dp, odp, pair  # noqa: F401 pylint: disable=unused-import
from test_cli_kernel import _lines, _ready, _start, _stop
from vswitch_odp import Client, errors
from vswitch_odp.flows import Flow
from vswitch_odp.psample import SampleListener
from vswitch_odp.text import parse_flow

PINGS = 3
TRUNC = 64
ICMP_ECHO = 98  # bytes of a default ping's frame


@pytest.fixture
def sampled(netns):
    """(ns_a, ns_b, ifindex of va): veth va (ns_a, 10.78.0.1) and vb (ns_b,
    10.78.0.2); tc samples va's ingress to group 7 (truncated to TRUNC
    bytes) and its egress to group 8."""
    ns_a, ns_b = netns("psa"), netns("psb")
    run(
        "ip",
        "link",
        "add",
        "va",
        "netns",
        ns_a,
        "type",
        "veth",
        "peer",
        "name",
        "vb",
        "netns",
        ns_b,
    )
    for ns, dev, addr in ((ns_a, "va", "10.78.0.1/24"), (ns_b, "vb", "10.78.0.2/24")):
        run("ip", "-n", ns, "addr", "add", addr, "dev", dev)
        run("ip", "-n", ns, "link", "set", dev, "up")
    tc = ["ip", "netns", "exec", ns_a, "tc"]
    run(*tc, "qdisc", "add", "dev", "va", "clsact")
    for hook, group, extra in (("ingress", 7, ["trunc", str(TRUNC)]), ("egress", 8, [])):
        run(
            *tc,
            "filter",
            "add",
            "dev",
            "va",
            hook,
            "matchall",
            "action",
            "sample",
            "rate",
            "1",
            "group",
            str(group),
            *extra,
        )
    link = run("ip", "-n", ns_a, "-o", "link", "show", "dev", "va").stdout
    return ns_a, ns_b, int(link.split(":")[0])


def ping(ns, address, count=PINGS):
    run(
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
        "0.2",
        "-W",
        "1",
        address,
    )


def is_icmp(sample):
    return sample.proto == 0x0800 and sample.orig_size == ICMP_ECHO


def test_listener_reads_tc_samples(sampled):
    ns_a, ns_b, va = sampled
    with SampleListener([7], netns=ns_a) as only7, SampleListener(netns=ns_a) as every:
        ping(ns_b, "10.78.0.1")
        of7 = list(only7.iter(timeout=1))
        both = [s for s in every.iter(timeout=1) if is_icmp(s)]
    requests = [s for s in of7 if is_icmp(s)]
    assert len(requests) == PINGS, requests
    for sample in requests:
        # The echo requests came in on va: cut to TRUNC bytes, all of them sampled.
        assert (sample.group, sample.in_ifindex, sample.out_ifindex, sample.rate) == (
            7,
            va,
            None,
            1,
        )
        assert (len(sample.packet), sample.orig_size) == (TRUNC, ICMP_ECHO)
        assert sample.packet[12:14] == b"\x08\x00" and sample.packet[34] == 8  # ICMP echo request
        assert sample.cookie is None and not sample.probability
    seqs = [s.seq for s in of7]  # ARP too: each group counts its samples, none was lost
    assert {s.group for s in of7} == {7} and seqs == list(range(seqs[0], seqs[0] + len(of7))), seqs
    replies = [s for s in both if s.group == 8]
    assert sorted(s.group for s in both) == [7] * PINGS + [8] * PINGS, both
    for sample in replies:
        # The echo replies left by va, whole; made here, so no input device.
        assert (sample.in_ifindex, sample.out_ifindex, len(sample.packet)) == (None, va, ICMP_ECHO)
        assert sample.packet[34] == 0  # ICMP echo reply


def test_samples_stay_in_their_namespace(sampled):
    _ns_a, ns_b, _va = sampled
    with SampleListener() as root:  # the caller's (root) namespace
        ping(ns_b, "10.78.0.1", count=1)
        assert list(root.iter(timeout=0.5)) == []


def test_listener_refuses_bad_groups():
    with pytest.raises(errors.ValidationError, match="group"):
        SampleListener([1 << 32])


def test_odp_psample_listen_lines(sampled):
    ns_a, ns_b, _va = sampled
    proc = _start(["-n", ns_a, "psample", "listen", "7"])
    try:
        assert _ready(proc) == "odp: listening on psample group 7\n"
        ping(ns_b, "10.78.0.1")
        lines = _lines(proc, PINGS, lambda line: "proto=0x0800" in line)
        assert len(lines) == PINGS, lines
        for line in lines:
            assert re.fullmatch(
                r"group=7 seq=\d+ in=va bytes=%d orig_bytes=%d rate=1 proto=0x0800"
                % (TRUNC, ICMP_ECHO),
                line,
            ), line
        status, err = _stop(proc)
        assert (status, err) == (0, ""), err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_odp_psample_listen_packet_hex(sampled):
    ns_a, ns_b, _va = sampled
    proc = _start(["-n", ns_a, "psample", "listen", "8", "--packet"])
    try:
        _ready(proc)
        ping(ns_b, "10.78.0.1", count=1)
        (line,) = _lines(proc, 1, lambda line: "proto=0x0800" in line)
        assert line.startswith("group=8 seq=") and " out=va bytes=98 orig_bytes=98 " in line, line
        packet = bytes.fromhex(line.split("packet=")[1])
        assert len(packet) == ICMP_ECHO and packet[26:34] == bytes([10, 78, 0, 1, 10, 78, 0, 2])
        _stop(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# -- the datapath's psample action ----------------------------------------------------------

PSAMPLE_FLOW = "in_port(%s),eth(),eth_type(0x0800),ipv4() actions:psample(group=3,cookie=0x0102),%s"


@pytest.mark.kernel(below="6.11")  # the psample action came in 6.11
def test_psample_action_refused_before_anything_is_sent(pair, dp):
    a, b = pair
    good = "--in-port=%s --eth-type=0x0806 --output=%s" % (a.host, b.host)
    psample = "--key=in_port(%s),eth(),eth_type(0x0800),ipv4() --actions=psample(group=3),%s" % (
        a.host,
        b.host,
    )
    _out, err = odp("flow", "add", dp, *psample.split(), status=1)
    assert re.fullmatch(
        r"odp: psample is not supported by this kernel: its openvswitch module "
        r"refuses the psample action of datapath %s \(OVS_ACTION_ATTR_PSAMPLE, "
        r"Linux 6\.11\+\): .*\n" % dp,
        err,
    ), err
    # A batch with one such flow: none of it is sent.
    _out, err = odp("flow", "add", dp, "--file=-", stdin=good + "\n" + psample + "\n", status=1)
    assert "psample is not supported by this kernel" in err, err
    # Nested in a sample action, as ovs-vswitchd writes it, and through the library.
    with Client() as client:
        ports = {v.name: v.port_no for v in client.vports(dp)}
        nested = (
            "in_port(%d),eth(),eth_type(0x0800),ipv4() actions:sample(sample=50.0%%,"
            "actions(psample(group=3)))" % ports[a.host]
        )
        key, mask, actions, _ufid = parse_flow(nested)
        with pytest.raises(errors.Unsupported, match="psample is not supported by this kernel"):
            client.put_flows(dp, [Flow(key, mask, actions)])
        assert client.flows(dp) == []


@pytest.mark.kernel(min="6.11")  # the psample action (make test-kernel-6.12 runs it)
def test_psample_action_samples_end_to_end(pair, dp):
    a, b = pair
    with Client() as client:
        ports = {v.name: v.port_no for v in client.vports(dp)}
        for src, dst in ((a.host, b.host), (b.host, a.host)):
            client.put_flow(
                dp,
                Flow(
                    *parse_flow(
                        "in_port(%d),eth(),eth_type(0x0806) actions:%d" % (ports[src], ports[dst])
                    )[:3]
                ),
            )
        client.put_flow(dp, Flow(*parse_flow(PSAMPLE_FLOW % (ports[a.host], ports[b.host]))[:3]))
        # The replies: as ovs-vswitchd writes it, in a sample action (all of them sampled).
        client.put_flow(
            dp,
            Flow(
                *parse_flow(
                    "in_port(%d),eth(),eth_type(0x0800),ipv4() actions:sample(sample=100.0%%,"
                    "actions(psample(group=4))),%d" % (ports[b.host], ports[a.host])
                )[:3]
            ),
        )
        listed = odp("flow", "list", dp)[0]
        assert "--actions='psample(group=3,cookie=0x0102),%s'" % b.host in listed, listed
        with client.samples([3, 4]) as samples:
            ping(a.netns, "10.77.0.2")
            got = [s for s in samples.iter(timeout=1) if s.orig_size == ICMP_ECHO]
    ifindex = {
        side: int(run("cat", "/sys/class/net/%s/ifindex" % side).stdout)
        for side in (a.host, b.host)
    }
    assert sorted(s.group for s in got) == [3] * PINGS + [4] * PINGS, got
    for sample in got:
        # The datapath gives its rate as a probability: always, outside a sample action.
        assert (sample.probability, sample.rate) == (True, 0xFFFFFFFF), sample
        if sample.group == 3:
            assert (sample.cookie, sample.in_ifindex) == (b"\x01\x02", ifindex[a.host])
        else:
            assert (sample.cookie, sample.in_ifindex) == (None, ifindex[b.host])
