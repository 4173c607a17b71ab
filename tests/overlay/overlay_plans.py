"""The vxlan_overlay plans of a fleet, computed as the role computes them.

    python overlay_plans.py < fleets.json > documents.json

The role calls the vxlan_overlay_plan filter once per host with every
member's declaration ({host, underlay_ip, networks, endpoints}); so does
:func:`plan_all`. The role's own vxlan_overlay_document filter writes each
host's plan as the state document (docs/state.md) that applies it. The
command reads a list of fleets (each a list of members) as JSON and prints, for each, {host:
document}: the kernel tests run it once with the venv that has ansible (the
controller), and apply the documents with whichever venv runs them (the
host).
"""

import json
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# make setup links the checkout there as the collection vswitch.odp.
sys.path.append(os.path.join(REPO, ".venv", "collections"))
from ansible_collections.vswitch.odp.plugins.filter.vxlan_overlay import vxlan_overlay_plan  # noqa: E402
from ansible_collections.vswitch.odp.plugins.filter.vxlan_overlay_document import (  # noqa: E402
    vxlan_overlay_document,
)

DATAPATH = "ovl"
VXLAN_VPORT = "ovl-vxlan"


def plan_all(members: "list[dict]") -> "dict[str, dict]":
    """Each host's plan, each computed from every member."""
    return {m["host"]: vxlan_overlay_plan(m, members, DATAPATH, VXLAN_VPORT) for m in members}


def main() -> int:
    fleets = json.load(sys.stdin)
    json.dump(
        [
            {host: vxlan_overlay_document(p) for host, p in plan_all(members).items()}
            for members in fleets
        ],
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
