#!/usr/bin/env python3
# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench`, reliability part (issue 15): the full-size runs of
tests/integration/library/test_reliability.py, with its large flows (IPv6 and
tunnel keys, long action lists, ~740 bytes a request).

Runs inside the sandbox kernel, in one process (the module runs are the
module as Ansible runs it on the managed host). Prints

    bench: put_flows_small_2000_seconds X      baseline: small IPv4 flows
    bench: put_flows_large_2000_seconds X
    bench: apply_20000_seconds X               baseline: a purge of 20,000 IPv4 flows
                                               for 20,000 others, no refusal
    bench: restore_20000_seconds X             the same purge, the last flow refused
    bench: restore_20000_verified 1            ovs-dpctl dump-flows identical after it
    bench: apply_large_5000_seconds X          the same with 5,000 large flows
    bench: restore_large_5000_seconds X
    bench: restore_large_5000_verified 1
    bench: concurrent_runs_flows_left N        fewest flows left by 2 odp_flow runs of the
                                               same 2,000 flows started together (5 trials)

``ODP_BENCH_RESTORE`` and ``ODP_BENCH_RESTORE_LARGE`` change the 20,000 and 5,000.
"""

import hashlib
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration", "library"))

from test_reliability import COLLECTIONS, MODULE, REFUSED, REPO, declared, entries, text_entries  # noqa: E402 pylint: disable=wrong-import-position
from vswitch_odp import Client, errors, flowplan  # noqa: E402

N_RESTORE = int(os.environ.get("ODP_BENCH_RESTORE", "20000"))
N_LARGE = int(os.environ.get("ODP_BENCH_RESTORE_LARGE", "5000"))
DP_NAME = "odprelbench"


def dpctl():
    """A digest of ``ovs-dpctl dump-flows`` sorted (the lines would not fit
    in memory beside the flows: UML kills a process near 250 MB)."""
    out = subprocess.run(
        ["ovs-dpctl", "dump-flows", DP_NAME], check=True, stdout=subprocess.PIPE
    ).stdout
    lines = sorted(out.splitlines())
    del out
    return len(lines), hashlib.sha256(b"\n".join(lines)).hexdigest()


def timed(name, work):
    start = time.monotonic()
    out = work()
    print("bench: %s %.3f" % (name, time.monotonic() - start))
    if isinstance(out, list) and any(error is not None for error in out):
        raise SystemExit("bench: %s: %s" % (name, next(e for e in out if e is not None)))
    return out


def small(count, ports, group=0, refused=()):
    """IPv4 flows, one output: what fits 20,000 twice in the sandbox's memory
    (the library holds ~5 KB per such flow, ~10 KB per large one; UML kills a
    process near 250 MB)."""
    return flowplan.declared_flows(
        [
            {
                "match": {
                    "in_port": "p1",
                    "eth_type": 0x0800,
                    "ipv4": {"dst": "10.%d.%d.%d" % (group, (i >> 8) & 255, i & 255)},
                },
                "actions": REFUSED if i in refused else [{"output": "p2"}],
            }
            for i in range(count)
        ],
        ports,
    )


def large(count, ports, group=0, refused=()):
    return declared(entries(count, group=group, refused=refused), ports)


def restore(client, dp, ports, make, count, label):
    """A purge of ``count`` flows for ``count`` others: applied (the
    baseline), then with its last flow refused and restored."""
    client.flush_flows(dp)
    client.put_flows(dp, make(count, ports))
    current = client.flows(dp)
    plan = flowplan.plan_flows(current, make(count, ports, group=1), purge=True)
    timed("apply_%s_seconds" % label, lambda: flowplan.apply_or_restore(client, dp, current, plan))
    del current, plan
    client.flush_flows(dp)
    client.put_flows(dp, make(count, ports))
    before = dpctl()
    current = client.flows(dp)
    plan = flowplan.plan_flows(
        current, make(count, ports, group=1, refused=(count - 1,)), purge=True
    )

    def refused():
        try:
            flowplan.apply_or_restore(client, dp, current, plan)
        except errors.KernelRejected as exc:
            return exc
        raise SystemExit("bench: the refused flow was accepted")

    exc = timed("restore_%s_seconds" % label, refused)
    print("bench: restore_%s_verified %d" % (label, int(exc.restored and dpctl() == before)))


def concurrent(client, dp):
    import json  # pylint: disable=import-outside-toplevel
    import tempfile  # pylint: disable=import-outside-toplevel

    by_no = {v.port_no: v.name for v in client.vports(dp)}
    names = {short: by_no[number] for short, number in PORTS.items()}
    args = {
        "ANSIBLE_MODULE_ARGS": {"datapath": DP_NAME, "flows": text_entries(entries(2000), names)}
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(args, handle)
    env = dict(os.environ, PYTHONPATH=COLLECTIONS)
    fewest = None
    for _trial in range(5):
        client.flush_flows(dp)
        procs = [
            subprocess.Popen(
                [sys.executable, MODULE, handle.name],
                cwd=REPO,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _run in range(2)
        ]
        for proc in procs:
            proc.wait()
        left = len(client.flows(dp))
        fewest = left if fewest is None else min(fewest, left)
    os.unlink(handle.name)
    print("bench: concurrent_runs_flows_left %d" % fewest)


PORTS = {}


def main():
    if os.environ.get("ODP_SANDBOX") != "1":
        print("run me in the sandbox: make bench", file=sys.stderr)
        return 2
    with Client() as client:
        try:
            client.delete_datapath(DP_NAME)
        except errors.NoSuchDatapath:
            pass
        dp = client.create_datapath(DP_NAME)
        try:
            for short in ("p1", "p2"):
                PORTS[short] = client.create_vport(dp, "rb" + short, "internal").port_no
            timed(
                "put_flows_small_2000_seconds",
                lambda flows=small(2000, PORTS): client.put_flows(dp, flows),
            )
            client.flush_flows(dp)
            timed(
                "put_flows_large_2000_seconds",
                lambda flows=declared(entries(2000), PORTS): client.put_flows(dp, flows),
            )
            restore(client, dp, PORTS, small, N_RESTORE, "%d" % N_RESTORE)
            restore(client, dp, PORTS, large, N_LARGE, "large_%d" % N_LARGE)
            concurrent(client, dp)
        finally:
            client.delete_datapath(DP_NAME)
    return 0


if __name__ == "__main__":
    sys.exit(main())
