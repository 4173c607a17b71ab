#!/usr/bin/env python3
# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench`: flow put/dump/delete throughput of the library against baselines.

Runs inside the sandbox kernel (tests/sandbox/run), in one process:

* ``put``: ``Client.put_flows`` of 20,000 distinct flows into an empty datapath;
* ``raw_put``: the same 20,000 flows, encoded before the clock starts, sent as
  batched raw netlink written here with ``struct`` and ``socket`` (many
  messages per ``send``, every ack read): the best a Python process can do;
* ``dump``: ``Client.iter_flows`` of 100,000 flows: each a ``Flow``, which
  decodes its fields on first use (none is used here);
* ``dump_decoded``: the same, every flow's key, mask and actions decoded;
* ``raw_dump``: the same dump received and split into its messages by raw
  netlink written here, nothing decoded: the kernel's limit;
* ``ovs_dpctl_dump``: ``ovs-dpctl dump-flows DP > /dev/null`` of the same flows;
* ``delete``: ``Client.delete_flows`` of the 100,000 flows.

The last lines are the figures, exactly ``bench: <name> <flows/s>``, and the
target ratios (put/raw_put, dump/raw_dump and dump_decoded/ovs_dpctl_dump,
goal >= 0.8; dump/ovs_dpctl_dump for the record).
``BENCH_PUT``/``BENCH_DUMP`` shrink the flow counts for a quick try.
"""

import os
import socket
import struct
import subprocess
import sys
import time

from vswitch_odp.families import DatapathFamily, FlowFamily
from vswitch_odp.flows import Flow, complete_key

N_PUT = int(os.environ.get("BENCH_PUT", "20000"))
N_DUMP = int(os.environ.get("BENCH_DUMP", "100000"))
DP_NAME = "odpbench"
BATCH = 1000  # messages per send() in the raw baseline

NETLINK_GENERIC = 16
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_DUMP = 0x300
NLM_F_CREATE = 0x400
NLM_F_EXCL = 0x200
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
SOL_NETLINK = 270
NETLINK_EXT_ACK = 11
SO_SNDBUFFORCE = 32
SO_RCVBUFFORCE = 33

NLMSG = struct.Struct("=IHHII")
GENL_OVS = struct.Struct("=BBHi")  # genlmsghdr + ovs_header (dp_ifindex)
NLA = struct.Struct("=HH")


class Raw:
    """Bare generic netlink: one socket, hand-framed messages, acks counted."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, 8 << 20)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
        self.sock.bind((0, 0))
        self.buf = bytearray(1 << 20)
        self.seq = 0

    def frame(self, family, cmd, version, dp_ifindex, body, flags):
        self.seq += 1
        return (
            NLMSG.pack(
                NLMSG.size + GENL_OVS.size + len(body), family, flags | NLM_F_REQUEST, self.seq, 0
            )
            + GENL_OVS.pack(cmd, version, 0, dp_ifindex)
            + body
        )

    def messages(self):
        """Yield ``(type, payload memoryview)`` of one recv()."""
        size = self.sock.recv_into(self.buf)
        view = memoryview(self.buf)[:size]
        offset = 0
        while offset < size:
            length, kind, _flags, _seq, _pid = NLMSG.unpack_from(view, offset)
            yield kind, view[offset + 16 : offset + length]
            offset += (length + 3) & ~3

    def acks(self, count):
        """Read ``count`` acks, then raise on the first error (all read first,
        so no stale ack is left for the next request)."""
        first = 0
        while count:
            for kind, payload in self.messages():
                if kind == NLMSG_ERROR:
                    first = first or struct.unpack_from("=i", payload)[0]
                    count -= 1
        if first:
            raise OSError(-first, os.strerror(-first))

    def request(self, family, cmd, version, dp_ifindex, body, flags=NLM_F_ACK):
        """One request; returns the payloads of the reply messages."""
        self.sock.send(self.frame(family, cmd, version, dp_ifindex, body, flags))
        replies = []
        while True:
            for kind, payload in self.messages():
                if kind == NLMSG_ERROR:
                    error = struct.unpack_from("=i", payload)[0]
                    if error:
                        raise OSError(-error, os.strerror(-error))
                    return replies
                if kind == NLMSG_DONE:
                    return replies
                replies.append(bytes(payload))
                if not flags & (NLM_F_ACK | NLM_F_DUMP):
                    return replies

    def family(self, name):
        body = nla(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0")
        self.seq += 1
        msg = (
            NLMSG.pack(NLMSG.size + 4 + len(body), GENL_ID_CTRL, NLM_F_REQUEST, self.seq, 0)
            + struct.pack("=BBH", CTRL_CMD_GETFAMILY, 1, 0)
            + body
        )
        self.sock.send(msg)
        for kind, payload in self.messages():
            if kind == NLMSG_ERROR:
                raise OSError(-struct.unpack_from("=i", payload)[0], "family %s" % name)
            for attr, value in attributes(bytes(payload[4:])):
                if attr == CTRL_ATTR_FAMILY_ID:
                    return struct.unpack("=H", value)[0]
        raise OSError("no family id for %s" % name)

    def put_batched(self, messages):
        """Send pre-framed messages BATCH per send(), read every ack."""
        for start in range(0, len(messages), BATCH):
            chunk = messages[start : start + BATCH]
            self.sock.send(b"".join(chunk))
            self.acks(len(chunk))

    def dump_count(self, family, cmd, dp_ifindex):
        self.sock.send(self.frame(family, cmd, 1, dp_ifindex, b"", NLM_F_DUMP))
        count = 0
        while True:
            for kind, payload in self.messages():
                if kind == NLMSG_DONE:
                    return count
                if kind == NLMSG_ERROR:
                    raise OSError(-struct.unpack_from("=i", payload)[0], "dump")
                count += 1


def nla(kind, payload):
    length = 4 + len(payload)
    return NLA.pack(length, kind) + payload + b"\0" * (-length & 3)


def attributes(raw):
    offset = 0
    while offset + 4 <= len(raw):
        length, kind = NLA.unpack_from(raw, offset)
        yield kind & 0x3FFF, raw[offset + 4 : offset + length]
        offset += (length + 3) & ~3


def flow_key(i):
    """A distinct exact-match IPv4 flow key for every ``i``."""
    return {
        "in_port": 1,
        "eth": {"src": 0x020000000001, "dst": 0x020000000002},
        "eth_type": 0x0800,
        "ipv4": {
            "src": 0x0A000000 + i,
            "dst": 0x0B000000 + (i >> 4),
            "proto": 17,
            "tos": 0,
            "ttl": 64,
            "frag": 0,
        },
        "udp": {"src": 1024 + (i & 0x3FF), "dst": 4789},
    }


ACTIONS = [("output", 2)]


def rate(count, seconds):
    return count / seconds if seconds > 0 else float("inf")


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


class Bench:
    def __init__(self):
        self.raw = Raw()
        self.dp_family = self.raw.family(DatapathFamily.name)
        self.flow_family = self.raw.family(FlowFamily.name)
        self.ifindex = None
        self.figures = {}

    # -- datapath set-up (raw, so the baselines never depend on the library) --
    def create_datapath(self):
        subprocess.run(["ovs-dpctl", "del-dp", DP_NAME], stderr=subprocess.DEVNULL, check=False)
        body = DatapathFamily.attrs.encode([("name", DP_NAME), ("upcall_pid", 0)])
        reply = self.raw.request(
            self.dp_family,
            DatapathFamily.CMD_NEW,
            DatapathFamily.version,
            0,
            body,
            NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        )
        self.ifindex = (
            GENL_OVS.unpack_from(reply[0])[3] if reply else socket.if_nametoindex(DP_NAME)
        )

    def delete_datapath(self):
        body = DatapathFamily.attrs.encode([("name", DP_NAME)])
        self.raw.request(self.dp_family, DatapathFamily.CMD_DEL, DatapathFamily.version, 0, body)

    def flush(self):
        self.raw.request(
            self.flow_family, FlowFamily.CMD_DEL, FlowFamily.version, self.ifindex, b""
        )

    def count(self):
        return self.raw.dump_count(self.flow_family, FlowFamily.CMD_GET, self.ifindex)

    def encode(self, indexes):
        encode = FlowFamily.attrs.encode
        messages = []
        for i in indexes:
            # The same attributes the library sends: the key with its exact mask.
            key, mask = complete_key(flow_key(i), None)
            body = encode([("key", key), ("mask", mask), ("actions", ACTIONS)])
            messages.append(
                self.raw.frame(
                    self.flow_family,
                    FlowFamily.CMD_NEW,
                    FlowFamily.version,
                    self.ifindex,
                    body,
                    NLM_F_ACK,
                )
            )
        return messages

    def record(self, name, count, seconds, note=""):
        self.figures[name] = rate(count, seconds)
        print("%-16s %7d flows in %7.3f s%s" % (name, count, seconds, note))

    # -- measurements ----------------------------------------------------------
    def raw_put(self):
        messages = self.encode(range(N_PUT))
        seconds, _results = timed(self.raw.put_batched, messages)
        assert self.count() == N_PUT
        self.record("raw_put", N_PUT, seconds, " (%d messages per send)" % BATCH)
        self.flush()

    def raw_dump(self):
        seconds, count = timed(self.count)
        assert count == N_DUMP
        self.record("raw_dump", N_DUMP, seconds, " (received and split, not decoded)")

    def ovs_dpctl_dump(self):
        with open(os.devnull, "wb") as null:
            seconds, proc = timed(subprocess.run, ["ovs-dpctl", "dump-flows", DP_NAME], stdout=null)
        proc.check_returncode()
        self.record("ovs_dpctl_dump", N_DUMP, seconds, " (includes fork+exec)")

    def fill(self, start):
        """Top the datapath up to N_DUMP flows with raw batches (not timed)."""
        # In chunks: the sandbox process is short of memory mappings (UML maps
        # every page on the host, vm.max_map_count caps them).
        for chunk in range(start, N_DUMP, 10 * BATCH):
            self.raw.put_batched(self.encode(range(chunk, min(chunk + 10 * BATCH, N_DUMP))))
        assert self.count() == N_DUMP
        print("filled the datapath up to %d flows" % N_DUMP)

    def run(self):
        self.create_datapath()
        try:
            self.raw_put()
            library = self.library()
            if library:
                library.put()
            self.fill(N_PUT if library else 0)
            if library:
                library.dump()
                library.dump_decoded()
            self.raw_dump()
            self.ovs_dpctl_dump()
            if library:
                library.delete()
        finally:
            self.delete_datapath()
        self.report()

    def library(self):
        try:
            from vswitch_odp.client import Client
        except ImportError as exc:
            print("library not measured: %s" % exc)
            return None
        return LibraryBench(self, Client())

    def report(self):
        fig = self.figures
        if "put" in fig:
            print("ratio put/raw_put %.2f (target >= 0.8)" % (fig["put"] / fig["raw_put"]))
        if "dump" in fig:
            print("ratio dump/raw_dump %.2f (target >= 0.8)" % (fig["dump"] / fig["raw_dump"]))
            print(
                "ratio dump_decoded/ovs_dpctl_dump %.2f (target >= 0.8)"
                % (fig["dump_decoded"] / fig["ovs_dpctl_dump"])
            )
            print("ratio dump/ovs_dpctl_dump %.2f" % (fig["dump"] / fig["ovs_dpctl_dump"]))
        for name in (
            "put",
            "raw_put",
            "dump",
            "ovs_dpctl_dump",
            "delete",
            "raw_dump",
            "dump_decoded",
        ):
            if name in fig:
                print("bench: %s %.0f" % (name, fig[name]))


class LibraryBench:
    """The library's side: Client.put_flows, Client.flows, Client.delete_flows."""

    def __init__(self, bench, client):
        self.bench = bench
        self.client = client

    def put(self):
        flows = [Flow(flow_key(i), actions=ACTIONS) for i in range(N_PUT)]
        seconds, results = timed(self.client.put_flows, DP_NAME, flows)
        check(results)
        del flows, results
        assert self.bench.count() == N_PUT
        self.bench.record("put", N_PUT, seconds)

    def dump(self):
        # Streamed like ovs-dpctl's output: 100,000 decoded flows do not fit
        # the sandbox process at once (docs/performance.md, Memory).
        def consume():
            count = 0
            for flow in self.client.iter_flows(DP_NAME):
                count += 1
            assert flow.key["eth_type"] == 0x0800 and flow.actions == ACTIONS
            return count

        seconds, count = timed(consume)
        assert count == N_DUMP
        self.bench.record("dump", N_DUMP, seconds, " (a lazy Flow each, streamed)")

    def dump_decoded(self):
        def consume():
            count = 0
            for flow in self.client.iter_flows(DP_NAME):
                key, mask, actions = flow.key, flow.mask, flow.actions
                count += 1
            assert key["eth_type"] == 0x0800 and mask["eth_type"] == 0xFFFF
            assert actions == ACTIONS
            return count

        seconds, count = timed(consume)
        assert count == N_DUMP
        self.bench.record(
            "dump_decoded", N_DUMP, seconds, " (key, mask and actions of each decoded, streamed)"
        )

    def delete(self):
        seconds = 0.0
        for start in range(0, N_DUMP, N_PUT):
            flows = [Flow(flow_key(i)) for i in range(start, min(start + N_PUT, N_DUMP))]
            chunk_seconds, results = timed(self.client.delete_flows, DP_NAME, flows)
            check(results)
            seconds += chunk_seconds
            del flows, results
        assert self.bench.count() == 0
        self.bench.record("delete", N_DUMP, seconds, " (delete_flows by key, %d per call)" % N_PUT)


def check(results):
    errors = [r for r in results if r is not None]
    if errors:
        raise SystemExit("%d flows failed, first: %s" % (len(errors), errors[0]))


def main():
    if os.environ.get("ODP_SANDBOX") != "1" and not os.path.isdir("/sys/module/openvswitch"):
        print("run me in the sandbox: make bench", file=sys.stderr)
        return 2
    subprocess.run(["modprobe", "openvswitch"], check=False)
    Bench().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
