"""Locks a forked process gets unlocked (service.core.forksafe): `serve`'s background jobs run as
threads of the gunicorn master, which forks the web workers at start and whenever it replaces one."""

import _imp
import importlib
import os
import signal
import sys
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


def _a_thread_inside_an_import(tmp_path, name):
    """A thread importing module `name`, whose import takes until the returned event is set (as a
    background job importing netrc at its first request may be when the master forks)."""
    (tmp_path / f"{name}.py").write_text(
        "import builtins\nbuiltins.__dict__[%r + '_entered'].set()\nbuiltins.__dict__[%r + '_release'].wait(30)\n"
        "COMPLETE = True\n" % (name, name))
    import builtins

    entered, release = threading.Event(), threading.Event()
    builtins.__dict__[name + "_entered"], builtins.__dict__[name + "_release"] = entered, release
    sys.path.insert(0, str(tmp_path))
    threading.Thread(target=importlib.import_module, args=(name,), daemon=True).start()
    assert entered.wait(5)
    return release


def _child_can_import(name, fork):
    """Fork with `fork`; the child's main thread imports `name` (as a request thread would: not the
    importing thread's). True if it got the whole module within 3 s (exit 1: it hung)."""
    pid = fork()
    if pid == 0:
        signal.signal(signal.SIGALRM, lambda *_: os._exit(1))
        signal.alarm(3)
        os._exit(0 if getattr(importlib.import_module(name), "COMPLETE", False) else 2)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def test_a_fork_waits_until_no_thread_is_inside_an_import(tmp_path, monkeypatch):
    """Re-check q23 F1: a worker forked while a job thread was importing a module waited forever at
    its first import of that module (all its logins hung). gunicorn's pre_fork hook forks between
    imports: the import in hand finishes first (released here after 0.3 s), none starts meanwhile."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    release = _a_thread_inside_an_import(tmp_path, "forksafe_slow_import_a")
    threading.Timer(0.3, release.set).start()

    def fork():
        forksafe.fork_between_imports()
        return os.fork()

    assert _child_can_import("forksafe_slow_import_a", fork)
    assert "forksafe_slow_import_a" in sys.modules and not _imp.lock_held()  # released after the fork


def test_a_fork_inside_an_import_would_have_hung_the_child(tmp_path, monkeypatch):
    """What happened before: the proof that the test above can fail."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    release = _a_thread_inside_an_import(tmp_path, "forksafe_slow_import_b")
    try:
        assert not _child_can_import("forksafe_slow_import_b", os.fork)
    finally:
        release.set()


def test_serve_and_the_image_fork_between_imports(monkeypatch):
    from service import cli, gunicorn_conf

    forks = []
    monkeypatch.setattr(forksafe, "fork_between_imports", lambda: forks.append("between imports"))
    server = cli._gunicorn(object(), host="127.0.0.1", port=0, workers=1, threads=1)
    server.cfg.pre_fork(server, object())  # as gunicorn's arbiter calls it before each fork
    assert forks == ["between imports"] and server.cfg.pre_fork is gunicorn_conf.pre_fork
