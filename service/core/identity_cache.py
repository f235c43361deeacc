"""Per-process cache of bearer token -> identity for IDENTITY_CACHE_SECONDS.

Resolving a staff token costs two database reads (the token, the staff accounts); a trainee
token is checked on its signature (service/auth/signed.py). Every process keeps what it resolved
for a few seconds. The trade-off, accepted on purpose: a logout or a staff-account
change made through *another* process is noticed here only after the cache delay. This process
forgets at once: logout, binding and every staff-account write call `forget_all()`; a token's own
expiry is checked on every hit.
"""

import threading
import time

from flask import current_app

from service.core.db import utcnow

_lock = threading.Lock()
_entries = {}  # (database, token hash) -> (cached until (monotonic), token expires_at, identity)
_MAX_ENTRIES = 50_000  # bounded memory: cleared wholesale when full (a cache miss is only slower)


def _key(token_hash):
    return current_app.config["MONGODB_DB"], token_hash


def get(token_hash):
    entry = _entries.get(_key(token_hash))
    if entry is None:
        return None
    cached_until, expires_at, identity = entry
    if cached_until < time.monotonic() or expires_at <= utcnow():
        return None
    return identity


def put(token_hash, *, expires_at, identity):
    seconds = current_app.config["IDENTITY_CACHE_SECONDS"]
    if seconds <= 0:
        return
    with _lock:
        if len(_entries) >= _MAX_ENTRIES:
            _entries.clear()
        _entries[_key(token_hash)] = (time.monotonic() + seconds, expires_at, identity)


def forget(token_hash):
    with _lock:
        _entries.pop(_key(token_hash), None)


def forget_all():
    with _lock:
        _entries.clear()
