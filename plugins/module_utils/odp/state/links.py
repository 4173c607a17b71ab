# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The link settings of network devices: MAC, MTU, addresses and up.

A *link* is a mapping of the settings managed: ``mac`` (lower-case text),
``mtu``, ``up`` and ``addresses`` (CIDR text, sorted). A setting that a
wanted link leaves out is not managed; ``addresses``, when given, is every
address the device carries, except the link-local ones the kernel makes
(scope link), which are never touched.

* :func:`check_link`: a wanted link validated and normalised;
* :func:`read_links`: the current links of devices, over rtnetlink;
* :class:`LinkChange`: what takes a device from one link to another, shown
  as text or as the equivalent ``ip`` commands, applied by :func:`apply_links`.

Devices are read with :mod:`rtnl`; pyroute2, to change them, comes only
through :func:`tunnels.iproute`.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from collections.abc import Iterable, Sequence
from typing import Any

from .. import errors, rtnl
from ..netlink import error_for
from ..text.scalar import parse_mac
from ..tunnels import _extack, iproute
from .checks import DocumentError, boolean, integer, join, mapping, sequence

FIELDS = ("mac", "mtu", "up", "addresses")
SETTINGS = ("mac", "mtu", "up")  # set by one "ip link set"
# What an Ethernet device of the kernel takes (ETH_MIN_MTU, ETH_MAX_MTU).
MTU_MIN, MTU_MAX = 68, 65535
IFF_UP = 0x1
RT_SCOPE_LINK = 253

Link = dict[str, Any]


def check_link(value: Any, where: str) -> Link:
    """A wanted link as given (``{mac, mtu, up, addresses}``, each optional),
    checked and normalised; errors name ``where`` and the setting."""
    value = mapping(value, where, "link settings", FIELDS)
    link: Link = {}
    if value.get("mac") is not None:
        link["mac"] = check_mac(value["mac"], join(where, "mac"))
    if value.get("mtu") is not None:
        link["mtu"] = integer(value["mtu"], join(where, "mtu"), MTU_MIN, MTU_MAX, "an MTU")
    if value.get("up") is not None:
        link["up"] = boolean(value["up"], join(where, "up"))
    if "addresses" in value:
        field = join(where, "addresses")
        texts = [
            check_address(text, join(field, index))
            for index, text in enumerate(
                sequence(value["addresses"], field, "addresses in CIDR form")
            )
        ]
        link["addresses"] = sorted(set(texts))
    return link


def check_mac(value: Any, where: str) -> str:
    """A unicast, non-zero MAC address as lower-case text."""
    if isinstance(value, int) and not isinstance(value, bool):
        raise DocumentError(
            where,
            value,
            "a MAC address is text: quote it in YAML "
            '("02:00:00:00:00:01"), or it may read as a number',
        )
    if not isinstance(value, str):
        raise DocumentError(where, value, "expected a MAC address such as 02:00:00:00:00:01")
    try:
        octets = list(parse_mac(value, where).to_bytes(6, "big"))
    except errors.ValidationError as exc:
        raise DocumentError(where, value, exc.reason)
    if octets[0] & 1:
        raise DocumentError(where, value, "a multicast MAC address cannot be a device's own")
    if not any(octets):
        raise DocumentError(where, value, "the zero MAC address cannot be a device's own")
    return ":".join("%02x" % octet for octet in octets)


def check_address(value: Any, where: str) -> str:
    """An address in CIDR form (``10.0.0.1/24``; without a prefix, one host)."""
    try:
        iface = ipaddress.ip_interface(value if isinstance(value, str) else None)  # type: ignore[arg-type]  # None: the ValueError below
    except ValueError:
        raise DocumentError(where, value, "not an address in CIDR form, e.g. 10.0.0.1/24")
    if iface.version == 6 and iface.ip.is_link_local:
        raise DocumentError(
            where, value, "link-local IPv6 addresses are the kernel's and are not managed"
        )
    return str(iface)


# ---------------------------------------------------------------- reading


def read_links(names: Iterable[str] | None = None, netns: str | None = None) -> dict[str, Link]:
    """``{name: link}`` of the devices named (every device when None) that
    exist, with all four settings; two rtnetlink dumps in all."""
    wanted = None if names is None else set(names)
    if wanted is not None and not wanted:
        return {}
    devices, addresses = rtnl.read(netns)
    found: dict[str, Link] = {}
    by_index: dict[int, Link] = {}
    for device in devices:
        if wanted is None or device.name in wanted:
            by_index[device.index] = found[device.name] = {
                "mac": device.mac,
                "mtu": device.mtu,
                "up": bool(device.flags & IFF_UP),
                "addresses": [],
            }
    for address in addresses:
        link = by_index.get(address.index)
        if (
            link is None
            or address.scope == RT_SCOPE_LINK
            or address.family not in (socket.AF_INET, socket.AF_INET6)
            or address.address is None
        ):
            continue
        link["addresses"].append("%s/%d" % (address.address, address.prefixlen))
    for link in found.values():
        link["addresses"].sort()
    return found


