# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench`, controller part: the vxlan_overlay plan of a large fleet.

N hosts (default 25, 50 and 100; BENCH_PLAN_HOSTS="25 50" to choose), each on
the same 10 networks with an address of its own on each, and 20 workloads
per host (2 per network, each with one address). Every host's plan is
computed as the role computes it: the filter called once per host with every
member's declaration (each call checks them all: Ansible templates each host's
set_fact in its own worker process, so nothing is shared between calls).
Prints

    bench: overlay_plan_<N> <seconds>

for all N hosts' plans, then the seconds per host, the flows per host (the
formula of docs/vxlan-overlay.md) and the growth from the previous N.
Pure Python: it needs no kernel, but runs in the sandbox with the others.
"""

import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "overlay"))
from overlay_plans import plan_all  # noqa: E402  pylint: disable=wrong-import-position

NETWORKS = 10
ENDPOINTS = 20  # per host, spread over the networks


def fleet(n):
    members = []
    for h in range(n):
        hi, lo = divmod(h + 1, 256)
        members.append(
            {
                "host": "hv%03d" % h,
                "underlay_ip": "198.18.%d.%d" % (hi, lo),
                "networks": [
                    {
                        "name": "net%d" % i,
                        "vni": 1000 + i,
                        "address": "10.%d.%d.%d/16" % (i, hi, lo),
                    }
                    for i in range(NETWORKS)
                ],
                "endpoints": [
                    {
                        "network": "net%d" % (k % NETWORKS),
                        "port": "tap%d" % k,
                        "mac": "02:%02x:%02x:00:00:%02x" % (hi, lo, k),
                        "name": "vm%d-%d" % (h, k),
                        "addresses": ["10.%d.%d.%d" % (k % NETWORKS, 100 + k, h + 1)],
                    }
                    for k in range(ENDPOINTS)
                ],
            }
        )
    return members


def bench(n, previous):
    members = fleet(n)
    start = time.monotonic()
    plans = plan_all(members)
    elapsed = time.monotonic() - start
    flows = [len(p["flows"]) for p in plans.values()]
    # L local ports, P peers and R remote ports per network: 4L + R + P + 1.
    local = 1 + ENDPOINTS // NETWORKS
    expected = NETWORKS * (4 * local + (n - 1) * local + (n - 1) + 1)
    if set(flows) != {expected}:
        raise SystemExit(
            "bench: %s flows per host, the formula says %d" % (sorted(set(flows)), expected)
        )
    print("bench: overlay_plan_%d %.2f" % (n, elapsed))
    growth = (
        ""
        if previous is None
        else ", x%.1f for x%.1f hosts" % (elapsed / previous[1], n / previous[0])
    )
    print(
        "  (%.1f ms per host, %d flows per host, %d in all%s)"
        % (1000 * elapsed / n, expected, expected * n, growth),
        flush=True,
    )
    return n, elapsed


def main():
    previous = None
    for n in [int(x) for x in os.environ.get("BENCH_PLAN_HOSTS", "25 50 100").split()]:
        previous = bench(n, previous)


if __name__ == "__main__":
    main()
