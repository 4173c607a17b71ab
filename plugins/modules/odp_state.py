#!/usr/bin/python
# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: odp_state
short_description: Make Open vSwitch kernel datapaths as a state document declares them
version_added: 0.2.0
description:
  - Takes a state document (the schema of the collection's C(docs/state.md)) that declares
    datapaths with their vports, the link settings of their internal ports, and their flows,
    and makes those datapaths exactly so, the way C(odp apply) does.
  - "A datapath the document names is owned by it. Its vports and flows end up exactly as
    declared, those not declared are removed. A datapath with C(state: absent) is removed.
    Datapaths the document does not name are left alone, and a document that would take one of
    their names or UDP ports is refused before anything is changed."
  - The task reads the owned datapaths first (the checkpoint), makes the changes in order
    (datapaths, vports, links, each datapath's flows in batches, removals last), then reads the
    result back and checks it against the document. If a change fails or the check does not
    pass, the checkpoint is put back (datapaths, vports with their numbers, links, flows) and
    the task fails naming the object and the kernel's reason, and saying whether the rollback
    was verified (RV(restored)).
  - A second run with the same document changes nothing.
author:
  - vswitch.odp contributors (@vswitch)
extends_documentation_fragment:
  - vswitch.odp.odp
options:
  definition:
    description:
      - The state document, as a dict (C(version) and C(datapaths)), or as YAML or JSON text.
      - Exactly one of O(definition) and O(src) is given.
    type: raw
  src:
    description:
      - The path of a file on the managed host that holds the state document, YAML or JSON.
      - YAML needs PyYAML on the managed host; JSON does not.
    type: path
  force:
    description:
      - Attach the netdev vports of the document even if one carries the host's default route, or
        the address the SSH connection to the host arrives on (which would cut the host off), as
        O(vswitch.odp.odp_vport#module:force) does.
      - Without it, such a document fails before anything is changed. So does a netdev vport
        whose device does not exist.
    type: bool
    default: false
notes:
  - Supports check mode; the plan and the counts are what the task would do.
  - With C(--diff), the diff is each owned datapath's document before and after. In check mode
    the MAC address and addresses of an internal vport not yet created are not known, and are
    left out of the after document.
seealso:
  - module: vswitch.odp.odp_datapath
  - module: vswitch.odp.odp_vport
  - module: vswitch.odp.odp_flow
  - module: vswitch.odp.odp_facts
"""

EXAMPLES = r"""
- name: A datapath with a VXLAN vport, one network and its flows
  vswitch.odp.odp_state:
    definition:
      version: 1
      datapaths:
        ovl:
          vports:
            ovl-vxlan: {type: vxlan, port: 4789, port_no: 1}
            red:
              type: internal
              port_no: 2
              link: {mtu: 1450, up: true, addresses: [10.10.0.1/24]}
          flows:
            - key: in_port(red),eth()
              actions: set(tunnel(tun_id=0x3e9,dst=198.18.0.12,ttl=64)),ovl-vxlan
            - match: {in_port: ovl-vxlan, tunnel: {tun_id: 1001}}
              actions: [{output: red}]
  become: true

- name: The document saved on the host (odp show > /etc/odp/state.yml)
  vswitch.odp.odp_state:
    src: /etc/odp/state.yml
  become: true

- name: Remove a datapath with all it holds
  vswitch.odp.odp_state:
    definition:
      version: 1
      datapaths:
        old: {state: absent}
  become: true
"""

RETURN = r"""
plan:
  description:
    - The changes made (in check mode, to make), one line per object, in order. C(+) creates,
      C(~) modifies, C(-) removes.
  returned: always
  type: list
  elements: str
  sample:
    - "+ datapath ovl"
    - "+ vport ovl/red: internal, port_no 2"
    - "~ link ovl/red: mtu 1450, up, +10.10.0.1/24"
    - "+ flow ovl: in_port(red),eth(), actions:drop"
summary:
  description: The plan in one line, or C(no changes).
  returned: always
  type: str
  sample: "Plan: 3 to add, 1 to change, 0 to remove."
added:
  description: How many objects (datapaths, vports, flows) were (would be) created.
  returned: always
  type: int
  sample: 3
modified:
  description: How many objects (link settings, flows' actions) were (would be) modified.
  returned: always
  type: int
  sample: 1
removed:
  description: How many objects were (would be) removed.
  returned: always
  type: int
  sample: 0
restored:
  description:
    - When the task failed after changes were made, whether the rollback put the owned datapaths
      back as they were, verified by reading them back.
  returned: failure after changes were made
  type: bool
  sample: true
diff:
  description:
    - With C(--diff), the document of each owned datapath before and after, keyed by its name.
  returned: when diff mode is on
  type: dict
  sample:
    before: {ovl: {vports: {}, flows: []}}
    after: {ovl: {vports: {red: {type: internal, port_no: 1}}, flows: []}}
"""

import json

from ansible.module_utils.six import string_types
from ansible_collections.vswitch.odp.plugins.module_utils.odp_module import OdpModule, errors

try:
    from ansible_collections.vswitch.odp.plugins.module_utils.odp.state import formats
    from ansible_collections.vswitch.odp.plugins.module_utils.odp.state.apply import apply
    from ansible_collections.vswitch.odp.plugins.module_utils.odp.state.document import (
        parse_document,
    )
except ImportError:  # OdpModule reports the library's import error
    formats = apply = parse_document = None


def main():
    module = OdpModule(
        argument_spec={
            "definition": {"type": "raw"},
            "src": {"type": "path"},
            "force": {"type": "bool", "default": False},
        },
        mutually_exclusive=[("definition", "src")],
        required_one_of=[("definition", "src")],
    )
    module.run(ensure_state)


def document_of(params):
    """The document as data: the definition, or the text of src."""
    if params["src"] is not None:
        try:
            with open(params["src"], "rb") as handle:
                text = handle.read()
        except OSError as exc:
            raise errors.NotFound(
                "cannot read state document %s: %s" % (params["src"], exc.strerror)
            )
        return formats.load(text, params["src"])
    definition = params["definition"]
    if isinstance(definition, string_types):
        return formats.load(definition, "definition")
    return definition


def ensure_state(module, client):
    desired = parse_document(document_of(module.params), check_flows=False)
    try:
        result = apply(client, desired, check=module.check_mode, force=module.params["force"])
    except errors.ApplyFailed as exc:
        module.fail_json(msg=str(exc), restored=exc.restored)
    changes = result.plan
    module.result.update(plan=changes.lines(), summary=changes.summary(), **changes.counts())
    names = sorted(desired.datapaths)

    def per_datapath(document):
        # Through JSON: plain data, as Ansible's diff callbacks show it.
        data = document.to_dict()["datapaths"]
        return json.loads(json.dumps({name: data[name] for name in names if name in data}))

    # apply() made the change already (or, in check mode, only planned it).
    module.converge(
        lambda: per_datapath(result.before),
        lambda: per_datapath(result.after),
        lambda: None,
        changed=result.changed,
    )


if __name__ == "__main__":
    main()