# ---------------------------------------------------------------- changing


class LinkChange:
    """What takes device ``name`` from link ``have`` (None: unknown, a device
    about to be made) to the wanted link ``want`` (only its settings count)."""

    def __init__(self, name: str, have: Link | None, want: Link) -> None:
        self.name = name
        self.have = have
        self.want = want
        self.settings = [
            (field, want[field])
            for field in SETTINGS
            if field in want and (have is None or have.get(field) != want[field])
        ]
        current = set(have.get("addresses") or ()) if have else set()
        if "addresses" in want:
            self.delete = sorted(current - set(want["addresses"]))
            self.add = [address for address in want["addresses"] if address not in current]
        else:
            self.delete, self.add = [], []

    def __bool__(self) -> bool:
        return bool(self.settings or self.delete or self.add)

    def after(self) -> Link:
        """The link once changed: the wanted settings over the current ones."""
        have = self.have or dict.fromkeys(FIELDS)
        after = {field: self.want.get(field, have.get(field)) for field in FIELDS}
        after["addresses"] = list(after["addresses"] or [])
        return after

    def commands(self) -> list[str]:
        """The change as the ``ip -batch`` lines that would make it."""
        words = []
        for field, value in self.settings:
            if field == "up":
                words.append("up" if value else "down")
            else:
                words += ["address" if field == "mac" else field, str(value)]
        lines = ["link set dev %s %s" % (self.name, " ".join(words))] if words else []
        lines += ["address del %s dev %s" % (address, self.name) for address in self.delete]
        lines += ["address add %s dev %s" % (address, self.name) for address in self.add]
        return lines

    def text(self) -> str:
        """The change in one line: ``mtu 1500 -> 1450, up, +10.0.0.1/24``."""
        parts = []
        for field, value in self.settings:
            old = None if self.have is None else self.have.get(field)
            shown = ("up" if value else "down") if field == "up" else "%s %s" % (field, value)
            if old is not None and field != "up":
                shown = "%s %s -> %s" % (field, old, value)
            parts.append(shown)
        parts += ["-%s" % address for address in self.delete]
        parts += ["+%s" % address for address in self.add]
        return ", ".join(parts)


def apply_links(changes: Sequence[LinkChange], netns: str | None = None) -> None:
    """Make the changes in order, on one rtnetlink socket: for each device its
    settings, then the addresses removed, then those added. The first refusal
    is raised, naming the device."""
    changes = [change for change in changes if change]
    if not changes:
        return
    ipr, netlink_error = iproute(netns)
    try:
        for change in changes:
            _apply(ipr, netlink_error, change)
    finally:
        ipr.close()


def _apply(ipr, netlink_error, change: LinkChange) -> None:
    op, what = "find", "network device %s" % change.name
    try:
        indexes = ipr.link_lookup(ifname=change.name)
        if not indexes:
            raise errors.NotFound("%s does not exist" % what)
        index = indexes[0]
        settings = dict(change.settings)
        if settings:
            args = {}
            if "mac" in settings:
                args["address"] = settings["mac"]
            if "mtu" in settings:
                args["mtu"] = settings["mtu"]
            if "up" in settings:
                args["state"] = "up" if settings["up"] else "down"
            op, what = "set", "%s of network device %s" % (change.text(), change.name)
            ipr.link("set", index=index, **args)
        # Bringing a device down drops its IPv6 addresses (unless the sysctl
        # keep_addr_on_down says otherwise): the ones to keep are put back.
        again = [
            address
            for address in change.want.get("addresses", ())
            if settings.get("up") is False and ":" in address and address not in change.add
        ]
        for verb, op, addresses, done in (
            ("del", "delete", change.delete, errno.EADDRNOTAVAIL),
            ("add", "add", change.add, None),
            ("add", "add", again, errno.EEXIST),
        ):
            for address in addresses:
                what = "address %s of network device %s" % (address, change.name)
                iface = ipaddress.ip_interface(address)
                try:
                    ipr.addr(
                        verb, index=index, address=str(iface.ip), prefixlen=iface.network.prefixlen
                    )
                except netlink_error as exc:
                    if exc.code != done:
                        raise
    except netlink_error as exc:
        raise _error(exc, op, what)


def _error(exc, op: str, what: str) -> errors.OdpError:
    # pyroute2 puts the kernel's extended ACK where it has one, else strerror.
    extack = _extack(exc)
    return error_for(
        exc.code, op, what, errors.NotFound, None if extack == os.strerror(exc.code) else extack
    )
