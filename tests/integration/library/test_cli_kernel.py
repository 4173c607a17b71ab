"""Kernel tests of the odp commands on meters, conntrack limits, datapath
settings, vport events and upcalls as a peer scripts them (ovs-dpctl is the
peer that installs userspace actions and reads what odp set).

Commands run in-process (test_cli.odp) unless a real process is the point
(streams, signals, a reader that goes away).
"""

import os
import re
import select
import signal
import subprocess
import sys
import time
import uuid

import pytest
from conftest import pings_received, run
from test_cli import dp, odp, pair  # noqa: F401 pylint: disable=unused-import
from vswitch_odp import Client
from vswitch_odp.text.cookie import format_cookie

ODP = [sys.executable, "-m", "vswitch_odp.cli"]
PINGS = 20


def port_no(datapath, name):
    with Client() as client:
        return client.get_vport(datapath, name).port_no


# -- meters ----------------------------------------------------------------------


def test_meter_commands_limit_icmp(pair, dp):
    a, b = pair
    features = odp("meter", "features", dp)[0]
    assert re.match(r"max_meters=\d+ max_bands=\d+ band_types=drop flags=", features), features
    odp("meter", "add", dp, "1", "rate=2,burst=2", "--unit=pkts")
    assert odp("meter", "list", dp)[0] == (
        "meter=1 unit=pkts band0=rate=2,burst=2,type=drop packets=0 bytes=0 "
        "band0.packets=0 band0.bytes=0\n"
    )
    pa, pb = port_no(dp, a.host), port_no(dp, b.host)
    # ARP both ways; ICMP from a goes through meter 1, the replies do not.
    for key, actions in ((a.host, "%d" % pb), (b.host, "%d" % pa)):
        odp(
            "flow",
            "add",
            dp,
            "--key=in_port(%s),eth(),eth_type(0x0806)" % key,
            "--actions=" + actions,
        )
    odp(
        "flow",
        "add",
        dp,
        "--key=in_port(%s),eth(),eth_type(0x0800),ipv4(proto=1)" % a.host,
        "--actions=meter(1),%d" % pb,
    )
    odp(
        "flow",
        "add",
        dp,
        "--key=in_port(%s),eth(),eth_type(0x0800),ipv4(proto=1)" % b.host,
        "--actions=%d" % pa,
    )
    received = pings_received(a.netns, "10.77.0.2", PINGS, 0.1)
    line = odp("meter", "list", dp)[0]
    counts = {name: int(value) for name, value in re.findall(r"(\S+)=(\d+)", line)}
    # Every request went through the meter; those the band dropped got no
    # reply. 2 s at 2 packets/s after a burst of 2: about 6 pass.
    assert counts["meter"] == 1 and counts["packets"] == PINGS, line
    assert received + counts["band0.packets"] == PINGS, line
    assert 3 <= received <= 10, line
    odp("meter", "delete", dp, "1")
    odp("meter", "delete", dp, "1")  # gone already: nothing to do
    assert odp("meter", "list", dp)[0] == ""


def test_meter_kernel_refusal_is_one_line(dp):
    odp("datapath", "add", dp)
    _out, err = odp(
        "meter", "add", dp, "1", "rate=1", "rate=2", "rate=3", "rate=4", "rate=5", status=1
    )
    assert err.startswith("odp: bands: invalid value") and err.count("\n") == 1, err


# -- conntrack limits ------------------------------------------------------------


