#!/usr/bin/python
# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: odp_meter
short_description: Set or delete a meter of an Open vSwitch kernel datapath
version_added: 0.2.0
description:
  - Creates, changes or deletes a meter of a datapath of the Linux Open vSwitch kernel module
    (C(OVS_METER_CMD_SET) and C(OVS_METER_CMD_DEL) of the C(ovs_meter) family), over generic
    netlink. A flow uses it with a C(meter) action (see M(vswitch.odp.odp_flow)), to limit the
    rate of its packets.
  - A packet above a band's rate, once the band's burst is spent, is counted in that band and
    dropped.
  - The kernel reports a meter's counters but never its bands or unit, so the collection records
    what it set, beside the datapath's lock (C(/run/vswitch-odp/net-<inode>/<datapath>.meters.json)).
    A meter whose bands are not recorded there (set by C(ovs-vswitchd), say) is set again once,
    and the task reports a change.
  - Changing a meter's bands keeps its packet and byte counters; its band counters restart.
author:
  - vswitch.odp contributors (@vswitch)
extends_documentation_fragment:
  - vswitch.odp.odp
  - vswitch.odp.odp.lock
options:
  datapath:
    description:
      - Name of the datapath. It must exist when O(state=present) (see M(vswitch.odp.odp_datapath)).
    type: str
    required: true
  id:
    description:
      - The meter's id, from V(0) to V(4294967295), as a C(meter) action names it.
      - The 6.1 kernel keeps one meter per slot of its meter table (the id modulo the table's
        size, 1024 at first) and refuses a second meter in a slot; choose ids below 1024.
    type: int
    required: true
  state:
    description:
      - V(present) creates the meter or sets its bands and unit; V(absent) deletes it. Deleting from
        a datapath that does not exist is not an error, since the meter is absent.
    type: str
    choices: [present, absent]
    default: present
  unit:
    description:
      - The unit of the bands' rates and bursts; V(kbps) (kilobits per second, bursts in kilobits)
        or V(pkts) (packets per second, bursts in packets).
    type: str
    choices: [kbps, pkts]
    default: kbps
  bands:
    description:
      - The meter's bands, one or more; the kernel's limit is C(max_bands) in
        RV(vswitch.odp.odp_facts#module:ansible_facts.odp.meter_features).
      - Required with O(state=present).
    type: list
    elements: dict
    suboptions:
      rate:
        description: The band's rate, from V(1), in O(unit).
        type: int
        required: true
      burst:
        description:
          - How far above the rate a burst may go, from V(1), in kilobits or packets.
          - Defaults to the rate, as C(ovs-vswitchd) does.
        type: int
      type:
        description: What the band does to a packet above its rate.
        type: str
        choices: [drop]
        default: drop
seealso:
  - module: vswitch.odp.odp_flow
  - module: vswitch.odp.odp_facts
"""

EXAMPLES = r"""
- name: Meter 1 of dp0, 1000 packets per second
  vswitch.odp.odp_meter:
    datapath: dp0
    id: 1
    unit: pkts
    bands:
      - rate: 1000
        burst: 100
  become: true

- name: A flow that goes through it
  vswitch.odp.odp_flow:
    datapath: dp0
    match: {in_port: eth1, eth_type: "0x0800"}
    actions: ["meter(1)", eth2]
  become: true

- name: Delete meter 1
  vswitch.odp.odp_meter:
    datapath: dp0
    id: 1
    state: absent
  become: true
"""

RETURN = r"""
meter:
  description:
    - The meter once the task is done; empty when O(state=absent).
    - In check mode, when it would be set, the unit and bands it would have, and no counters.
  returned: always
  type: dict
  contains:
    id:
      description: The meter's id.
      type: int
      sample: 1
    unit:
      description: The unit of the bands, V(kbps) or V(pkts).
      type: str
      sample: pkts
    bands:
      description: The bands, each with C(type), C(rate) and C(burst) (the burst filled in).
      type: list
      elements: dict
      sample: [{type: drop, rate: 1000, burst: 100}]
    used:
      description: The kernel's monotonic clock, in milliseconds, when the meter last saw a packet
        or was set.
      type: int
      sample: 5230114
    packets:
      description: Packets that went through the meter.
      type: int
      sample: 120
    bytes:
      description: Bytes that went through the meter.
      type: int
      sample: 11760
    band_stats:
      description: Per band, in band order, the C(packets) and C(bytes) above its rate.
      type: list
      elements: dict
      sample: [{packets: 20, bytes: 1960}]
"""

from ansible_collections.vswitch.odp.plugins.module_utils.odp_module import (
    OdpModule,
    meters,
    optional,
)


def main():
    module = OdpModule(
        locking=True,
        argument_spec={
            "datapath": {"type": "str", "required": True},
            "id": {"type": "int", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "unit": {"type": "str", "choices": ["kbps", "pkts"], "default": "kbps"},
            "bands": {
                "type": "list",
                "elements": "dict",
                "options": {
                    "rate": {"type": "int", "required": True},
                    "burst": {"type": "int"},
                    "type": {"type": "str", "choices": ["drop"], "default": "drop"},
                },
            },
        },
        required_if=[("state", "present", ["bands"])],
    )
    module.run(ensure_meter, module.params["datapath"])


def ensure_meter(module, client):
    params = module.params
    dp_name, meter_id = params["datapath"], meters.check_id(params["id"])
    present = params["state"] == "present"
    datapath = optional(client.get_datapath, dp_name)
    if datapath is None and present and not module.check_mode:
        module.fail_json(
            msg="meter %d: datapath %s does not exist (create it first, with "
            "vswitch.odp.odp_datapath)" % (meter_id, dp_name)
        )
    want = None
    if present:
        # Checked before anything is sent; against the kernel's features
        # unless the datapath is one an earlier task of a check run would create.
        want = (
            client.meters.config(datapath, meter_id, params["bands"], params["unit"])
            if datapath is not None
            else meters.check_config(meter_id, params["bands"], params["unit"], None)
        )
    have = optional(client.meters.get, datapath, meter_id) if datapath is not None else None
    before = {"id": meter_id, "state": "absent"}
    if have is not None:
        before = {"id": meter_id, "state": "present", "unit": have.unit, "bands": have.bands}
    after = {"id": meter_id, "state": "absent"}
    if want is not None:
        after = dict(want, id=meter_id, state="present")

    def apply():
        if want is None:
            return client.meters.delete(datapath, meter_id)
        client.meters.set(datapath, meter_id, want["bands"], want["unit"])
        return client.meters.get(datapath, meter_id)

    done = module.converge(before, after, apply)
    if want is None:
        module.result["meter"] = {}
    elif done is not None or (have is not None and before == after):
        module.result["meter"] = (done or have).info()
    else:  # check mode: what it would be
        module.result["meter"] = dict(want, id=meter_id)


if __name__ == "__main__":
    main()
