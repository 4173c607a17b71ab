# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The datapath client: datapaths, vports and flows of the kernel datapath.

``Client`` speaks the ODP generic netlink families through one
:class:`netlink.Transport`.  Input is checked before anything is sent; kernel
refusals come back as :mod:`errors` exceptions that name the datapath, vport
or flow and carry the kernel's extended-ACK text.

Datapath arguments are a name or a :class:`Datapath`.
"""

import array
import errno
import functools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Optional, Union

from . import dp_settings, errors, flowdump, meter_record, psample, tunnels, upcalls
from .actions import actions_named
from .attrs import CodecError
from .ct_limits import CtLimits
from .families import DatapathFamily, FlowFamily, VportFamily
from .flowcheck import validate_flow
from .flows import DP_MAX_PORTS, Flow, complete_key
from .lock import Locks
from .meters import Meters
from .names import check_ifname
from .netlink import NLM_F_CREATE, NLM_F_ECHO, OVS_HDRLEN, Transport
from .text import format_key, format_ufid
from .vport_events import VportEvents

DP = DatapathFamily
VP = VportFamily
FL = FlowFamily

VPORT_TYPES = ("netdev", "internal", "vxlan", "geneve", "gre")
TUNNEL_TYPES = ("vxlan", "geneve", "gre")
PUT_MODES = ("upsert", "create", "modify")
UFID_LEN = 16
# User features to try in turn, by requested upcall dispatch.
_PER_CPU = DP.F_UNALIGNED | DP.F_DISPATCH_UPCALL_PER_CPU
_PER_VPORT = DP.F_UNALIGNED | DP.F_VPORT_PIDS
DISPATCH_FEATURES = {
    None: (_PER_CPU, _PER_VPORT),
    "per-cpu": (_PER_CPU,),
    "per-vport": (_PER_VPORT,),
}


class Datapath:
    """A datapath as the kernel reported it."""

    __slots__ = (
        "dispatch",
        "features",
        "ifindex",
        "masks_cache_size",
        "name",
        "stats",
        "user_features",
    )

    def __init__(self, ifindex, attrs):
        self.name = attrs["name"]
        self.ifindex = ifindex
        self.user_features = attrs.get("user_features", 0)
        self.features = [name for bit, name in DP.FEATURE_NAMES if self.user_features & bit]
        stats = dict(attrs.get("stats") or {})
        mega = attrs.get("megaflow_stats") or {}
        for field in ("masks", "mask_hit", "cache_hit"):
            stats[field] = mega.get(field, 0)
        self.stats = stats
        # Where upcalls go: one netlink socket per CPU, or per vport.
        self.dispatch = (
            "per-cpu" if self.user_features & DP.F_DISPATCH_UPCALL_PER_CPU else "per-vport"
        )
        # Masks cache entries per CPU (Linux 5.9+; None when the kernel has none).
        self.masks_cache_size = attrs.get("masks_cache_size")

    def __repr__(self):
        return "Datapath(%r, ifindex=%d, features=%r)" % (self.name, self.ifindex, self.features)


class Vport:
    """A datapath port as the kernel reported it.

    ``type`` is the tunnel type also for a tunnel made as a metadata-mode
    netdev (``backing`` ``"netdev"``); ``backing`` is ``"ovs-vport"`` when
    the datapath's own vport type implements the port.  ``owned`` is True
    for a tunnel netdev this library made, which goes with its vport; a
    tunnel netdev made by another tool is only detached.
    """

    __slots__ = (
        "backing",
        "datapath",
        "ifindex",
        "name",
        "owned",
        "port",
        "port_no",
        "stats",
        "type",
        "upcall_pids",
    )

    def __init__(self, datapath, attrs):
        self.datapath = datapath
        self.name = attrs["name"]
        self.type = VP.TYPES.get(attrs.get("type"), "type%s" % attrs.get("type"))
        self.port_no = attrs.get("port_no")
        options = attrs.get("options") or {}
        self.port = options.get("dst_port")
        self.stats = attrs.get("stats") or {}
        self.upcall_pids = _u32_list(attrs.get("upcall_pids", b""))
        self.ifindex = attrs.get("ifindex")
        self.backing = "ovs-vport"
        self.owned = False

    def __repr__(self):
        return "Vport(%r, %r, type=%r, port_no=%r)" % (
            self.datapath,
            self.name,
            self.type,
            self.port_no,
        )


def _u32_list(raw):
    values = array.array("I")
    values.frombytes(bytes(raw)[: len(raw) // 4 * 4])
    return list(values)


def _pids_bytes(field, pids):
    pids = list(pids)
    if not pids:
        raise errors.ValidationError(field, pids, "needs at least one netlink port id")
    for pid in pids:
        if not isinstance(pid, int) or isinstance(pid, bool) or not 0 <= pid <= 0xFFFFFFFF:
            raise errors.ValidationError(
                field, pid, "a netlink port id is an integer from 0 to 4294967295"
            )
    return upcalls.pack_pids(*pids)


def _check_pid_count(dp, pids):
    """The kernel takes several port ids per vport only with OVS_DP_F_VPORT_PIDS,
    and (since 6.1.y) no more than there are possible CPUs."""
    if pids is None or len(pids) < 2:
        return
    if not dp.user_features & DP.F_VPORT_PIDS:
        raise errors.ValidationError(
            "upcall_pids",
            list(pids),
            "datapath %s dispatches upcalls %s without the "
            "vport_pids feature: give one netlink port id" % (dp.name, dp.dispatch),
        )
    cpus = upcalls.possible_cpus()
    if cpus and len(pids) > cpus:
        raise errors.ValidationError(
            "upcall_pids", list(pids), "at most one netlink port id per possible CPU (%d)" % cpus
        )


def _writer(method):
    """A Client method that changes datapath ``datapath`` (its first
    argument): it runs holding that datapath's lock (:meth:`Client.exclusive`)."""

    @functools.wraps(method)
    def locked(self, datapath, *args, **kwargs):
        with self.exclusive(datapath):
            return method(self, datapath, *args, **kwargs)

    return locked


