#!/usr/bin/env python3
"""Capture real ovs_flow dump messages into kernel_flows.json (run in the sandbox).

    tests/sandbox/run -- .venv/bin/python tests/unit/plugins/module_utils/odp/data/capture_kernel_flows.py

Each case installs one flow into a scratch datapath, either with ovs-dpctl
(``"dpctl"``: the text as ovs-dpctl takes it) or with raw netlink carrying the
key and mask that flows.complete_key() makes of a Python key (``"ours"``), then
dumps the flow table with a raw generic netlink socket and records the key,
mask and action bytes the kernel returned. Deliberately independent of the
library's client (which this data is meant to test).
"""

import json
import os
import socket
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# The repo's plugins/module_utils, six levels up from here.
sys.path.insert(0, os.path.join(HERE, *[".."] * 6, "plugins", "module_utils"))

from odp import flows  # noqa: E402  pylint: disable=wrong-import-position
from odp.families import FlowFamily  # noqa: E402  pylint: disable=wrong-import-position
from odp.keys import FLOW_KEY  # noqa: E402  pylint: disable=wrong-import-position

DP = "capdp"
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
OUTPUT_2 = struct.pack("=HHI", 8, 1, 2)  # actions: output:2

# (mode, text or python key/mask, note)
CASES = [
    ("dpctl", "in_port(1),eth()", "no eth_type: wildcarded, matches every EtherType"),
    ("dpctl", "in_port(1),eth(),eth_type(0x0800),ipv4()", "eth_type exact, ipv4 wildcarded"),
    (
        "dpctl",
        "in_port(1),eth(src=00:11:22:33:44:55,dst=ff:ff:ff:ff:ff:ff),eth_type(0x0806),arp(op=1)",
        "arp",
    ),
    (
        "dpctl",
        "in_port(1),eth(),eth_type(0x0800),ipv4(src=10.0.0.5/255.0.0.0,proto=6),tcp(dst=80)",
        "value outside mask is dropped",
    ),
    ("dpctl", "in_port(1),eth(),eth_type(0x0800),ipv4(proto=17,frag=no),udp(src=53)", "udp"),
    (
        "dpctl",
        "in_port(1),eth(),eth_type(0x86dd),ipv6(proto=58),icmpv6(type=135),nd(target=fe80::1)",
        "ipv6 nd",
    ),
    (
        "dpctl",
        "in_port(1),eth(),eth_type(0x8100),vlan(vid=10),encap(eth_type(0x0800),ipv4())",
        "vlan",
    ),
    (
        "dpctl",
        "tunnel(tun_id=0x2a,src=1.1.1.1,dst=2.2.2.2/0.0.0.0,ttl=64/0),in_port(1),eth()",
        "tunnel with wildcarded dst and ttl",
    ),
    ("dpctl", "in_port(1),eth(),eth_type(0x8847),mpls(label=5)", "mpls"),
    (
        "dpctl",
        "recirc_id(5),skb_mark(0x10/0xff),in_port(1),eth(),eth_type(0x0800),ipv4()",
        "metadata",
    ),
    ("dpctl", "ct_state(+trk+est),in_port(1),eth(),eth_type(0x0800),ipv4()", "conntrack"),
    ("dpctl", "eth(),eth_type(0x0800),ipv4()", "no in_port"),
    (
        "dpctl",
        "ufid:00000001-0002-0003-0004-000500060007,eth(),eth_type(0x0806),arp()",
        "no in_port, with a UFID",
    ),
    (
        "dpctl",
        "ufid:00000001-0002-0003-0004-000500060008,in_port(1),eth(),eth_type(0x0806),arp()",
        "in_port, with a UFID",
    ),
]

