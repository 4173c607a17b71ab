#!/usr/bin/python
# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: odp_facts
short_description: Gather the datapaths, vports and flows of the Open vSwitch kernel datapath
version_added: 0.1.0
description:
  - Reads the datapaths of the Linux Open vSwitch kernel module, their vports and their flows,
    over generic netlink, and sets them as facts under C(ansible_facts.odp).
  - Works ad hoc (C(ansible -m vswitch.odp.odp_facts HOST)).
  - A host without datapaths gives empty facts. So does a host without the C(openvswitch)
    kernel module, with a warning rather than a failure, so that facts can be gathered from
    every host of an inventory.
  - Flows installed by other tools show as they are, also with attributes this collection does
    not model (printed as ovs-dpctl prints unknown attributes).
  - Also reads each datapath's meters with their counters, what the kernel's meters can do, and
    the conntrack connection limits of the network namespace.
author:
  - vswitch.odp contributors (@vswitch)
extends_documentation_fragment:
  - vswitch.odp.odp
options:
  datapath:
    description:
      - The datapaths to read, by name; all when not given. A name that does not exist gives a
        warning.
    type: list
    elements: str
  flows:
    description:
      - Read the flows too, with their C(flow_summary). V(false) is faster on datapaths with many
        flows.
      - The flows are streamed from the kernel, so only those returned are held in memory; on a
        datapath of 200,000 flows, O(flow_limit), O(flow_in_port) or O(flow_filter) keep the
        result small.
    type: bool
    default: true
  flow_limit:
    description:
      - Return at most this many flows (the first the kernel lists) of those O(flow_in_port) and
        O(flow_filter) keep. V(0) returns none, but C(flow_summary) still counts them all.
      - All of them when not given.
    type: int
  flow_in_port:
    description:
      - Only the flows a packet arriving on this vport would meet, by vport name or number of
        each datapath read - the flows with that C(in_port), and those that wildcard it. A name
        that a datapath read has no vport of fails the task.
    type: str
  flow_filter:
    description:
      - Only the flows whose C(key), as returned (ovs-dpctl text with vport names), contains this
        text, as ovs-dpctl's C(filter=) takes a piece of a flow, for example V(0x0806) for the ARP
        flows (their key has C(eth_type) 0x0806) or V(src=10.0.0.1,).
    type: str
  meters:
    description:
      - Read the meters too. The kernel has no meter dump, so each datapath is asked for meter
        ids 0 to 1023 and those its flows use; a meter with a higher id that no flow uses is not
        seen.
    type: bool
    default: true
attributes:
  check_mode:
    description: Only reads; runs the same in check mode.
  diff_mode:
    support: none
    description: Reads only; nothing to show as a diff.
  facts:
    description: Sets C(ansible_facts.odp).
    support: full
seealso:
  - module: vswitch.odp.odp_datapath
  - module: vswitch.odp.odp_vport
  - module: vswitch.odp.odp_flow
"""

EXAMPLES = r"""
- name: Read every datapath with its vports and flows
  vswitch.odp.odp_facts:
  become: true

- name: Show the flows of dp0
  ansible.builtin.debug:
    msg: "{{ ansible_facts.odp.datapaths.dp0.flows | map(attribute='key') | list }}"

- name: Only datapaths dp0 and dp1, without their flows
  vswitch.odp.odp_facts:
    datapath: [dp0, dp1]
    flows: false
  become: true

- name: How many flows dp0 has, with their packets and bytes, without returning them
  vswitch.odp.odp_facts:
    datapath: [dp0]
    flow_limit: 0
    meters: false
  become: true
  register: counted

- name: Show the count
  ansible.builtin.debug:
    msg: "{{ counted.ansible_facts.odp.datapaths.dp0.flow_summary.count }} flows"

- name: The first 10 ARP flows that come in on vport veth-a
  vswitch.odp.odp_facts:
    datapath: [dp0]
    flow_in_port: veth-a
    flow_filter: eth_type(0x0806)
    flow_limit: 10
  become: true

