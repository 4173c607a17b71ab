#!/usr/bin/env bash
# A short walkthrough of the Open vSwitch kernel datapath with ovs-dpctl only.
# Runs inside the sandbox kernel: `make demo` (tests/sandbox/run -- tests/sandbox/demo.sh).
# (To be replaced by the role demo once the modules exist.)
set -euo pipefail

if [ "${ODP_SANDBOX:-}" != 1 ]; then
    echo "run me in the sandbox kernel: make demo" >&2
    exit 2
fi

DP=demo0
say() { printf '\n>>> %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
dpctl() { run ovs-dpctl "$@" 2> >(grep -v 'dpif_netlink|INFO' >&2); }

cleanup() {
    ovs-dpctl del-dp "$DP" 2>/dev/null || true
    ip netns del red 2>/dev/null || true
    ip netns del blue 2>/dev/null || true
}
trap cleanup EXIT

say "1. Create a datapath: a switch inside the kernel, with no flows yet."
dpctl add-dp "$DP"

say "2. Two network namespaces (two 'hosts'), each wired to us by a veth pair."
for ns in red blue; do
    run ip netns add "$ns"
    run ip link add "v-$ns" type veth peer name eth0 netns "$ns"
    run ip link set "v-$ns" up
    run ip -n "$ns" link set lo up
    run ip -n "$ns" link set eth0 up
done
run ip -n red addr add 10.0.0.1/24 dev eth0
run ip -n blue addr add 10.0.0.2/24 dev eth0

say "3. Attach the host ends as netdev vports: port 1 = red, port 2 = blue."
dpctl add-if "$DP" v-red,port_no=1
dpctl add-if "$DP" v-blue,port_no=2
dpctl show "$DP"

say "4. Without flows the datapath would send every packet to userspace (nobody listens): no ping."
if ip netns exec red ping -c1 -W1 10.0.0.2 >/dev/null; then echo "(unexpected: ping worked)"; else echo "ping failed, as expected"; fi

say "5. Add two flows: whatever enters port 1 leaves on port 2, and back (eth() with no fields: match any Ethernet frame)."
dpctl add-flow "$DP" "in_port(1),eth()" 2
dpctl add-flow "$DP" "in_port(2),eth()" 1

say "6. Ping red -> blue through the datapath."
run ip netns exec red ping -c3 -i0.2 10.0.0.2

say "7. The flows, with their packet and byte counters."
dpctl dump-flows "$DP"

say "8. Clean up: delete the datapath and the namespaces."
dpctl del-dp "$DP"
run ip netns del red
run ip netns del blue
trap - EXIT
say "Done."
