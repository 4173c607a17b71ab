# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One request of a family whose command numbers ``netlink.verb`` does not
know (``ovs_meter``, ``ovs_ct_limit``), its errors worded with the caller's verb.

``Transport.request`` names the verb from the datapath families' numbering
(1 create, 2 delete...), which would word a meter SET (2) as a delete.
"""

from __future__ import annotations

from . import errors
from .netlink import KernelError, Transport

# errno -> (exception class, message): a kernel limit worth naming.
Explain = dict[int, tuple[type[errors.OdpError], str]]


def request(
    transport: Transport,
    family: type,
    cmd: int,
    op: str,
    what: str,
    dp_ifindex: int = 0,
    attrs: bytes = b"",
    missing=errors.NotFound,
    explain: Explain | None = None,
) -> list[tuple[int, dict]]:
    """Send one request and wait for its ack; the ``(dp_ifindex, attrs)`` replies.

    A kernel error is raised as the :mod:`errors` exception for ``op`` on
    ``what`` (``set``, ``meter 3 of datapath dp0``), or as ``explain`` says
    for its errno.
    """
    (result,) = transport.transact([(family, cmd, dp_ifindex, attrs, 0)])
    if not isinstance(result, KernelError):
        return result
    if explain and result.errno in explain:
        cls, text = explain[result.errno]
        exc = cls(text + (": kernel says: %s" % result.extack if result.extack else ""))
        exc.errno = result.errno
        exc.extack = result.extack
        raise exc
    raise result.to_error(op, what, missing)
