#!/usr/bin/python
# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: odp_flow
short_description: Manage the flows of an Open vSwitch kernel datapath
version_added: 0.1.0
description:
  - Installs, modifies and removes flows of a datapath of the Linux Open vSwitch kernel module
    (the equivalent of C(ovs-dpctl add-flow), C(mod-flow) and C(del-flow)), over generic netlink.
  - One flow is given with O(match) or O(key), and O(actions); many with O(flows). With
    O(purge=true) the datapath ends up with exactly the flows of O(flows).
  - A flow is identified by its match, compared the way the kernel stores it (required
    attributes added wildcarded, values masked, wildcarded fields dropped), so two spellings of
    the same match are the same flow and a second run changes nothing.
  - A flow whose match exists with other actions is modified in place (C(OVS_FLOW_CMD_SET)), so
    its statistics are kept.
  - Every flow is checked (syntax, vport names, masks, what the kernel would refuse) before
    anything is sent. The changes are then sent in batches. If the kernel still refuses a flow,
    the flows the task changed are put back as they were, and the task fails naming the flow and
    the kernel's reason.
author:
  - vswitch.odp contributors (@vswitch)
extends_documentation_fragment:
  - vswitch.odp.odp
  - vswitch.odp.odp.lock
options:
  datapath:
    description:
      - Name of the datapath. It must exist when O(state=present).
    type: str
    required: true
  state:
    description:
      - V(present) installs the flows (or modifies their actions); V(absent) removes them, and
        O(actions) are not needed. Removing from a datapath that does not exist is not an error.
    type: str
    choices: [present, absent]
    default: present
  match:
    description:
      - "The match of one flow, as a dict that mirrors the ovs-dpctl key syntax, for example
        C({in_port: p1, eth_type: 0x0800, ipv4: {dst: 10.1.0.0/16, proto: 6}, tcp: {dst: 80}})."
      - "Attributes: C(in_port) (vport name or number), C(eth) (C(src), C(dst)), C(eth_type),
        C(vlan) (C(vid), C(pcp)), C(ipv4) (C(src), C(dst), C(proto), C(tos), C(ttl), C(frag)),
        C(ipv6), C(tcp), C(udp), C(sctp) (C(src), C(dst)), C(icmp), C(icmpv6) (C(type), C(code)),
        C(arp) (C(sip), C(tip), C(op), C(sha), C(tha)), C(nd), C(tunnel) (C(tun_id), C(src),
        C(dst), C(tos), C(ttl), C(tp_src), C(tp_dst), C(flags)), C(recirc_id), C(dp_hash),
        C(ct_state), C(ct_zone), C(ct_mark), C(skb_mark), C(skb_priority) and the others of
        ovs-dpctl."
      - Every value takes a mask as C(value/mask); addresses also take a prefix length (CIDR).
        What is not given is wildcarded.
      - "A match is of Ethernet frames, as if it had C(eth: {}), unless it names C(eth) or
        C(packet_type). In the O(key) text, as in ovs-dpctl, a key with C(eth_type) but no C(eth)
        is of packets without an Ethernet header."
      - Quote MAC addresses in YAML, as in C("02:00:00:00:00:01"); unquoted, some read as numbers.
      - Mutually exclusive with O(key) and O(flows).
    type: dict
  key:
    description:
      - The match of one flow as ovs-dpctl text, for example
        V(in_port(p1\),eth(\),eth_type(0x0800\),ipv4(dst=10.1.0.0/255.255.0.0\)).
        Vport names are accepted wherever a port number goes.
      - Mutually exclusive with O(match) and O(flows).
    type: str
  actions:
    description:
      - The actions of the flow given by O(match) or O(key), as a list or as ovs-dpctl text.
      - "List items: C(output: p2), C(set: {tunnel: {tun_id: 0x2a, dst: 198.18.0.9, ttl: 64}}),
        C(push_vlan: {vid: 10}), C(pop_vlan), C(ct: {commit: true, zone: 1, nat: {...}}),
        C(recirc: 1), C(userspace: {pid: 0}), C(drop), and the other actions of ovs-dpctl."
      - "Text: for example V(set(tunnel(tun_id=0x2a,dst=198.18.0.9,ttl=64\\)\\),vxlan0)."
      - An empty list drops the packets. Required with O(state=present).
    type: raw
  flows:
    description:
      - Many flows, each with O(flows[].match) or O(flows[].key), and O(flows[].actions).
      - Mutually exclusive with O(match), O(key) and O(actions).
    type: list
    elements: dict
    suboptions:
      match:
        description: The match as a dict, like O(match).
        type: dict
      key:
        description: The match as ovs-dpctl text, like O(key).
        type: str
      actions:
        description: The actions, like O(actions).
        type: raw
  purge:
    description:
      - With O(flows) and O(state=present), remove every flow of the datapath that O(flows) does
        not declare. O(flows=[]) then removes all the flows.
    type: bool
    default: false
seealso:
  - module: vswitch.odp.odp_datapath
  - module: vswitch.odp.odp_vport
  - module: vswitch.odp.odp_facts
"""

EXAMPLES = r"""
- name: Forward IPv4 from p1 to p2
  vswitch.odp.odp_flow:
    datapath: dp0
    match:
      in_port: p1
      eth_type: 0x0800
      ipv4: {dst: 10.1.0.0/16}
    actions:
      - output: p2
  become: true

