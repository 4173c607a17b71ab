# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors of the vswitch.odp library.

Every error's message names the object it is about, so callers (the Ansible
modules, the ``odp`` command) can show ``str(error)`` as it is.
"""

from __future__ import annotations

import errno


class OdpError(Exception):
    """Base of every error this library raises.

    ``errno`` is the kernel's (or the socket's) error number where there is
    one. An error made from the kernel's answer also has ``extack``: what the
    kernel said about it, or None.
    ``changed`` is True on an error raised after the datapath was changed and
    not put back; False (the default) when nothing was changed, or what was
    changed was undone.
    """

    errno: int | None = None
    extack: str | None  # only where the kernel answered (no class default)
    changed: bool = False


class ValidationError(OdpError, ValueError):
    """Bad input, caught before anything was sent to the kernel.

    ``field`` names what was wrong (``eth.src``, ``actions[2]``...) and
    ``value`` what was given.
    """

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        OdpError.__init__(self, "%s: invalid value %r: %s" % (field, value, reason))


class KernelModuleMissing(OdpError):
    """The openvswitch kernel module is not loaded and could not be loaded."""


class PermissionDenied(OdpError):
    """The caller lacks CAP_NET_ADMIN."""

    errno = errno.EPERM


class NotFound(OdpError):
    errno = errno.ENOENT


class NoSuchDatapath(NotFound):
    errno = errno.ENODEV


class NoSuchVport(NotFound):
    pass


class NoSuchFlow(NotFound):
    pass


class AlreadyExists(OdpError):
    errno = errno.EEXIST


class PortBusy(OdpError):
    """The network device is already attached to a datapath or otherwise in use."""

    errno = errno.EBUSY


class Unsupported(OdpError):
    """The running kernel does not support what was asked."""

    errno = errno.EOPNOTSUPP


class LockTimeout(OdpError):
    """Another process held the datapath's lock (:mod:`lock`) longer than the timeout."""

    errno = errno.EAGAIN


class KernelRejected(OdpError):
    """The kernel refused a request as invalid (EINVAL and friends).

    Raised by a flow plan whose apply failed (:mod:`flowplan`), it also has
    ``restored``: whether the flow table was put back as it was.
    """

    errno: int | None = errno.EINVAL
    restored: bool


def check_int(field: str, value: object, low: int, high: int, reason: str) -> int:
    """``value`` if it is an integer (not a bool) from ``low`` to ``high``;
    otherwise a :class:`ValidationError` naming ``field`` and saying ``reason``."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValidationError(field, value, reason)
    return value


class ApplyFailed(OdpError):
    """Applying a state document failed, and it was rolled back.

    ``cause`` is the error of the change (or of the verification) that
    failed; ``restored`` is True when the rollback put the checkpoint back
    and reading it back verified it, False when the state is neither.
    """

    def __init__(self, message: str, cause: BaseException, restored: bool) -> None:
        OdpError.__init__(self, message)
        self.cause = cause
        self.restored = restored
        self.errno = getattr(cause, "errno", None)
