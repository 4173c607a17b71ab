# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What one host of the vxlan_overlay role declares, checked on the controller.

A host declares its underlay address, its networks (``vxlan_overlay_networks``)
and the workloads it attaches to them (``vxlan_overlay_endpoints``).
:func:`normalize_member` checks one declaration and gives it back in one
form; :func:`check_consistency` checks what must agree between hosts. Every
error names the host, the field and the value, before any host changes.
"""

import hashlib
import ipaddress
import re

from ansible.errors import AnsibleFilterError
from ansible_collections.vswitch.odp.plugins.module_utils.odp.errors import ValidationError
from ansible_collections.vswitch.odp.plugins.module_utils.odp.names import check_ifname
from ansible_collections.vswitch.odp.plugins.module_utils.odp.text.action import action_syntax

VNI_MAX = (1 << 24) - 1
# Network and endpoint ports stand in the flows' ovs-dpctl text: device names
# (check_ifname) made of characters that text keeps.
_TEXT_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
# ... and that it reads as a port: not a number, not a bare action (drop, pop_vlan...).
_NUMBER = re.compile(r"^(\d+|0[xX][0-9a-fA-F]+)$")
_MAC = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")
ZERO_MAC = "00:00:00:00:00:00"
ENDPOINT_KEYS = ("network", "port", "mac", "name", "addresses")
UNICAST_MAC_RULE = "must be a unicast, non-zero MAC address like 02:00:00:00:00:01"


def fail(host, field, value, reason):
    raise AnsibleFilterError("vxlan_overlay: host %s: %s=%r: %s" % (host, field, value, reason))


def default_mac(vni, host):
    """A stable, locally administered unicast MAC for HOST's port on network VNI.

    Derived, not read back from the kernel: every peer can compute it before
    the port even exists (check mode, first run), and it survives re-creation.
    """
    digest = hashlib.sha256(("%d/%s" % (vni, host)).encode()).digest()
    return ":".join("%02x" % b for b in (2, *tuple(digest[:5])))


def _mac(host, field, value):
    mac = str(value).lower()
    if not _MAC.match(mac) or int(mac[:2], 16) & 1 or mac == ZERO_MAC:
        fail(host, field, value, UNICAST_MAC_RULE)
    return mac


def _port_name(host, field, name, what):
    try:
        check_ifname(field, name)
    except ValidationError as exc:
        fail(host, field, name, "%s (it names %s)" % (exc.reason, what))
    if not _TEXT_SAFE_NAME.match(name):
        fail(
            host,
            field,
            name,
            "must be letters, digits, '_', '.' or '-' (it names %s in flows)" % what,
        )
    syntax = action_syntax(name)
    if _NUMBER.match(name) or (syntax is not None and syntax.bare):
        fail(host, field, name, "reads as a port number or an action in flows (it names %s)" % what)
    return name


def _network(host, index, net):
    where = "vxlan_overlay_networks[%d]" % index
    if not isinstance(net, dict):
        fail(host, where, net, "must be a dict with name, vni and, optionally, address")
    name = _port_name(host, where + ".name", net.get("name"), "the internal port")
    vni = net.get("vni")
    if isinstance(vni, bool) or not isinstance(vni, int) or not 1 <= vni <= VNI_MAX:
        fail(host, where + ".vni", vni, "must be an integer from 1 to %d" % VNI_MAX)
    address = net.get("address")
    if address is None:
        # The host carries the network for its workloads only: no port of its own.
        if net.get("mac") is not None:
            fail(
                host,
                where + ".mac",
                net["mac"],
                "needs an address: without one the host has no port here",
            )
        return {"name": name, "vni": vni, "address": None, "mac": None}
    try:
        iface = ipaddress.ip_interface(address)
    except (TypeError, ValueError):
        fail(
            host,
            where + ".address",
            address,
            "must be this host's address in CIDR form, e.g. 10.10.0.1/24",
        )
    if "/" not in str(address):
        fail(host, where + ".address", address, "needs a prefix length, e.g. 10.10.0.1/24")
    mac = (
        _mac(host, where + ".mac", net["mac"])
        if net.get("mac") is not None
        else default_mac(vni, host)
    )
    return {"name": name, "vni": vni, "address": str(iface), "mac": mac}


def _addresses(host, where, value):
    """A workload's addresses, with or without a prefix: their IPs, as text."""
    if value is None:
        return []
    if not isinstance(value, list):
        fail(host, where, value, "must be a list of addresses")
    out = []
    for i, address in enumerate(value):
        try:
            out.append(str(ipaddress.ip_interface(address).ip))
        except (TypeError, ValueError):
            fail(
                host,
                "%s[%d]" % (where, i),
                address,
                "must be an IP address, e.g. 10.10.0.5 or 10.10.0.5/24",
            )
    return out


