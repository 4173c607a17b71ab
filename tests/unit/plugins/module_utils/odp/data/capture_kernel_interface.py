"""Capture real kernel messages of meters, conntrack limits, vport events and
datapath settings into kernel_interface.json (run in the sandbox).

    tests/sandbox/run -- .venv/bin/python tests/unit/plugins/module_utils/odp/data/capture_kernel_interface.py

Requests are framed here by hand with struct, deliberately independent of the
library (which this data is meant to test); each case records the request
attributes the kernel accepted and the attributes of its reply, as hex. The
meter's traffic is packets executed through it (OVS_PACKET_CMD_EXECUTE), so
its counters are known: 5 frames of 60 bytes through a 1 packet/s meter with
a burst of 1 packet: 1 passes, 4 exceed the band.
"""

import json
import os
import socket
import struct
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "kernel_interface.json")
DP_NAME = "capif"
NLM_F_REQUEST, NLM_F_ACK, NLM_F_ECHO, NLM_F_DUMP = 1, 4, 8, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLA_F_NESTED = 0x8000
SOL_NETLINK, NETLINK_ADD_MEMBERSHIP = 270, 1


def attr(kind, payload):
    pad = (4 - len(payload) % 4) % 4
    return struct.pack("=HH", 4 + len(payload), kind) + payload + b"\0" * pad


def nested(kind, payload):
    return attr(kind | NLA_F_NESTED, payload)


def u32(kind, value):
    return attr(kind, struct.pack("=I", value))


class Genl:
    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
        self.sock.bind((0, 0))
        self.seq = 0
        self.families = {}

    def family(self, name):
        """(id, version, {group: id}) of a generic netlink family."""
        if name not in self.families:
            (reply,) = self._send(0x10, 3, 1, attr(2, name.encode() + b"\0"), hdr=b"")
            info = {"groups": {}}
            for kind, payload in _attrs(reply):
                if kind == 1:
                    info["id"] = struct.unpack("=H", payload[:2])[0]
                elif kind == 3:
                    info["version"] = struct.unpack("=I", payload)[0]
                elif kind == 7:
                    for _index, group in _attrs(payload):
                        fields = dict(_attrs(group))
                        info["groups"][fields[1].rstrip(b"\0").decode()] = struct.unpack(
                            "=I", fields[2]
                        )[0]
            self.families[name] = info
        return self.families[name]

    def request(self, family, cmd, attrs=b"", ifindex=0, flags=0):
        info = self.family(family)
        return self._send(
            info["id"], cmd, info["version"], attrs, hdr=struct.pack("=i", ifindex), flags=flags
        )

    def _send(self, family_id, cmd, version, attrs, hdr, flags=0):
        """The replies' attribute payloads (after genl + ovs headers); raises OSError."""
        self.seq += 1
        body = struct.pack("=BBH", cmd, version, 0) + hdr + attrs
        self.sock.send(
            struct.pack(
                "=IHHII", 16 + len(body), family_id, NLM_F_REQUEST | NLM_F_ACK | flags, self.seq, 0
            )
            + body
        )
        replies = []
        while True:
            data = self.sock.recv(1 << 16)
            offset = 0
            while offset < len(data):
                length, kind, _flags, seq, _pid = struct.unpack_from("=IHHII", data, offset)
                if seq == self.seq:
                    if kind == NLMSG_ERROR:
                        code = struct.unpack_from("=i", data, offset + 16)[0]
                        if code:
                            raise OSError(-code, os.strerror(-code))
                        return replies
                    if kind == NLMSG_DONE:
                        return replies
                    replies.append(data[offset + 20 + len(hdr) : offset + length])
                offset += (length + 3) & ~3


def _attrs(raw):
    offset = 0
    while offset + 4 <= len(raw):
        length, kind = struct.unpack_from("=HH", raw, offset)
        yield kind & 0x3FFF, raw[offset + 4 : offset + length]
        offset += (length + 3) & ~3


def case(out, name, note, request, reply):
    out[name] = {"note": note, "request": request.hex(), "reply": reply.hex()}


def capture_meters(genl, ifindex, out):
    (reply,) = genl.request("ovs_meter", 1, ifindex=ifindex)
    case(out, "meter_features", "OVS_METER_CMD_FEATURES", b"", reply)
    band = nested(0, u32(1, 1) + u32(2, 1) + u32(3, 1))  # drop, 1 pkt/s, burst 1
    request = u32(1, 7) + nested(4, band)
    (reply,) = genl.request("ovs_meter", 2, request, ifindex)
    case(out, "meter_set_new", "SET meter 7 (pkts): 1 pkt/s, burst 1, id free", request, reply)
    frame = bytes.fromhex("ffffffffffff02000000000188b5") + bytes(46)  # 60 bytes, EtherType 0x88b5
    execute = attr(1, frame) + nested(2, b"") + nested(3, u32(19, 7))  # actions: meter(7)
    for _frame in range(5):
        genl.request("ovs_packet", 3, execute, ifindex)
    (reply,) = genl.request("ovs_meter", 4, u32(1, 7), ifindex)
    case(
        out,
        "meter_get",
        "GET meter 7 after 5 frames of 60 bytes: 1 passed, 4 exceeded",
        u32(1, 7),
        reply,
    )
    kbps = nested(0, u32(1, 1) + u32(2, 1000) + u32(3, 100))
    request = u32(1, 7) + attr(2, b"") + attr(3, struct.pack("=QQ", 5, 300)) + nested(4, kbps)
    (reply,) = genl.request("ovs_meter", 2, request, ifindex)
    case(
        out,
        "meter_set_replace",
        "SET meter 7 again (kbps, counters 5/300 carried): the "
        "reply holds the replaced meter's counters",
        request,
        reply,
    )
    (reply,) = genl.request("ovs_meter", 3, u32(1, 7), ifindex)
    case(out, "meter_del", "DEL meter 7: its last counters", u32(1, 7), reply)
    (reply,) = genl.request("ovs_meter", 3, u32(1, 8), ifindex)
    case(
        out, "meter_del_absent", "DEL meter 8, which does not exist: the id only", u32(1, 8), reply
    )


