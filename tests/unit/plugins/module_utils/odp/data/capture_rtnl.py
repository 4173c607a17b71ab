"""Capture the real kernel's rtnetlink link and address dumps of a namespace
with every kind of device the library reads into rtnl_dumps.json, beside
what iproute2 (`ip -j -d link show`, `ip -j addr show`) says of the same
devices (run in the sandbox).

    tests/sandbox/run -- .venv/bin/python tests/unit/plugins/module_utils/odp/data/capture_rtnl.py

The dump requests are framed here by hand with struct, independent of the
library's rtnl module, which this data is meant to test. The payloads
(after the nlmsghdr) are kept as hex.
"""

import json
import os
import socket
import struct
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "rtnl_dumps.json")
NS = "caprtnl"
RTM_GETLINK, RTM_GETADDR = 18, 22
NLM_F_REQUEST, NLM_F_DUMP = 1, 0x300
NLMSG_DONE = 3


def ip(*argv):
    return subprocess.run(["ip", "-n", NS, *argv], check=True, capture_output=True, text=True)


def dump(sock, kind, header, seq):
    request = struct.pack("=IHHII", 16 + len(header), kind, NLM_F_REQUEST | NLM_F_DUMP, seq, 0)
    sock.send(request + header)
    payloads = []
    while True:
        data = sock.recv(1 << 16)
        offset = 0
        while offset < len(data):
            length, mtype = struct.unpack_from("=IH", data, offset)
            if mtype == NLMSG_DONE:
                return payloads
            payloads.append(data[offset + 16 : offset + length].hex())
            offset += (length + 3) & ~3


def main():
    subprocess.run(["modprobe", "ipv6"], check=False)
    subprocess.run(["ip", "netns", "add", NS], check=True)
    try:
        ip("link", "set", "lo", "up")
        ip("link", "add", "ve0", "type", "veth", "peer", "name", "ve1")
        ip("link", "set", "ve0", "address", "02:00:00:00:00:01", "mtu", "1450", "up")
        ip("link", "set", "ve0", "alias", "vswitch.odp tunnel not really")
        ip("addr", "add", "10.9.0.1/24", "dev", "ve0")
        ip("addr", "add", "2001:db8::1/64", "dev", "ve0")
        ip("link", "add", "vx0", "type", "vxlan", "dstport", "4789", "external")
        ip(
            "link",
            "add",
            "vx1",
            "type",
            "vxlan",
            "id",
            "42",
            "dstport",
            "4790",
            "remote",
            "10.9.0.2",
        )
        ip("link", "add", "gnv0", "type", "geneve", "dstport", "6081", "external")
        ip(
            "link",
            "add",
            "gnv1",
            "type",
            "geneve",
            "id",
            "7",
            "remote",
            "10.9.0.2",
            "dstport",
            "6082",
        )
        ip("link", "add", "gt0", "type", "gretap", "external")
        ip("link", "add", "gt1", "type", "gretap", "remote", "10.9.0.2", "local", "10.9.0.1")
        ip("link", "set", "vx0", "alias", "vswitch.odp tunnel capt/vx0")
        with open("/run/netns/" + NS) as target, open("/proc/self/ns/net") as home:
            libc_setns(target.fileno())
            sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
            libc_setns(home.fileno())
        with sock:
            sock.bind((0, 0))
            links = dump(sock, RTM_GETLINK, struct.pack("=BxHiII", 0, 0, 0, 0, 0), 1)
            addresses = dump(sock, RTM_GETADDR, struct.pack("=BBBBI", 0, 0, 0, 0, 0), 2)
        record = {
            "note": "rtnetlink RTM_GETLINK and RTM_GETADDR dumps of one namespace, captured "
            "from the real kernel: Linux %s User-Mode-Linux (tests/sandbox/run) by "
            "tests/unit/plugins/module_utils/odp/data/capture_rtnl.py. Hex is each message "
            "after its nlmsghdr; ip_link and ip_addr are iproute2's JSON of the same "
            "devices." % os.uname().release,
            "links": links,
            "addresses": addresses,
            "ip_link": json.loads(ip("-j", "-d", "link", "show").stdout),
            "ip_addr": json.loads(ip("-j", "addr", "show").stdout),
        }
    finally:
        subprocess.run(["ip", "netns", "delete", NS], check=False)
    with open(OUT, "w") as f:
        json.dump(record, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote %s: %d links, %d addresses" % (OUT, len(links), len(addresses)))


def libc_setns(fd):
    import ctypes

    if ctypes.CDLL(None, use_errno=True).setns(fd, 0x40000000):
        raise OSError(ctypes.get_errno(), "setns")


if __name__ == "__main__":
    main()
