# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    """What every vswitch.odp module shares: requirements, privileges, attributes."""

    DOCUMENTATION = r"""
options:
  netns:
    description:
      - Work on the datapaths of this network namespace instead of the host's, as C(ip -n) does.
      - A name under C(/run/netns) (as C(ip netns add) makes them), or a path such as
        C(/proc/1234/ns/net). The namespace must exist.
      - Vports, tunnel devices and flows are those of that namespace too.
    type: str
requirements:
  - Linux with the C(openvswitch) kernel module (loaded, or loadable by the first request).
  - pyroute2 0.7.2 or newer on the managed host (Debian C(python3-pyroute2), or C(pip install pyroute2)).
notes:
  - The module talks to the kernel datapath directly over generic netlink; C(ovs-vswitchd) and
    OVSDB are not needed. When C(ovs-vswitchd) runs, it owns the datapath and will undo changes.
  - "The module needs root or C(CAP_NET_ADMIN) on the managed host (use C(become: true))."
attributes:
  check_mode:
    description: Can run in check mode and reports what would change, without changing the kernel.
    support: full
    details:
      - A datapath that does not exist is taken for one an earlier task of the same run would create,
        so a playbook runs under C(--check --diff) on a fresh host; its named vports are numbered in turn.
      - A task that fails before changing anything reports C(changed=false).
  diff_mode:
    description: Returns the state before and after the change when run with C(--diff).
    support: full
  platform:
    description: Target operating system.
    platforms: linux
    support: full
"""

    # The modules that change a datapath: odp_datapath, odp_vport, odp_flow.
    LOCK = r"""
options:
  lock_timeout:
    description:
      - Seconds to wait for the datapath's lock while another writer (another task, C(odp), a program
        using the library) changes the same datapath. The task then fails naming the holder's pid.
      - Defaults to the E(ODP_LOCK_TIMEOUT) environment variable of the managed host, else 30.
    type: float
notes:
  - Writers of one datapath are serialised by a lock, an C(flock) on
    C(/run/vswitch-odp/net-<inode of the network namespace>/<datapath>.lock) that every vswitch.odp
    writer takes (the modules, the C(odp) command, the library). Outside check mode the module holds it
    from reading the datapath to applying the change, so two tasks (or playbooks) that change one
    datapath at once run one after the other. C(ovs-dpctl) and C(ovs-vswitchd) do not take it.
"""
