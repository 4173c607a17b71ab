# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ovs-vswitchd's ``userspace`` action cookies, printed as ovs-dpctl prints them.

ovs-vswitchd puts a 48-byte ``struct user_action_cookie`` (lib/odp-util.h)
in the userdata of the ``userspace`` actions it installs: a type, the
OpenFlow in port and the bridge's UUID, then per type (at offset 24, host
byte order, the rule cookie big-endian):

* sFlow: the VLAN TCI and sFlow's output value;
* slow_path: the reasons the flow is handled in userspace (a flag set);
* flow_sample: per-flow IPFIX sampling's parameters;
* ipfix: the output port of bridge IPFIX sampling;
* controller: a packet-in's parameters.

The layout was read from the bytes ``ovs-dpctl add-flow`` sends for each
spelling (tests/unit/plugins/module_utils/odp/text/test_cookie.py holds
them). Other userdata is not a cookie: :func:`format_cookie` answers ``None``
and callers print it as hex.
"""

from __future__ import annotations

import struct
from typing import Callable

COOKIE_SIZE = 48
HEADER = struct.Struct("=HH16s4x")
SFLOW = struct.Struct("=2s2xI")
SLOW_PATH = struct.Struct("=2x2xI")
FLOW_SAMPLE = struct.Struct("=H2xIIIII")
IPFIX = struct.Struct("=I")
CONTROLLER = struct.Struct("=BBHI8sHH")
# enum slow_path_reason, bit by bit (ovs-dpctl spells each).
SLOW_PATH_REASONS = ("cfm", "bfd", "lacp", "stp", "lldp", "action", "match")
DIRECTIONS = {1: ",ingress", 2: ",egress"}


def _port(number: int, names: dict[int, str] | None) -> str:
    return (names or {}).get(number, str(number))


def _sflow(body: bytes, _names) -> str:
    tci_bytes, output = SFLOW.unpack_from(body)
    tci = struct.unpack("!H", tci_bytes)[0]
    return "sFlow(vid=%d,pcp=%d,output=%d)" % (tci & 0xFFF, tci >> 13, output)


def _slow_path(body: bytes, _names) -> str:
    (reasons,) = SLOW_PATH.unpack_from(body)
    words = [name for bit, name in enumerate(SLOW_PATH_REASONS) if reasons & (1 << bit)]
    unknown = reasons & ~((1 << len(SLOW_PATH_REASONS)) - 1)
    return "slow_path(%s)" % ",".join(words + (["0x%x" % unknown] if unknown else []))


def _flow_sample(body: bytes, names) -> str:
    probability, collector, domain, point, output, direction = FLOW_SAMPLE.unpack_from(body)
    return (
        "flow_sample(probability=%d,collector_set_id=%d,obs_domain_id=%d,obs_point_id=%d,"
        "output_port=%s%s)"
        % (
            probability,
            collector,
            domain,
            point,
            _port(output, names),
            DIRECTIONS.get(direction, ""),
        )
    )


def _ipfix(body: bytes, names) -> str:
    return "ipfix(output_port=%s)" % _port(IPFIX.unpack_from(body)[0], names)


def _controller(body: bytes, _names) -> str:
    dont_send, continuation, reason, recirc_id, rule_cookie, controller_id, max_len = (
        CONTROLLER.unpack_from(body)
    )
    return (
        "controller(reason=%d,dont_send=%d,continuation=%d,recirc_id=%d,rule_cookie=0x%x,"
        "controller_id=%d,max_len=%d)"
        % (
            reason,
            dont_send,
            continuation,
            recirc_id,
            struct.unpack("!Q", rule_cookie)[0],
            controller_id,
            max_len,
        )
    )


_BY_TYPE: dict[int, Callable] = {
    1: _sflow,
    2: _slow_path,
    3: _flow_sample,
    4: _ipfix,
    5: _controller,
}


def format_cookie(userdata: bytes, names: dict[int, str] | None = None) -> str | None:
    """``userdata`` as ovs-dpctl prints an ovs-vswitchd cookie
    (``sFlow(vid=5,pcp=3,output=1234)``), ports by name when ``names``
    (port number -> vport name) has them; ``None`` when it is no cookie."""
    if userdata is None or len(userdata) != COOKIE_SIZE:
        return None
    cookie_type = HEADER.unpack_from(userdata)[0]
    formatter = _BY_TYPE.get(cookie_type)
    return None if formatter is None else formatter(userdata[HEADER.size :], names)
