"""The run lock (filelock): a second run waits with a message, gives up with a machine error, or hands over."""

from __future__ import annotations

import io
import multiprocessing
import os

import pytest

from provision.errors import MachineError
from provision.run.lock import Busy, exclusive


def _hold(path: str, ready, release) -> None:  # in another process: flock is per open file, per process here
    with exclusive(path):
        ready.set()
        release.wait(30)


@pytest.fixture
def held(tmp_path):
    path = str(tmp_path / "state" / "bootstrap.lock")
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold, args=(path, ready, release))
    proc.start()
    assert ready.wait(10)
    yield path, proc.pid
    release.set()
    proc.join(10)


def test_not_blocking_is_busy(held):
    path, _ = held
    with pytest.raises(Busy), exclusive(path, blocking=False):
        pass


def _try_once(path: str, result) -> None:
    try:
        with exclusive(path, wait=0.2, notice=io.StringIO()):
            result.put("taken")
    except MachineError:
        result.put("still held")


def test_a_lock_taken_without_waiting_keeps_a_waiting_run_out(tmp_path):
    """The confirm-only attempt (flock(2) itself) and filelock exclude each other on the same file."""
    path = str(tmp_path / "state" / "bootstrap.lock")
    ctx = multiprocessing.get_context("fork")
    result = ctx.Queue()
    with exclusive(path, blocking=False) as waited:
        assert waited is False and os.stat(path).st_mode & 0o077 == 0
        proc = ctx.Process(target=_try_once, args=(path, result))
        proc.start()
        proc.join(10)
        assert result.get(timeout=5) == "still held"
    proc = ctx.Process(target=_try_once, args=(path, result))
    proc.start()
    proc.join(10)
    assert result.get(timeout=5) == "taken"


def test_waits_with_the_holder_named_then_gives_up_as_a_machine_condition(held):
    path, pid = held
    notice = io.StringIO()
    with pytest.raises(MachineError) as err, exclusive(path, wait=0.3, notice=notice):
        pass
    assert f"pid {pid}" in notice.getvalue() and "waiting" in notice.getvalue()
    assert err.value.exit_code == 1 and "still holds" in str(err.value)


def test_free_lock_is_taken_without_waiting_and_is_private(tmp_path):
    path = str(tmp_path / "state" / "bootstrap.lock")
    with exclusive(path) as waited:
        assert waited is False
        assert os.stat(path).st_mode & 0o077 == 0
    with exclusive(path) as waited:  # released: taken again at once
        assert waited is False
