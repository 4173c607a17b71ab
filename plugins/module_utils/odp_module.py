# -*- coding: utf-8 -*-
# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the vswitch.odp modules share on top of the plain library.

* the one guarded import of the library and of pyroute2;
* :class:`OdpModule`: an ``AnsibleModule`` that turns library errors into
  ``fail_json`` messages (never a traceback) and computes ``changed``,
  ``diff`` and check mode in one place (:meth:`OdpModule.converge`);
* the flow planner of ``odp_flow`` (:func:`plan_flows`), pure so unit tests
  can drive it with fakes;
* :func:`cutoff_reason`: would attaching a netdev cut the host off?
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

import importlib.util
import os
import socket
import sys
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

# pyroute2 is what the library needs besides the standard library (tunnel
# devices, and the routes and addresses of the cut-off check). Only its
# presence is checked here: importing it costs seconds on a small host, and
# tunnels.iproute() imports it when a task needs it.
PYROUTE2_MISSING = importlib.util.find_spec("pyroute2") is None

try:
    from ansible_collections.vswitch.odp.plugins.module_utils.odp import dpctl, errors, flows
    from ansible_collections.vswitch.odp.plugins.module_utils.odp.client import Client
    from ansible_collections.vswitch.odp.plugins.module_utils.odp.tunnels import (  # noqa: F401 pylint: disable=unused-import
        DEFAULT_PORTS as DEFAULT_TUNNEL_PORTS, iproute)
except ImportError:
    dpctl = errors = flows = Client = DEFAULT_TUNNEL_PORTS = iproute = None
    LIBRARY_IMPORT_ERROR = traceback.format_exc()
else:
    LIBRARY_IMPORT_ERROR = None

PYROUTE2_URL = "https://pypi.org/project/pyroute2/"
PYROUTE2_HINT = ("install it on the managed host: 'apt install python3-pyroute2' (Debian, Ubuntu) "
                 "or 'pip install pyroute2' (0.7.2 or newer)")
ROOT_HINT = ("the module must run as root or with CAP_NET_ADMIN on the managed host "
             "(use 'become: true')")
MODULE_HINT = ("the kernel's openvswitch module is not loaded and could not be loaded "
               "('modprobe openvswitch' as root)")


class OdpModule(AnsibleModule):
    """An ``AnsibleModule`` for the datapath: library errors become clean
    failures, and :meth:`converge` is the one place where changed, diff and
    check mode are decided."""

    def __init__(self, argument_spec, **kwargs):
        kwargs.setdefault("supports_check_mode", True)
        AnsibleModule.__init__(self, argument_spec=argument_spec, **kwargs)
        if PYROUTE2_MISSING:
            self.fail_json(msg="%s; %s" % (missing_required_lib("pyroute2", url=PYROUTE2_URL),
                                           PYROUTE2_HINT))
        if LIBRARY_IMPORT_ERROR is not None:
            self.fail_json(msg="the vswitch.odp library failed to import on the managed host",
                           exception=LIBRARY_IMPORT_ERROR)
        self.result = {"changed": False}
        self._diff_before = {}
        self._diff_after = {}

    def run(self, work):
        """Run ``work(self, client)`` with a client, then exit with the result.

        Library errors fail the task with their message (which names the
        datapath, vport or flow); anything else fails with the traceback in
        ``exception`` (shown with -vvv) rather than as a crash.
        """
        try:
            with Client() as client:
                work(self, client)
        except errors.OdpError as exc:
            self.fail_json(msg=error_message(exc), **self.result)
        except Exception as exc:  # pylint: disable=broad-except
            self.fail_json(msg="unexpected error: %s" % (exc,), exception=traceback.format_exc(),
                           **self.result)
        self.exit()

    def converge(self, before, after, apply, changed=None):
        """Record one object's move from ``before`` to ``after``.

        ``before`` and ``after`` describe the object as the diff shows it
        (callables are called only in diff mode, for large objects);
        ``changed`` defaults to their inequality. ``apply()`` makes the change;
        it is not called when nothing changes, nor in check mode. Returns what
        ``apply()`` returned, else None.
        """
        if callable(before):
            before, after = (before(), after()) if self._diff else (None, None)
        if changed is None:
            changed = before != after
        if self._diff:
            self._diff_before = before
            self._diff_after = after
        if not changed:
            return None
        self.result["changed"] = True
        return None if self.check_mode else apply()

    def exit(self):
        if self._diff:
            self.result["diff"] = {"before": self._diff_before, "after": self._diff_after}
        self.exit_json(**self.result)


def error_message(exc):
    """The user's message for a library error, with what to do about it."""
    message = str(exc)
    if isinstance(exc, errors.PermissionDenied):
        return "%s: %s" % (message, ROOT_HINT)
    if isinstance(exc, errors.KernelModuleMissing):
        return "%s: %s" % (message, MODULE_HINT)
    return message