def _endpoint(host, index, ep, networks):
    where = "vxlan_overlay_endpoints[%d]" % index
    if not isinstance(ep, dict):
        fail(host, where, ep, "must be a dict with network, port and mac")
    for key in ep:
        if key not in ENDPOINT_KEYS:
            fail(
                host,
                "%s.%s" % (where, key),
                ep[key],
                "unknown; an endpoint has %s" % ", ".join(ENDPOINT_KEYS),
            )
    network = ep.get("network")
    if network not in networks:
        fail(
            host,
            where + ".network",
            network,
            "is not one of this host's vxlan_overlay_networks (%s)"
            % (", ".join(sorted(networks)) or "none"),
        )
    if ep.get("mac") is None:
        fail(
            host,
            where + ".mac",
            None,
            "is required: the workload's own MAC (the datapath learns none)",
        )
    name = ep.get("name")
    if name is not None and not isinstance(name, str):
        fail(host, where + ".name", name, "must be text")
    return {
        "network": network,
        "vni": networks[network]["vni"],
        "port": _port_name(host, where + ".port", ep.get("port"), "the workload's device"),
        "mac": _mac(host, where + ".mac", ep["mac"]),
        "name": name,
        "addresses": _addresses(host, where + ".addresses", ep.get("addresses")),
    }


def _underlay(host, value):
    try:
        address = ipaddress.ip_address(str(value))
    except ValueError:
        address = None
    if (
        address is None
        or address.is_multicast
        or address.is_unspecified
        or (address.version == 6 and address.is_link_local)
    ):
        fail(
            host,
            "vxlan_overlay_underlay_ip",
            value,
            "must be the unicast IPv4 or global IPv6 address peers send VXLAN to (set it, or gather "
            "facts for ansible_default_ipv4 or ansible_default_ipv6)",
        )
    return str(address), address.version


def normalize_member(member):
    """Validate one host's declaration; return it with parsed networks, endpoints and MACs."""
    host = member.get("host")
    underlay, family = _underlay(host, member.get("underlay_ip"))
    networks = member.get("networks") or []
    if not isinstance(networks, list):
        fail(host, "vxlan_overlay_networks", networks, "must be a list")
    parsed = [_network(host, i, n) for i, n in enumerate(networks)]
    for field in ("name", "vni"):
        seen = set()
        for net in parsed:
            if net[field] in seen:
                fail(
                    host,
                    "vxlan_overlay_networks[].%s" % field,
                    net[field],
                    "is declared twice on this host",
                )
            seen.add(net[field])
    endpoints = member.get("endpoints") or []
    if not isinstance(endpoints, list):
        fail(host, "vxlan_overlay_endpoints", endpoints, "must be a list")
    by_name = {n["name"]: n for n in parsed}
    eps = [_endpoint(host, i, e, by_name) for i, e in enumerate(endpoints)]
    ports = {}
    for i, ep in enumerate(eps):
        first = ports.setdefault(ep["port"], i)
        if first != i:
            fail(
                host,
                "vxlan_overlay_endpoints[%d].port" % i,
                ep["port"],
                "is already the port of vxlan_overlay_endpoints[%d] (network %s): a port is on one "
                "network only" % (first, eps[first]["network"]),
            )
        if ep["port"] in by_name:
            fail(
                host,
                "vxlan_overlay_endpoints[%d].port" % i,
                ep["port"],
                "is the name of a network's port",
            )
    return {
        "host": host,
        "underlay_ip": underlay,
        "family": family,
        "networks": parsed,
        "endpoints": eps,
    }


def check_consistency(members):
    """Same name <-> same VNI everywhere, one underlay family per network;
    MACs, addresses and underlay IPs unique.

    MEMBERS are normalized and sorted, so that every host reports a conflict
    the same way: the later host, and the earlier one it conflicts with.
    """
    first = {}  # (what, value) -> (host, detail)

    def claim(host, field, value, key, detail, reason):
        seen = first.setdefault(key, (host, detail))
        if seen[1] != detail:
            fail(host, field, value, reason % {"host": seen[0], "detail": seen[1]})

    for m in members:
        host = m["host"]
        claim(
            host,
            "vxlan_overlay_underlay_ip",
            m["underlay_ip"],
            ("underlay", m["underlay_ip"]),
            host,
            "is also the underlay address of %(host)s",
        )
        for net in m["networks"]:
            field = "network %s vni" % net["name"]
            claim(
                host,
                field,
                net["vni"],
                ("vni of", net["name"]),
                net["vni"],
                "%(host)s declares this network with vni %(detail)s",
            )
            claim(
                host,
                field,
                net["vni"],
                ("name of", net["vni"]),
                net["name"],
                "%(host)s uses this vni for network %(detail)s",
            )
            claim(
                host,
                "vxlan_overlay_underlay_ip",
                m["underlay_ip"],
                ("family of", net["name"]),
                "IPv%d" % m["family"],
                "network %s: %%(host)s reaches it over %%(detail)s; its hosts "
                "must share one underlay family" % net["name"],
            )
            if net["address"] is not None:
                for what, value in (("mac", net["mac"]), ("address", net["address"].split("/")[0])):
                    claim(
                        host,
                        "network %s %s" % (net["name"], what),
                        value,
                        (net["name"], what, value),
                        host,
                        "is also used by %(host)s on this network",
                    )
        for i, ep in enumerate(m["endpoints"]):
            where = "vxlan_overlay_endpoints[%d]" % i
            claim(
                host,
                where + ".mac",
                ep["mac"],
                (ep["network"], "mac", ep["mac"]),
                (host, i),
                "is also used on network %s by %%(host)s" % ep["network"],
            )
            for j, address in enumerate(ep["addresses"]):
                claim(
                    host,
                    "%s.addresses[%d]" % (where, j),
                    address,
                    (ep["network"], "address", address),
                    (host, i),
                    "is also used on network %s by %%(host)s" % ep["network"],
                )
