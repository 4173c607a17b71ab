"""The vxlan_overlay plans of a whole fleet, run as the kernel datapath runs flows.

Each host's flows are read with the library's own parser and completion
(flowplan.declared_flows, as odp_flow and odp_state read them); a frame is
then looked up, its actions executed, a VXLAN output carried to the host
owning the tunnel's destination, and a recirculation looked up again. The
kernel datapath has no flow priorities, so a frame matching two flows is a
plan bug: every lookup asserts at most one match. Pure logic: the kernel
tests prove the same flows forward real packets.
"""

import ipaddress

from ansible_collections.vswitch.odp.plugins.module_utils.odp import flowplan


def mac(text):
    return int(text.replace(":", ""), 16)


def address(text):
    return int(ipaddress.ip_address(text))


class Host:
    def __init__(self, plan):
        self.plan = plan
        self.ports = {v["name"]: n for n, v in enumerate(plan["vports"], start=1)}
        self.names = {n: name for name, n in self.ports.items()}
        self.vxlan = next(v["name"] for v in plan["vports"] if v["type"] == "vxlan")
        self.flows = flowplan.declared_flows(plan["flows"], self.ports)
        assert len(self.flows) == len(plan["flows"]), "two flows of the plan have one match"


def _matches(packet, key, mask):
    for attr, value in key.items():
        if isinstance(value, dict):
            got = packet.get(attr) or {}
            for field, want in value.items():
                if (got.get(field, 0) ^ want) & mask[attr].get(field, 0):
                    return False
        elif (packet.get(attr, 0) ^ value) & mask[attr]:
            return False
    return True


def overlapping(flow_a, flow_b):
    """Whether one packet could match both flows (their masks' common bits agree)."""
    for attr in set(flow_a.key) & set(flow_b.key):
        a, b = flow_a.key[attr], flow_b.key[attr]
        ma, mb = flow_a.mask[attr], flow_b.mask[attr]
        if isinstance(a, dict):
            if any(
                (a.get(f, 0) ^ b.get(f, 0)) & ma.get(f, 0) & mb.get(f, 0) for f in set(a) | set(b)
            ):
                return False
        elif (a ^ b) & ma & mb:
            return False
    return True


class Fabric:
    """Every host's datapath; ``send`` returns what reached which port."""

    def __init__(self, plans):
        self.hosts = {host: Host(plan) for host, plan in plans.items()}
        self.by_underlay = {address(h.plan["underlay_ip"]): name for name, h in self.hosts.items()}
        self.encapsulations = []  # (from host, to host, VNI) of the last send

    def send(self, host, port, src, dst, tunnel=None):
        """A frame SRC -> DST entering HOST's PORT; the (host, port) it left by, sorted."""
        self.encapsulations = []
        out = []
        packet = {
            "recirc_id": 0,
            "in_port": self.hosts[host].ports[port],
            "eth": {"src": mac(src), "dst": mac(dst)},
        }
        if tunnel:
            packet["tunnel"] = tunnel
        self._process(host, packet, out, depth=0)
        return sorted(out)

    def _lookup(self, host, packet):
        hits = [f for f in self.hosts[host].flows if _matches(packet, f.key, f.mask)]
        assert len(hits) <= 1, "%s: a frame matches %d flows: %s" % (host, len(hits), hits)
        return hits[0] if hits else None

    def _process(self, host, packet, out, depth):
        assert depth < 8, "recirculation or tunnel loop"
        flow = self._lookup(host, packet)
        if flow is None:
            return  # a miss: no ovs-vswitchd here, the kernel drops it
        me = self.hosts[host]
        tunnel = None
        for name, value in flow.actions:
            if name == "set":
                tunnel = value["tunnel"]
            elif name == "recirc":
                self._process(host, dict(packet, recirc_id=value), out, depth + 1)
            elif name == "output" and me.names[value] == me.vxlan:
                self._carry(host, packet, tunnel, out, depth)
            elif name == "output":
                out.append((host, me.names[value]))
            else:
                raise AssertionError("unexpected action %s" % name)

    def _carry(self, host, packet, tunnel, out, depth):
        """Over the underlay to the host owning the destination, as the VXLAN vport does."""
        me = self.hosts[host]
        six = "ipv6_dst" in tunnel
        dst = tunnel["ipv6_dst" if six else "dst"]
        peer = self.by_underlay.get(dst)
        assert peer is not None, "%s encapsulates towards an unknown underlay %#x" % (host, dst)
        self.encapsulations.append((host, peer, tunnel["tun_id"]))
        src = address(me.plan["underlay_ip"])
        outer = {
            "tun_id": tunnel["tun_id"],
            "ipv6_src" if six else "src": src,
            "ipv6_dst" if six else "dst": dst,
        }
        arriving = {
            "recirc_id": 0,
            "in_port": self.hosts[peer].ports[self.hosts[peer].vxlan],
            "eth": dict(packet["eth"]),
            "tunnel": outer,
        }
        self._process(peer, arriving, out, depth + 1)
