# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`odp apply` of a large state document, against baselines of the same run.

Runs inside the sandbox kernel (tests/sandbox/run). A document with one
datapath, two internal vports and BENCH_STATE_FLOWS flows (default 10,000),
then the wall time of one ``odp`` process each:

* ``state_apply_10k``: ``odp apply`` of the document, the datapath absent;
* ``state_noop_10k``: ``odp apply`` of it again: no changes (target < 1.5 s);
* ``flow_add_file_10k``: the baseline of the first, ``odp flow add --file``
  of the same flows into an empty datapath with the same vports;
* ``flow_list_10k``: the baseline of the second, ``odp flow list`` of them.

The last lines are the figures, exactly ``bench: <name> <seconds>``, and the
two ratios to the baselines.
"""

import json
import os
import subprocess
import sys
import time

from vswitch_odp import Client

FLOWS = int(os.environ.get("BENCH_STATE_FLOWS", "10000"))
DP_NAME = "odpbenchst"
ODP = [sys.executable, "-m", "vswitch_odp.cli"]
WORK = ".sandbox"


def seconds(argv, statuses=(0,)):
    start = time.monotonic()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, check=False)
    elapsed = time.monotonic() - start
    if done.returncode not in statuses:
        raise SystemExit("bench: %s exited %d" % (" ".join(argv), done.returncode))
    return elapsed


def source(number):
    octets = (number >> 24, (number >> 16) & 255, (number >> 8) & 255, number & 255)
    return "02:00:%02x:%02x:%02x:%02x" % octets


def main():
    os.makedirs(WORK, exist_ok=True)
    document = {
        "version": 1,
        "datapaths": {
            DP_NAME: {
                "vports": {
                    "bs0": {"type": "internal", "port_no": 1},
                    "bs1": {"type": "internal", "port_no": 2},
                },
                "flows": [
                    {"key": "in_port(bs0),eth(src=%s)" % source(n), "actions": "bs1"}
                    for n in range(FLOWS)
                ],
            }
        },
    }
    path = os.path.join(WORK, "bench-state.json")
    with open(path, "w") as handle:
        json.dump(document, handle)
    del document
    flow_file = os.path.join(WORK, "bench-state-flows")
    with open(flow_file, "w") as handle:
        for number in range(FLOWS):
            handle.write("--in-port=bs0 --eth-src=%s --output=bs1\n" % source(number))
    with Client() as client:
        client.create_datapath(DP_NAME)
        try:
            client.create_vport(DP_NAME, "bs0", "internal", port_no=1)
            client.create_vport(DP_NAME, "bs1", "internal", port_no=2)
            add_file = seconds([*ODP, "flow", "add", DP_NAME, "--file=" + flow_file])
            assert len(client.flows(DP_NAME)) == FLOWS
            listing = seconds([*ODP, "flow", "list", DP_NAME])
        finally:
            client.delete_datapath(DP_NAME)
        try:
            apply_s = seconds([*ODP, "apply", path], statuses=(3,))
            assert len(client.flows(DP_NAME)) == FLOWS
            noop_s = seconds([*ODP, "apply", path], statuses=(0,))
        finally:
            client.delete_datapath(DP_NAME)
    print("bench: flow_add_file_10k %.2f" % add_file)
    print("bench: flow_list_10k %.2f" % listing)
    print("bench: state_apply_10k %.2f" % apply_s)
    print("bench: state_noop_10k %.2f" % noop_s)
    print("bench: state_apply_10k / flow_add_file_10k %.2f" % (apply_s / add_file))
    print("bench: state_noop_10k / flow_list_10k %.2f" % (noop_s / listing))


if __name__ == "__main__":
    main()
