# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Metadata-mode tunnel network devices over rtnetlink (pyroute2).

Open vSwitch no longer uses the datapath's own tunnel vport types (vxlan,
geneve, gre): it creates a tunnel netdev in "external" (collect_metadata) mode
over rtnetlink and attaches it as a plain netdev vport, and kernels may lack
the ``vport-<type>`` modules entirely.  The client falls back to this module
when the kernel refuses a tunnel vport type.

Devices this library creates carry an interface alias starting with
:data:`MARK`; only those are deleted when their vport goes.  A tunnel netdev
someone else made (``ip link add ... external``) and attached is only ever
detached.

This is the only module importing pyroute2, lazily, to change devices: the
rest of the library works without it, and devices are read with
:mod:`rtnl`.  Its ``IPRoute.link`` API is the same in pyroute2 0.7.2 and
0.9.x.
"""

import errno
import os
import struct

from . import errors, rtnl
from .netlink import error_for

# Like dpif-netlink-rtnl.c: tunnels must not cap the MTU of what they carry.
TUNNEL_MTU = 65000
DEFAULT_PORTS = {"vxlan": 4789, "geneve": 6081}


def udp_port(vport_type, port, field="port"):
    """The UDP port a vport of ``vport_type`` gets for ``port`` (the
    default when None; None for types without one), or a
    :class:`errors.ValidationError` naming ``field``: the one rule of the
    client, the modules and state documents."""
    if vport_type not in DEFAULT_PORTS:
        if port is not None:
            raise errors.ValidationError(
                field, port, "only vxlan and geneve vports have a UDP port, not %s" % vport_type
            )
        return None
    if port is None:
        return DEFAULT_PORTS[vport_type]
    return errors.check_int(field, port, 1, 65535, "a UDP port is an integer from 1 to 65535")


# Vport type -> rtnetlink link kind.
KINDS = {"vxlan": "vxlan", "geneve": "geneve", "gre": "gretap"}
TYPES = {kind: vport_type for vport_type, kind in KINDS.items()}
# The IFLA_IFALIAS prefix of the tunnel netdevs this library made (and may delete).
MARK = "vswitch.odp tunnel"


class Tunnel:
    """A metadata-mode tunnel netdev: its vport ``type``, UDP ``port`` (None
    for gre) and whether this library ``owned`` it (made it, so may delete it)."""

    __slots__ = ("owned", "port", "type")

    def __init__(self, vport_type, port, owned):
        self.type = vport_type
        self.port = port
        self.owned = owned

    def __repr__(self):
        return "Tunnel(%r, port=%r, owned=%r)" % (self.type, self.port, self.owned)


def iproute(netns=None):
    """``(rtnetlink socket, NetlinkError class)``: the one guarded import of pyroute2."""
    try:
        from pyroute2 import IPRoute  # pylint: disable=import-outside-toplevel
        from pyroute2.netlink.exceptions import NetlinkError  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise errors.Unsupported(
            "tunnel vports need pyroute2 on this kernel (it lacks the openvswitch tunnel "
            "vport modules, so tunnels are metadata-mode netdevs made over rtnetlink): "
            "install python3-pyroute2 or 'pip install pyroute2'"
        )
    if not netns:
        return IPRoute(), NetlinkError
    # Not pyroute2's NetNS: see rtnl.open_socket.
    fd = rtnl.open_socket(netns, bind=False).detach()
    try:
        return IPRoute(fileno=fd), NetlinkError
    except BaseException:
        os.close(fd)
        raise


def _link_args(vport_type, port):
    if vport_type == "vxlan":
        return {
            "vxlan_port": port,
            "vxlan_collect_metadata": 1,
            "vxlan_learning": 0,
            "vxlan_udp_zero_csum6_rx": 1,
        }
    if vport_type == "geneve":
        return {"geneve_port": port, "geneve_collect_metadata": True, "geneve_udp_zero_csum6_rx": 1}
    return {"gre_collect_metadata": True}


def create(vport_type, name, port=None, netns=None, datapath=None):
    """Create, mark (:data:`MARK`) and bring up the metadata-mode tunnel
    netdev ``name`` for ``datapath``; its ifindex."""
    port = port or DEFAULT_PORTS.get(vport_type)
    what = "%s tunnel device %s" % (vport_type, name)
    ipr, netlink_error = iproute(netns)
    try:
        try:
            ipr.link(
                "add",
                ifname=name,
                kind=KINDS[vport_type],
                mtu=TUNNEL_MTU,
                **_link_args(vport_type, port),
            )
        except netlink_error as exc:
            if exc.code == errno.EEXIST and port is not None and not ipr.link_lookup(ifname=name):
                # The name is free: another metadata-mode device holds the port.
                raise errors.AlreadyExists(
                    "%s: UDP port %d is already used by another %s "
                    "tunnel device" % (what, port, vport_type)
                )
            raise error_for(exc.code, "create", what, errors.NotFound, _extack(exc))
        try:
            index = ipr.link_lookup(ifname=name)[0]
            alias = MARK if datapath is None else "%s %s/%s" % (MARK, datapath, name)
            ipr.link("set", index=index, state="up", ifalias=alias)
        except netlink_error as exc:
            _delete(ipr, netlink_error, name)
            raise error_for(exc.code, "set up", what, errors.NotFound, _extack(exc))
        return index
    finally:
        ipr.close()


def device_exists(name, netns=None):
    """Whether a network device ``name`` exists."""
    ipr, _netlink_error = iproute(netns)
    try:
        return bool(ipr.link_lookup(ifname=name))
    finally:
        ipr.close()


def delete(name, netns=None):
    """Delete the tunnel netdev ``name`` if this library made it (it carries
    :data:`MARK`); a device someone else made stays.  Already gone is fine.
    True when a device was deleted."""
    ipr, netlink_error = iproute(netns)
    try:
        try:
            links = ipr.link("get", ifname=name)
        except netlink_error as exc:
            if exc.code in (errno.ENODEV, errno.ENOENT):
                return False
            raise error_for(exc.code, "look up", "tunnel device %s" % name)
        if not any(_marked(link.get_attr("IFLA_IFALIAS")) for link in links):
            return False
        return _delete(ipr, netlink_error, name)
    finally:
        ipr.close()


def _delete(ipr, netlink_error, name):
    try:
        ipr.link("del", ifname=name)
    except netlink_error as exc:
        if exc.code not in (errno.ENODEV, errno.ENOENT):
            raise error_for(exc.code, "delete", "tunnel device %s" % name)
        return False
    return True


def _marked(alias):
    """Whether a device's alias (None without one) says this library made it."""
    return (alias or "").startswith(MARK)


