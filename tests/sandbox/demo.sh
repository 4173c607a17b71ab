#!/usr/bin/env bash
# `make demo`: the vxlan_overlay role builds a VXLAN overlay over three "hosts"
# (network namespaces of the sandbox kernel, each with its own Open vSwitch
# datapath), then shows that it works. Runs inside the sandbox kernel.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "${ODP_SANDBOX:-}" != 1 ]; then
    echo "run me in the sandbox kernel: make demo" >&2
    exit 2
fi

HOSTS=(h1 h2 h3)
WORK=/tmp/demo          # /tmp is private to the sandbox kernel
PY=$PWD/.venv/bin/python
say() { printf '\n\033[1m>>> %s\033[0m\n' "$*"; }

cleanup() { "$PY" tests/overlay/netns_fleet.py down "${HOSTS[@]}" || true; }
trap cleanup EXIT

say "1. Three hosts h1, h2, h3: network namespaces joined by an ordinary Linux bridge (the 'underlay', 198.18.0.0/24)."
"$PY" tests/overlay/netns_fleet.py up --workdir "$WORK" --python "$PY" "${HOSTS[@]}" \
    | "$PY" -c 'import json, sys; [print("   %(name)s  underlay address %(underlay_ip)s" % h) for h in json.load(sys.stdin)]'

say "2. The inventory: two overlay networks. red (VXLAN id 100) on all three hosts, blue (VXLAN id 200) on h1 and h3."
cat >"$WORK/inventory.yml" <<EOI
overlay:
  vars:
    ansible_connection: local      # each host is reached through its own netns
    ansible_python_interpreter: "$WORK/python-{{ inventory_hostname }}"
    ansible_become: false          # we are root already
    vxlan_overlay_persist: false   # no reboots in a demo
  hosts:
    h1:
      vxlan_overlay_underlay_ip: 198.18.0.1
      vxlan_overlay_networks:
        - {name: red, vni: 100, address: 10.10.0.1/24}
        - {name: blue, vni: 200, address: 10.20.0.1/24}
    h2:
      vxlan_overlay_underlay_ip: 198.18.0.2
      vxlan_overlay_networks:
        - {name: red, vni: 100, address: 10.10.0.2/24}
    h3:
      vxlan_overlay_underlay_ip: 198.18.0.3
      vxlan_overlay_networks:
        - {name: red, vni: 100, address: 10.10.0.3/24}
        - {name: blue, vni: 200, address: 10.20.0.3/24}
EOI
sed -n '/hosts:/,$p' "$WORK/inventory.yml"

say "3. ansible-playbook -i inventory playbooks/vxlan_overlay.yml (about two minutes in this slow sandbox kernel)"
start=$SECONDS
ANSIBLE_DISPLAY_SKIPPED_HOSTS=false ANSIBLE_DISPLAY_OK_HOSTS=false \
    .venv/bin/ansible-playbook -i "$WORK/inventory.yml" playbooks/vxlan_overlay.yml
echo "(took $((SECONDS - start)) s; only the tasks that changed something are shown)"

say "4. Ping matrix: each row pings each column's address on that network (ok = reply, -- = none)."
declare -A ADDR=([red:h1]=10.10.0.1 [red:h2]=10.10.0.2 [red:h3]=10.10.0.3 [blue:h1]=10.20.0.1 [blue:h3]=10.20.0.3)
for net in red blue; do
    printf '\n   %-6s' "$net"; for to in "${HOSTS[@]}"; do printf '%-6s' "$to"; done; echo
    for from in "${HOSTS[@]}"; do
        printf '   %-6s' "$from"
        for to in "${HOSTS[@]}"; do
            addr=${ADDR[$net:$to]:-}
            if [ "$from" = "$to" ] || [ -z "$addr" ] || [ -z "${ADDR[$net:$from]:-}" ]; then
                cell=.
            elif ip netns exec "$from" ping -c1 -W1 "$addr" >/dev/null 2>&1; then cell=ok
            else cell=--; fi
            printf '%-6s' "$cell"
        done
        echo
    done
done
echo "   (. = not on that network; h2 is not on blue)"

say "5. Each host's datapath flows (odp flow list ovl), one line per flow:"
echo "   --in-port=red --eth-dst=<peer MAC>   unicast to one peer: set the tunnel (VNI, peer address), out the VXLAN port"
echo "   --eth-dst=01:00:..:01:00:..         broadcast/multicast (ARP): one copy per peer (head-end replication)"
echo "   --in-port=ovl-vxlan --tunnel-*       what arrives from a known peer with that VNI goes to the network's port"
for h in "${HOSTS[@]}"; do
    printf '\n   [%s]\n' "$h"
    ip netns exec "$h" "$PY" -m vswitch_odp.cli flow list ovl --stats | sort | sed "s/^/   /"
done

say "6. On the underlay, the traffic is VXLAN (UDP 4789); the VNI tells the networks apart. h1 pings h2 on red, h3 on blue:"
timeout 10 tcpdump -c 8 -nli ovl-underlay udp port 4789 2>/dev/null | sed 's/^/   /' &
capture=$!
sleep 1
ip netns exec h1 ping -c2 -i0.2 -W1 10.10.0.2 >/dev/null
ip netns exec h1 ping -c2 -i0.2 -W1 10.20.0.3 >/dev/null
wait "$capture" || true

say "Done: no ovs-vswitchd, no OVSDB, only the kernel datapath programmed over netlink."
