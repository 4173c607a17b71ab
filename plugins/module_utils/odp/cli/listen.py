# -*- coding: utf-8 -*-
# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``odp datapath listen``: the datapath's misses, through tcpdump or as flow keys."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

import struct
import subprocess
import time

from ..errors import OdpError
from .flow import flow_line, port_names as _port_names
from .output import emit
from .signals import until_signalled

# tcpdump reads the pcap stream from stdin: -l prints line by line, -n
# avoids name lookups that would stall each packet.
TCPDUMP = ["tcpdump", "-n", "-l", "-r", "-"]
PCAP_HEADER = struct.Struct("=IHHiIII")
PCAP_RECORD = struct.Struct("=IIII")
PCAP_MAGIC_NSEC = 0xa1b23c4d
PCAP_SNAPLEN = 65535
LINKTYPE_ETHERNET = 1
ZERO_METADATA = ("recirc_id", "dp_hash", "skb_priority", "skb_mark", "ct_state", "ct_zone",
                 "ct_mark", "ct_label")


def datapath_listen(client, args):
    from ..upcalls import Listener  # pylint: disable=import-outside-toplevel
    datapath = args.positionals[0]
    port_names = _port_names(client, datapath)
    show_keys = args.get("keys")
    tcpdump = None
    try:
        with until_signalled(), Listener(datapath, transport=client.transport) as listener:
            tcpdump = None if show_keys else _start_tcpdump()
            for upcall in listener:
                if upcall.cmd != "miss":
                    continue
                if show_keys:
                    emit(flow_line(_miss_key(upcall.key), None, (), port_names,
                                   keep_actions=False))
                else:
                    _write_pcap_record(tcpdump.stdin, upcall.packet)
    finally:
        if tcpdump is not None:
            _stop_tcpdump(tcpdump)


def _miss_key(key):
    """A miss's key without the metadata the kernel reports as zero when
    there is none: noise for a reader, and a flow that matched ``ct_label(0)``
    exactly would need conntrack labels, which not every kernel has."""
    return dict((name, value) for name, value in key.items()
                if name not in ZERO_METADATA or value)


def _start_tcpdump():
    """tcpdump reading pcap from our pipe, in its own session so that a Ctrl-C
    reaches only us: we then close its input and it prints what it has."""
    try:
        tcpdump = subprocess.Popen(TCPDUMP, stdin=subprocess.PIPE, start_new_session=True)
    except OSError as exc:
        raise OdpError("cannot start tcpdump: %s" % exc)
    tcpdump.stdin.write(PCAP_HEADER.pack(PCAP_MAGIC_NSEC, 2, 4, 0, 0, PCAP_SNAPLEN, LINKTYPE_ETHERNET))
    tcpdump.stdin.flush()
    return tcpdump


def _write_pcap_record(pipe, packet):
    seconds, nanoseconds = divmod(time.time_ns(), 10 ** 9)
    pipe.write(PCAP_RECORD.pack(seconds, nanoseconds, len(packet), len(packet)) + packet)
    pipe.flush()


def _stop_tcpdump(tcpdump):
    try:
        tcpdump.stdin.close()
    except BrokenPipeError:
        pass
    tcpdump.wait()