class Client:
    """Datapath, vport and flow operations on the kernel datapath.

    ``Client()`` opens one generic netlink socket; the families are resolved
    on first use.  Use it as a context manager or call :meth:`close`.
    ``netns`` (a name under /run/netns) works on the datapaths of that
    network namespace instead of the caller's.

    Every write method holds the datapath's lock (:mod:`lock`) while it
    runs; :meth:`exclusive` holds it across several calls. ``lock_timeout``
    is how long to wait for another writer (default ``ODP_LOCK_TIMEOUT``,
    else 30 seconds).
    """

    def __init__(self, netns: Optional[str] = None, lock_timeout: Optional[float] = None) -> None:
        self.netns = netns
        self.locks = Locks(netns, lock_timeout)
        self.transport = Transport(netns=netns)
        self._by_name: dict[str, Datapath] = {}  # datapath name -> Datapath (last seen)
        self._names: dict[int, str] = {}  # ifindex -> datapath name
        # Meter operations: ``odp.meters.set(dp, 1, bands)``, under the datapath's lock.
        self.meters = Meters(
            self.transport,
            self._dp_index,
            self.iter_flows,
            self.exclusive,
            lambda name: self.locks.path(name, meter_record.SUFFIX),
        )

    def close(self) -> None:
        self.transport.close()
        self.locks.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def exclusive(self, datapath: Union[str, Datapath]) -> AbstractContextManager[None]:
        """A context manager holding ``datapath``'s lock, so that no other
        writer changes it between what this client reads and writes.

        Re-entrant for this client (its write methods take it again); another
        writer waits, then fails with :class:`errors.LockTimeout`.
        """
        name = datapath.name if isinstance(datapath, Datapath) else datapath
        return self.locks.hold(check_ifname("datapath", name))

    # -- datapaths --------------------------------------------------------

    def _datapath(self, ifindex, attrs):
        dp = Datapath(ifindex, attrs)
        self._by_name[dp.name] = dp
        self._names[ifindex] = dp.name
        return dp

    def datapaths(self) -> list[Datapath]:
        """Every datapath of this network namespace."""
        return [
            self._datapath(ifindex, attrs)
            for ifindex, attrs in self.transport.dump(DP, DP.CMD_GET, what="datapaths")
        ]

    def get_datapath(self, name: str) -> Datapath:
        """The datapath ``name``; :class:`errors.NoSuchDatapath` when absent."""
        check_ifname("datapath", name)
        ((ifindex, attrs),) = self.transport.request(
            DP,
            DP.CMD_GET,
            0,
            DP.attrs.encode([("name", name)]),
            what="datapath %s" % name,
            missing=errors.NoSuchDatapath,
        )
        return self._datapath(ifindex, attrs)

    @_writer
    def create_datapath(self, name: str, dispatch: Optional[str] = None) -> Datapath:
        """Create datapath ``name`` with the best upcall dispatch the kernel has.

        Like lib/dpif-netlink.c ``dpif_netlink_open``: ask for per-CPU upcall
        dispatch, and when the kernel refuses it (EOPNOTSUPP) fall back to
        per-vport dispatch with several netlink port ids per vport.  The
        reply tells what the kernel accepted.  ``dispatch`` ``"per-vport"``
        skips per-CPU dispatch; ``"per-cpu"`` insists on it.
        """
        check_ifname("datapath", name)
        if dispatch not in DISPATCH_FEATURES:
            raise errors.ValidationError("dispatch", dispatch, "must be per-cpu or per-vport")
        what = "datapath %s" % name
        for features in DISPATCH_FEATURES[dispatch]:
            attrs = DP.attrs.encode(
                [("name", name), ("upcall_pid", 0), ("user_features", features)]
            )
            try:
                ((ifindex, reply),) = self.transport.request(
                    DP, DP.CMD_NEW, 0, attrs, NLM_F_ECHO, what=what
                )
            except errors.Unsupported:
                if features == DISPATCH_FEATURES[dispatch][-1]:
                    raise
                continue
            return self._datapath(ifindex, reply)
        raise AssertionError("unreachable")  # the last attempt returns or raises

    @_writer
    def delete_datapath(self, datapath: Union[str, Datapath]) -> None:
        """Delete a datapath with its vports and flows.

        The tunnel netdevs this library made for it are deleted with it;
        network devices made by others are only detached.
        """
        name = datapath.name if isinstance(datapath, Datapath) else datapath
        # Looked up afresh: another program may have re-created it since this
        # client cached it, and a stale ifindex would make it look gone.
        tunnel_devices = [v.name for v in self.vports(self.get_datapath(name)) if v.owned]
        self.transport.request(
            DP,
            DP.CMD_DEL,
            0,
            DP.attrs.encode([("name", name)]),
            what="datapath %s" % name,
            missing=errors.NoSuchDatapath,
        )
        dp = self._by_name.pop(name, None)
        if dp is not None:
            self._names.pop(dp.ifindex, None)
        for device in tunnel_devices:
            tunnels.delete(device, self.netns)

    def _dp(self, datapath):
        """A :class:`Datapath` given by name or object (cached per client)."""
        if isinstance(datapath, Datapath):
            return datapath
        return self._by_name.get(datapath) or self.get_datapath(datapath)

    def _dp_index(self, datapath):
        """``(name, ifindex)`` of a datapath given by name or object."""
        dp = self._dp(datapath)
        return dp.name, dp.ifindex

    def _dp_name(self, ifindex):
        if ifindex not in self._names:
            self.datapaths()
        return self._names.get(ifindex, "#%d" % ifindex)

    # -- vports -----------------------------------------------------------

    def _vports(self, dp_name, replies):
        """Vport objects; netdev vports that are tunnel netdevs get their tunnel type."""
        vports = [Vport(dp_name, attrs) for _ifindex, attrs in replies]
        netdevs = [vport.name for vport in vports if vport.type == "netdev"]
        # Only netdev vports can be tunnels made over rtnetlink: skip pyroute2 otherwise.
        found = tunnels.describe(netdevs, self.netns) if netdevs else {}
        for vport in vports:
            tunnel = found.get(vport.name)
            if tunnel is not None:
                vport.type, vport.port, vport.owned = tunnel.type, tunnel.port, tunnel.owned
                vport.backing = "netdev"
        return vports

    def _vport(self, dp_name, attrs):
        return self._vports(dp_name, [(None, attrs)])[0]

    def vports(self, datapath: Union[str, Datapath]) -> list[Vport]:
        """The vports of a datapath, by port number."""
        name, ifindex = self._dp_index(datapath)
        replies = self.transport.dump(
            VP,
            VP.CMD_GET,
            ifindex,
            what="vports of datapath %s" % name,
            missing=errors.NoSuchDatapath,
        )
        return sorted(self._vports(name, replies), key=lambda vport: vport.port_no)

    def get_vport(self, datapath: Union[str, Datapath], name: str) -> Vport:
        """Vport ``name`` of a datapath; :class:`errors.NoSuchVport` when absent."""
        dp_name, ifindex = self._dp_index(datapath)
        check_ifname("vport", name)
        ((_ifindex, attrs),) = self.transport.request(
            VP,
            VP.CMD_GET,
            ifindex,
            VP.attrs.encode([("name", name)]),
            what="vport %s in datapath %s" % (name, dp_name),
            missing=errors.NoSuchVport,
        )
        return self._vport(dp_name, attrs)

    def find_vport(self, name: str) -> Vport:
        """Vport ``name`` in whichever datapath holds it."""
        check_ifname("vport", name)
        ((ifindex, attrs),) = self.transport.request(
            VP,
            VP.CMD_GET,
            0,
            VP.attrs.encode([("name", name)]),
            what="vport %s" % name,
            missing=errors.NoSuchVport,
        )
        return self._vport(self._dp_name(ifindex), attrs)

    @_writer
    def create_vport(
        self,
        datapath: Union[str, Datapath],
        name: str,
        type: str = "netdev",  # pylint: disable=redefined-builtin
        port: Optional[int] = None,
        port_no: Optional[int] = None,
        upcall_pids: Optional[Sequence[int]] = None,
    ) -> Vport:
        """Attach a vport to a datapath.

        ``type`` is netdev, internal, vxlan, geneve or gre; ``port`` the UDP
        destination port of a vxlan (4789) or geneve (6081) tunnel;
        ``port_no`` the datapath port number wanted (the kernel picks one
        when None); ``upcall_pids`` the netlink port ids for its upcalls.

        When the kernel lacks the tunnel vport type, the tunnel is made as a
        metadata-mode netdev over rtnetlink and attached as a netdev vport,
        as Open vSwitch does.
        """
        items = self._vport_request(name, type, port, port_no, upcall_pids)
        dp = self._dp(datapath)
        _check_pid_count(dp, upcall_pids)
        dp_name, ifindex = dp.name, dp.ifindex
        what = "%s vport %s in datapath %s" % (type, name, dp_name)
        try:
            ((_ifindex, attrs),) = self.transport.request(
                VP,
                VP.CMD_NEW,
                ifindex,
                VP.attrs.encode(items),
                NLM_F_ECHO,
                what=what,
                # The datapath was just looked up: ENODEV is the network device.
                missing=dict.fromkeys(
                    (errno.ENODEV, errno.ENOENT), (errors.NotFound, "network device %s" % name)
                ),
            )
        except errors.Unsupported:
            # ovs_vport_add: EAFNOSUPPORT once loading vport-<type> failed.
            if type not in TUNNEL_TYPES:
                raise
            return self._create_tunnel_netdev(dp_name, ifindex, items, type, name, port)
        except errors.AlreadyExists:
            # A free name means the tunnel's UDP port is what is taken.
            if type in tunnels.DEFAULT_PORTS and not tunnels.device_exists(name, self.netns):
                raise errors.AlreadyExists(
                    "%s: UDP port %d is already used by another %s "
                    "tunnel device" % (what, dict(items)["options"]["dst_port"], type)
                )
            raise
        return self._vport(dp_name, attrs)

    @staticmethod
    def _vport_request(name, vport_type, port, port_no, upcall_pids):
        """The attributes of a vport NEW request, input checked."""
        check_ifname("name", name)
        if vport_type not in VPORT_TYPES:
            raise errors.ValidationError(
                "type", vport_type, "must be one of %s" % ", ".join(VPORT_TYPES)
            )
        items = [
            ("name", name),
            ("type", VP.TYPE_IDS[vport_type]),
            ("upcall_pids", _pids_bytes("upcall_pids", upcall_pids or [0])),
        ]
        if port_no is not None:
            if (
                not isinstance(port_no, int)
                or isinstance(port_no, bool)
                or not 0 < port_no < DP_MAX_PORTS
            ):
                raise errors.ValidationError(
                    "port_no", port_no, "must be from 1 to %d" % (DP_MAX_PORTS - 1)
                )
            items.append(("port_no", port_no))
        port = tunnels.udp_port(vport_type, port)
        if port is not None:
            items.append(("options", {"dst_port": port}))
        return items

    def _create_tunnel_netdev(self, dp_name, ifindex, items, vport_type, name, port):
        tunnels.create(vport_type, name, port, self.netns, datapath=dp_name)
        netdev_items = [
            (key, VP.TYPE_IDS["netdev"] if key == "type" else value)
            for key, value in items
            if key != "options"
        ]
        try:
            ((_ifindex, attrs),) = self.transport.request(
                VP,
                VP.CMD_NEW,
                ifindex,
                VP.attrs.encode(netdev_items),
                NLM_F_ECHO,
                what="%s vport %s in datapath %s" % (vport_type, name, dp_name),
                missing=errors.NoSuchDatapath,
            )
        except errors.OdpError:
            tunnels.delete(name, self.netns)
            raise
        return self._vport(dp_name, attrs)

    @_writer
    def delete_vport(self, datapath: Union[str, Datapath], name: str) -> None:
        """Detach vport ``name``; a tunnel netdev this library made for it is
        deleted too (one made by another tool stays)."""
        vport = self.get_vport(datapath, name)
        dp_name, ifindex = self._dp_index(datapath)
        self.transport.request(
            VP,
            VP.CMD_DEL,
            ifindex,
            VP.attrs.encode([("name", name)]),
            what="vport %s in datapath %s" % (name, dp_name),
            missing=errors.NoSuchVport,
        )
        if vport.owned:
            tunnels.delete(name, self.netns)

    @_writer
    def set_upcall_pids(
        self, datapath: Union[str, Datapath], name: str, pids: Sequence[int]
    ) -> Vport:
        """Set the netlink port ids that receive vport ``name``'s upcalls."""
        raw = _pids_bytes("upcall_pids", pids)
        check_ifname("vport", name)
        dp = self._dp(datapath)
        _check_pid_count(dp, pids)
        dp_name, ifindex = dp.name, dp.ifindex
        ((_ifindex, attrs),) = self.transport.request(
            VP,
            VP.CMD_SET,
            ifindex,
            VP.attrs.encode([("name", name), ("upcall_pids", raw)]),
            NLM_F_ECHO,
            what="vport %s in datapath %s" % (name, dp_name),
            missing=errors.NoSuchVport,
        )
        return self._vport(dp_name, attrs)

    # -- flows ------------------------------------------------------------

    def iter_flows(self, datapath: Union[str, Datapath]) -> Iterator[Flow]:
        """The flows of one kernel dump, streamed; unknown attributes kept.

        While another program changes the table, one dump can skip flows or
        return some twice (see :mod:`flowdump`): :meth:`flows` and
        :meth:`flow_dump` check for that.
        """
        return _decode_flows(self.flow_replies(datapath))

    def flow_replies(self, datapath: Union[str, Datapath]) -> Iterator[bytes]:
        """The raw replies of one flow dump (``ovs_flow`` attributes), for
        :func:`decode_flows`."""
        name, ifindex = self._dp_index(datapath)
        return iter(
            self.transport.dump_attrs(
                FL,
                FL.CMD_GET,
                ifindex,
                what="flows of datapath %s" % name,
                missing=errors.NoSuchDatapath,
            )
        )

    @staticmethod
    def decode_flows(raws: Iterable[bytes]) -> list[Flow]:
        """Flows from raw dump replies (:meth:`flow_replies`)."""
        return list(_decode_flows(raws))

    def flows(self, datapath: Union[str, Datapath]) -> list[Flow]:
        """Every flow of a datapath, each once, checked against churn
        (:meth:`flow_dump`'s flows)."""
        return self.flow_dump(datapath).flows

    def flow_dump(
        self,
        datapath: Union[str, Datapath],
        attempts: int = flowdump.DUMP_ATTEMPTS,
        confirm: bool = False,
        digest: bool = False,
    ) -> flowdump.FlowDump:
        """The flows of a datapath with whether the list is proven complete
        (``consistent``; ``confirm`` for two dumps in agreement) and, with
        ``digest``, the table's digest: see :func:`flowdump.dump_flows`."""
        return flowdump.dump_flows(self, datapath, attempts, confirm, digest)

    @staticmethod
    def _match_items(key, mask, ufid, with_mask=True):
        """Identifier attributes of a flow request: the UFID and/or the key.

        GET, DEL and CLEAR find a flow by UFID when given, else by its exact
        key (no mask); NEW always sends key and mask.
        """
        items = []
        if ufid is not None:
            items.append(("ufid", _check_ufid(ufid)))
        if key is None:
            if ufid is None:
                raise errors.ValidationError("key", key, "a flow needs a key or a UFID")
            return items
        if with_mask or ufid is None:
            key, mask = complete_key(key, mask)
            items.append(("key", key))
            if with_mask:
                items.append(("mask", mask))
        return items

    @staticmethod
    def _flow_what(dp_name, key, mask, ufid):
        if key is None:
            return "flow %s in datapath %s" % (format_ufid(_check_ufid(ufid)), dp_name)
        return "flow %s in datapath %s" % (format_key(key, mask), dp_name)

    @staticmethod
    def _flow_missing(dp_name, what):
        return {
            errno.ENODEV: (errors.NoSuchDatapath, "datapath %s" % dp_name),
            errno.ENOENT: (errors.NoSuchFlow, what),
        }

    def _flow_request(self, datapath, cmd, attrs, key, mask, ufid, flags=0, decode=True):
        dp_name, ifindex = self._dp_index(datapath)
        what = self._flow_what(dp_name, key, mask, ufid)
        return self.transport.request(
            FL,
            cmd,
            ifindex,
            attrs,
            flags,
            what=what,
            missing=self._flow_missing(dp_name, what),
            decode=decode,
        )

    def get_flow(
        self,
        datapath: Union[str, Datapath],
        key: Optional[dict] = None,
        mask: Optional[dict] = None,
        ufid: Optional[bytes] = None,
    ) -> Flow:
        """The installed flow with this key (or UFID)."""
        attrs = _encode(self._match_items(key, mask, ufid, with_mask=False))
        ((_ifindex, raw),) = self._flow_request(
            datapath, FL.CMD_GET, attrs, key, mask, ufid, decode=False
        )
        (flow,) = _decode_flows([raw])
        return flow

    def _put_message(self, flow, mode):
        """``(cmd, attrs, flags)`` installing ``flow``, checked like the kernel would."""
        if mode not in PUT_MODES:
            raise errors.ValidationError("mode", mode, "must be one of %s" % ", ".join(PUT_MODES))
        items = self._match_items(flow.key, flow.mask, flow.ufid)
        if flow.key is None:
            raise errors.ValidationError("key", None, "installing a flow needs its key")
        items_dict = dict(items)
        validate_flow(items_dict["key"], items_dict["mask"], flow.actions)
        items.append(("actions", list(flow.actions)))
        # Like dpif_netlink_flow_put: NEW creates (NLM_F_CREATE: fail if it
        # exists) or replaces the actions; SET modifies in place, stats kept.
        cmd = FL.CMD_SET if mode == "modify" else FL.CMD_NEW
        return cmd, _encode(items), NLM_F_CREATE if mode == "create" else 0

    @_writer
    def put_flow(self, datapath: Union[str, Datapath], flow: Flow, mode: str = "upsert") -> None:
        """Install a flow: ``upsert`` (create or replace actions), ``create``
        (:class:`errors.AlreadyExists` when present) or ``modify``
        (:class:`errors.NoSuchFlow` when absent; statistics kept)."""
        cmd, attrs, flags = self._put_message(flow, mode)
        self._check_psample(datapath, [flow])
        self._flow_request(datapath, cmd, attrs, flow.key, flow.mask, flow.ufid, flags)

    @_writer
    def put_flows(
        self, datapath: Union[str, Datapath], flows: Sequence[Flow], mode: str = "upsert"
    ) -> list[Optional[errors.OdpError]]:
        """Install many flows in batched transactions; one result per flow:
        ``None`` or the :mod:`errors` exception for that flow (not raised).
        Every flow is checked before the first is sent."""
        flows = list(flows)
        messages = [self._put_message(flow, mode) for flow in flows]
        self._check_psample(datapath, flows)
        verb = "modify" if mode == "modify" else "create"
        return self._transact(datapath, flows, messages, verb)

    def _check_psample(self, datapath, flows):
        """Before any flow is sent: a kernel without the psample action
        (Linux < 6.11) would refuse it with a bare EINVAL, so a put that
        carries one asks the datapath first, and nothing is sent if it says no."""
        if any(True for flow in flows for _value in actions_named(flow.actions, "psample")):
            psample.check_action(self.transport, *self._dp_index(datapath))

    def _transact(self, datapath, flows, messages, verb):
        dp_name, ifindex = self._dp_index(datapath)
        limit = self.transport.max_datagram - OVS_HDRLEN
        for flow, (_cmd, attrs, _flags) in zip(flows, messages):
            if len(attrs) > limit:
                raise errors.ValidationError(
                    self._flow_what(dp_name, flow.key, flow.mask, flow.ufid),
                    len(attrs),
                    "its request is more bytes than the netlink socket takes in one message "
                    "(%d): shorten its actions" % limit,
                )
        results = self.transport.transact(
            [(FL, cmd, ifindex, attrs, flags) for cmd, attrs, flags in messages], decode=False
        )
        out: list[errors.OdpError | None] = []
        for flow, result in zip(flows, results):
            if isinstance(result, list):
                out.append(None)
                continue
            what = self._flow_what(dp_name, flow.key, flow.mask, flow.ufid)
            out.append(result.to_error(verb, what, self._flow_missing(dp_name, what)))
        return out

    @_writer
    def delete_flow(
        self,
        datapath: Union[str, Datapath],
        key: Optional[dict] = None,
        mask: Optional[dict] = None,
        ufid: Optional[bytes] = None,
    ) -> None:
        """Delete one flow, found by UFID when given, else by key."""
        cmd, attrs, flags = self._delete_message(key, mask, ufid)
        self._flow_request(datapath, cmd, attrs, key, mask, ufid, flags)

    def _delete_message(self, key, mask, ufid):
        return FL.CMD_DEL, _encode(self._match_items(key, mask, ufid, with_mask=False)), 0

    @_writer
    def delete_flows(
        self, datapath: Union[str, Datapath], flows: Sequence[Flow]
    ) -> list[Optional[errors.OdpError]]:
        """Delete many flows in batched transactions; one result per flow."""
        flows = list(flows)
        messages = [self._delete_message(f.key, f.mask, f.ufid) for f in flows]
        return self._transact(datapath, flows, messages, "delete")

    @_writer
    def flush_flows(self, datapath: Union[str, Datapath]) -> None:
        """Delete every flow of a datapath."""
        dp_name, ifindex = self._dp_index(datapath)
        self.transport.request(
            FL,
            FL.CMD_DEL,
            ifindex,
            b"",
            what="flows of datapath %s" % dp_name,
            missing=errors.NoSuchDatapath,
        )

    @_writer
    def clear_flow_stats(
        self,
        datapath: Union[str, Datapath],
        key: Optional[dict] = None,
        mask: Optional[dict] = None,
        ufid: Optional[bytes] = None,
    ) -> None:
        """Zero a flow's packet and byte counters (OVS_FLOW_ATTR_CLEAR via SET)."""
        items = [*self._match_items(key, mask, ufid, with_mask=False), ("clear", True)]
        self._flow_request(datapath, FL.CMD_SET, _encode(items), key, mask, ufid)

    # -- packets ----------------------------------------------------------

    def execute(
        self,
        datapath: Union[str, Datapath],
        packet: bytes,
        actions: list,
        key: Optional[dict] = None,
    ) -> None:
        """Run ``actions`` on the Ethernet frame ``packet`` (:func:`upcalls.execute`)."""
        upcalls.execute(self._dp(datapath).name, packet, actions, key, self.transport)

    def listen(self, datapath: Union[str, Datapath]) -> upcalls.Listener:
        """A :class:`upcalls.Listener` for the misses of ``datapath`` (a context manager)."""
        return upcalls.Listener(self._dp(datapath).name, self.transport)

    # -- meters, conntrack limits, vport events, datapath settings: thin
    #    facades over meters.py, ct_limits.py, vport_events.py, dp_settings.py

    @property
    def ct_limits(self) -> CtLimits:
        """Conntrack zone limits of this network namespace (:class:`ct_limits.CtLimits`)."""
        return CtLimits(self.transport)

    def vport_events(self, datapath: Union[str, Datapath, None] = None) -> VportEvents:
        """A :class:`vport_events.VportEvents` (a context manager) of every
        datapath, or of ``datapath``; it has sockets of its own."""
        return VportEvents(datapath, netns=self.netns)

    def samples(self, groups: Optional[Sequence[int]] = None) -> psample.SampleListener:
        """A :class:`psample.SampleListener` (a context manager) of every
        psample group, or of ``groups``, in this client's network namespace."""
        return psample.SampleListener(groups, netns=self.netns)

    @_writer
    def set_datapath(
        self,
        datapath: Union[str, Datapath],
        features: Optional[Sequence[str]] = None,
        masks_cache_size: Optional[int] = None,
    ) -> Datapath:
        """Set a datapath's user ``features`` (names, all of them) and/or its
        ``masks_cache_size``; the datapath as the kernel accepted it
        (:func:`dp_settings.set_datapath`). ``None`` keeps a setting."""
        current = self.get_datapath(datapath.name if isinstance(datapath, Datapath) else datapath)
        return self._datapath(
            *dp_settings.set_datapath(self.transport, current, features, masks_cache_size)
        )


def _encode(items):
    """Flow attributes as bytes; a value that does not fit is the caller's error."""
    try:
        return FL.attrs.encode(items)
    except CodecError as exc:
        values = dict(items)
        if str(exc).startswith("actions: "):
            # Too many actions for one attribute: say so, not which key.
            raise errors.ValidationError(
                "actions", "%d actions" % len(values["actions"]), str(exc)[len("actions: ") :]
            )
        raise errors.ValidationError("flow", values.get("key"), str(exc))


def _decode_flows(raws):
    """Flows from raw ``ovs_flow`` replies (dumps and gets): each keeps its
    bytes and decodes a field on first use (:meth:`Flow.from_reply`)."""
    return map(Flow.from_reply, raws)


def _check_ufid(ufid):
    """A UFID as its 16 bytes (``bytes`` or ``uuid.UUID``)."""
    raw = getattr(ufid, "bytes", ufid)
    if not isinstance(raw, (bytes, bytearray)) or len(raw) != UFID_LEN:
        raise errors.ValidationError("ufid", ufid, "a UFID is 16 bytes (or a uuid.UUID)")
    return bytes(raw)