def optional(lookup, *args):
    """``lookup(*args)``, or None when the object does not exist."""
    try:
        return lookup(*args)
    except errors.NotFound:
        return None


def datapath_info(datapath):
    """What the modules return about a :class:`client.Datapath`."""
    return {"name": datapath.name, "ifindex": datapath.ifindex,
            "features": list(datapath.features), "stats": dict(datapath.stats)}


def vport_info(vport):
    """What the modules return about a :class:`client.Vport`."""
    return {"name": vport.name, "type": vport.type, "port_no": vport.port_no,
            "port": vport.port, "stats": dict(vport.stats)}


def port_maps(vports):
    """``(name -> port_no, port_no -> name)`` for the text syntax."""
    ports = dict((vport.name, vport.port_no) for vport in vports)
    return ports, dict((number, name) for name, number in ports.items())


# ---------------------------------------------------------------- flows


def declared_flows(entries, ports, present=True, many=True):
    """The flows a task declares, as :class:`Flow` objects, all checked
    before anything is sent: each entry is ``{match|key, actions}``.

    Keys are completed and normalised the way the kernel stores them.
    Errors name the entry (``flows[3].``) when ``many``.
    """
    declared = {}
    for index, entry in enumerate(entries):
        where = "flows[%d]." % index if many else ""
        flow = declared_flow(entry, ports, present, where)
        ident = flow.identity()
        first = declared.get(ident)
        if first is not None and not flow.same_actions(first[1]):
            raise errors.ValidationError(
                where.rstrip("."), entry.get("match") or entry.get("key"),
                "flows[%d] has the same match with other actions" % first[0])
        declared.setdefault(ident, (index, flow))
    return [flow for _index, flow in declared.values()]


def declared_flow(entry, ports, present, where):
    source = "match" if entry.get("match") is not None else "key"
    try:
        if source == "match":
            key, mask = dpctl.key_from_match(entry["match"], ports)
        else:
            key, mask = dpctl.parse_key(entry["key"], ports)
        actions = declared_actions(entry.get("actions"), ports) if present else []
        key, mask = flows.complete_key(key, mask)
        flows.validate_flow(key, mask, actions)
    except errors.ValidationError as exc:
        # Name the option: flows[2].match.eth.src, key.ipv4.dst, actions[1].
        field = exc.field
        if not field.startswith(("actions", source)):
            field = "%s.%s" % (source, field)
        raise errors.ValidationError(where + field, exc.value, exc.reason)
    # Send the key as the kernel stores it, so a dump gives back the same
    # key and the flow can be found by it again.
    return flows.Flow.normalized(key, mask, actions)


def declared_actions(actions, ports):
    """``actions`` given as a list (structured) or as ovs-dpctl text."""
    if actions is None:
        raise errors.ValidationError("actions", actions, "required with state=present "
                                     "(an empty list drops the packets)")
    if isinstance(actions, list):
        return dpctl.actions_from_list(actions, ports)
    if isinstance(actions, (str, int)):
        return dpctl.parse_actions(str(actions), ports)
    raise errors.ValidationError("actions", actions, "must be a list or ovs-dpctl text")


class FlowPlan:
    """What turns the flows of a datapath into the declared ones."""

    def __init__(self, add=(), modify=(), delete=()):
        self.add = list(add)
        self.modify = list(modify)  # the new flows; their match exists already
        self.delete = list(delete)

    def __bool__(self):
        return bool(self.add or self.modify or self.delete)

    __nonzero__ = __bool__

    def touched(self):
        return set(flow.identity() for flow in self.add + self.modify + self.delete)


def plan_flows(current, desired, present=True, purge=False, scope=None):
    """The :class:`FlowPlan` from the ``current`` flows to the ``desired`` ones.

    Flows are matched by :meth:`Flow.identity` (the key as the kernel stores
    it), so equivalent spellings are the same flow. With ``present`` False
    the desired flows are removed; with ``purge`` every current flow not
    desired is removed too. ``scope`` (a set of identities) limits the flows
    looked at, for undoing a partial change.
    """
    have = dict((flow.identity(), flow) for flow in current)
    if scope is not None:
        have = dict((ident, flow) for ident, flow in have.items() if ident in scope)
    want = dict((flow.identity(), flow) for flow in desired)
    plan = FlowPlan()
    if not present:
        plan.delete = [have[ident] for ident in want if ident in have]
        return plan
    for ident, flow in want.items():
        old = have.get(ident)
        if old is None:
            plan.add.append(flow)
        elif not flow.same_actions(old):
            # Keep the installed key (and UFID) so the kernel finds the flow.
            plan.modify.append(flows.Flow(old.key, old.mask, flow.actions, old.ufid))
    if purge:
        plan.delete = [flow for ident, flow in have.items() if ident not in want]
    return plan


