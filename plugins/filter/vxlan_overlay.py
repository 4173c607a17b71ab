# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vxlan_overlay role's plan: which vports, links and flows one host needs.

Computed on the controller from every member's declaration, so the whole mesh
is decided in one place (and unit-tested) instead of in Jinja loops. The
declarations are checked in plugin_utils/overlay_declarations.py, each
network's flows made in plugin_utils/overlay_forwarding.py.
"""

DOCUMENTATION = r"""
name: vxlan_overlay_plan
short_description: Plan one host's datapath for the vxlan_overlay role
version_added: 0.1.0
description:
  - Takes the host's own declaration and its peers' declarations and returns the vports,
    internal-port settings and flows the host needs for a full VXLAN mesh between the hosts'
    own ports and the workloads (VM taps, container veths) attached to the networks.
  - Used by the C(vswitch.odp.vxlan_overlay) role; validates every declaration first and fails
    naming the host, the field and the value.
positional: members, datapath, vxlan_vport
options:
  _input:
    description:
      - This host's declaration, as built by the role (C(host), C(underlay_ip), C(networks) and
        C(endpoints), the last two as the role's C(vxlan_overlay_networks) and C(vxlan_overlay_endpoints)).
    type: dict
    required: true
  members:
    description: The declarations of this host's candidate peers (may include the host itself).
    type: list
    elements: dict
    required: true
  datapath:
    description: The datapath name.
    type: str
    required: true
  vxlan_vport:
    description: The name of the VXLAN vport.
    type: str
    required: true
  vxlan_port:
    description: The VXLAN UDP port.
    type: int
    default: 4789
  ttl:
    description: The outer TTL of encapsulated packets.
    type: int
    default: 64
  mtu:
    description: The MTU of each network's internal port.
    type: int
    default: 1450
"""

EXAMPLES = r"""
- name: Plan
  ansible.builtin.set_fact:
    plan: "{{ me | vswitch.odp.vxlan_overlay_plan(members, 'ovl', 'ovl-vxlan') }}"
"""

RETURN = r"""
_value:
  description:
    - C(vports) (the VXLAN vport, an internal port per network the host has an address on, a netdev
      vport per workload port), C(links) (the internal ports' settings), C(flows) (ovs-dpctl
      C(key)/C(actions) text), C(peers) (per network, the hosts with a port on it).
  type: dict
"""

from ansible_collections.vswitch.odp.plugins.plugin_utils.overlay_declarations import (
    check_consistency,
    fail,
    normalize_member,
)
from ansible_collections.vswitch.odp.plugins.plugin_utils.overlay_forwarding import Network


def _macs_by_network(member):
    """Network name -> the MACs of MEMBER's ports on it: its own, then its workloads'."""
    macs = {n["name"]: [n["mac"]] if n["address"] is not None else [] for n in member["networks"]}
    for ep in member["endpoints"]:
        macs[ep["network"]].append(ep["mac"])
    return macs


def vxlan_overlay_plan(me, members, datapath, vxlan_vport, vxlan_port=4789, ttl=64, mtu=1450):
    """See DOCUMENTATION."""
    me = normalize_member(me)
    others = sorted(
        (normalize_member(m) for m in members if m.get("host") != me["host"]),
        key=lambda m: str(m["host"]),
    )
    # Sorted: every host reports a conflict the same way.
    check_consistency(sorted([me, *others], key=lambda m: str(m["host"])))
    names = {datapath, vxlan_vport}
    for net in me["networks"]:
        if net["name"] in names:
            fail(
                me["host"],
                "network name",
                net["name"],
                "collides with the datapath or VXLAN vport name",
            )
    for i, ep in enumerate(me["endpoints"]):
        if ep["port"] in names:
            fail(
                me["host"],
                "vxlan_overlay_endpoints[%d].port" % i,
                ep["port"],
                "collides with the datapath or VXLAN vport name",
            )
    remote_macs = [(m, _macs_by_network(m)) for m in others]
    vports = [{"name": vxlan_vport, "type": "vxlan", "port": vxlan_port}]
    links, flows, peers_of = [], [], {}
    for net in me["networks"]:
        name = net["name"]
        remotes = [(m, macs[name]) for m, macs in remote_macs if macs.get(name)]
        peers_of[name] = [m["host"] for m, _macs in remotes]
        port = None
        if net["address"] is not None:
            port = (name, net["mac"])
            vports.append({"name": name, "type": "internal"})
            links.append(
                {"name": name, "mac": net["mac"], "mtu": mtu, "addresses": [net["address"]]}
            )
        endpoints = [(e["port"], e["mac"]) for e in me["endpoints"] if e["network"] == name]
        vports.extend({"name": p, "type": "netdev"} for p, _mac in endpoints)
        network = Network(
            net["vni"],
            port,
            endpoints,
            [(m["underlay_ip"], macs) for m, macs in remotes],
            me["underlay_ip"],
            me["family"],
        )
        flows.extend({"key": k, "actions": a} for k, a in network.flows(vxlan_vport, ttl))
    return {
        "datapath": datapath,
        "underlay_ip": me["underlay_ip"],
        "vports": vports,
        "links": links,
        "flows": flows,
        "peers": peers_of,
    }


class FilterModule:
    def filters(self):
        return {"vxlan_overlay_plan": vxlan_overlay_plan}
