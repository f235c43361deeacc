"""Locks a forked process gets unlocked.

`lingjun serve` runs the background jobs as threads of the gunicorn master, and the master forks
the web workers: at start, and again whenever one is replaced (a worker past gunicorn's timeout,
one that crashed). A fork copies every lock as it is and none of the threads: a lock one of those
jobs held at that moment stayed held in the new worker, by a thread that does not exist there, and
the worker's first request needing it waited forever. The registry list's build lock, held for the
tens of seconds of a build after each import, did exactly that (re-check q21 F2: a list request
right after a national import never answered). A `Lock` from here is new and unlocked in a child.
"""

import os
import threading
import weakref

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
