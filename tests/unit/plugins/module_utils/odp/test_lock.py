"""The per-datapath lock (lock.py): re-entrant per client, exclusive between
processes, a bounded wait that names the holder's pid. No kernel involved:
flock on files in a temporary ODP_LOCK_DIR."""

import os
import time

import pytest
from vswitch_odp import errors
from vswitch_odp.lock import DEFAULT_TIMEOUT, Locks, lock_timeout, netns_id


@pytest.fixture
def lock_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ODP_LOCK_DIR", str(tmp_path))
    monkeypatch.delenv("ODP_LOCK_TIMEOUT", raising=False)
    return tmp_path


def in_child(work):
    """Run ``work()`` in a forked child; ``(pid, read end)``: the child writes
    one line when it holds what ``work`` takes, then waits for EOF on its stdin
    pipe. Returns ``(pid, from_child, to_child)``."""
    up_r, up_w = os.pipe()
    down_r, down_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        try:
            os.close(up_r)
            os.close(down_w)
            with work():
                os.write(up_w, b"held\n")
                os.read(down_r, 1)
        finally:
            os._exit(0)
    os.close(up_w)
    os.close(down_r)
    assert os.read(up_r, 5) == b"held\n"
    return pid, up_r, down_w


def release(child):
    pid, up_r, down_w = child
    os.close(down_w)
    os.close(up_r)
    os.waitpid(pid, 0)


def test_the_lock_file_names_the_namespace_and_the_datapath(lock_dir):
    locks = Locks()
    path = locks.path("dp0")
    assert path == os.path.join(str(lock_dir), netns_id(), "dp0.lock")
    assert netns_id().startswith("net-") and netns_id() == netns_id("/proc/self/ns/net")
    with locks.hold("dp0"):
        assert locks.held("dp0")
        assert os.stat(os.path.dirname(path)).st_mode & 0o777 == 0o700
        with open(path) as lock_file:
            assert lock_file.read().strip() == str(os.getpid())
    assert not locks.held("dp0")


def test_holds_are_reentrant_for_one_client(lock_dir):
    locks, other = Locks(), Locks(timeout=0)
    with locks.hold("dp0"):
        with locks.hold("dp0"):
            pass
        # Still held after the inner hold ended: another client cannot have it.
        with pytest.raises(errors.LockTimeout):
            with other.hold("dp0"):
                pass
    with other.hold("dp0"):  # released at the end of the outer hold
        pass


@pytest.mark.fault
def test_a_second_writer_waits_then_fails_naming_the_holder(lock_dir):
    child = in_child(lambda: Locks().hold("dp0"))
    try:
        start = time.monotonic()
        with pytest.raises(errors.LockTimeout) as info:
            with Locks(timeout=0.3).hold("dp0"):
                pass
        waited = time.monotonic() - start
        assert 0.3 <= waited < 3
        message = str(info.value)
        assert "datapath dp0" in message and "pid %d" % child[0] in message
        assert "ODP_LOCK_TIMEOUT" in message
        with Locks(timeout=0).hold("dp1"):  # other datapaths are free
            pass
    finally:
        release(child)


@pytest.mark.fault
def test_a_waiting_writer_gets_the_lock_when_the_holder_ends(lock_dir):
    child = in_child(lambda: Locks().hold("dp0"))
    pid, up_r, down_w = child
    os.close(down_w)  # the child lets go now
    try:
        with Locks(timeout=10).hold("dp0"):
            with open(Locks().path("dp0")) as lock_file:
                assert lock_file.read().strip() == str(os.getpid())
    finally:
        os.close(up_r)
        os.waitpid(pid, 0)


def test_a_client_closes_its_lock_files(lock_dir):
    locks = Locks(timeout=0)
    with locks.hold("dp0"):
        pass
    fd = locks._files["dp0"]  # pylint: disable=protected-access
    locks.close()
    with pytest.raises(OSError):
        os.fstat(fd)


def test_a_killed_holder_leaves_no_lock(lock_dir):
    pid, up_r, down_w = in_child(lambda: Locks().hold("dp0"))
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    os.close(up_r)
    os.close(down_w)
    with Locks(timeout=0).hold("dp0"):
        pass


@pytest.mark.fault
@pytest.mark.parametrize("value", ["x", "-1", "1e9", "nan"])
def test_bad_timeouts_are_refused(value, monkeypatch):
    with pytest.raises(errors.ValidationError, match="lock_timeout"):
        lock_timeout(value)
    monkeypatch.setenv("ODP_LOCK_TIMEOUT", value)
    with pytest.raises(errors.ValidationError, match="ODP_LOCK_TIMEOUT"):
        lock_timeout()


def test_timeouts(monkeypatch):
    monkeypatch.delenv("ODP_LOCK_TIMEOUT", raising=False)
    assert lock_timeout() == DEFAULT_TIMEOUT == 30
    monkeypatch.setenv("ODP_LOCK_TIMEOUT", "2.5")
    assert lock_timeout() == 2.5 and lock_timeout(0) == 0


@pytest.mark.fault
def test_an_unwritable_lock_dir_is_a_clear_error(tmp_path, monkeypatch):
    locked = tmp_path / "ro"
    locked.mkdir(mode=0o500)
    monkeypatch.setenv("ODP_LOCK_DIR", str(locked))

    def check():
        with pytest.raises(errors.PermissionDenied, match="cannot lock datapath dp0"):
            with Locks().hold("dp0"):
                pass

    if os.geteuid() != 0:
        check()
        return
    # Root writes anywhere: the check runs in a child that is nobody.
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its status
        status = 1
        try:
            os.setgid(65534)
            os.setuid(65534)
            check()
            status = 0
        finally:
            os._exit(status)
    assert os.waitpid(pid, 0)[1] == 0


@pytest.mark.fault
def test_a_missing_namespace_is_not_found(lock_dir):
    with pytest.raises(errors.NotFound, match="network namespace nosuch-ns does not exist"):
        with Locks("nosuch-ns").hold("dp0"):
            pass
