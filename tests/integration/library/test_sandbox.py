"""Smoke tests of the sandbox kernel itself."""

import os
import subprocess
import uuid

import pytest


def run(*argv):
    return subprocess.run(
        list(argv), check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def test_ipv6_loaded(in_sandbox):
    if not in_sandbox:
        pytest.skip("checks the sandbox init")
    # The init loads ipv6 first: metadata-mode vxlan deadlocks without it.
    assert os.path.isdir("/sys/module/ipv6")


def test_dpctl_add_del(kernel):
    dp = "t" + uuid.uuid4().hex[:8]
    run("ovs-dpctl", "add-dp", dp)
    try:
        assert ("system@%s:" % dp) in run("ovs-dpctl", "show", dp).stdout
        assert os.path.isdir("/sys/module/openvswitch")
    finally:
        run("ovs-dpctl", "del-dp", dp)
    assert dp not in run("ovs-dpctl", "show").stdout


def test_veth_between_namespaces(veth):
    a = veth(addr="10.99.0.1/24")
    b = veth(addr="10.99.0.2/24")
    assert a.netns != b.netns
    run("ip", "-n", a.netns, "-o", "link", "show", a.peer)
    run("ip", "-o", "link", "show", b.host)
    run("ip", "netns", "exec", a.netns, "ping", "-c1", "-W1", "127.0.0.1")
