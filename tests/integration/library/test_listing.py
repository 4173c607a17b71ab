"""A table of a few thousand flows listed, filtered, gathered and purged
against the real datapath; flow add --file stopping at a flow the kernel
refuses. The 200,000-flow sizes are measured in make bench
(tests/bench/listing.py)."""

import json
import os
import subprocess

import pytest
from test_cli import odp
from vswitch_odp import Flow

N = 3000  # half from p1, half from p2; every tenth an ARP flow
REPO = os.path.join(os.path.dirname(__file__), "..", "..", "..")
MODULES = os.path.join(REPO, "plugins", "modules")
COLLECTIONS = os.path.join(REPO, ".venv", "collections")
# Modules run with the controller venv (.venv, which has Ansible), whichever
# venv runs the test: the pyroute2-0.7 venv has no Ansible.
MODULE_PYTHON = os.path.join(REPO, ".venv", "bin", "python")


def table_flow(n, p1, p2):
    port, out = (p1, p2) if n % 2 else (p2, p1)
    key = {"in_port": port, "eth": {"src": 0x020000000000 + n, "dst": 0x020000000001}}
    mask = {"in_port": 0xFFFFFFFF, "eth": {"src": 0xFFFFFFFFFFFF, "dst": 0xFFFFFFFFFFFF}}
    if n % 10 == 0:
        key["eth_type"], mask["eth_type"] = 0x0806, 0xFFFF
    return Flow(key, mask, [("output", out)])


@pytest.fixture
def table(client, datapaths):
    name = datapaths("ls")
    client.create_datapath(name)
    p1 = client.create_vport(name, "p1", "internal").port_no
    p2 = client.create_vport(name, "p2", "internal").port_no
    assert client.put_flows(name, [table_flow(n, p1, p2) for n in range(N)]) == [None] * N
    return name


def module(tmp_path, name, args):
    """The module run as Ansible runs it on the managed host: its result."""
    path = tmp_path / ("%s.json" % name)
    path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    proc = subprocess.run(
        [MODULE_PYTHON, os.path.join(MODULES, name + ".py"), str(path)],
        env=dict(os.environ, PYTHONPATH=COLLECTIONS),
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    result = json.loads(proc.stdout)
    assert not result.get("failed"), result.get("msg")
    return result


def test_list_filters_and_json(table):
    lines = odp("flow", "list", table)[0].splitlines()
    assert len(lines) == N and len(set(lines)) == N
    from_p2 = odp("flow", "list", table, "--in-port=p2")[0].splitlines()
    assert len(from_p2) == N // 2 and all(line.startswith("--in-port=p2 ") for line in from_p2)
    assert odp("flow", "list", table, "--in-port=1")[0].splitlines() == [
        line for line in lines if line.startswith("--in-port=p1 ")
    ]
    arp_p1 = odp("flow", "list", table, "--in-port=p1", "--filter=eth_type(0x0806)")[0]
    assert arp_p1 == ""  # the ARP flows are the even ones: all from p2
    out, err = odp("flow", "list", table, "--filter=eth_type(0x0806)", "--json")
    flows = json.loads(out)
    assert err == "" and len(flows) == N // 10
    assert out.splitlines()[0] == "[" and out.splitlines()[-1] == "]"
    assert all("in_port(p2)" in f["key"] and f["actions"] == "p1" for f in flows)
    assert sorted(f["options"] for f in flows) == sorted(
        line for line in lines if "--eth-type=0x0806" in line
    )
    _out, err = odp("flow", "list", table, "--in-port=p9", status=1)
    assert "--in-port: invalid value 'p9': no such vport" in err


def test_facts_count_filter_limit_then_purge(table, tmp_path):
    facts = module(
        tmp_path,
        "odp_facts",
        {"datapath": [table], "meters": False, "flow_in_port": "p2", "flow_limit": 5},
    )
    dp = facts["ansible_facts"]["odp"]["datapaths"][table]
    assert dp["flow_summary"] == {
        "count": N // 2,
        "packets": 0,
        "bytes": 0,
        "returned": 5,
        "consistent": True,
    }
    assert len(dp["flows"]) == 5 and all("in_port(p2)" in f["key"] for f in dp["flows"])
    facts = module(tmp_path, "odp_facts", {"datapath": [table], "meters": False})
    dp = facts["ansible_facts"]["odp"]["datapaths"][table]
    assert dp["flow_summary"]["count"] == len(dp["flows"]) == N == dp["stats"]["flows"]

    declared = [
        {
            "match": {"in_port": "p1", "eth_type": 0x0800, "ipv4": {"dst": "10.9.0.1"}},
            "actions": [{"output": "p2"}],
        }
    ]
    purged = module(tmp_path, "odp_flow", {"datapath": table, "flows": declared, "purge": True})
    assert purged["changed"]
    (left,) = json.loads(odp("flow", "list", table, "--json")[0])
    assert "ipv4(dst=10.9.0.1" in left["key"] and left["actions"] == "p2"


def test_flow_file_stops_at_the_refused_line(client, datapaths, tmp_path):
    name = datapaths("lf")
    client.create_datapath(name)
    for vport in ("p1", "p2"):
        client.create_vport(name, vport, "internal")
    lines = ["--in-port=p1 --eth-src=02:00:00:00:00:%02x --output=p2" % n for n in range(1, 6)]
    # Another mask over line 2's key: the kernel refuses overlapping flows.
    lines.append("--in-port=p1 --eth-src=02:00:00:00:00:02 --eth-dst=02:00:00:00:00:09 --output=p2")
    lines += ["--in-port=p2 --eth-src=02:00:00:00:01:%02x --output=p1" % n for n in range(2)]
    path = tmp_path / "flows"
    path.write_text("\n".join(lines) + "\n")
    _out, err = odp("flow", "add", name, "--file=%s" % path, status=1)
    assert err.startswith("odp: %s:6: " % path), err
    assert "another mask already matches" in err
    assert (
        "stopped there: 7 flows applied, those of the lines before it; the kernel had lines "
        "7-8 in the same batch, and applied 2 of those 2; no later line was sent" in err
    )
    assert sorted(odp("flow", "list", name)[0].splitlines()) == sorted(lines[:5] + lines[6:])