def zone_limits(*entries):
    # An array of structs, not attributes: no NLA_F_NESTED (as dpif-netlink sends it).
    return attr(1, b"".join(struct.pack("=iII", zone, limit, 0) for zone, limit in entries))


def capture_ct_limits(genl, out):
    request = zone_limits((-1, 10), (3, 2), (70, 0))
    (reply,) = genl.request("ovs_ct_limit", 1, request)
    case(out, "ct_limit_set", "SET default 10, zone 3: 2, zone 70: 0 (unlimited)", request, reply)
    (reply,) = genl.request("ovs_ct_limit", 3)
    case(
        out,
        "ct_limit_get_all",
        "GET without zones: the default, then each zone's own limit (hash order)",
        b"",
        reply,
    )
    request = zone_limits((3, 0), (9, 0))
    (reply,) = genl.request("ovs_ct_limit", 3, request)
    case(
        out,
        "ct_limit_get_zones",
        "GET zones 3 and 9 (no limit of its own: the default's)",
        request,
        reply,
    )
    request = zone_limits((-1, 0), (3, 0), (70, 0))
    (reply,) = genl.request("ovs_ct_limit", 2, request)
    case(out, "ct_limit_del", "DEL the default and zones 3 and 70", request, reply)


def capture_events(genl, ifindex, out):
    """Vport and datapath notifications as the multicast groups carry them."""
    listener = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
    listener.bind((0, 0))
    for family in ("ovs_vport", "ovs_datapath"):
        listener.setsockopt(
            SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, genl.family(family)["groups"][family]
        )
    genl.request("ovs_vport", 1, attr(3, b"capev0\0") + u32(2, 2) + attr(5, bytes(4)), ifindex)
    genl.request("ovs_vport", 4, attr(3, b"capev0\0") + attr(5, struct.pack("=I", 77)), ifindex)
    genl.request("ovs_vport", 2, attr(3, b"capev0\0"), ifindex)
    subprocess.run(["ip", "link", "add", "capev1", "type", "dummy"], check=True)
    genl.request("ovs_vport", 1, attr(3, b"capev1\0") + u32(2, 1) + attr(5, bytes(4)), ifindex)
    subprocess.run(["ip", "link", "delete", "capev1"], check=True)
    time.sleep(0.2)  # the unregistration notice is sent from a work queue
    genl.request("ovs_datapath", 2, attr(1, DP_NAME.encode() + b"\0"))
    messages = []
    listener.settimeout(1)
    try:
        while True:
            data = listener.recv(1 << 16)
            offset = 0
            while offset < len(data):
                length = struct.unpack_from("=I", data, offset)[0]
                messages.append(data[offset : offset + length].hex())
                offset += (length + 3) & ~3
    except socket.timeout:
        pass
    out["events"] = {
        "note": "whole netlink messages: vport capev0 internal created, upcall pid set to 77, "
        "deleted; dummy capev1 attached as a netdev vport then deleted with ip link "
        "(the kernel's own notice, portid 0); the datapath deleted",
        "families": {name: genl.family(name)["id"] for name in ("ovs_vport", "ovs_datapath")},
        "messages": messages,
    }


def main():
    genl = Genl()
    for family in ("ovs_datapath", "ovs_vport", "ovs_meter", "ovs_ct_limit", "ovs_packet"):
        genl.family(family)
    out = {
        "note": "messages captured from the real kernel: Linux %s User-Mode-Linux (the "
        "project sandbox), openvswitch module, by "
        "tests/unit/plugins/module_utils/odp/data/capture_kernel_interface.py. Hex of the request and reply attributes "
        "(after the genl and ovs headers), or of whole messages for events." % os.uname().release
    }
    request = attr(1, DP_NAME.encode() + b"\0") + u32(2, 0) + u32(5, 1 | 2)
    (reply,) = genl.request("ovs_datapath", 1, request, flags=NLM_F_ECHO)
    case(out, "datapath_new", "NEW datapath, features unaligned and vport_pids", request, reply)
    ifindex = socket.if_nametoindex(DP_NAME)  # a datapath's ifindex is its local port's
    out["dp_ifindex"] = ifindex
    request = u32(5, 1) + u32(7, 512)
    (reply,) = genl.request("ovs_datapath", 4, request, ifindex, flags=NLM_F_ECHO)
    case(out, "datapath_set", "SET features unaligned only, masks cache 512", request, reply)
    capture_meters(genl, ifindex, out)
    capture_ct_limits(genl, out)
    capture_events(genl, ifindex, out)
    with open(OUT, "w") as handle:
        json.dump(out, handle, indent=1, sort_keys=True)
        handle.write("\n")
    print("wrote %s" % OUT)


if __name__ == "__main__":
    main()
