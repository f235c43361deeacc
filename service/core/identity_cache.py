"""Per-process cache of bearer token -> trainee identity for IDENTITY_CACHE_SECONDS.

Only identities without a staff role are kept: a staff token is resolved from the database on
every request (its token and the staff accounts), so a deactivation, an unbinding or a logout made
through any process refuses it on the very next request anywhere. Staff tokens are few and their
requests rare; trainee tokens are checked on their signature (service/auth/signed.py) and keep the
documented IDENTITY_CACHE_SECONDS bound. This process forgets at once on logout and on every
staff-account write; a token's own expiry is checked on every hit.

The cache belongs to the app instance (one per process in production), so tests can run two
instances side by side as two processes.
"""

import time

from flask import current_app

from service.core import forksafe
from service.core.db import utcnow

_lock = forksafe.Lock()
_MAX_ENTRIES = 50_000  # bounded memory: cleared wholesale when full (a cache miss is only slower)
_EXTENSION = "identity_cache"


def _entries():
    """token hash -> (cached until (monotonic), token expires_at, identity), of the current app."""
    entries = current_app.extensions.get(_EXTENSION)
    if entries is None:
        entries = current_app.extensions.setdefault(_EXTENSION, {})
    return entries


def get(token_hash):
    entry = _entries().get(token_hash)
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
    entries = _entries()
    with _lock:
        if len(entries) >= _MAX_ENTRIES:
            entries.clear()
        entries[token_hash] = (time.monotonic() + seconds, expires_at, identity)


def forget(token_hash):
    with _lock:
        _entries().pop(token_hash, None)


def forget_all():
    with _lock:
        _entries().clear()
