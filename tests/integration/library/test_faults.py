"""Kernel tests of bad input through the odp command: each fails before
anything is sent, naming the option, and ovs-dpctl sees nothing changed."""

import pytest
from conftest import run
from test_cli import dp, odp, pair  # noqa: F401 pylint: disable=unused-import

pytestmark = pytest.mark.fault


def dpctl(dp):
    return run("ovs-dpctl", "dump-flows", dp).stdout


@pytest.mark.parametrize(
    "argv, told",
    [
        (
            ["--eth-type=0x86dd", "--ipv6-src=fe80::1%eth0"],
            "--ipv6-src: invalid value 'fe80::1%eth0'",
        ),
        (
            ["--eth-type=0x0800", "--ipv4-proto=6", "--tcp-dst=\u0668\u0660"],
            "--tcp-dst: invalid value",
        ),
        (
            ["--eth-src=02:00:00:00:00:01", "--eth-src=02:00:00:00:00:02"],
            "--eth-src: invalid value '02:00:00:00:00:02': given more than once",
        ),
        (["--output=nosuch"], "--output: invalid value 'nosuch': no such vport"),
        (
            ["--actions=" + ",".join(["1"] * 9000)],
            "actions: invalid value '9000 actions': "
            "72004 bytes encoded, more than a netlink attribute holds (65535)",
        ),
        (["--actions=" + "clone(" * 3000 + "1" + ")" * 3000], "nest at most 16 deep"),
    ],
)
def test_bad_flow_options_change_nothing(dp, pair, argv, told):
    a, _b = pair
    _out, err = odp("flow", "add", dp, "--in-port=" + a.host, *argv, status=1)
    assert told in err and "Traceback" not in err and "internal error" not in err
    assert dpctl(dp) == ""


def test_many_outputs_are_stored_whole(dp, pair):
    a, b = pair
    odp("flow", "add", dp, "--in-port=" + a.host, "--actions=" + ",".join([b.host] * 5000))
    (line,) = dpctl(dp).splitlines()
    assert len(line.split("actions:")[1].split(",")) == 5000
