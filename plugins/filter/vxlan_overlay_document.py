# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One host's vxlan_overlay plan as a state document (docs/state.md).

The role applies it with one vswitch.odp.odp_state task and saves it for the
boot-time `odp apply`: the same document both times, so a datapath that
already matches is left alone at boot.
"""

DOCUMENTATION = r"""
name: vxlan_overlay_document
short_description: One host's vxlan_overlay plan as a state document
version_added: 0.2.0
description:
  - Turns the output of P(vswitch.odp.vxlan_overlay_plan#filter) (C(datapath), C(vports),
    C(links), C(flows)) into the state document that M(vswitch.odp.odp_state) and C(odp apply)
    take, owning the plan's datapath.
  - Each link becomes the C(link) of the internal vport of the same name, brought up.
options:
  _input:
    description: The plan of one host, as P(vswitch.odp.vxlan_overlay_plan#filter) returns it.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Apply one host's overlay
  vswitch.odp.odp_state:
    definition: "{{ plan | vswitch.odp.vxlan_overlay_document }}"
"""

RETURN = r"""
_value:
  description: The state document (C(version) 1, one datapath).
  type: dict
"""

from ansible.errors import AnsibleFilterError

# The vport settings a state document takes (docs/state.md, "A vport").
_VPORT_KEYS = ("type", "port", "port_no")


def vxlan_overlay_document(plan):
    """See DOCUMENTATION."""
    vports = {}
    for vport in plan["vports"]:
        vports[vport["name"]] = {k: vport[k] for k in _VPORT_KEYS if k in vport}
    for link in plan["links"]:
        vport = vports.get(link["name"])
        if vport is None or vport["type"] != "internal":
            # A plan the filter made never does this: a bug, not bad input.
            raise AnsibleFilterError(
                "vxlan_overlay_document: link %s names no internal vport of the plan" % link["name"]
            )
        settings = {k: link[k] for k in ("mac", "mtu", "addresses") if k in link}
        settings["up"] = True
        vport["link"] = settings
    flows = [dict(flow) for flow in plan["flows"]]
    return {"version": 1, "datapaths": {plan["datapath"]: {"vports": vports, "flows": flows}}}


class FilterModule:
    def filters(self):
        return {"vxlan_overlay_document": vxlan_overlay_document}