# Ad hoc: ansible -b -m vswitch.odp.odp_facts -a 'datapath=dp0' HOST
"""

RETURN = r"""
ansible_facts:
  description: Facts set on the host.
  returned: always
  type: complex
  contains:
    odp:
      description: The Open vSwitch kernel datapath.
      returned: always
      type: complex
      contains:
        datapaths:
          description:
            - One entry per datapath, by name, each with C(ifindex), C(features) and C(stats) (as
              returned by M(vswitch.odp.odp_datapath)), C(vports) and C(flows).
            - C(vports) maps each vport name to its C(port_no), C(type), C(port) (the UDP port of
              a vxlan or geneve tunnel, else null) and C(stats).
            - C(flows) (when O(flows=true)) lists the flows, each with C(key) and C(actions) in
              ovs-dpctl text with vport names, C(packets), C(bytes), and C(used), the seconds
              since the flow last matched a packet (null when never); only those O(flow_in_port)
              and O(flow_filter) keep, at most O(flow_limit).
            - C(flow_summary) (when O(flows=true)) covers every flow the filters keep, returned
              or not - C(count), the sum of their C(packets) and C(bytes), how many were
              C(returned), and C(consistent), whether the flow table held still during the
              dump (each flow is listed once; when the table changed during each of 4 dumps,
              the last is returned with a warning, and it may miss flows added or deleted
              meanwhile).
            - C(masks_cache_size) is the datapath's setting (null when the kernel has no masks
              cache), as M(vswitch.odp.odp_datapath) sets it with C(features).
            - C(meters) (when O(meters=true)) lists the meters by id, each with C(id), C(packets)
              and C(bytes) that went through it, C(used) (the kernel's clock in milliseconds when
              it last saw a packet), and C(band_stats), per band the C(packets) and C(bytes) above
              its rate. C(unit) and C(bands) are what M(vswitch.odp.odp_meter) (or C(odp meter add))
              set last; null for a meter another tool set, since the kernel does not report them.
              Null when the kernel has no meters.
          returned: always
          type: dict
          sample:
            dp0:
              ifindex: 7
              features: [unaligned, dispatch_upcall_per_cpu]
              stats: {hit: 10, missed: 2, lost: 0, flows: 1, masks: 1, mask_hit: 12, cache_hit: 8}
              vports:
                dp0: {port_no: 0, type: internal, port: null, stats: {rx_packets: 0}}
                vxlan0: {port_no: 1, type: vxlan, port: 4789, stats: {rx_packets: 0}}
              flows:
                - key: "in_port(vxlan0),eth(),eth_type(0x0806),arp()"
                  actions: dp0
                  packets: 3
                  bytes: 126
                  used: 0.52
              flow_summary: {count: 1, packets: 3, bytes: 126, returned: 1, consistent: true}
              masks_cache_size: 256
              meters:
                - {id: 1, unit: pkts, bands: [{type: drop, rate: 2, burst: 2}], packets: 20,
                   bytes: 1960, used: 5230114, band_stats: [{packets: 14, bytes: 1372}]}
        meter_features:
          description:
            - What the kernel's meters can do (asked through the first datapath read; null
              without one, or when O(meters=false)).
          returned: always
          type: dict
          sample: {max_meters: 200000, max_bands: 1, band_types: [drop],
                   flags: [kbps, pktps, burst, stats]}
        ct_limits:
          description:
            - The conntrack connection limits of the network namespace, which are not a
              datapath's. C(default) is the limit of zones without one of their own, C(zones)
              each zone's C(limit) and C(count) of connections. A limit of 0 is no limit.
              Null when the kernel has no conntrack limits.
          returned: always
          type: dict
          sample: {default: 0, zones: {"5": {limit: 10, count: 2}}}
"""

from ansible_collections.vswitch.odp.plugins.module_utils.odp_module import (
    OdpModule,
    errors,
    gather_datapath,
)


def main():
    module = OdpModule(
        argument_spec={
            "datapath": {"type": "list", "elements": "str"},
            "flows": {"type": "bool", "default": True},
            "meters": {"type": "bool", "default": True},
            "flow_limit": {"type": "int"},
            "flow_in_port": {"type": "str"},
            "flow_filter": {"type": "str"},
        }
    )
    module.run(gather)


def gather(module, client):
    wanted = module.params["datapath"]
    limit = module.params["flow_limit"]
    if limit is not None and limit < 0:
        module.fail_json(msg="flow_limit: invalid value %d: a number of flows, 0 or more" % limit)
    found = {}
    facts = {"datapaths": found, "meter_features": None, "ct_limits": None}
    module.result["ansible_facts"] = {"odp": facts}
    try:
        datapaths = client.datapaths()
    except errors.KernelModuleMissing as exc:
        module.warn("no Open vSwitch datapath facts: %s" % exc)
        return
    for datapath in datapaths:
        if wanted is None or datapath.name in wanted:
            try:
                found[datapath.name] = gather_datapath(
                    client,
                    datapath,
                    module.params["flows"],
                    module.params["flow_in_port"],
                    module.params["flow_filter"],
                    limit,
                    module.warn,
                )
                if module.params["meters"]:
                    found[datapath.name]["meters"] = meter_facts(client, datapath)
                    if facts["meter_features"] is None:
                        facts["meter_features"] = meter_features(client, datapath)
            except errors.NoSuchDatapath:
                found.pop(datapath.name, None)  # deleted while we read it
    facts["ct_limits"] = ct_limit_facts(client)
    for name in wanted or ():
        if name not in found:
            module.warn("datapath %s does not exist" % name)


def meter_facts(client, datapath):
    """The datapath's meters; None when the kernel has none (no ovs_meter family)."""
    try:
        found = client.meters.list(datapath)
    except errors.Unsupported:
        return None
    return [meter.info() for meter in found]


def meter_features(client, datapath):
    try:
        features = client.meters.features(datapath)
    except errors.Unsupported:
        return None
    return {
        "max_meters": features.max_meters,
        "max_bands": features.max_bands,
        "band_types": features.band_types,
        "flags": features.flags,
    }


def ct_limit_facts(client):
    """The namespace's limits; None when the kernel has none (no ovs_ct_limit family)."""
    try:
        entries = client.ct_limits.get()
    except errors.Unsupported:
        return None
    limits = {"default": 0, "zones": {}}
    for entry in entries:
        if entry.zone is None:
            limits["default"] = entry.limit
        else:
            limits["zones"][str(entry.zone)] = {"limit": entry.limit, "count": entry.count}
    return limits


if __name__ == "__main__":
    main()
