#!/usr/bin/python
# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

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
  - O(user_features) and O(masks_cache_size) are settings of the datapath that persist until it
    is deleted (C(OVS_DP_CMD_SET)); a setting not given is left as it is.
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
  user_features:
    description:
      - The datapath's user features, all of them (those not listed are turned off).
      - V(dispatch_upcall_per_cpu) sends misses to one netlink socket per CPU, as a new datapath
        does where the kernel has it; without it misses go to each vport's socket.
      - Left as they are when not given. Only with O(state=present).
    type: list
    elements: str
    choices: [unaligned, vport_pids, tc_recirc_sharing, dispatch_upcall_per_cpu]
  masks_cache_size:
    description:
      - Entries per CPU of the kernel's masks cache, which speeds up the flow lookup; V(0) turns
        it off. V(0) or a power of two up to V(4096) (the kernel's default is V(256)).
      - Needs Linux 5.9 or newer; the task fails on an older kernel, before anything is changed.
      - Left as it is when not given. Only with O(state=present).
    type: int
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

- name: Datapath dp0 with a larger masks cache, per-CPU upcall dispatch kept
  vswitch.odp.odp_datapath:
    name: dp0
    user_features: [unaligned, dispatch_upcall_per_cpu]
    masks_cache_size: 1024
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
    masks_cache_size:
      description: Entries per CPU of the masks cache; null when the kernel has none (before Linux 5.9).
      type: int
      sample: 256
  sample:
    name: dp0
    ifindex: 7
    features: [unaligned, dispatch_upcall_per_cpu]
    stats: {hit: 0, missed: 0, lost: 0, flows: 0, masks: 0, mask_hit: 0, cache_hit: 0}
    masks_cache_size: 256
"""

from ansible_collections.vswitch.odp.plugins.module_utils.odp_module import (
    OdpModule,
    datapath_info,
    dp_settings,
    optional,
)

FEATURES = ["unaligned", "vport_pids", "tc_recirc_sharing", "dispatch_upcall_per_cpu"]


def main():
    module = OdpModule(
        locking=True,
        argument_spec={
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "user_features": {"type": "list", "elements": "str", "choices": FEATURES},
            "masks_cache_size": {"type": "int"},
        },
    )
    module.run(ensure_datapath, module.params["name"])


def wanted_settings(module):
    """The settings the task gives, checked (before anything is sent): as the diff shows them."""
    settings = {}
    if module.params["user_features"] is not None:
        settings["user_features"] = sorted(set(module.params["user_features"]))
    if module.params["masks_cache_size"] is not None:
        settings["masks_cache_size"] = dp_settings.check_masks_cache_size(
            module.params["masks_cache_size"]
        )
    if settings and module.params["state"] == "absent":
        module.fail_json(
            msg="user_features and masks_cache_size set a datapath that is present: "
            "not with state=absent"
        )
    return settings


def current_settings(datapath, wanted):
    """``datapath``'s values of the ``wanted`` settings; none of a datapath to be created."""
    if datapath is None:
        return {}
    have = {
        "user_features": sorted(datapath.features),
        "masks_cache_size": datapath.masks_cache_size,
    }
    return {name: have[name] for name in wanted}


def ensure_datapath(module, client):
    name, present = module.params["name"], module.params["state"] == "present"
    settings = wanted_settings(module)
    have = optional(client.get_datapath, name)
    if (
        settings.get("masks_cache_size") is not None
        and have is not None
        and have.masks_cache_size is None
    ):
        module.fail_json(
            msg="cannot set the masks cache size of datapath %s: the running "
            "kernel has none (Linux 5.9+)" % name
        )

    def apply():
        if not present:
            return client.delete_datapath(name)
        datapath = have or client.create_datapath(name)
        if settings and current_settings(datapath, settings) != settings:
            datapath = client.set_datapath(
                datapath,
                features=settings.get("user_features"),
                masks_cache_size=settings.get("masks_cache_size"),
            )
        return datapath

    before = dict(
        {"name": name, "state": "present" if have else "absent"}, **current_settings(have, settings)
    )
    after = dict({"name": name, "state": module.params["state"]}, **settings)
    done = module.converge(before, after, apply)
    datapath = done or have
    if not present:
        module.result["datapath"] = {}
    else:
        module.result["datapath"] = datapath_info(datapath) if datapath else {"name": name}


if __name__ == "__main__":
    main()
