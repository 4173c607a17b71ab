# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the vswitch.odp modules share on top of the plain library.

Private to this collection's modules: not an API for other collections
(docs/library.md names the library's public API).

* the one guarded import of the library and of pyroute2;
* :class:`OdpModule`: an ``AnsibleModule`` that turns library errors into
  ``fail_json`` messages (never a traceback) and computes ``changed``,
  ``diff`` and check mode in one place (:meth:`OdpModule.converge`);
* what the modules return about datapaths, vports and flows (facts).

The flow planner (``odp.flowplan``) and the cut-off check (``odp.cutoff``)
live in the library, shared with the ``odp`` command.
"""

import importlib.util
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

# pyroute2 is what the library needs besides the standard library (tunnel
# devices, and the routes and addresses of the cut-off check). Only its
# presence is checked here: importing it costs seconds on a small host, and
# tunnels.iproute() imports it when a task needs it.
PYROUTE2_MISSING = importlib.util.find_spec("pyroute2") is None

try:
    # Re-exported: the modules import these from here (one import guard).
    from ansible_collections.vswitch.odp.plugins.module_utils.odp import (  # pylint: disable=unused-import
        cutoff,
        dp_settings,
        errors,
        flowdump,
        flowfilter,
        flowplan,
        flows,
        flowstream,
        meters,
        text,
    )
    from ansible_collections.vswitch.odp.plugins.module_utils.odp.client import Client
    from ansible_collections.vswitch.odp.plugins.module_utils.odp.tunnels import (  # pylint: disable=unused-import
        udp_port,
    )
except ImportError:
    cutoff = dp_settings = errors = flowdump = flowfilter = flowplan = flows = flowstream = None
    meters = None
    text = Client = udp_port = None
    LIBRARY_IMPORT_ERROR = traceback.format_exc()
else:
    LIBRARY_IMPORT_ERROR = None

PYROUTE2_URL = "https://pypi.org/project/pyroute2/"
PYROUTE2_HINT = (
    "install it on the managed host: 'apt install python3-pyroute2' (Debian, Ubuntu) "
    "or 'pip install pyroute2' (0.7.2 or newer)"
)
ROOT_HINT = (
    "the module must run as root or with CAP_NET_ADMIN on the managed host (use 'become: true')"
)
BECOME_HINT = "use 'become: true' for the task"
MODULE_HINT = (
    "the kernel's openvswitch module is not loaded and could not be loaded "
    "('modprobe openvswitch' as root)"
)


class OdpModule(AnsibleModule):
    """An ``AnsibleModule`` for the datapath: library errors become clean
    failures, and :meth:`converge` is the one place where changed, diff and
    check mode are decided."""

    def __init__(self, argument_spec, locking=False, **kwargs):
        kwargs.setdefault("supports_check_mode", True)
        # Every module works in a network namespace (the odp doc fragment's
        # netns); those that change a datapath (``locking``) wait for its lock
        # (the odp.lock fragment's lock_timeout).
        argument_spec = dict(argument_spec, netns={"type": "str"})
        if locking:
            argument_spec["lock_timeout"] = {"type": "float"}
        AnsibleModule.__init__(self, argument_spec=argument_spec, **kwargs)
        if PYROUTE2_MISSING:
            self.fail_json(
                msg="%s; %s" % (missing_required_lib("pyroute2", url=PYROUTE2_URL), PYROUTE2_HINT)
            )
        if LIBRARY_IMPORT_ERROR is not None:
            self.fail_json(
                msg="the vswitch.odp library failed to import on the managed host",
                exception=LIBRARY_IMPORT_ERROR,
            )
        self.result = {"changed": False}
        self._diff_before = {}
        self._diff_after = {}

    def run(self, work, datapath=None):
        """Run ``work(self, client)`` with a client in the task's network
        namespace (``netns``), then exit with the result.

        Unless in check mode, ``datapath``'s lock is held throughout, so that
        what the task reads, plans and applies is not changed meanwhile by
        another writer.

        Library errors fail the task with their message (which names the
        datapath, vport or flow); anything else fails with the traceback in
        ``exception`` (shown with -vvv) rather than as a crash.
        """
        try:
            with Client(
                netns=self.params["netns"], lock_timeout=self.params.get("lock_timeout")
            ) as client:
                if datapath is None or self.check_mode:
                    work(self, client)
                else:
                    with client.exclusive(datapath):
                        work(self, client)
        except errors.OdpError as exc:
            self.fail_json(msg=error_message(exc), **self.result)
        except Exception as exc:  # pylint: disable=broad-except
            self.fail_json(
                msg="unexpected error: %s" % (exc,), exception=traceback.format_exc(), **self.result
            )
        self.exit()

    def converge(self, before, after, apply, changed=None):
        """Record one object's move from ``before`` to ``after``.

        ``before`` and ``after`` describe the object as the diff shows it
        (callables are called only in diff mode, for large objects);
        ``changed`` defaults to their inequality. ``apply()`` makes the change;
        it is not called when nothing changes, nor in check mode. Returns what
        ``apply()`` returned, else None.

        When ``apply()`` fails, the task reports ``changed`` only if the error
        says the datapath was left changed (its ``changed`` attribute, see
        :class:`errors.OdpError`): a refusal before anything was changed, or a
        change that was undone, is ``changed: false``.
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
        if self.check_mode:
            self.result["changed"] = True
            return None
        try:
            done = apply()
        except errors.OdpError as exc:
            self.result["changed"] = bool(exc.changed)
            raise
        self.result["changed"] = True
        return done

    def exit(self):
        if self._diff:
            self.result["diff"] = {"before": self._diff_before, "after": self._diff_after}
        self.exit_json(**self.result)


def error_message(exc):
    """The user's message for a library error, with what to do about it
    unless the library's message says it already."""
    message = str(exc)
    if isinstance(exc, errors.PermissionDenied):
        return "%s: %s" % (message, BECOME_HINT if "CAP_NET_ADMIN" in message else ROOT_HINT)
    if isinstance(exc, errors.KernelModuleMissing) and "modprobe" not in message:
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
    return {
        "name": datapath.name,
        "ifindex": datapath.ifindex,
        "features": list(datapath.features),
        "stats": dict(datapath.stats),
        "masks_cache_size": datapath.masks_cache_size,
    }


def vport_info(vport):
    """What the modules return about a :class:`client.Vport`."""
    return {
        "name": vport.name,
        "type": vport.type,
        "port_no": vport.port_no,
        "port": vport.port,
        "stats": dict(vport.stats),
    }


def port_maps(vports):
    """``(name -> port_no, port_no -> name)`` for the text syntax."""
    ports = {vport.name: vport.port_no for vport in vports}
    return ports, {number: name for name, number in ports.items()}


# ---------------------------------------------------------------- facts


def gather_datapath(
    client, datapath, with_flows=True, in_port=None, key_contains=None, limit=None, warn=None
):
    """The facts of one datapath: ``odp_facts``'s ``datapaths.<name>``; the
    flows (those ``in_port`` and ``key_contains`` keep, at most ``limit``)
    with their ``flow_summary``."""
    vports = client.vports(datapath)
    facts = datapath_info(datapath)
    del facts["name"]
    facts["vports"] = {}
    for vport in vports:
        facts["vports"][vport.name] = info = vport_info(vport)
        del info["name"]
    if with_flows:
        numbers, names = port_maps(vports)
        keep = flowfilter.FlowFilter(
            None
            if in_port is None
            else flowfilter.port_number(
                in_port, numbers, "flow_in_port (datapath %s)" % datapath.name
            ),
            key_contains,
            names,
        )
        facts["flows"], facts["flow_summary"] = gather_flows(client, datapath, keep, limit)
        if not facts["flow_summary"]["consistent"] and warn is not None:
            warn(
                "the flow table of datapath %s changed during each of %d dumps: its flows "
                "and flow_summary are those of the last one, which may miss flows added or "
                "deleted meanwhile" % (datapath.name, flowdump.DUMP_ATTEMPTS)
            )
    return facts


def gather_flows(client, datapath, keep, limit=None):
    """``(flow facts, summary)`` of the flows ``keep`` keeps, streamed: only
    the first ``limit`` flows are held, the summary counts them all. A dump
    is retried while the table changed under it (:mod:`flowstream`), up to
    :data:`flowdump.DUMP_ATTEMPTS` dumps."""
    for _attempt in range(flowdump.DUMP_ATTEMPTS):
        dump = flowstream.StreamedDump(client, datapath, keep)
        listed, packets, octets = [], 0, 0
        now = flows.monotonic_ms()
        for flow in dump:
            packets += flow.packets
            octets += flow.bytes
            if limit is None or len(listed) < limit:
                listed.append(flow_facts(flow, keep.port_names, now))
        if dump.consistent:
            break
    return listed, {
        "count": dump.matched,
        "packets": packets,
        "bytes": octets,
        "returned": len(listed),
        "consistent": dump.consistent,
    }


def flow_facts(flow, port_names, now):
    return {
        "key": text.format_key(flow.key, flow.mask, port_names),
        "actions": text.format_actions(flow.actions, port_names),
        "packets": flow.packets,
        "bytes": flow.bytes,
        "used": flows.used_seconds(flow.used, now),
    }