OURS = [
    ({"in_port": 1}, None, "in_port alone, completed"),
    ({"in_port": 1, "eth": {"src": 0x001122334455, "dst": 0}}, None, "exact eth, no mask"),
    ({"in_port": 1, "eth_type": 0x0800}, None, "eth_type without ipv4, completed"),
    (
        {"in_port": 1, "eth_type": 0x0800, "ipv4": {"proto": 6}},
        {"in_port": 0xFFFFFFFF, "eth_type": 0xFFFF, "ipv4": {"proto": 0xFF}},
        "tcp completed",
    ),
    ({"in_port": 1, "eth_type": 0x0806}, None, "arp completed"),
    (
        {"in_port": 1, "eth_type": 0x86DD, "ipv6": {"proto": 58}},
        {"in_port": 0xFFFFFFFF, "eth_type": 0xFFFF, "ipv6": {"proto": 0xFF}},
        "icmpv6 completed",
    ),
    (
        {"in_port": 1, "eth_type": 0x86DD, "ipv6": {"proto": 58}, "ipv6_exthdrs": {"hdrs": 0x41}},
        {
            "in_port": 0xFFFFFFFF,
            "eth_type": 0xFFFF,
            "ipv6": {"proto": 0xFF},
            "ipv6_exthdrs": {"hdrs": 0x40},
        },
        "ipv6_exthdrs: hop-by-hop (0x40) masked, a value bit outside the mask (NONEXT)",
    ),
    ({"in_port": 1, "eth_type": 0x8847}, None, "mpls completed"),
    (
        {"in_port": 1, "tunnel": {"tun_id": 0x2A, "src": 0x01010101}},
        None,
        "tunnel without dst/ttl, completed",
    ),
    ({"in_port": 1, "eth_type": 0x8100, "vlan": 0x100A}, None, "vlan completed"),
    ({"in_port": 1, "eth_type": 0x8100}, None, "any VLAN tag, completed"),
    (
        {"in_port": 1, "eth_type": 0x8100, "vlan": 0x100A, "encap": {"eth_type": 0x0800}},
        None,
        "vlan with inner ipv4, completed",
    ),
    (
        {
            "in_port": 1,
            "eth": {"src": 0, "dst": 0},
            "eth_type": 0x0800,
            "ipv4": {
                "src": 0x0A000001,
                "dst": 0x0A000002,
                "proto": 6,
                "tos": 0,
                "ttl": 64,
                "frag": 0,
            },
        },
        None,
        "exact ipv4 tcp, completed",
    ),
    ({"in_port": 1, "tunnel": {"tun_id": 7, "dst": 0x0A000002, "ttl": 64}}, None, "exact tunnel"),
    (
        {"in_port": 1, "eth_type": 0x0800, "ipv4": {"src": 0x0A000005, "proto": 17}},
        {"in_port": 0xFFFFFFFF, "eth_type": 0xFFFF, "ipv4": {"src": 0xFF000000, "proto": 0xFF}},
        "masked ipv4 src",
    ),
]


