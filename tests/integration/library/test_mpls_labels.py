"""MPLS keys with several labels against the 6.1 kernel: flows installed by
the library and read by ovs-dpctl, installed by ovs-dpctl and read by the
library, and found again by their key."""

import re
import socket
import struct

from conftest import run
from test_cli import in_netns
from vswitch_odp import Client, Flow, format_key, parse_flow

TWO = "mpls(label=1,tc=0,ttl=64,bos=0,label=2,tc=0,ttl=64,bos=1)"
THREE = "mpls(label=5,tc=1,ttl=9,bos=0,label=6,tc=2,ttl=8,bos=0,label=7,tc=3,ttl=7,bos=1)"


def test_labels_round_trip_with_ovs_dpctl(odp):
    client, dp = odp
    port = client.create_vport(dp, "odpkmp", type="internal").port_no
    head = "in_port(%d),eth(),eth_type(0x8847)," % port
    key, mask, actions, _ufid = parse_flow(head + TWO + " actions:%d" % port)
    client.put_flow(dp, Flow(key, mask, actions))
    run(
        "ovs-dpctl",
        "add-flow",
        "system@" + dp.name,
        "in_port(%d),eth(src=02:00:00:00:00:01),eth_type(0x8847),%s" % (port, THREE),
        str(port),
    )
    dumped = run("ovs-dpctl", "dump-flows", "system@" + dp.name).stdout
    assert TWO in dumped and THREE in dumped, dumped
    read = sorted(
        re.search(r"mpls\([^)]*\)", format_key(f.key, f.mask)).group(0) for f in client.flows(dp)
    )
    assert read == sorted([TWO, THREE])
    # The key finds the flow: every label is matched, not only the top one.
    assert client.get_flow(dp, key=key, mask=mask).key["mpls"] == key["mpls"]
    one_label = dict(key, mpls={"lse": key["mpls"]["lse"]})
    one_mask = dict(mask, mpls={"lse": mask["mpls"]["lse"]})
    client.put_flow(dp, Flow(one_label, one_mask, actions))
    assert len(client.flows(dp)) == 3
    client.delete_flow(dp, key=key, mask=mask)
    assert sorted(len(f.key["mpls"]) for f in client.flows(dp)) == [1, 3]


def test_packets_match_every_label(kernel, netns):
    """Frames with two labels sent into the datapath: the flow of TWO counts
    the one whose second label is 2, and the one whose second label is 3
    misses (the kernel's key has every label, and so does the flow's mask)."""
    ns = netns()
    with Client(netns=ns) as client:
        dp = client.create_datapath("mplsdp")
        try:
            port = client.create_vport(dp, "mplsp1", type="internal").port_no
            run("ip", "-n", ns, "link", "set", "mplsp1", "up")
            key, mask, actions, _ufid = parse_flow(
                "in_port(%d),eth(),eth_type(0x8847),%s actions:drop" % (port, TWO)
            )
            client.put_flow(dp, Flow(key, mask, actions or []))
            missed = client.get_datapath(dp.name).stats["missed"]
            for second in (2, 3, 2):
                stack = struct.pack(">II", (1 << 12) | 64, (second << 12) | 0x100 | 64)
                send_frame(
                    ns,
                    "mplsp1",
                    b"\xff" * 6 + b"\x02\0\0\0\0\x01" + b"\x88\x47" + stack + bytes(46),
                )
            (flow,) = client.flows(dp)
            assert flow.packets == 2, flow.packets
            assert client.get_datapath(dp.name).stats["missed"] >= missed + 1
        finally:
            client.delete_datapath("mplsdp")


def send_frame(ns, device, frame):
    with in_netns(ns):
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    with sock:
        sock.bind((device, 0))
        sock.send(frame)
