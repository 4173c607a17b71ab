# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vxlan_overlay role's plan: which vports, links and flows one host needs.

Computed on the controller from every member's declaration, so the whole mesh
is decided in one place (and unit-tested) instead of in Jinja loops.
"""

DOCUMENTATION = r"""
name: vxlan_overlay_plan
short_description: Plan one host's datapath for the vxlan_overlay role
version_added: 0.1.0
description:
  - Takes the host's own declaration and its peers' declarations and returns the vports,
    internal-port settings and flows the host needs for a full VXLAN mesh.
  - Used by the C(vswitch.odp.vxlan_overlay) role; validates every declaration first and fails
    naming the host, the field and the value.
positional: members, datapath, vxlan_vport
options:
  _input:
    description: This host's declaration, as built by the role (C(host), C(underlay_ip), C(networks)).
    type: dict
    required: true
  members:
    description: The declarations of this host's candidate peers (may include the host itself).
    type: list
    elements: dict
    required: true
  datapath:
    description: The datapath name.
    type: str
    required: true
  vxlan_vport:
    description: The name of the VXLAN vport.
    type: str
    required: true
  vxlan_port:
    description: The VXLAN UDP port.
    type: int
    default: 4789
  ttl:
    description: The outer TTL of encapsulated packets.
    type: int
    default: 64
  mtu:
    description: The MTU of each network's internal port.
    type: int
    default: 1450
"""

EXAMPLES = r"""
- name: Plan
  ansible.builtin.set_fact:
    plan: "{{ me | vswitch.odp.vxlan_overlay_plan(members, 'ovl', 'ovl-vxlan') }}"
"""

RETURN = r"""
_value:
  description: C(vports), C(links), C(flows) (ovs-dpctl C(key)/C(actions) text), C(peers) per network.
  type: dict
"""

import hashlib
import ipaddress
import re

from ansible.errors import AnsibleFilterError
from ansible_collections.vswitch.odp.plugins.module_utils.odp.errors import ValidationError
from ansible_collections.vswitch.odp.plugins.module_utils.odp.names import check_ifname

VNI_MAX = (1 << 24) - 1
# A network's name is its internal port's, and stands in the flows' ovs-dpctl
# text too: a device name (check_ifname) made of characters that text keeps.
_TEXT_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_MAC = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")
BROADCAST_AND_MULTICAST = "01:00:00:00:00:00/01:00:00:00:00:00"


def _fail(host, field, value, reason):
    raise AnsibleFilterError("vxlan_overlay: host %s: %s=%r: %s" % (host, field, value, reason))


def default_mac(vni, host):
    """A stable, locally administered unicast MAC for HOST's port on network VNI.

    Derived, not read back from the kernel: every peer can compute it before
    the port even exists (check mode, first run), and it survives re-creation.
    """
    digest = hashlib.sha256(("%d/%s" % (vni, host)).encode()).digest()
    return ":".join("%02x" % b for b in (0x02,) + tuple(digest[:5]))


def _network(host, index, net):
    where = "vxlan_overlay_networks[%d]" % index
    if not isinstance(net, dict):
        _fail(host, where, net, "must be a dict with name, vni and address")
    name = net.get("name")
    try:
        check_ifname(where + ".name", name)
    except ValidationError as exc:
        _fail(host, where + ".name", name, "%s (it names the internal port)" % exc.reason)
    if not _TEXT_SAFE_NAME.match(name):
        _fail(host, where + ".name", name,
              "must be letters, digits, '_', '.' or '-' (it names the internal port in flows)")
    vni = net.get("vni")
    if isinstance(vni, bool) or not isinstance(vni, int) or not 1 <= vni <= VNI_MAX:
        _fail(host, where + ".vni", vni, "must be an integer from 1 to %d" % VNI_MAX)
    address = net.get("address")
    try:
        iface = ipaddress.ip_interface(address)
    except (TypeError, ValueError):
        _fail(host, where + ".address", address, "must be this host's address in CIDR form, e.g. 10.10.0.1/24")
    if "/" not in str(address):
        _fail(host, where + ".address", address, "needs a prefix length, e.g. 10.10.0.1/24")
    mac = str(net.get("mac") or default_mac(vni, host)).lower()
    if not _MAC.match(mac) or int(mac[:2], 16) & 1:
        _fail(host, where + ".mac", net.get("mac"), "must be a unicast MAC address like 02:00:00:00:00:01")
    return {"name": name, "vni": vni, "address": str(iface), "mac": mac}


def normalize_member(member):
    """Validate one host's declaration; return it with parsed networks and MACs."""
    host = member.get("host")
    underlay = member.get("underlay_ip")
    try:
        underlay = str(ipaddress.IPv4Address(str(underlay)))
    except ValueError:
        _fail(host, "vxlan_overlay_underlay_ip", underlay,
              "must be the IPv4 address peers send VXLAN to (set it, or gather facts for ansible_default_ipv4)")
    networks = member.get("networks") or []
    if not isinstance(networks, list):
        _fail(host, "vxlan_overlay_networks", networks, "must be a list")
    parsed = [_network(host, i, n) for i, n in enumerate(networks)]
    for field in ("name", "vni"):
        seen = set()
        for net in parsed:
            if net[field] in seen:
                _fail(host, "vxlan_overlay_networks[].%s" % field, net[field], "is declared twice on this host")
            seen.add(net[field])
    return {"host": host, "underlay_ip": underlay, "networks": parsed}


