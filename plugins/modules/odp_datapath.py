#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
module: odp_datapath
short_description: Create or delete an Open vSwitch kernel datapath
version_added: 0.1.0
description:
  - Creates or deletes a datapath of the Linux Open vSwitch kernel module (the equivalent of
    C(ovs-dpctl add-dp) and C(ovs-dpctl del-dp)), over generic netlink.
  - A new datapath asks for per-CPU upcall dispatch and falls back to per-vport dispatch on
    kernels without it, as C(ovs-vswitchd) does.
  - Deleting a datapath also deletes its vports, its flows, and the tunnel devices created for
    its tunnel vports.
author:
  - vswitch.odp contributors (@vswitch)
extends_documentation_fragment:
  - vswitch.odp.odp
  - vswitch.odp.odp.lock
options:
  name:
    description:
      - Name of the datapath. It is also the name of the datapath's internal network device.
    type: str
    required: true
  state:
    description:
      - V(present) creates the datapath when it does not exist; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: vswitch.odp.odp_vport
  - module: vswitch.odp.odp_flow
  - module: vswitch.odp.odp_facts
"""

EXAMPLES = r"""
- name: Create datapath dp0
  vswitch.odp.odp_datapath:
    name: dp0
  become: true

- name: Delete datapath dp0 with its vports and flows
  vswitch.odp.odp_datapath:
    name: dp0
    state: absent
  become: true
"""

RETURN = r"""
datapath:
  description:
    - The datapath as the kernel reports it, once the task is done.
    - Empty when O(state=absent); only RV(datapath.name) in check mode when it would be created.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the datapath.
      type: str
      sample: dp0
    ifindex:
      description: Interface index of the datapath's internal network device.
      type: int
      sample: 7
    features:
      description: User features the kernel accepted for this datapath.
      type: list
      elements: str
      sample: [unaligned, dispatch_upcall_per_cpu]
    stats:
      description: Lookup statistics (C(hit), C(missed), C(lost), C(flows), C(masks), C(mask_hit), C(cache_hit)).
      type: dict
      sample: {hit: 10, missed: 2, lost: 0, flows: 1, masks: 1, mask_hit: 12, cache_hit: 8}
  sample:
    name: dp0
    ifindex: 7
    features: [unaligned, dispatch_upcall_per_cpu]
    stats: {hit: 0, missed: 0, lost: 0, flows: 0, masks: 0, mask_hit: 0, cache_hit: 0}
"""

from ansible_collections.vswitch.odp.plugins.module_utils.odp_module import (
    OdpModule, datapath_info, optional)


def main():
    module = OdpModule(locking=True, argument_spec=dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    ))
    module.run(ensure_datapath, module.params["name"])


def ensure_datapath(module, client):
    name, present = module.params["name"], module.params["state"] == "present"
    have = optional(client.get_datapath, name)

    def apply():
        if present:
            return client.create_datapath(name)
        return client.delete_datapath(name)

    created = module.converge({"name": name, "state": "present" if have else "absent"},
                              {"name": name, "state": module.params["state"]}, apply)
    datapath = created or have
    if not present:
        module.result["datapath"] = {}
    else:
        module.result["datapath"] = datapath_info(datapath) if datapath else {"name": name}


if __name__ == "__main__":
    main()