def run(*argv):
    return subprocess.run(
        argv, check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


class Genl:
    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
        self.sock.bind((0, 0))
        self.seq = 0

    def request(self, family, cmd, version, body, flags):
        self.seq += 1
        payload = struct.pack("=BBH", cmd, version, 0) + body
        self.sock.send(
            struct.pack("=IHHII", 16 + len(payload), family, NLM_F_REQUEST | flags, self.seq, 0)
            + payload
        )
        replies = []
        while True:
            data = self.sock.recv(1 << 20)
            offset = 0
            while offset < len(data):
                length, kind, _flags, _seq, _pid = struct.unpack_from("=IHHII", data, offset)
                body = data[offset + 16 : offset + length]
                offset += (length + 3) & ~3
                if kind == NLMSG_ERROR:
                    code = struct.unpack_from("=i", body)[0]
                    if code:
                        raise OSError(-code, os.strerror(-code))
                    return replies
                if kind == NLMSG_DONE:
                    return replies
                replies.append(body[4:])
                if not flags & NLM_F_DUMP:
                    return replies

    def family(self, name):
        attr = name.encode() + b"\0"
        body = struct.pack("=HH", 4 + len(attr), 2) + attr
        body += b"\0" * (-len(body) % 4)
        (reply,) = self.request(16, 3, 1, body, 0)
        offset = 0
        while offset < len(reply):
            length, kind = struct.unpack_from("=HH", reply, offset)
            if kind == 1:
                return struct.unpack_from("=H", reply, offset + 4)[0]
            offset += (length + 3) & ~3
        raise KeyError(name)


def nest(kind, payload):
    return struct.pack("=HH", 4 + len(payload), kind | 0x8000) + payload


def main():
    run("ovs-dpctl", "del-dp", DP)
    run("ovs-dpctl", "add-dp", DP)
    ifindex = socket.if_nametoindex(DP)
    header = struct.pack("=i", ifindex)
    genl = Genl()
    fam = genl.family(FlowFamily.name)

    def dump():
        out = []
        for msg in genl.request(fam, FlowFamily.CMD_GET, 1, header, NLM_F_DUMP):
            attrs = {k: bytes(v) for k, v in _raw_attrs(msg[4:])}
            out.append(
                {
                    "key": attrs[1].hex(),
                    "mask": attrs.get(7, b"").hex(),
                    "actions": attrs.get(2, b"").hex(),
                }
            )
            if 9 in attrs:  # OVS_FLOW_ATTR_UFID
                out[-1]["ufid"] = attrs[9].hex()
        genl.request(fam, FlowFamily.CMD_DEL, 1, header, NLM_F_ACK)
        return out

    records = []
    for _mode, text, note in CASES:
        result = run("ovs-dpctl", "add-flow", DP, text, "2")
        record = {
            "source": "ovs-dpctl add-flow",
            "text": text,
            "note": note,
            "accepted": result.returncode == 0,
        }
        if result.returncode == 0:
            record["dpctl_dump"] = run("ovs-dpctl", "dump-flows", "-m", DP).stdout.strip()
        else:
            record["error"] = result.stdout.strip().splitlines()[-1]
        record["dump"] = dump()
        records.append(record)
    for key, mask, note in OURS:
        ckey, cmask = flows.complete_key(key, mask)
        kbytes, mbytes = FLOW_KEY.encode(ckey.items()), FLOW_KEY.encode(cmask.items())
        record = {
            "source": "raw OVS_FLOW_CMD_NEW of complete_key()",
            "note": note,
            "input": repr((key, mask)),
            "sent_key": kbytes.hex(),
            "sent_mask": mbytes.hex(),
        }
        body = header + nest(1, kbytes) + nest(7, mbytes) + nest(2, OUTPUT_2)
        try:
            genl.request(fam, FlowFamily.CMD_NEW, 1, body, NLM_F_ACK)
            record["accepted"] = True
            record["dpctl_dump"] = run("ovs-dpctl", "dump-flows", "-m", DP).stdout.strip()
        except OSError as exc:
            record["accepted"] = False
            record["error"] = str(exc)
        record["dump"] = dump()
        records.append(record)
    records.append(packet_check(genl, fam, header, dump))
    run("ovs-dpctl", "del-dp", DP)
    doc = {
        "note": "ovs_flow dump messages captured from the real kernel: Linux %s User-Mode-Linux "
        "(the project sandbox), openvswitch module, by "
        "tests/unit/plugins/module_utils/odp/data/capture_kernel_flows.py. Hex is the payload of OVS_FLOW_ATTR_KEY/MASK/ACTIONS."
        % os.uname().release,
        "flows": records,
    }
    with open(os.path.join(HERE, "kernel_flows.json"), "w") as out:
        json.dump(doc, out, indent=1)
        out.write("\n")
    for record in records:
        print(
            record.get("text") or record.get("input") or record,
            "->",
            record["accepted"],
            record.get("error", ""),
            record.get("dpctl_dump", ""),
        )


def packet_check(genl, fam, header, dump):
    """Does the completed ``{"in_port": 1}`` match ARP and IPv4 frames of port 1?"""
    run("ip", "netns", "add", "capns")
    run("ip", "link", "add", "capv0", "type", "veth", "peer", "name", "capv1", "netns", "capns")
    run("ip", "link", "set", "capv0", "up")
    run("ip", "netns", "exec", "capns", "ip", "addr", "add", "10.77.0.1/24", "dev", "capv1")
    run("ip", "netns", "exec", "capns", "ip", "link", "set", "capv1", "up")
    run("ovs-dpctl", "add-if", DP, "capv0")  # port 1
    key, mask = flows.complete_key({"in_port": 1}, None)
    body = (
        header
        + nest(1, FLOW_KEY.encode(key.items()))
        + nest(7, FLOW_KEY.encode(mask.items()))
        + nest(2, b"")
    )
    genl.request(fam, FlowFamily.CMD_NEW, 1, body, NLM_F_ACK)
    # ARP requests first (no neighbour yet), then IPv4 with a static neighbour.
    run("ip", "netns", "exec", "capns", "ping", "-c1", "-W1", "10.77.0.2")
    arp = dump_stats(genl, fam, header)
    genl.request(fam, FlowFamily.CMD_NEW, 1, body, NLM_F_ACK)
    run(
        "ip",
        "netns",
        "exec",
        "capns",
        "ip",
        "neigh",
        "add",
        "10.77.0.2",
        "lladdr",
        "02:00:00:00:00:02",
        "dev",
        "capv1",
    )
    run("ip", "netns", "exec", "capns", "ping", "-c2", "-W1", "10.77.0.2")
    ipv4 = dump_stats(genl, fam, header)
    run("ip", "netns", "del", "capns")
    dump()
    return {
        "source": "packet check",
        "note": "completed {'in_port': 1} counts ARP, then IPv4",
        "accepted": True,
        "arp_packets": arp,
        "ipv4_packets": ipv4,
    }


def dump_stats(genl, fam, header):
    packets = 0
    for msg in genl.request(fam, FlowFamily.CMD_GET, 1, header, NLM_F_DUMP):
        attrs = FlowFamily.attrs.decode(msg[4:])
        packets += attrs.get("stats", {}).get("packets", 0)
    genl.request(fam, FlowFamily.CMD_DEL, 1, header, NLM_F_ACK)
    return packets


def _raw_attrs(raw):
    offset = 0
    while offset + 4 <= len(raw):
        length, kind = struct.unpack_from("=HH", raw, offset)
        yield kind & 0x3FFF, raw[offset + 4 : offset + length]
        offset += (length + 3) & ~3


if __name__ == "__main__":
    main()
