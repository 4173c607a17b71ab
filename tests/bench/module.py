#!/usr/bin/env python3
# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench`, module part: odp_flow with 10,000 flows and purge.

Runs inside the sandbox kernel (tests/sandbox/run). A datapath with two
internal vports p1 and p2; 10,000 flows ``in_port(p1), ipv4 dst 10.x.y.z ->
output p2`` declared with ``flows:`` and ``purge: true``; applied to the empty
datapath, then applied again (which must change nothing). Prints

    bench: module_apply_10k <seconds>
    bench: module_noop_10k <seconds>

The module is run as Ansible runs it on the managed host
(``python plugins/modules/odp_flow.py ARGS.json``): the figures are the
module's own time (start-up, state read, diff, plan, apply), not
ansible-playbook's per-task fork and transfer overhead. ODP_BENCH_PLAYBOOK=1
also times the same no-op as one ansible-playbook task, for context (about
18-23 s more in the sandbox, most of it the controller's handling of 10,000
entries); ODP_BENCH_FLOWS changes the flow count for a quick try.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

from vswitch_odp.client import Client

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULE = os.path.join(REPO, "plugins", "modules", "odp_flow.py")
COLLECTIONS = os.path.join(REPO, ".venv", "collections")
N_FLOWS = int(os.environ.get("ODP_BENCH_FLOWS", "10000"))
DP_NAME = "odpmodbench"


def declaration(n):
    """The module's arguments: n flows, one IPv4 destination each."""
    flows = [
        {
            "match": {
                "in_port": "p1",
                "eth_type": 0x0800,
                "ipv4": {"dst": "10.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255)},
            },
            "actions": [{"output": "p2"}],
        }
        for i in range(n)
    ]
    return {"datapath": DP_NAME, "flows": flows, "purge": True}


def run_module(args_path):
    """Run odp_flow on ``args_path``; return (seconds, result dict)."""
    env = dict(os.environ, PYTHONPATH=COLLECTIONS)
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, MODULE, args_path],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )  # the result JSON says what went wrong
    elapsed = time.monotonic() - start
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        sys.stdout.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit("bench: odp_flow printed no JSON result (exit %d)" % proc.returncode)
    if result.get("failed"):
        raise SystemExit("bench: odp_flow failed: %s" % result.get("msg"))
    return elapsed, result


def expect(what, result, **wanted):
    got = {name: result.get(name) for name in wanted}
    if got != wanted:
        raise SystemExit("bench: %s: expected %s, the module returned %s" % (what, wanted, got))


def playbook_noop(workdir, args):
    """The same no-op as one ansible-playbook task (connection local)."""
    playbook = os.path.join(workdir, "noop.yml")
    with open(playbook, "w") as f:
        json.dump(
            [
                {
                    "hosts": "localhost",
                    "gather_facts": False,
                    "vars": {"ansible_python_interpreter": sys.executable},
                    "tasks": [{"vswitch.odp.odp_flow": args}],
                }
            ],
            f,
        )
    start = time.monotonic()
    proc = subprocess.run(
        [
            os.path.join(REPO, ".venv", "bin", "ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            playbook,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )  # the failure is reported below, with the playbook's tail
    elapsed = time.monotonic() - start
    if proc.returncode != 0 or "changed=0" not in proc.stdout:
        sys.stdout.write(proc.stdout[-4000:])
        raise SystemExit("bench: the no-op through ansible-playbook failed or changed something")
    return elapsed


def main():
    if os.environ.get("ODP_SANDBOX") != "1":
        raise SystemExit("run me in the sandbox kernel: make bench")
    args = declaration(N_FLOWS)
    with Client() as client, tempfile.TemporaryDirectory(prefix="bench-module-") as workdir:
        datapath = client.create_datapath(DP_NAME)
        try:
            client.create_vport(datapath, "p1", type="internal")
            client.create_vport(datapath, "p2", type="internal")
            args_path = os.path.join(workdir, "args.json")
            with open(args_path, "w") as f:
                json.dump({"ANSIBLE_MODULE_ARGS": args}, f)
            apply, result = run_module(args_path)
            expect("apply", result, changed=True, added=N_FLOWS, modified=0, removed=0)
            if len(client.flows(datapath)) != N_FLOWS:
                raise SystemExit("bench: the datapath does not hold the %d flows" % N_FLOWS)
            noop, result = run_module(args_path)
            expect("no-op", result, changed=False, added=0, modified=0, removed=0)
            playbook = None
            if os.environ.get("ODP_BENCH_PLAYBOOK") == "1":
                playbook = playbook_noop(workdir, args)
        finally:
            client.delete_datapath(datapath)
    print(
        "  (odp_flow run as Ansible runs it on the managed host: python odp_flow.py ARGS.json;"
        " module time only, without ansible-playbook's per-task overhead)"
    )
    if playbook is not None:
        print("  (the same no-op as one ansible-playbook task: %.1f s)" % playbook)
    suffix = "10k" if N_FLOWS == 10000 else str(N_FLOWS)
    print("bench: module_apply_%s %.1f" % (suffix, apply))
    print("bench: module_noop_%s %.1f" % (suffix, noop), flush=True)


if __name__ == "__main__":
    main()
