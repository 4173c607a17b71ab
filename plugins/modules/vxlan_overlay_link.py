#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vxlan_overlay_link
short_description: Set the MAC, MTU, addresses and up state of existing links
version_added: 0.1.0
description:
  - Gives existing network interfaces, typically the internal ports of an Open vSwitch datapath,
    their MAC address, MTU and exactly the listed IP addresses, and brings them up.
  - Helper of the C(vswitch.odp.vxlan_overlay) role. Link-local IPv6 addresses are left alone;
    every other address not listed is removed.
  - Uses iproute2 (C(ip -json)), with one C(ip -batch) for all the changes.
author:
  - vswitch.odp contributors (@vswitch)
requirements:
  - iproute2 with JSON output (C(ip -json), iproute2 4.14 or later)
attributes:
  check_mode:
    description: Can run in check mode and reports the C(ip -batch) lines it would run.
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
        description: The MAC address.
        type: str
      mtu:
        description: The MTU.
        type: int
      addresses:
        description: Every address the link should carry, in CIDR form.
        type: list
        elements: str
        default: []
"""

EXAMPLES = r"""
- name: Address the internal port of network red
  vswitch.odp.vxlan_overlay_link:
    links:
      - name: red
        mac: "02:00:00:00:00:01"
        mtu: 1450
        addresses: [10.10.0.1/24]
"""

RETURN = r"""
commands:
  description: The C(ip -batch) lines run (or that would run in check mode).
  returned: always
  type: list
  elements: str
  sample: ["link set dev red address 02:00:00:00:00:01 mtu 1450 up", "address add 10.10.0.1/24 dev red"]
"""

import ipaddress
import json

from ansible.module_utils.basic import AnsibleModule


def _state(link):
    """The managed part of one ``ip -json address`` entry."""
    addresses = sorted(
        "%s/%d" % (a["local"], a["prefixlen"]) for a in link.get("addr_info", [])
        if a.get("family") in ("inet", "inet6") and a.get("scope") != "link")
    return {"mac": link.get("address"), "mtu": link.get("mtu"), "up": "UP" in link.get("flags", []),
            "addresses": addresses}


def _commands(name, have, want):
    """``ip -batch`` lines taking link NAME from HAVE (None: missing) to WANT."""
    settings = []
    if have is None or want["mac"] and have["mac"] != want["mac"]:
        settings += ["address", want["mac"]] if want["mac"] else []
    if have is None or want["mtu"] and have["mtu"] != want["mtu"]:
        settings += ["mtu", str(want["mtu"])] if want["mtu"] else []
    if have is None or not have["up"]:
        settings.append("up")
    commands = ["link set dev %s %s" % (name, " ".join(settings))] if settings else []
    current = set(have["addresses"]) if have else set()
    commands += ["address del %s dev %s" % (a, name) for a in sorted(current - set(want["addresses"]))]
    commands += ["address add %s dev %s" % (a, name) for a in want["addresses"] if a not in current]
    return commands


def _want(module, link):
    addresses = []
    for text in link["addresses"]:
        try:
            iface = ipaddress.ip_interface(text)
        except ValueError:
            module.fail_json(msg="link %s: addresses: %r is not an address in CIDR form" % (link["name"], text))
        addresses.append(str(iface))
    mac = link["mac"].lower() if link["mac"] else None
    return {"mac": mac, "mtu": link["mtu"], "up": True, "addresses": sorted(set(addresses))}


def main():
    module = AnsibleModule(
        argument_spec=dict(links=dict(type="list", elements="dict", required=True, options=dict(
            name=dict(type="str", required=True),
            mac=dict(type="str"),
            mtu=dict(type="int"),
            addresses=dict(type="list", elements="str", default=[]),
        ))),
        supports_check_mode=True,
    )
    ip = module.get_bin_path("ip", required=True)
    rc, out, err = module.run_command([ip, "-json", "address", "show"])
    if rc != 0:
        module.fail_json(msg="ip -json address show failed: %s" % err.strip())
    existing = dict((link["ifname"], _state(link)) for link in json.loads(out or "[]"))

    commands, before, after = [], {}, {}
    for link in module.params["links"]:
        name = link["name"]
        want = _want(module, link)
        have = existing.get(name)
        if have is None and not module.check_mode:
            module.fail_json(msg="link %s does not exist (its datapath port should have created it)" % name)
        commands += _commands(name, have, want)
        before[name] = have
        after[name] = dict(want, mac=want["mac"] or (have or {}).get("mac"), mtu=want["mtu"] or (have or {}).get("mtu"))

    if commands and not module.check_mode:
        rc, _out, err = module.run_command([ip, "-batch", "-"], data="\n".join(commands))
        if rc != 0:
            module.fail_json(msg="ip -batch failed: %s" % err.strip(), commands=commands)
    module.exit_json(changed=bool(commands), commands=commands,
                     diff=dict(before=json.dumps(before, indent=2, sort_keys=True) + "\n",
                               after=json.dumps(after, indent=2, sort_keys=True) + "\n"))


if __name__ == "__main__":
    main()
