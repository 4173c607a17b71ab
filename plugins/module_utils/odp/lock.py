# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-datapath lock that serialises writers.

Two runs that change one datapath at once can undo each other's work (one
run's plan is stale by the time it applies it). Every writer of this library
(the Client's write methods, the modules across read-plan-apply, ``odp``, the
restore after a refusal) takes an exclusive ``flock`` on

    /run/vswitch-odp/net-<inode>/<datapath>.lock

where ``<inode>`` is the network namespace's inode number: the same
namespace has one lock whatever it is called (``netns: blue``, ``ip netns
exec blue``, ``/proc/PID/ns/net``). The holder writes its pid into the file;
a second writer waits up to the timeout (``ODP_LOCK_TIMEOUT`` seconds,
default 30) and then fails naming that pid. ``ODP_LOCK_DIR`` moves the
directory. The kernel drops an ``flock`` when its holder dies, so a killed
run never leaves the datapath locked.

Writers that do not use this library (``ovs-dpctl``, ``ovs-vswitchd``) do not
take the lock.
"""

import contextlib
import errno
import fcntl
import os
import time

from . import errors

LOCK_DIR = "/run/vswitch-odp"
DEFAULT_TIMEOUT = 30.0
ENV_TIMEOUT = "ODP_LOCK_TIMEOUT"
ENV_DIR = "ODP_LOCK_DIR"
_POLL_FIRST, _POLL_MAX = 0.005, 0.2  # seconds between tries, growing


def lock_timeout(value=None, environ=None):
    """The timeout in seconds: ``value``, else ``ODP_LOCK_TIMEOUT``, else 30."""
    if value is None:
        value = (os.environ if environ is None else environ).get(ENV_TIMEOUT)
        if value is None or value == "":
            return DEFAULT_TIMEOUT
        field = ENV_TIMEOUT
    else:
        field = "lock_timeout"
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if isinstance(value, bool) or not 0 <= seconds <= 86400:
        raise errors.ValidationError(
            field, value, "seconds to wait for the datapath's lock, from 0 to 86400"
        )
    return seconds


def netns_id(netns=None):
    """``net-<inode>`` of the network namespace ``netns`` (a name under
    /run/netns or a path), or of this thread's namespace."""
    if netns is None:
        path = "/proc/thread-self/ns/net"
    else:
        path = netns if "/" in netns else os.path.join("/run/netns", netns)
    try:
        return "net-%d" % os.stat(path).st_ino
    except OSError as exc:
        raise errors.NotFound(
            "network namespace %s does not exist (%s)" % (netns or "of this process", exc.strerror)
        )


class Locks:
    """The datapath locks of one client: re-entrant, one open file each.

    ``hold(name)`` is a context manager; nested holds of one datapath by the
    same client take the lock once. Lock files stay open until :meth:`close`
    (a hold then costs two ``flock`` calls and a write). Not shared between
    threads (like the client).
    """

    def __init__(self, netns=None, timeout=None, directory=None):
        self.timeout = lock_timeout(timeout)
        self.directory = directory or os.environ.get(ENV_DIR) or LOCK_DIR
        self._netns = netns
        self._space = None
        self._files = {}  # datapath name -> open lock file (fd)
        self._depth = {}  # datapath name -> holds

    def path(self, name, suffix=".lock"):
        """The lock file of datapath ``name``; with ``suffix``, a file of
        the datapath's kept beside it (its meter record)."""
        if self._space is None:
            self._space = netns_id(self._netns)
        return os.path.join(self.directory, self._space, name + suffix)

    def held(self, name):
        return name in self._depth

    def close(self):
        """Close the lock files (releasing any lock still held)."""
        for fd in self._files.values():
            os.close(fd)
        self._files.clear()
        self._depth.clear()

    @contextlib.contextmanager
    def hold(self, name):
        if name in self._depth:
            self._depth[name] += 1
        else:
            fd = self._file(name)
            self._wait(fd, name)
            self._depth[name] = 1
        try:
            yield
        finally:
            self._depth[name] -= 1
            if not self._depth[name]:
                del self._depth[name]
                fcntl.flock(self._files[name], fcntl.LOCK_UN)

    def _file(self, name):
        fd = self._files.get(name)
        if fd is not None:
            return fd
        path = self.path(name)
        try:
            os.makedirs(os.path.dirname(path), 0o700, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise errors.PermissionDenied(
                    "cannot lock datapath %s (%s): %s, root or CAP_NET_ADMIN is required"
                    % (name, path, exc.strerror)
                )
            raise errors.OdpError("cannot lock datapath %s (%s): %s" % (name, path, exc.strerror))
        self._files[name] = fd
        return fd

    def _wait(self, fd, name):
        """Lock ``fd``, waiting up to the timeout, then write our pid in it
        (fixed width: no truncation needed) for a writer that waits."""
        deadline = time.monotonic() + self.timeout
        pause = _POLL_FIRST
        path = self.path(name)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise errors.OdpError(
                        "cannot lock datapath %s (%s): %s" % (name, path, exc.strerror)
                    )
            left = deadline - time.monotonic()
            if left <= 0:
                raise errors.LockTimeout(
                    "datapath %s is being changed by another process (%s holds %s): waited %g s "
                    "(%s or the lock_timeout option sets how long)"
                    % (name, holder(fd), path, self.timeout, ENV_TIMEOUT)
                )
            time.sleep(min(pause, left))
            pause = min(pause * 2, _POLL_MAX)
        try:
            os.pwrite(fd, b"%10d\n" % os.getpid(), 0)
        except OSError as exc:
            fcntl.flock(fd, fcntl.LOCK_UN)
            raise errors.OdpError("cannot lock datapath %s (%s): %s" % (name, path, exc.strerror))


def holder(fd):
    """``pid N`` written by the lock's holder, or what is known."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        text = ""
    return "pid %s" % text if text.isdigit() else "a process whose pid is not written yet"