def expected_flows(current, plan):
    """The flows a datapath holds once ``plan`` is applied (for the diff)."""
    gone = set(flow.identity() for flow in plan.delete)
    modified = dict((flow.identity(), flow) for flow in plan.modify)
    after = [modified.get(flow.identity(), flow) for flow in current
             if flow.identity() not in gone]
    return after + plan.add


def apply_plan(client, datapath, plan):
    """Send ``plan`` in batches: deletions, modifications, then additions.

    Returns ``(flow, error)`` for the first flow the kernel refused, else None;
    the later steps are not sent after a refusal.
    """
    steps = ((plan.delete, client.delete_flows, {}),
             (plan.modify, client.put_flows, {"mode": "modify"}),
             (plan.add, client.put_flows, {"mode": "create"}))
    for batch, send, options in steps:
        if not batch:
            continue
        for flow, error in zip(batch, send(datapath, batch, **options)):
            if error is not None:
                return flow, error
    return None


def apply_or_restore(client, datapath, before, plan, port_names=None):
    """Apply ``plan``; when the kernel refuses a flow, put the flows the plan
    touched back as they were in ``before`` and raise the refusal."""
    refused = apply_plan(client, datapath, plan)
    if refused is None:
        return
    flow, error = refused
    undo = plan_flows(client.flows(datapath), before, purge=True, scope=plan.touched())
    # The undo covers only flows we changed; it cannot leave more undone than
    # trying nothing would.
    undo_failed = apply_plan(client, datapath, undo)
    detail = ("the flow table was restored as it was before the task" if undo_failed is None
              else "restoring the flow table failed too (%s): check the datapath's flows"
              % undo_failed[1])
    raise errors.KernelRejected("the kernel refused the flow %s (%s); %s"
                                % (flow_text(flow, port_names), error, detail))


def flow_text(flow, port_names=None):
    """One ovs-dpctl line for a flow: ``KEY, actions:ACTIONS``."""
    return dpctl.format_flow(flow.key, flow.mask, flow.actions, port_names)


# ---------------------------------------------------------------- cut-off check


def cutoff_reason(ifname, environ=None):
    """Why attaching network device ``ifname`` to a datapath would cut the
    host off, or None.

    A netdev vport takes over all the device's traffic: the host loses its
    addresses' connectivity through it. That is fatal when the device carries
    the default route, or the address the Ansible connection arrived on
    (``SSH_CONNECTION``, or an established inbound SSH connection, which
    still shows when ``become`` dropped the environment).
    """
    environ = os.environ if environ is None else environ
    try:
        index = socket.if_nametoindex(ifname)
    except OSError:
        return None  # no such device: the kernel will say so
    ipr, _netlink_error = iproute()
    try:
        if index in default_route_interfaces(ipr):
            return "network device %s carries this host's default route" % ifname
        addresses = set(interface_addresses(ipr, index))
    finally:
        ipr.close()
    for address in sorted(connection_addresses(environ)):
        if address in addresses:
            return ("network device %s holds %s, the address this Ansible connection arrives on"
                    % (ifname, address))
    return None


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
        found.update(_established_local(path, family, set(int(port) for port in ports)))
    return found


def _established_local(path, family, ports):
    """Local addresses of ESTABLISHED TCP sockets on ``ports``, from /proc/net/tcp*."""
    try:
        with open(path) as table:
            lines = table.readlines()[1:]
    except (IOError, OSError):
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
            raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
        text = socket.inet_ntop(family, raw)
        found.add(text[7:] if text.startswith("::ffff:") and "." in text else text)
    return found


# ---------------------------------------------------------------- facts


def gather_datapath(client, datapath, with_flows=True):
    """The facts of one datapath: ``odp_facts``'s ``datapaths.<name>``."""
    vports = client.vports(datapath)
    facts = datapath_info(datapath)
    del facts["name"]
    facts["vports"] = {}
    for vport in vports:
        facts["vports"][vport.name] = info = vport_info(vport)
        del info["name"]
    if with_flows:
        names = port_maps(vports)[1]
        now = now_ms()
        facts["flows"] = [flow_facts(flow, names, now) for flow in client.iter_flows(datapath)]
    return facts


def flow_facts(flow, port_names, now):
    # The kernel's "used" is a CLOCK_MONOTONIC time in ms; absent when never used.
    used = None if not flow.used else round(max(now - flow.used, 0) / 1000.0, 3)
    return {"key": dpctl.format_key(flow.key, flow.mask, port_names),
            "actions": dpctl.format_actions(flow.actions, port_names),
            "packets": flow.packets, "bytes": flow.bytes, "used": used}


def now_ms():
    """The clock of flows' ``used`` times (CLOCK_MONOTONIC, in milliseconds)."""
    return int(time.monotonic() * 1000)