def test_ct_limit_commands_in_a_namespace(kernel, netns):
    ns = netns("ctl")
    zone = 1 + uuid.uuid4().int % 65000
    assert odp("-n", ns, "ct-limit", "show")[0] == "zone=default limit=0\n"
    odp("-n", ns, "ct-limit", "set", "--default=50", "%d=2" % zone)
    assert odp("-n", ns, "ct-limit", "show")[0] == (
        "zone=default limit=50\nzone=%d limit=2 count=0\n" % zone
    )
    assert odp("-n", ns, "ct-limit", "show", zone + 1)[0] == "zone=%d limit=50 count=0\n" % (
        zone + 1
    )
    # ovs-dpctl reads the same limits (through a datapath of that namespace).
    with Client(netns=ns) as client:
        client.create_datapath("odpkct")
    shown = run("ip", "netns", "exec", ns, "ovs-dpctl", "ct-get-limits", "odpkct").stdout
    assert "default limit=50" in shown and "zone=%d,limit=2,count=0" % zone in shown
    odp("-n", ns, "ct-limit", "delete", zone, "--default")
    assert odp("-n", ns, "ct-limit", "show")[0] == "zone=default limit=0\n"
    # The root namespace's limits were never touched.
    assert "zone=%d " % zone not in odp("ct-limit", "show")[0]


# -- datapath settings -----------------------------------------------------------


def test_datapath_set_and_stats(dp):
    odp("datapath", "add", dp)
    with Client() as client:
        features = client.get_datapath(dp).features
    odp("datapath", "set", dp, "--masks-cache-size=64")
    (line,) = [
        row for row in odp("datapath", "list", "--stats")[0].splitlines() if row.split()[1] == dp
    ]
    assert " user-features=%s masks-cache-size=64 " % ",".join(features) in line, line
    assert re.search(r" hit=\d+ lost=\d+ mask_hit=\d+ masks=\d+ missed=\d+$", line), line
    # ovs-dpctl reads the kernel's cache size (the peer's view).
    assert re.search(r"masks-cache: size:\s*64", run("ovs-dpctl", "show", dp).stdout)
    odp("datapath", "set", dp, "--user-features=" + ",".join(features), "--masks-cache-size=256")
    with Client() as client:
        now = client.get_datapath(dp)
    assert (now.features, now.masks_cache_size) == (features, 256)
    _out, err = odp("datapath", "set", dp, "--user-features=warp", status=1)
    assert "features: invalid value 'warp'" in err and err.count("\n") == 1


# -- streams: vport monitor, datapath listen -------------------------------------