def describe(names, netns=None):
    """``{name: Tunnel}`` for those of ``names`` that are metadata-mode
    tunnel netdevs, whoever made them; one rtnetlink dump for all of them."""
    names = set(names)
    if not names:
        return {}
    links, _addresses = rtnl.read(netns, addresses=False)
    found = {}
    for link in links:
        if link.name in names:
            tunnel = _tunnel_of(link)
            if tunnel is not None:
                found[link.name] = tunnel
    return found


# IFLA_INFO_DATA of the tunnel kinds: (its UDP port attribute, big-endian,
# None for gretap; its collect_metadata attribute) in if_link.h.
_INFO_DATA = {"vxlan": (15, 25), "geneve": (5, 6), "gretap": (None, 18)}


def _tunnel_of(link):
    """The link's :class:`Tunnel` when it is a metadata-mode tunnel device."""
    if link.kind not in TYPES or link.data is None:
        return None
    port_attr, metadata_attr = _INFO_DATA[link.kind]
    # vxlan's is a u8 (0 or 1), geneve's and gretap's a flag (present or not).
    metadata = link.data.get(metadata_attr)
    if metadata is None or metadata == b"\0":
        return None
    port = link.data.get(port_attr) if port_attr is not None else None
    return Tunnel(
        TYPES[link.kind],
        struct.unpack(">H", port)[0] if port else None,
        _marked(link.alias),
    )


def _extack(exc):
    # pyroute2 puts the kernel's extended-ACK text in the exception's args.
    text = exc.args[1] if len(exc.args) > 1 else None
    return text if isinstance(text, str) and text else None
