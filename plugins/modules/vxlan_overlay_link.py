#!/usr/bin/python
# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: vxlan_overlay_link
short_description: Set the MAC, MTU, addresses and up state of existing links
version_added: 0.1.0
description:
  - Gives existing network interfaces, typically the internal ports of an Open vSwitch datapath,
    their MAC address, MTU and exactly the listed IP addresses, and brings them up.
  - Helper of the C(vswitch.odp.vxlan_overlay) role. Link-local addresses are left alone;
    every other address not listed is removed.
  - Talks rtnetlink directly (pyroute2), with the link settings code of the vswitch.odp library
    that state documents use too (docs/state.md).
author:
  - vswitch.odp contributors (@vswitch)
requirements:
  - pyroute2 0.7.2 or newer on the managed host (Debian C(python3-pyroute2), or C(pip install pyroute2)).
notes:
  - "The module needs root or C(CAP_NET_ADMIN) on the managed host (use C(become: true))."
attributes:
  check_mode:
    description: Can run in check mode and reports the changes it would make as C(ip -batch) lines.
    support: full
  diff_mode:
    description: Returns the links' state before and after the change when run with C(--diff).
    support: full
  platform:
    description: Target operating system.
    platforms: posix
    support: full
options:
  links:
    description: The links to configure.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The interface name. It must exist, except in check mode.
        type: str
        required: true
      mac:
        description: The MAC address, unicast and not zero. Quote it in YAML.
        type: str
      mtu:
        description: The MTU, from 68 to 65535.
        type: int
      addresses:
        description: Every address the link should carry, in CIDR form.
        type: list
        elements: str
        default: []
  netns:
    description:
      - Configure the links of this network namespace instead of the host's, as C(ip -n) does.
      - A name under C(/run/netns) (as C(ip netns add) makes them), or a path such as
        C(/proc/1234/ns/net). The namespace must exist.
    type: str
"""

EXAMPLES = r"""
- name: Address the internal port of network red
  vswitch.odp.vxlan_overlay_link:
    links:
      - name: red
        mac: "02:00:00:00:00:01"
        mtu: 1450
        addresses: [10.10.0.1/24]
  become: true
"""

RETURN = r"""
commands:
  description: The changes made (or that would be made in check mode), as the equivalent C(ip -batch) lines.
  returned: always
  type: list
  elements: str
  sample: ["link set dev red address 02:00:00:00:00:01 mtu 1450 up", "address add 10.10.0.1/24 dev red"]
"""

import json
import traceback

from ansible_collections.vswitch.odp.plugins.module_utils.odp_module import OdpModule

try:
    from ansible_collections.vswitch.odp.plugins.module_utils.odp.state import links as odp_links
    from ansible_collections.vswitch.odp.plugins.module_utils.odp.state.checks import ifname
except ImportError:
    odp_links = ifname = None
    LINKS_IMPORT_ERROR = traceback.format_exc()
else:
    LINKS_IMPORT_ERROR = None


def main():
    module = OdpModule(
        argument_spec={
            "links": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "name": {"type": "str", "required": True},
                    "mac": {"type": "str"},
                    "mtu": {"type": "int"},
                    "addresses": {"type": "list", "elements": "str", "default": []},
                },
            },
        }
    )
    if LINKS_IMPORT_ERROR is not None:
        module.fail_json(
            msg="the vswitch.odp library failed to import on the managed host",
            exception=LINKS_IMPORT_ERROR,
        )
    module.run(ensure_links)


def ensure_links(module, _client):
    wanted = []
    for index, link in enumerate(module.params["links"]):
        where = "links[%d]" % index
        name = ifname(link["name"], where + ".name")
        # The role's links are always up; mac and mtu only when given.
        settings = {field: link[field] for field in ("mac", "mtu", "addresses")}
        wanted.append((name, odp_links.check_link(dict(settings, up=True), where)))
    netns = module.params["netns"]
    existing = odp_links.read_links([name for name, _want in wanted], netns=netns)
    changes, before, after = [], {}, {}
    for name, want in wanted:
        have = existing.get(name)
        if have is None and not module.check_mode:
            module.fail_json(
                msg="link %s does not exist (its datapath port should have created it)" % name
            )
        change = odp_links.LinkChange(name, have, want)
        changes.append(change)
        before[name] = have
        after[name] = change.after()
    commands = [line for change in changes for line in change.commands()]
    module.result["commands"] = commands
    module.converge(
        json.dumps(before, indent=2, sort_keys=True) + "\n",
        json.dumps(after, indent=2, sort_keys=True) + "\n",
        lambda: odp_links.apply_links(changes, netns=netns),
        changed=bool(commands),
    )


if __name__ == "__main__":
    main()
