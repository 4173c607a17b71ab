#!/usr/bin/env python3
# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench`: flow dumps of a large table while another process churns it.

Runs inside the sandbox kernel. ``BENCH_CHURN`` stable flows (100,000) are
installed, then tests/integration/library/churn.py adds and deletes other
flows while this process dumps. Printed, each as ``bench: <name> <count>``:

* ``churn_raw_missed``/``churn_raw_duplicates``: stable flows one plain
  kernel dump (``Client.iter_flows``) skipped / returned more than once: the
  baseline, taken in the same run;
* ``churn_dump_missed``/``churn_dump_duplicates``: the same for
  ``Client.flow_dump`` (goal: 0 and 0); ``churn_dump_attempts`` the dumps it
  took and ``churn_dump_consistent`` whether it could prove the list complete.
"""

import collections
import os
import resource
import sys
import time

sys.path.insert(
    0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration", "library")
)

import churn
from vswitch_odp import Client

N_STABLE = int(os.environ.get("BENCH_CHURN", "100000"))
DP_NAME = "odpbchurn"


def progress(what):
    """Stage and peak memory on stderr: the sandbox kills a process near 250 MB."""
    sys.stderr.write(
        "churn_dump: %s (max RSS %d MB)\n"
        % (what, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
    )


def damage(flows):
    """``(missed, duplicates)`` of the stable flows among ``flows``."""
    counts = collections.Counter(churn.stable_index(f) for f in flows)
    missed = sum(1 for i in range(N_STABLE) if counts[i] == 0)
    duplicates = sum(counts[i] - 1 for i in range(N_STABLE) if counts[i] > 1)
    return missed, duplicates


def main():
    with Client() as client:
        dp = client.create_datapath(DP_NAME)
        try:
            port = client.create_vport(dp, "odpbchp", type="internal").port_no
            churn.install_stable(client, dp, N_STABLE, port)
            progress("%d stable flows installed" % N_STABLE)
            proc = churn.start(dp.name, port)
            try:
                raw = damage(client.iter_flows(dp))
                progress("plain dump checked")
                start = time.monotonic()
                dump = client.flow_dump(dp)
                seconds = time.monotonic() - start
                progress("flow_dump done")
                checked = damage(dump.flows)
                del dump.flows
            finally:
                churn.stop(proc)
        finally:
            client.delete_datapath(DP_NAME)
    print("bench: churn_raw_missed %d" % raw[0])
    print("bench: churn_raw_duplicates %d" % raw[1])
    print("bench: churn_dump_missed %d" % checked[0])
    print("bench: churn_dump_duplicates %d" % checked[1])
    print("bench: churn_dump_attempts %d" % dump.attempts)
    print("bench: churn_dump_consistent %d" % dump.consistent)
    print("bench: churn_dump_seconds %.1f" % seconds)
    return 0 if checked == (0, 0) else 1


if __name__ == "__main__":
    sys.exit(main())
