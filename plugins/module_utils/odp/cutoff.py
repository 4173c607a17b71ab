# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Would attaching a network device to a datapath cut the host off?

A netdev vport takes over all of the device's traffic. The modules and the
``odp`` command refuse such a device unless forced.
"""

import os
import socket
import sys

from .tunnels import iproute


def cutoff_reason(ifname, environ=None, netns=None):
    """Why attaching network device ``ifname`` to a datapath would cut the
    host off, or None.

    A netdev vport takes over all the device's traffic: the host loses its
    addresses' connectivity through it. That is fatal when the device carries
    the default route, or the address the SSH connection arrived on
    (``SSH_CONNECTION``, or an established inbound SSH connection, which
    still shows when ``become`` dropped the environment).

    In network namespace ``netns`` only the default route counts: the
    connection arrives in the caller's namespace, not in that one.
    """
    environ = os.environ if environ is None else environ
    if netns is None:
        try:
            socket.if_nametoindex(ifname)
        except OSError:
            return None  # no such device: the kernel will say so (pyroute2 not needed)
    ipr, _netlink_error = iproute(netns)
    try:
        found = ipr.link_lookup(ifname=ifname)
        if not found:
            return None
        if found[0] in default_route_interfaces(ipr):
            return "network device %s carries the default route%s" % (
                ifname,
                " of network namespace %s" % netns if netns else " of this host",
            )
        addresses = set(interface_addresses(ipr, found[0]))
    finally:
        ipr.close()
    if netns is not None:
        return None
    for address in sorted(connection_addresses(environ)):
        if address in addresses:
            return (
                "network device %s holds %s, the address the SSH connection to this host "
                "arrives on" % (ifname, address)
            )
    return None


def refusal(ifname, datapath, reason, override):
    """The message refusing to attach ``ifname`` for ``reason``;
    ``override`` says how to attach it anyway (``use --force``)."""
    return (
        "refusing to attach %s to datapath %s: %s, and a netdev vport takes over all of "
        "the device's traffic, which would cut the host off; %s to attach it anyway"
        % (ifname, datapath, reason, override)
    )


def default_route_interfaces(ipr):
    """Interface indexes of the default routes (IPv4 and IPv6, main table)."""
    indexes = set()
    for family in (socket.AF_INET, socket.AF_INET6):
        for route in ipr.get_routes(family=family):
            if route["dst_len"] != 0 or route.get_attr("RTA_TABLE", route["table"]) != 254:
                continue
            if route.get_attr("RTA_OIF") is not None:
                indexes.add(route.get_attr("RTA_OIF"))
            for hop in route.get_attr("RTA_MULTIPATH") or ():
                indexes.add(hop["oif"])
    return indexes


def interface_addresses(ipr, index):
    for address in ipr.get_addr(index=index):
        value = address.get_attr("IFA_ADDRESS")
        if value:
            yield value


def connection_addresses(environ):
    """Local addresses SSH connections arrive on."""
    found = set()
    ports = set()
    connection = environ.get("SSH_CONNECTION", "").split()
    if len(connection) == 4:
        found.add(connection[2])
        ports.add(connection[3])
    ports.add("22")
    for path, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        found.update(_established_local(path, family, {int(port) for port in ports}))
    return found


def _established_local(path, family, ports):
    """Local addresses of ESTABLISHED TCP sockets on ``ports``, from /proc/net/tcp*."""
    try:
        with open(path) as table:
            lines = table.readlines()[1:]
    except OSError:
        return set()
    found = set()
    for line in lines:
        fields = line.split()
        if len(fields) < 4 or fields[3] != "01":
            continue
        address, port = fields[1].split(":")
        if int(port, 16) not in ports:
            continue
        raw = bytes.fromhex(address)
        if sys.byteorder == "little":
            # /proc prints each 32-bit word of the address in host byte order.
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
        text = socket.inet_ntop(family, raw)
        found.add(text[7:] if text.startswith("::ffff:") and "." in text else text)
    return found