- name: The same flow in ovs-dpctl syntax (a second task changes nothing)
  vswitch.odp.odp_flow:
    datapath: dp0
    key: in_port(p1),eth(),eth_type(0x0800),ipv4(dst=10.1.0.0/255.255.0.0)
    actions: p2
  become: true

- name: Send what comes from p1 into a VXLAN tunnel
  vswitch.odp.odp_flow:
    datapath: dp0
    match: {in_port: p1}
    actions:
      - set: {tunnel: {tun_id: 0x2a, dst: 198.18.0.9, ttl: 64}}
      - output: vxlan0
  become: true

- name: Remove that flow
  vswitch.odp.odp_flow:
    datapath: dp0
    match: {in_port: p1}
    state: absent
  become: true

- name: The datapath has exactly these flows
  vswitch.odp.odp_flow:
    datapath: dp0
    purge: true
    flows:
      - match: {in_port: p1, eth_type: 0x0806}
        actions: [{output: p2}]
      - key: in_port(p2),eth(),eth_type(0x0806),arp()
        actions: p1
  become: true

- name: Remove every flow of dp0
  vswitch.odp.odp_flow:
    datapath: dp0
    flows: []
    purge: true
  become: true
"""

RETURN = r"""
added:
  description: How many flows were (in check mode, would be) installed.
  returned: always
  type: int
  sample: 2
modified:
  description: How many installed flows had (would have) their actions changed.
  returned: always
  type: int
  sample: 1
removed:
  description: How many flows were (would be) removed.
  returned: always
  type: int
  sample: 0
diff:
  description:
    - With C(--diff), the flows concerned before and after, one ovs-dpctl line per flow with
      vport names, sorted. With O(purge=true) that is every flow of the datapath.
  returned: when diff mode is on
  type: dict
  sample:
    before: "in_port(p1),eth(),eth_type(0x0806),arp() actions:p2\n"
    after: "in_port(p1),eth(),eth_type(0x0806),arp() actions:p3\n"
"""

from ansible_collections.vswitch.odp.plugins.module_utils.odp_module import (
    OdpModule,
    flowdump,
    flowplan,
    optional,
    port_maps,
)

FLOW_OPTIONS = {
    "match": {"type": "dict"},
    "key": {"type": "str", "no_log": False},
    "actions": {"type": "raw"},
}


# Check mode's stand-in for a datapath that does not exist yet.
WOULD_BE_CREATED = object()


class WouldBePorts(dict):
    """Vport names as port numbers for a datapath that does not exist yet
    (check mode): every name is taken for a vport, numbered in turn."""

    def __contains__(self, name):
        return True

    def __missing__(self, name):
        self[name] = number = len(self) + 1
        return number


def main():
    module = OdpModule(
        locking=True,
        argument_spec=dict(
            datapath={"type": "str", "required": True},
            state={"type": "str", "choices": ["present", "absent"], "default": "present"},
            flows={
                "type": "list",
                "elements": "dict",
                "options": FLOW_OPTIONS,
                "mutually_exclusive": [("match", "key")],
                "required_one_of": [("match", "key")],
            },
            purge={"type": "bool", "default": False},
            **FLOW_OPTIONS,
        ),
        mutually_exclusive=[("match", "key", "flows"), ("flows", "actions")],
        required_one_of=[("match", "key", "flows")],
    )
    if module.params["purge"] and (
        module.params["flows"] is None or module.params["state"] == "absent"
    ):
        module.fail_json(msg="purge: needs flows and state=present")
    module.run(ensure_flows, module.params["datapath"])


def ensure_flows(module, client):
    params = module.params
    present = params["state"] == "present"
    many = params["flows"] is not None
    datapath = optional(client.get_datapath, params["datapath"])
    if datapath is None and present:
        # Outside check mode, get_datapath raises the error naming the datapath.
        datapath = (
            WOULD_BE_CREATED if module.check_mode else client.get_datapath(params["datapath"])
        )
    module.result.update(added=0, modified=0, removed=0)
    if datapath is None:
        return
    entries = params["flows"] if many else [params]
    if datapath is WOULD_BE_CREATED:
        # Check mode, the datapath an earlier task would create: its flows
        # would all be added, on vports numbered as they would be named.
        ports = WouldBePorts()
        desired = flowplan.declared_flows(entries, ports, present, many)
        names = {number: name for name, number in ports.items()}
        current = []
    else:
        ports, names = port_maps(client.vports(datapath))
        desired = flowplan.declared_flows(entries, ports, present, many)
        # A purge deletes what the dump lacks: it must have every flow.
        dump = client.flow_dump(datapath, confirm=params["purge"])
        current = (
            flowdump.require_consistent(dump, "purge: true") if params["purge"] else dump.flows
        )
    plan = flowplan.plan_flows(current, desired, present, params["purge"])
    module.result.update(added=len(plan.add), modified=len(plan.modify), removed=len(plan.delete))
    # The diff shows the flows the task is about: with purge, all of them.
    idents = {flow.identity() for flow in desired}
    scope = current if params["purge"] else [f for f in current if f.identity() in idents]

    def text(flows):
        return "".join(sorted(flowplan.flow_text(flow, names) + "\n" for flow in flows))

    module.converge(
        lambda: text(scope),
        lambda: text(flowplan.expected_flows(scope, plan)),
        lambda: flowplan.apply_or_restore(client, datapath, current, plan, names),
        changed=bool(plan),
    )


if __name__ == "__main__":
    main()
