#!/usr/bin/env python3
"""A fleet of "hosts" as network namespaces, for the vxlan_overlay role.

    netns_fleet.py up --workdir DIR [--python PY] HOST...
    netns_fleet.py down HOST...

Runs inside the sandbox kernel (root).  Each HOST becomes a network namespace
with an `eth0` veth, plugged into one Linux bridge in the root namespace (the
underlay, 198.18.0.0/24, RFC 2544 benchmark space, so it never collides with
a real network).  The bridge holds 198.18.0.254 and is every host's default
gateway, so Ansible's `ansible_default_ipv4` works inside each host.

Ansible reaches a host with `ansible_connection: local` and a per-host
interpreter wrapper, DIR/python-HOST, which runs `ip netns exec HOST PY`:
every module then runs inside that host's namespace and sees only its own
links and its own Open vSwitch datapaths (the kernel keeps datapaths per
network namespace).

Each host also has an IPv6 address on the underlay, 2001:2::(1 + i)/64
(RFC 5180 benchmark space), with 2001:2::fe, the bridge, as the IPv6 default
gateway: an IPv6 underlay is the same fleet with the other addresses.

Used by the molecule scenario (create/destroy), `make demo`, `make bench` and
the kernel test of the overlay's workloads.
One `ip -batch` per namespace: fork+exec is slow in the sandbox kernel.
"""

import argparse
import json
import os
import subprocess
import sys

BRIDGE = "ovl-underlay"
GATEWAY = "198.18.0.254"
PREFIX = 24
GATEWAY6 = "2001:2::fe"
PREFIX6 = 64
FIRST_HOST = 1  # host i (0-based) gets 198.18.0.(FIRST_HOST + i)
MAX_HOSTS = 200


def underlay_ip(index: int) -> str:
    return "198.18.0.%d" % (FIRST_HOST + index)


def underlay_ip6(index: int) -> str:
    return "2001:2::%x" % (FIRST_HOST + index)


def _veth(host: str) -> str:
    # Root-namespace end of the host's veth; IFNAMSIZ is 16 with the NUL.
    return ("ul-" + host)[:15]


def ip_batch(lines: "list[str]", netns: "str | None" = None, check: bool = True) -> None:
    argv = ["ip"] + (["-n", netns] if netns else []) + ["-batch", "-"]
    if not check:
        argv.insert(1, "-force")
    subprocess.run(
        argv,
        input="\n".join(lines) + "\n",
        text=True,
        check=check,
        stdout=subprocess.DEVNULL,
        stderr=None if check else subprocess.DEVNULL,
    )


def up(hosts: "list[str]", workdir: str, python: str) -> "list[dict]":
    """Create the bridge, one namespace per host and the wrappers; return the hosts."""
    if len(hosts) > MAX_HOSTS:
        raise SystemExit("at most %d hosts, got %d" % (MAX_HOSTS, len(hosts)))
    os.makedirs(workdir, exist_ok=True)
    root = []
    if not os.path.exists("/sys/class/net/" + BRIDGE):
        # nodad: usable at once (duplicate address detection takes seconds).
        root += [
            "link add %s type bridge" % BRIDGE,
            "addr add %s/%d dev %s" % (GATEWAY, PREFIX, BRIDGE),
            "addr add %s/%d dev %s nodad" % (GATEWAY6, PREFIX6, BRIDGE),
            "link set %s up" % BRIDGE,
        ]
    for host in hosts:
        if os.path.exists("/run/netns/" + host):
            continue
        root += [
            "netns add %s" % host,
            "link add %s type veth peer name eth0 netns %s" % (_veth(host), host),
            "link set %s master %s up" % (_veth(host), BRIDGE),
        ]
    if root:
        ip_batch(root)
    result = []
    for index, host in enumerate(hosts):
        address, address6 = underlay_ip(index), underlay_ip6(index)
        ip_batch(
            [
                "link set lo up",
                "addr replace %s/%d dev eth0" % (address, PREFIX),
                "addr replace %s/%d dev eth0 nodad" % (address6, PREFIX6),
                "link set eth0 up",
                "route replace default via %s" % GATEWAY,
                "route replace default via %s" % GATEWAY6,
            ],
            netns=host,
        )
        wrapper = os.path.join(workdir, "python-" + host)
        with open(wrapper, "w") as f:
            f.write(
                "#!/bin/sh\n# Ansible's interpreter for %s: Python inside its netns.\n"
                'exec ip netns exec %s %s "$@"\n' % (host, host, python)
            )
        os.chmod(wrapper, 0o755)
        result.append(
            {"name": host, "underlay_ip": address, "underlay_ip6": address6, "python": wrapper}
        )
    return result


def down(hosts: "list[str]") -> None:
    """Delete the namespaces (their datapaths go with them), veths and the bridge."""
    lines = ["netns del %s" % h for h in hosts if os.path.exists("/run/netns/" + h)]
    lines += [
        "link del %s" % _veth(h) for h in hosts if os.path.exists("/sys/class/net/" + _veth(h))
    ]
    if os.path.isdir("/sys/class/net/%s/brif" % BRIDGE) and not set(
        os.listdir("/sys/class/net/%s/brif" % BRIDGE)
    ) - {_veth(h) for h in hosts}:
        lines.append("link del %s" % BRIDGE)
    if lines:
        ip_batch(lines, check=False)


def main(argv: "list[str]") -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    u = sub.add_parser("up", help="create the hosts; print them as JSON")
    u.add_argument("--workdir", required=True, help="where the interpreter wrappers go")
    u.add_argument("--python", default=sys.executable, help="interpreter run in each netns")
    u.add_argument("hosts", nargs="+")
    d = sub.add_parser("down", help="delete the hosts")
    d.add_argument("hosts", nargs="+")
    args = p.parse_args(argv)
    if os.environ.get("ODP_SANDBOX") != "1":
        p.error("creates namespaces and bridges: run me in the sandbox kernel (tests/sandbox/run)")
    if args.cmd == "up":
        json.dump(up(args.hosts, args.workdir, os.path.abspath(args.python)), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        down(args.hosts)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
