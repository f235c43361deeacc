"""Locks a forked process gets unlocked.

`lingjun serve` runs the background jobs as threads of the gunicorn master, and the master forks
the web workers: at start, and again whenever one is replaced (a worker past gunicorn's timeout,
one that crashed). A fork copies every lock as it is and none of the threads: a lock one of those
jobs held at that moment stayed held in the new worker, by a thread that does not exist there, and
the worker's first request needing it waited forever. The registry list's build lock, held for the
tens of seconds of a build after each import, did exactly that (re-check q21 F2: a list request
right after a national import never answered). A `Lock` from here is new and unlocked in a child.

Python's own import locks are copied the same way: a fork while a job thread was inside an import
(requests imports `netrc` at a request's first use, gridfs, Pillow's plugins ...) left that
module's lock held in the child, and the child's first request importing it waited forever (re-check
q23 F1: every login of one worker of a fresh `serve --demo` hung, then its other requests queued
behind them). `fork_between_imports`, gunicorn's pre_fork hook, forks only while no thread is
inside an import, holding the interpreter's import lock across the fork so that none starts.
"""

import _imp
import importlib._bootstrap
import logging
import os
import threading
import time
import weakref

log = logging.getLogger(__name__)

_locks = weakref.WeakSet()


class Lock:
    """threading.Lock, replaced by a new unlocked one in a forked child (os.register_at_fork)."""

    __slots__ = ("_lock", "__weakref__")

    def __init__(self):
        self._lock = threading.Lock()
        _locks.add(self)

    def acquire(self, blocking=True, timeout=-1):
        return self._lock.acquire(blocking, timeout)

    def release(self):
        self._lock.release()

    def locked(self):
        return self._lock.locked()

    def __enter__(self):
        return self._lock.acquire()

    def __exit__(self, *exc_info):
        self._lock.release()


def _new_locks_in_child():
    # The child has one thread (the one that forked): nothing else touches the set meanwhile.
    for lock in list(_locks):
        lock._lock = threading.Lock()


os.register_at_fork(after_in_child=_new_locks_in_child)


# -- forks between imports ---------------------------------------------------------------------------

IMPORT_WAIT_SECONDS = 5
_import_lock_for_fork = {"held": False}


def _imports_in_progress():
    # importlib keeps a lock per module while it is imported (found, loaded, executed) and drops it
    # at the end: none is left when no thread is importing. (CPython's importlib internals, 3.11+.)
    return bool(importlib._bootstrap._module_locks)


def fork_between_imports(timeout=IMPORT_WAIT_SECONDS):
    """Take the interpreter's import lock at a moment when no thread is inside an import, and keep it
    until the fork is done (released right after it, in the parent and the child): no import is half
    done in the child. A thread only needs the lock to start an import, so one inside an import
    finishes meanwhile; after `timeout` seconds the fork goes ahead (logged). gunicorn pre_fork hook."""
    deadline = time.monotonic() + timeout
    while True:
        _imp.acquire_lock()
        if not _imports_in_progress():
            _import_lock_for_fork["held"] = True
            return
        _imp.release_lock()
        if time.monotonic() > deadline:
            log.warning("forking a web worker while another thread is importing a module")
            return
        time.sleep(0.005)


def _release_import_lock_after_fork():
    # In the child CPython re-creates the import lock held once by this (the forking) thread when
    # it was held beyond the fork's own hold: released here in both processes.
    if _import_lock_for_fork["held"]:
        _import_lock_for_fork["held"] = False
        _imp.release_lock()


os.register_at_fork(after_in_parent=_release_import_lock_after_fork, after_in_child=_release_import_lock_after_fork)
