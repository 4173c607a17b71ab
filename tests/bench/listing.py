# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench`, listing part: large flow tables listed, gathered and purged.

Runs inside the sandbox kernel (tests/sandbox/run). A datapath with internal
vports p1 and p2, filled with exact-match IPv4 flows by raw netlink batches
(run.py's, not timed), then one process of each:

* at BENCH_LIST (default 100,000) flows, ``ovs_dpctl_dump``
  (``ovs-dpctl dump-flows DP > /dev/null``, the baseline) and ``odp_list``
  (``odp flow list DP > /dev/null``), in flows per second, fork+exec
  included in both;
* at BENCH_BIG (default 200,000) flows, the peak RSS (ru_maxrss of the
  process, from wait4) in MB of ``odp flow list`` (``peak_rss_list_200k``),
  of odp_facts with flows (``peak_rss_facts_200k``; every flow returned),
  of odp_facts with ``flow_limit: 0`` (``peak_rss_facts_count_200k``, the
  count and stats only) and of odp_flow with ``purge: true`` and one
  declared flow (``peak_rss_purge_200k``), each checked for what it did
  (a module the sandbox kills is reported as such, with its peak, and the
  datapath must be untouched).

The modules run as Ansible runs them on the managed host (``python
plugins/modules/MODULE.py ARGS.json``), their result written to a file.
Targets: odp_list >= 1.0 x ovs_dpctl_dump, each peak RSS under 150 MB.
"""

import json
import mmap
import os
import re
import subprocess
import sys
import time

import run
from vswitch_odp import Client

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = os.path.join(REPO, "plugins", "modules")
COLLECTIONS = os.path.join(REPO, ".venv", "collections")
WORK = os.path.join(REPO, ".sandbox")  # the host's disk: /tmp in the sandbox is memory
N_LIST = int(os.environ.get("BENCH_LIST", "100000"))
N_BIG = int(os.environ.get("BENCH_BIG", "200000"))
DP_NAME = "odplistbench"
ODP = [sys.executable, "-m", "vswitch_odp.cli"]


def measured(argv, stdout, env=None):
    """``(seconds, peak RSS in MB, exit status)`` of one process."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=stdout, env=env)  # pylint: disable=consider-using-with
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024.0, proc.returncode


def fill(bench, start, end):
    """Flows start..end-1, raw batches (run.py's encoding), in chunks: the
    sandbox process is short of memory mappings."""
    for chunk in range(start, end, 10 * run.BATCH):
        bench.raw.put_batched(bench.encode(range(chunk, min(chunk + 10 * run.BATCH, end))))
    count = bench.count()
    if count != end:
        raise SystemExit("bench: the datapath has %d flows, not %d" % (count, end))


def text_out(argv, expect_lines):
    """Rate of ``argv`` printing ``expect_lines`` lines to /dev/null (checked
    first with a line count through a pipe, not timed)."""
    with open(os.devnull, "wb") as null:
        seconds, _rss, status = measured(argv, null)
    if status:
        raise SystemExit("bench: %s exited %d" % (" ".join(argv), status))
    return expect_lines / seconds


def line_count(argv):
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE)  # pylint: disable=consider-using-with
    count = sum(chunk.count(b"\n") for chunk in iter(lambda: proc.stdout.read(1 << 16), b""))
    proc.stdout.close()
    if proc.wait():
        raise SystemExit("bench: %s exited %d" % (" ".join(argv), proc.returncode))
    return count


def module_rss(module, args, name):
    """Peak RSS of one module run on ``args``; the result file's
    ``(path, mmap)`` for the caller's checks."""
    args_path = os.path.join(WORK, "bench-%s-args.json" % name)
    out_path = os.path.join(WORK, "bench-%s-result.json" % name)
    with open(args_path, "w") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
    env = dict(os.environ, PYTHONPATH=COLLECTIONS)
    with open(out_path, "wb") as out:
        seconds, rss, status = measured(
            [sys.executable, os.path.join(MODULES, module + ".py"), args_path], out, env
        )
    if status and not os.path.getsize(out_path):
        # Killed (UML kills a process near 250 MB): the figure, and no result.
        print(
            "%-28s %7.1f MB peak RSS, %6.1f s, KILLED (exit %d), no result"
            % (name, rss, seconds, status)
        )
        return rss, None
    with open(out_path, "rb") as handle:
        result = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    if status or re.search(rb'"failed": true', result):
        raise SystemExit("bench: %s failed (exit %d): %s" % (module, status, result[-2000:]))
    print(
        "%-28s %7.1f MB peak RSS, %6.1f s, %d bytes of result" % (name, rss, seconds, len(result)),
        flush=True,
    )
    return rss, result


