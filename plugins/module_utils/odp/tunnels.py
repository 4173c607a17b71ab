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

This is the only module importing pyroute2, lazily: the rest of the library
works without it.  Its ``IPRoute.link`` API is the same in pyroute2 0.7.2 and
0.9.x.
"""

import errno
import os
import socket

from . import errors
from .netlink import error_for, in_netns

NETLINK_ROUTE = 0

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
    # A socket keeps the namespace it was made in: made there by this thread
    # (setns), it needs none of pyroute2's NetNS helper processes, whose
    # start times out on a slow or loaded machine.
    fd = in_netns(
        netns, socket.socket, socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_ROUTE
    ).detach()
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
        if not any(_owned(link) for link in links):
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


def _owned(link):
    return (link.get_attr("IFLA_IFALIAS") or "").startswith(MARK)


def describe(names, netns=None):
    """``{name: Tunnel}`` for those of ``names`` that are metadata-mode
    tunnel netdevs, whoever made them; one rtnetlink dump for all of them."""
    names = set(names)
    if not names:
        return {}
    ipr, netlink_error = iproute(netns)
    try:
        try:
            links = list(ipr.get_links())
        except netlink_error as exc:
            raise error_for(exc.code, "list", "network devices", errors.NotFound, _extack(exc))
    finally:
        ipr.close()
    found = {}
    for link in links:
        name = link.get_attr("IFLA_IFNAME")
        if name in names:
            tunnel = _tunnel_of(link)
            if tunnel is not None:
                found[name] = tunnel
    return found


def _tunnel_of(link):
    linkinfo = link.get_attr("IFLA_LINKINFO")
    if linkinfo is None:
        return None
    kind = linkinfo.get_attr("IFLA_INFO_KIND")
    data = linkinfo.get_attr("IFLA_INFO_DATA")
    if kind not in TYPES or data is None:
        return None
    prefix = "IFLA_%s_" % ("GRE" if kind == "gretap" else kind.upper())
    if not data.get_attr(prefix + "COLLECT_METADATA"):
        return None
    return Tunnel(
        TYPES[kind], data.get_attr(prefix + "PORT") if kind != "gretap" else None, _owned(link)
    )


def _extack(exc):
    # pyroute2 puts the kernel's extended-ACK text in the exception's args.
    text = exc.args[1] if len(exc.args) > 1 else None
    return text if isinstance(text, str) and text else None