def _check_consistency(members):
    """Same name <-> same VNI everywhere; MACs, addresses and underlay IPs unique.

    The error names the later host and the earlier one it conflicts with.
    """
    first = {}  # (what, value) -> (host, detail)

    def claim(host, field, value, key, detail, reason):
        seen = first.setdefault(key, (host, detail))
        if seen[1] != detail:
            _fail(host, field, value, reason % {"host": seen[0], "detail": seen[1]})

    for m in members:
        claim(m["host"], "vxlan_overlay_underlay_ip", m["underlay_ip"], ("underlay", m["underlay_ip"]),
              m["host"], "is also the underlay address of %(host)s")
        for net in m["networks"]:
            field = "network %s vni" % net["name"]
            claim(m["host"], field, net["vni"], ("vni of", net["name"]), net["vni"],
                  "%(host)s declares this network with vni %(detail)s")
            claim(m["host"], field, net["vni"], ("name of", net["vni"]), net["name"],
                  "%(host)s uses this vni for network %(detail)s")
            for what, value in (("mac", net["mac"]), ("address", net["address"].split("/")[0])):
                claim(m["host"], "network %s %s" % (net["name"], what), value, (net["name"], what, value),
                      m["host"], "is also used by %(host)s on this network")


def _tunnel_set(vni, peer, ttl):
    return "set(tunnel(tun_id=%#x,dst=%s,ttl=%d))" % (vni, peer["underlay_ip"], ttl)


def network_flows(net, me, peers, vxlan_vport, ttl):
    """The flows of one network on one host: (key, actions) text pairs."""
    port = net["name"]
    flows = []
    for peer in peers:
        pnet = next(n for n in peer["networks"] if n["name"] == port)
        # Unicast towards the peer's port on this network.
        flows.append(("in_port(%s),eth(dst=%s)" % (port, pnet["mac"]),
                      "%s,%s" % (_tunnel_set(net["vni"], peer, ttl), vxlan_vport)))
        # Decapsulated traffic of this VNI, from this peer only, to our port.
        flows.append(("tunnel(tun_id=%#x,src=%s,dst=%s),in_port(%s),eth()"
                      % (net["vni"], peer["underlay_ip"], me["underlay_ip"], vxlan_vport), port))
    if peers:
        # Broadcast and multicast (ARP, ND): head-end replication to every peer.
        flows.append(("in_port(%s),eth(dst=%s)" % (port, BROADCAST_AND_MULTICAST),
                      ",".join("%s,%s" % (_tunnel_set(net["vni"], p, ttl), vxlan_vport) for p in peers)))
    return flows


def vxlan_overlay_plan(me, members, datapath, vxlan_vport, vxlan_port=4789, ttl=64, mtu=1450):
    """See DOCUMENTATION."""
    me = normalize_member(me)
    others = [normalize_member(m) for m in members if m.get("host") != me["host"]]
    # Sorted: every host reports a conflict the same way.
    _check_consistency(sorted([me] + others, key=lambda m: str(m["host"])))
    names = {datapath, vxlan_vport}
    for net in me["networks"]:
        if net["name"] in names:
            _fail(me["host"], "network name", net["name"], "collides with the datapath or VXLAN vport name")
    vports = [{"name": vxlan_vport, "type": "vxlan", "port": vxlan_port}]
    links, flows, peers_of = [], [], {}
    for net in me["networks"]:
        peers = sorted((m for m in others if any(n["name"] == net["name"] for n in m["networks"])),
                       key=lambda m: m["host"])
        peers_of[net["name"]] = [p["host"] for p in peers]
        vports.append({"name": net["name"], "type": "internal"})
        links.append({"name": net["name"], "mac": net["mac"], "mtu": mtu, "addresses": [net["address"]]})
        flows.extend({"key": k, "actions": a} for k, a in network_flows(net, me, peers, vxlan_vport, ttl))
    return {"datapath": datapath, "underlay_ip": me["underlay_ip"], "vports": vports, "links": links,
            "flows": flows, "peers": peers_of}


class FilterModule:
    def filters(self):
        return {"vxlan_overlay_plan": vxlan_overlay_plan}