def summary(result):
    found = re.search(rb'"flow_summary": (\{[^}]*\})', result)
    if not found:
        raise SystemExit("bench: odp_facts returned no flow_summary")
    return json.loads(found.group(1))


def main():
    os.makedirs(WORK, exist_ok=True)
    bench = run.Bench()
    figures = []
    with Client() as client:
        subprocess.run(["ovs-dpctl", "del-dp", DP_NAME], stderr=subprocess.DEVNULL, check=False)
        dp = client.create_datapath(DP_NAME)
        try:
            client.create_vport(DP_NAME, "p1", "internal")  # port 1: run.flow_key's in_port
            client.create_vport(DP_NAME, "p2", "internal")  # port 2: run.ACTIONS' output
            bench.ifindex = dp.ifindex
            fill(bench, 0, N_LIST)
            listing = [*ODP, "flow", "list", DP_NAME]
            if line_count(listing) != N_LIST:
                raise SystemExit("bench: odp flow list did not print %d lines" % N_LIST)
            figures.append(
                ("ovs_dpctl_dump", text_out(["ovs-dpctl", "dump-flows", DP_NAME], N_LIST))
            )
            figures.append(("odp_list", text_out(listing, N_LIST)))
            print(
                "listed %d flows: ovs-dpctl %.0f, odp %.0f flows/s"
                % (N_LIST, figures[0][1], figures[1][1]),
                flush=True,
            )

            fill(bench, N_LIST, N_BIG)
            with open(os.devnull, "wb") as null:
                _seconds, rss, status = measured(listing, null)
            if status:
                raise SystemExit("bench: odp flow list of %d flows exited %d" % (N_BIG, status))
            figures.append(("peak_rss_list_200k", rss))
            print("%-28s %7.1f MB peak RSS" % ("list", rss), flush=True)

            rss, result = module_rss("odp_facts", {"datapath": [DP_NAME], "meters": False}, "facts")
            got = summary(result)
            if (got["count"], got["returned"]) != (N_BIG, N_BIG):
                raise SystemExit("bench: odp_facts summary %s" % got)
            del result
            figures.append(("peak_rss_facts_200k", rss))

            rss, result = module_rss(
                "odp_facts",
                {"datapath": [DP_NAME], "meters": False, "flow_limit": 0},
                "facts_count",
            )
            got = summary(result)
            if (got["count"], got["returned"]) != (N_BIG, 0):
                raise SystemExit("bench: odp_facts flow_limit 0 summary %s" % got)
            del result
            figures.append(("peak_rss_facts_count_200k", rss))

            declared = [
                {
                    "match": {"in_port": "p1", "eth_type": 0x0800, "ipv4": {"dst": "10.255.0.1"}},
                    "actions": [{"output": "p2"}],
                }
            ]
            rss, result = module_rss(
                "odp_flow", {"datapath": DP_NAME, "flows": declared, "purge": True}, "purge"
            )
            left = bench.count()
            if result is not None and left != 1:
                raise SystemExit("bench: the purge left %d flows, not 1" % left)
            if result is None and left != N_BIG:
                raise SystemExit("bench: the killed purge left %d of %d flows" % (left, N_BIG))
            del result
            figures.append(("peak_rss_purge_200k", rss))
        finally:
            client.delete_datapath(DP_NAME)
    fig = dict(figures)
    print(
        "ratio odp_list/ovs_dpctl_dump %.2f (target >= 1.0)"
        % (fig["odp_list"] / fig["ovs_dpctl_dump"])
    )
    for name, value in figures:
        print("bench: %s %.0f" % (name, value))


if __name__ == "__main__":
    main()
