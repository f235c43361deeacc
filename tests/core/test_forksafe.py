"""Locks a forked process gets unlocked (service.core.forksafe): `serve`'s background jobs run as
threads of the gunicorn master, which forks the web workers at start and whenever it replaces one."""

import os
import threading

import pytest

from service.attendance import roster
from service.classes import access
from service.core import forksafe, identity_cache
from service.core.db import mongo
from service.registry import listing


def _held_by_a_thread(lock):
    """Hold `lock` in another thread (as a background job would) until the returned event is set."""
    taken, done = threading.Event(), threading.Event()

    def hold():
        with lock:
            taken.set()
            done.wait(30)

    threading.Thread(target=hold, daemon=True).start()
    assert taken.wait(5)
    return done


def _child_can_take(lock):
    """Fork; the child tries to take `lock` for 2 s and exits 0 if it could. True if it could."""
    pid = os.fork()
    if pid == 0:  # the child: no pytest here, only the answer
        os._exit(0 if lock.acquire(timeout=2) else 1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def test_a_lock_held_by_a_thread_at_the_fork_is_free_in_the_child():
    lock = forksafe.Lock()
    release = _held_by_a_thread(lock)
    try:
        assert _child_can_take(lock)
        assert lock.locked()  # the parent's is still held, by its thread
    finally:
        release.set()


def test_a_plain_lock_would_have_stayed_held():
    """What happened before (re-check q21 F2): the proof that the test above can fail."""
    lock = threading.Lock()
    release = _held_by_a_thread(lock)
    try:
        assert not _child_can_take(lock)
    finally:
        release.set()


@pytest.mark.parametrize("name, lock", [
    ("registry list build", listing._lock), ("roster cache", roster._lock), ("database clients", mongo._lock),
    ("identity cache", identity_cache._lock), ("published classes", access._published_lock)])
def test_the_locks_background_jobs_take_are_fork_safe(name, lock):
    release = _held_by_a_thread(lock)
    try:
        assert _child_can_take(lock), name
    finally:
        release.set()


def test_the_changed_tokens_lock_is_fork_safe(app):
    from service.auth import signed

    lock = signed.state_for(app).lock
    release = _held_by_a_thread(lock)
    try:
        assert _child_can_take(lock)
    finally:
        release.set()