def _start(argv):
    return subprocess.Popen(ODP + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _ready(proc, timeout=30):
    """The ready line on stderr (the process is subscribed once it shows)."""
    deadline = time.monotonic() + timeout
    line = b""
    while time.monotonic() < deadline and not line.endswith(b"\n"):
        if select.select([proc.stderr], [], [], 0.2)[0]:
            chunk = os.read(proc.stderr.fileno(), 1)
            if not chunk:
                break
            line += chunk
    assert b"odp: " in line, (line, proc.poll())
    return line.decode()


def _lines(proc, count, wanted=lambda line: True, timeout=20):
    """Lines of ``proc`` until ``count`` of them are ``wanted`` (those are returned)."""
    data = b""
    deadline = time.monotonic() + timeout
    found = []
    while len(found) < count and time.monotonic() < deadline:
        if select.select([proc.stdout], [], [], 0.2)[0]:
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            data += chunk
            found = [line for line in data.decode().splitlines() if wanted(line)]
    return found


def _stop(proc, number=signal.SIGTERM):
    proc.send_signal(number)
    _out, err = proc.communicate(timeout=10)
    return proc.returncode, err.decode()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_vport_monitor_lines_until_signalled(dp, stop):
    odp("datapath", "add", dp)
    proc = _start(["vport", "monitor", dp])
    try:
        assert _ready(proc) == "odp: monitoring vport events of datapath %s\n" % dp
        odp("vport", "add", "internal", dp, "mon0")
        odp("vport", "delete", dp, "mon0")
        lines = _lines(proc, 2)
        number = re.search(r"port_no=(\d+)", lines[0]).group(1)
        assert lines == [
            "created %s mon0 type=internal port_no=%s" % (dp, number),
            "deleted %s mon0 type=internal port_no=%s" % (dp, number),
        ]
        status, err = _stop(proc, stop)
        assert status == 0 and "Traceback" not in err, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_vport_monitor_reader_gone(dp):
    odp("datapath", "add", dp)
    proc = _start(["vport", "monitor", dp])
    try:
        _ready(proc)
        proc.stdout.close()  # the reader goes away: the next line ends odp quietly
        odp("vport", "add", "internal", dp, "mon1")
        assert proc.wait(timeout=10) == 141
        assert "Traceback" not in proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_listen_upcalls_misses_and_userspace_actions(pair, dp):
    a, _b = pair
    proc = _start(["datapath", "listen", dp, "--upcalls"])
    try:
        ready = _ready(proc)
        pid = int(
            re.search(
                r"listening on datapath %s \(userspace actions: pid=(\d+)\)" % dp, ready
            ).group(1)
        )
        # A's ARP request misses (no flows yet) ...
        run("ip", "netns", "exec", a.netns, "ping", "-c", "1", "-W", "1", "10.77.0.2", check=False)
        (miss,) = _lines(proc, 1, lambda line: "eth_type(0x0806)" in line)[:1]
        assert miss.startswith("miss vport=%s bytes=42 --key=" % a.host), miss
        # ... then a peer sends it up with two userspace actions of its own
        # (ovs-dpctl reads pid as a signed 32-bit number).
        signed = pid - (1 << 32) if pid >= 1 << 31 else pid
        run(
            "ovs-dpctl",
            "add-flow",
            "system@" + dp,
            "in_port(%d),eth(),eth_type(0x0806),arp()" % port_no(dp, a.host),
            "userspace(pid=%d,sFlow(vid=5,pcp=3,output=1234)),userspace(pid=%d,userdata(0102030405))"
            % (signed, signed),
        )
        run("ip", "netns", "exec", a.netns, "ping", "-c", "1", "-W", "1", "10.77.0.2", check=False)
        actions = _lines(proc, 2, lambda line: line.startswith("action "))[:2]
        prefix = "action vport=%s bytes=42 " % a.host
        assert actions[0].startswith(prefix + "cookie=sFlow(vid=5,pcp=3,output=1234) --key="), (
            actions
        )
        # ovs-dpctl pads userdata to 8 bytes; not a cookie, so hex.
        assert actions[1].startswith(prefix + "userdata=0102030405000000 --key="), actions
        status, err = _stop(proc)
        assert status == 0 and "Traceback" not in err, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cookies_read_as_ovs_dpctl_prints_them(dp):
    """The cookie layout, checked against ovs-dpctl for every form."""
    odp("datapath", "add", dp)
    odp("vport", "add", "internal", dp, "ck0")
    spellings = [
        "sFlow(vid=5,pcp=3,output=1234)",
        "slow_path(cfm)",
        "slow_path(lldp)",
        "flow_sample(probability=300,collector_set_id=11,obs_domain_id=22,"
        "obs_point_id=33,output_port=1,egress)",
        "ipfix(output_port=1)",
        "controller(reason=1,dont_send=1,continuation=0,recirc_id=9,"
        "rule_cookie=0x1122334455667788,controller_id=4,max_len=128)",
    ]
    for index, spelling in enumerate(spellings):
        run(
            "ovs-dpctl",
            "add-flow",
            "system@" + dp,
            "in_port(1),eth(),eth_type(0x0800),ipv4(src=10.0.0.%d)" % (index + 1),
            "userspace(pid=7,%s)" % spelling,
        )
    printed = dict(
        re.findall(
            r"ipv4\(src=10\.0\.0\.(\d+)[^)]*\).*actions:userspace\(pid=7,(.*)\)$",
            run("ovs-dpctl", "dump-flows", "system@" + dp).stdout,
            re.M,
        )
    )
    with Client() as client:
        flows = client.flows(dp)
    assert len(flows) == len(spellings)
    for flow in flows:
        index = flow.key["ipv4"]["src"] & 0xFF
        userdata = flow.actions[0][1]["userdata"]
        assert format_cookie(userdata) == printed[str(index)] == spellings[index - 1]
