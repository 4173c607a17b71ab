# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``odp datapath listen``: the datapath's upcalls, through tcpdump, as flow
keys (misses), or one line each (``--upcalls``: type, vport, userdata, key).

``odp: listening on ...`` on stderr says the subscription is in place, with
the netlink port id a peer puts in ``userspace(pid=N)`` actions.
"""

import struct
import subprocess
import time
from typing import IO, cast

from ..errors import OdpError
from ..text.cookie import format_cookie
from .flow import flow_line
from .flow import port_names as _port_names
from .output import emit, say
from .parser import UsageError
from .signals import until_signalled

# tcpdump reads the pcap stream from stdin: -l prints line by line, -n
# avoids name lookups that would stall each packet.
TCPDUMP = ["tcpdump", "-n", "-l", "-r", "-"]
PCAP_HEADER = struct.Struct("=IHHiIII")
PCAP_RECORD = struct.Struct("=IIII")
PCAP_MAGIC_NSEC = 0xA1B23C4D
PCAP_SNAPLEN = 65535
LINKTYPE_ETHERNET = 1
ZERO_METADATA = (
    "recirc_id",
    "dp_hash",
    "skb_priority",
    "skb_mark",
    "ct_state",
    "ct_zone",
    "ct_mark",
    "ct_label",
)


def datapath_listen(client, args):
    from ..upcalls import Listener  # pylint: disable=import-outside-toplevel

    datapath = args.positionals[0]
    mode = _mode(args)
    names = _port_names(client, datapath)
    tcpdump = None
    try:
        with until_signalled(), Listener(datapath, transport=client.transport) as listener:
            tcpdump = _start_tcpdump() if mode == "tcpdump" else None
            # Subscribed: a peer may send packets (and install userspace actions) now.
            say(
                "listening on datapath %s (userspace actions: pid=%s)" % (datapath, listener.portid)
            )
            for upcall in listener:
                if mode == "upcalls":
                    emit(upcall_line(upcall, _names_for(client, datapath, names, upcall)))
                elif mode == "keys":
                    if upcall.cmd == "miss":
                        emit(flow_line(_miss_key(upcall.key), None, (), names, keep_actions=False))
                elif tcpdump is not None and tcpdump.stdin is not None:
                    _write_pcap_record(tcpdump.stdin, upcall.packet)
    finally:
        if tcpdump is not None:
            _stop_tcpdump(tcpdump)


def _mode(args) -> str:
    if args.get("keys") and args.get("upcalls"):
        raise UsageError(
            "odp datapath listen: --keys and --upcalls do not mix (--upcalls lines carry the key)"
        )
    return "upcalls" if args.get("upcalls") else "keys" if args.get("keys") else "tcpdump"


def _names_for(client, datapath, names, upcall):
    """``names``, listed again when the upcall's vport came after the listing."""
    if upcall.in_port is not None and upcall.in_port not in names:
        names.update(_port_names(client, datapath))
    return names


def upcall_line(upcall, names) -> str:
    """``miss vport=p1 bytes=98 --key=...``; a userspace action's line adds
    ``cookie=...`` (an ovs-vswitchd cookie as ovs-dpctl prints it) or
    ``userdata=HEX`` (any other userdata)."""
    port = upcall.in_port
    words = [upcall.cmd, "vport=%s" % names.get(port, port), "bytes=%d" % len(upcall.packet)]
    if upcall.length is not None:
        words.append("orig_bytes=%d" % upcall.length)  # the packet was truncated
    if upcall.userdata is not None:
        cookie = format_cookie(upcall.userdata, names)
        words.append("cookie=" + cookie if cookie else "userdata=" + upcall.userdata.hex())
    words.append(flow_line(_miss_key(upcall.key), None, (), names, keep_actions=False))
    return " ".join(words)


def _miss_key(key):
    """A miss's key without the metadata the kernel reports as zero when
    there is none: noise for a reader, and a flow that matched ``ct_label(0)``
    exactly would need conntrack labels, which not every kernel has."""
    return {name: value for name, value in key.items() if name not in ZERO_METADATA or value}


def _start_tcpdump():
    """tcpdump reading pcap from our pipe, in its own session so that a Ctrl-C
    reaches only us: we then close its input and it prints what it has."""
    try:
        tcpdump = subprocess.Popen(TCPDUMP, stdin=subprocess.PIPE, start_new_session=True)
    except OSError as exc:
        raise OdpError("cannot start tcpdump: %s" % exc)
    stdin = cast(IO[bytes], tcpdump.stdin)  # stdin=PIPE
    stdin.write(PCAP_HEADER.pack(PCAP_MAGIC_NSEC, 2, 4, 0, 0, PCAP_SNAPLEN, LINKTYPE_ETHERNET))
    stdin.flush()
    return tcpdump


def _write_pcap_record(pipe, packet):
    seconds, nanoseconds = divmod(time.time_ns(), 10**9)
    pipe.write(PCAP_RECORD.pack(seconds, nanoseconds, len(packet), len(packet)) + packet)
    pipe.flush()


def _stop_tcpdump(tcpdump):
    try:
        tcpdump.stdin.close()
    except BrokenPipeError:
        pass
    tcpdump.wait()
