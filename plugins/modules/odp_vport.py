#!/usr/bin/python
# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: odp_vport
short_description: Attach or detach a port of an Open vSwitch kernel datapath
version_added: 0.1.0
description:
  - Attaches a vport to a datapath of the Linux Open vSwitch kernel module, or detaches it (the
    equivalent of C(ovs-dpctl add-if) and C(ovs-dpctl del-if)), over generic netlink.
  - A vport that exists with another O(type) or O(port) is replaced (detached, then attached
    again), so its port number may change; the task reports a change. When attaching the new
    vport fails, the old one is put back.
  - Tunnel vports (V(vxlan), V(geneve), V(gre)) carry the tunnel metadata set by flows. On kernels
    without the datapath's own tunnel vport types, the module creates a metadata-mode tunnel
    network device and attaches it as a netdev, as C(ovs-vswitchd) does; detaching the vport
    deletes that device.
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
  name:
    description:
      - Name of the vport. For O(type=netdev) it is the existing network device to attach; for
        the other types the module creates a network device of that name.
    type: str
    required: true
  type:
    description:
      - V(netdev) attaches an existing network device, V(internal) creates a device the host
        can use to send and receive through the datapath, V(vxlan), V(geneve) and V(gre) create
        tunnel ports.
    type: str
    choices: [netdev, internal, vxlan, geneve, gre]
    default: netdev
  port:
    description:
      - UDP destination port of a V(vxlan) or V(geneve) tunnel.
      - Defaults to 4789 for V(vxlan) and 6081 for V(geneve). Not allowed for the other types.
    type: int
  state:
    description:
      - V(present) attaches the vport, V(absent) detaches it. Detaching from a datapath that
        does not exist is not an error, since the vport is absent.
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - A netdev vport takes over all the traffic of its network device. The module refuses to
        attach the device that carries the host's default route, or the address the Ansible
        (SSH) connection arrives on, since that would cut the host off.
      - V(true) attaches it anyway.
    type: bool
    default: false
notes:
  - The connection address is found from E(SSH_CONNECTION), and from the established SSH
    connections to the host, which still show when C(become) dropped the environment.
seealso:
  - module: vswitch.odp.odp_datapath
  - module: vswitch.odp.odp_flow
"""

EXAMPLES = r"""
- name: Attach eth1 to datapath dp0
  vswitch.odp.odp_vport:
    datapath: dp0
    name: eth1
  become: true

- name: A VXLAN tunnel port on the IANA port
  vswitch.odp.odp_vport:
    datapath: dp0
    name: vxlan0
    type: vxlan
  become: true

- name: A Geneve tunnel port on a custom UDP port
  vswitch.odp.odp_vport:
    datapath: dp0
    name: gnv0
    type: geneve
    port: 6082
  become: true

- name: Attach the uplink although it carries the default route (console access at hand)
  vswitch.odp.odp_vport:
    datapath: dp0
    name: eth0
    force: true
  become: true

- name: Detach eth1
  vswitch.odp.odp_vport:
    datapath: dp0
    name: eth1
    state: absent
  become: true
"""

RETURN = r"""
vport:
  description:
    - The vport as the kernel reports it, once the task is done.
    - Empty when O(state=absent); in check mode, what the vport would be, without RV(vport.port_no).
  returned: always
  type: dict
  contains:
    name:
      description: Name of the vport.
      type: str
      sample: vxlan0
    type:
      description: Vport type (also for a tunnel made as a metadata-mode network device).
      type: str
      sample: vxlan
    port_no:
      description: Port number in the datapath (what flows use in C(in_port) and C(output)).
      type: int
      sample: 2
    port:
      description: UDP destination port of a V(vxlan) or V(geneve) tunnel, else null.
      type: int
      sample: 4789
    stats:
      description: Packet, byte, error and drop counters (C(rx_packets), C(tx_packets), ...).
      type: dict
      sample: {rx_packets: 0, tx_packets: 0, rx_bytes: 0, tx_bytes: 0, rx_errors: 0,
               tx_errors: 0, rx_dropped: 0, tx_dropped: 0}
"""

from ansible_collections.vswitch.odp.plugins.module_utils.odp_module import (
    OdpModule,
    cutoff,
    errors,
    optional,
    udp_port,
    vport_info,
)


def main():
    module = OdpModule(
        locking=True,
        argument_spec={
            "datapath": {"type": "str", "required": True},
            "name": {"type": "str", "required": True},
            "type": {
                "type": "str",
                "default": "netdev",
                "choices": ["netdev", "internal", "vxlan", "geneve", "gre"],
            },
            "port": {"type": "int"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "force": {"type": "bool", "default": False},
        },
    )
    module.run(ensure_vport, module.params["datapath"])


def desired(module):
    """The vport the task declares, as the diff shows it (None: absent)."""
    params = module.params
    if params["state"] == "absent":
        return None
    vport_type = params["type"]
    port = udp_port(vport_type, params["port"])
    return {"name": params["name"], "type": vport_type, "port": port}


def ensure_vport(module, client):
    dp_name, name = module.params["datapath"], module.params["name"]
    want = desired(module)
    datapath = optional(client.get_datapath, dp_name)
    if datapath is None:
        if want is not None and module.check_mode:
            # An earlier task of the same check run would have created it.
            module.converge({}, want, None)
            module.result["vport"] = dict(want, port_no=None, stats={})
            return
        if want is not None:
            module.fail_json(
                msg="vport %s: datapath %s does not exist (create it first, with "
                "vswitch.odp.odp_datapath)" % (name, dp_name)
            )
        module.result["vport"] = {}
        return
    have = optional(client.get_vport, datapath, name)
    before = have and {"name": have.name, "type": have.type, "port": have.port}
    if (
        want is not None
        and want != before
        and want["type"] == "netdev"
        and not module.params["force"]
    ):
        reason = cutoff.cutoff_reason(name, netns=module.params["netns"])
        if reason:
            module.fail_json(msg=cutoff.refusal(name, dp_name, reason, "set force: true"))

    def apply():
        if have is not None:
            client.delete_vport(datapath, name)
        if want is None:
            return None
        try:
            return client.create_vport(datapath, name, want["type"], port=want["port"])
        except errors.OdpError as exc:
            if have is None:
                raise
            # A replacement that failed: put the old vport back.
            try:
                client.create_vport(datapath, name, have.type, port=have.port)
            except errors.OdpError as again:
                lost = errors.OdpError(
                    "%s; the previous %s vport could not be restored: %s" % (exc, have.type, again)
                )
                lost.changed = True
                raise lost
            raise errors.OdpError("%s; the previous %s vport was restored" % (exc, have.type))

    created = module.converge(before or {}, want or {}, apply)
    if want is None:
        module.result["vport"] = {}
    elif created or (have and want == before):
        module.result["vport"] = vport_info(created or have)
    else:  # check mode: what it would be
        module.result["vport"] = dict(want, port_no=None, stats={})


if __name__ == "__main__":
    main()
