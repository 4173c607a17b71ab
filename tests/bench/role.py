#!/usr/bin/env python3
# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench`, role part: the vxlan_overlay role over N namespace hosts.

Runs inside the sandbox kernel (tests/sandbox/run). For each N (default 2, 4
and 8; BENCH_ROLE_HOSTS="2 4" to choose), N hosts on one network (a full mesh:
2(N-1)+1 flows per host): one run of playbooks/vxlan_overlay.yml on fresh
hosts, then a second run that must change nothing. Prints

    bench: role_converge_<N> <seconds>
    bench: role_noop_<N> <seconds>
    bench: role_noop_<N>_per_host <seconds>

and the seconds per host against the old task layout's. Underlay addresses are set in the inventory (no
fact gathering) and persistence is off: this measures the mesh itself.
The sandbox kernel has one slow CPU, so hosts run one after the other.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "overlay"))
import netns_fleet  # noqa: E402  pylint: disable=wrong-import-position

PYTHON = os.path.join(REPO, ".venv", "bin", "python")
PLAYBOOK = os.path.join(REPO, "playbooks", "vxlan_overlay.yml")
# Seconds per host of the old task layout's no-op run at N = 8 (issue 11).
OLD_NOOP_PER_HOST = 25


def inventory(hosts, workdir):
    """The inventory as JSON (valid YAML): one network over every host."""
    return {
        "overlay": {
            "vars": {
                "ansible_connection": "local",
                "ansible_become": False,
                "ansible_python_interpreter": workdir + "/python-{{ inventory_hostname }}",
                "vxlan_overlay_persist": False,
            },
            "hosts": {
                h["name"]: {
                    "vxlan_overlay_underlay_ip": h["underlay_ip"],
                    "vxlan_overlay_networks": [
                        {
                            "name": "bench",
                            "vni": 4242,
                            "address": "10.42.%d.%d/16" % divmod(i + 1, 256),
                        }
                    ],
                }
                for i, h in enumerate(hosts)
            },
        }
    }


def play(inv):
    """Run the playbook; return (seconds, changed count)."""
    start = time.monotonic()
    proc = subprocess.run(
        [os.path.join(REPO, ".venv", "bin", "ansible-playbook"), "-i", inv, PLAYBOOK],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )  # the failure is reported below, with the playbook's tail
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout[-4000:])
        raise SystemExit("bench: playbook failed (exit %d)" % proc.returncode)
    changed = sum(int(n) for n in re.findall(r"changed=(\d+)", proc.stdout))
    return elapsed, changed


def bench(n):
    names = ["b%d" % i for i in range(1, n + 1)]
    with tempfile.TemporaryDirectory(prefix="bench-role-") as workdir:
        try:
            hosts = netns_fleet.up(names, workdir, PYTHON)
            inv = os.path.join(workdir, "inventory.yml")
            with open(inv, "w") as f:
                json.dump(inventory(hosts, workdir), f)
            converge, _first_changes = play(inv)
            noop, changed = play(inv)
            if changed:
                raise SystemExit(
                    "bench: the second run changed %d things: not idempotent" % changed
                )
        finally:
            netns_fleet.down(names)
    print("bench: role_converge_%d %.1f" % (n, converge))
    print("bench: role_noop_%d %.1f" % (n, noop))
    print("bench: role_noop_%d_per_host %.1f" % (n, noop / n))
    # The old layout (a task per vport, link and flow set, 0.1.0) is gone;
    # its no-op measured about 25 s per host at N = 8 in this sandbox.
    print(
        "  (per host: converge %.1f s, no-op %.1f s = %.2f of the old layout's ~%d s; %d flows per host)"
        % (
            converge / n,
            noop / n,
            noop / n / OLD_NOOP_PER_HOST,
            OLD_NOOP_PER_HOST,
            2 * (n - 1) + 1,
        ),
        flush=True,
    )


def main():
    if os.environ.get("ODP_SANDBOX") != "1":
        raise SystemExit("run me in the sandbox kernel: make bench")
    for n in [int(x) for x in os.environ.get("BENCH_ROLE_HOSTS", "2 4 8").split()]:
        bench(n)


if __name__ == "__main__":
    main()
