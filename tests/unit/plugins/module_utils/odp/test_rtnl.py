"""Unit tests of the rtnetlink reader (vswitch_odp.rtnl) and of the tunnel
devices found by it: the dumps captured from the real kernel
(data/rtnl_dumps.json, with iproute2's JSON of the same devices), and the
dump's receive loop over a local datagram socket."""

import errno
import json
import os
import socket
import struct

import pytest
from vswitch_odp import errors, rtnl, tunnels
from vswitch_odp.netlink import NLM_F_DUMP_INTR, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDR

with open(os.path.join(os.path.dirname(__file__), "data", "rtnl_dumps.json")) as _f:
    CAPTURED = json.load(_f)
LINKS = [rtnl.Link(bytes.fromhex(p)) for p in CAPTURED["links"]]
IP_LINK = {entry["ifindex"]: entry for entry in CAPTURED["ip_link"]}


def test_every_device_reads_as_iproute2_shows_it():
    assert sorted(link.index for link in LINKS) == sorted(IP_LINK)
    for link in LINKS:
        shown = IP_LINK[link.index]
        assert link.name == shown["ifname"]
        assert link.mtu == shown["mtu"]
        assert link.alias == shown.get("ifalias")
        assert link.kind == shown.get("linkinfo", {}).get("info_kind")
        assert bool(link.flags & 1) == ("UP" in shown["flags"])
        if shown.get("link_type") == "ether":
            assert link.mac == shown["address"]


def test_tunnel_devices_are_the_external_ones_with_their_ports():
    found = {link.name: tunnels._tunnel_of(link) for link in LINKS}
    for link in LINKS:
        info = IP_LINK[link.index].get("linkinfo", {})
        external = info.get("info_data", {}).get("external", False)
        tunnel = found[link.name]
        if info.get("info_kind") in tunnels.TYPES and external:
            assert tunnel.type == tunnels.TYPES[info["info_kind"]]
            assert tunnel.port == info["info_data"].get("port")
            assert tunnel.owned == (link.alias or "").startswith(tunnels.MARK)
        else:
            assert tunnel is None, link
    # What the capture made: each kind once external, once not.
    assert {name for name, tunnel in found.items() if tunnel} == {"vx0", "gnv0", "gt0"}
    assert found["vx0"].owned and not found["gnv0"].owned


def test_addresses_read_as_iproute2_shows_them():
    scopes = {"host": 254, "global": 0, "link": 253}
    shown = sorted(
        (entry["ifindex"], info["local"], info["prefixlen"], scopes[info["scope"]])
        for entry in CAPTURED["ip_addr"]
        for info in entry["addr_info"]
    )
    read = sorted(
        (a.index, a.address, a.prefixlen, a.scope)
        for a in (rtnl.Address(bytes.fromhex(p)) for p in CAPTURED["addresses"])
    )
    assert read == shown and any(":" in address for _i, address, _p, _s in read)


def message(kind, seq, body, flags=0):
    padding = b"\0" * (-len(body) % 4)
    return NLMSG_HDR.pack(NLMSG_HDR.size + len(body), kind, flags, seq, 0) + body + padding


class Kernel:
    """A local datagram socket pair: the reader's end, and replies queued
    for each request it sends (a list of datagrams per request)."""

    def __init__(self, *answers):
        self.mine, self.theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.answers = list(answers)
        self.requests = []

    def send(self, request):
        self.requests.append(request)
        for datagram in self.answers.pop(0):
            self.theirs.send(datagram)
        return len(request)

    def recv_into(self, buf, size, flags):
        return self.mine.recv_into(buf, size, flags)


def done(seq, status=0):
    return message(NLMSG_DONE, seq, struct.pack("=i", status))


def test_a_dump_collects_every_datagram_up_to_done():
    kernel = Kernel([message(16, 1, b"a" * 20) + message(16, 1, b"b" * 8), done(1)])
    assert rtnl._dump(kernel, rtnl.RTM_GETLINK, b"\0" * 16) == [b"a" * 20, b"b" * 8]
    length, kind, flags = struct.unpack_from("=IHH", kernel.requests[0])
    assert (length, kind, flags) == (32, rtnl.RTM_GETLINK, 0x301)


def test_an_interrupted_dump_is_made_again():
    kernel = Kernel(
        [message(16, 1, b"old!", NLM_F_DUMP_INTR), done(1)],
        [message(16, 2, b"new!"), done(2)],
    )
    assert rtnl._dump(kernel, rtnl.RTM_GETADDR, b"\0" * 8) == [b"new!"]
    assert len(kernel.requests) == 2


def test_a_dump_interrupted_every_time_fails_clearly():
    kernel = Kernel(*[[message(16, n, b"x", NLM_F_DUMP_INTR), done(n)] for n in range(1, 6)])
    with pytest.raises(errors.OdpError, match="interrupted the dump 5 times"):
        rtnl._dump(kernel, rtnl.RTM_GETLINK, b"\0" * 16)


def test_a_refused_dump_raises_the_errno():
    refusal = message(
        NLMSG_ERROR, 1, struct.pack("=i", -errno.EPERM) + NLMSG_HDR.pack(0, 0, 0, 1, 0)
    )
    with pytest.raises(errors.PermissionDenied, match="list network devices"):
        rtnl._dump(Kernel([refusal]), rtnl.RTM_GETLINK, b"\0" * 16)
    with pytest.raises(errors.OdpError, match="network addresses"):
        rtnl._dump(Kernel([done(1, -errno.EIO)]), rtnl.RTM_GETADDR, b"\0" * 8)


def test_a_namespace_that_does_not_exist_is_named():
    with pytest.raises(errors.NotFound, match="network namespace odp-no-such-ns does not exist"):
        rtnl.read("odp-no-such-ns")
