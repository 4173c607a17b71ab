# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The flows of one overlay network on one host, as ovs-dpctl key/actions text.

Every MAC of the network is known in advance (the inventory declares each
host's port and each workload), so nothing is learnt and unicast never
floods: a frame to a MAC nobody declared matches no flow and is dropped.

The kernel datapath has no flow priorities: a packet matching two flows with
different masks takes either. So no two flows of a host overlap: each one
says the recirculation stage it belongs to (``recirc_id``, which a key
without it would wildcard), and within a stage they differ in the input
port, the tunnel or the destination MAC.

* A network with the host's own port only needs one stage (0): by
  destination MAC from the port, and everything the network's VNI brings
  from a peer to the port.
* A network with workloads on the host needs the source MAC of each workload
  checked (anti-spoofing) and the destination looked up for every port, with
  no product of the two: stage 0 (``recirc_id(0)``) admits a frame (a
  workload's with its MAC only, the host port's, a known peer's on the VNI)
  and recirculates it to the network's local stage (the VNI) or, from the
  tunnel, its tunnel stage (the VNI + 2^24). Those match on the destination
  only; broadcast and multicast from a local port also on the input port, to
  leave it out of the copies. The tunnel stage outputs to local ports only
  (split horizon).
"""

BROADCAST_AND_MULTICAST = "01:00:00:00:00:00/01:00:00:00:00:00"
# The tunnel stage's recirculation id: above every VNI (24 bits).
TUNNEL_STAGE = 1 << 24


def tunnel_set(vni, underlay, family, ttl):
    """Encapsulate towards UNDERLAY (an address of FAMILY, 4 or 6)."""
    dst = "ipv6_dst" if family == 6 else "dst"
    return "set(tunnel(tun_id=%#x,%s=%s,ttl=%d))" % (vni, dst, underlay, ttl)


def tunnel_match(vni, src, dst, family):
    """A frame of VNI that SRC sent to DST."""
    if family == 6:
        return "tunnel(tun_id=%#x,ipv6_src=%s,ipv6_dst=%s)" % (vni, src, dst)
    return "tunnel(tun_id=%#x,src=%s,dst=%s)" % (vni, src, dst)


class Network:
    """One network as one host sees it.

    ``port``: the host's own port (its name and MAC) or None; ``endpoints``:
    the local workloads' (port, MAC); ``remotes``: (underlay address, MACs)
    per peer with a port on the network, sorted by host.
    """

    def __init__(self, vni, port, endpoints, remotes, underlay, family):
        self.vni = vni
        self.port = port
        self.endpoints = endpoints
        self.remotes = remotes
        self.underlay = underlay
        self.family = family

    def local_ports(self):
        return ([self.port] if self.port else []) + self.endpoints

    def flows(self, vxlan_vport, ttl):
        """(key, actions) text pairs."""
        if self.endpoints:
            return self._pipeline(vxlan_vport, ttl)
        if self.port:
            return self._host_port_only(vxlan_vport, ttl)
        return []

    def _encap(self, underlay, vxlan_vport, ttl):
        return "%s,%s" % (tunnel_set(self.vni, underlay, self.family, ttl), vxlan_vport)

    def _decap(self, peer, vxlan_vport):
        return "%s,in_port(%s),eth()" % (
            tunnel_match(self.vni, peer, self.underlay, self.family),
            vxlan_vport,
        )

    def _copies(self, vxlan_vport, ttl):
        """One tunnel copy per peer (head-end replication)."""
        return [self._encap(underlay, vxlan_vport, ttl) for underlay, _macs in self.remotes]

    def _host_port_only(self, vxlan_vport, ttl):
        name = self.port[0]
        flows = []
        for underlay, macs in self.remotes:
            encap = self._encap(underlay, vxlan_vport, ttl)
            flows.extend(
                ("recirc_id(0),in_port(%s),eth(dst=%s)" % (name, mac), encap) for mac in macs
            )
            # Decapsulated traffic of this VNI, from this peer only, to our port.
            flows.append(("recirc_id(0),%s" % self._decap(underlay, vxlan_vport), name))
        if self.remotes:
            flows.append(
                (
                    "recirc_id(0),in_port(%s),eth(dst=%s)" % (name, BROADCAST_AND_MULTICAST),
                    ",".join(self._copies(vxlan_vport, ttl)),
                )
            )
        return flows

    def _pipeline(self, vxlan_vport, ttl):
        local = "recirc(%#x)" % self.vni
        tunnel = "recirc(%#x)" % (TUNNEL_STAGE | self.vni)
        ports = self.local_ports()
        copies = self._copies(vxlan_vport, ttl)
        flows = []
        # Stage 0: who may send.
        if self.port:
            flows.append(("recirc_id(0),in_port(%s),eth()" % self.port[0], local))
        flows.extend(
            ("recirc_id(0),in_port(%s),eth(src=%s)" % (port, mac), local)
            for port, mac in self.endpoints
        )
        flows.extend(
            ("recirc_id(0),%s" % self._decap(underlay, vxlan_vport), tunnel)
            for underlay, _macs in self.remotes
        )
        # The local stage: to a local port, or through the tunnel to the host owning the MAC.
        at = "recirc_id(%#x)," % self.vni
        flows.extend(("%seth(dst=%s)" % (at, mac), port) for port, mac in ports)
        for underlay, macs in self.remotes:
            encap = self._encap(underlay, vxlan_vport, ttl)
            flows.extend(("%seth(dst=%s)" % (at, mac), encap) for mac in macs)
        for port, _mac in ports:
            others = [p for p, _m in ports if p != port] + copies
            if others:
                flows.append(
                    (
                        "%sin_port(%s),eth(dst=%s)" % (at, port, BROADCAST_AND_MULTICAST),
                        ",".join(others),
                    )
                )
        # The tunnel stage: local ports only.
        if self.remotes:
            at = "recirc_id(%#x)," % (TUNNEL_STAGE | self.vni)
            flows.extend(("%seth(dst=%s)" % (at, mac), port) for port, mac in ports)
            flows.append(
                ("%seth(dst=%s)" % (at, BROADCAST_AND_MULTICAST), ",".join(p for p, _m in ports))
            )
        return flows
