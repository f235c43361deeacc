"""Bearer tokens a process can check without reading the database.

A token reads `<user id>.<expiry, unix seconds>.<kind>.<random>.<signature>`: the signature is an
HMAC of the rest under a key derived from SECRET_KEY, `kind` is `t` for a user who held no staff
account when logging in, `s` otherwise. Clients treat the whole string as opaque.

Every token is also stored hashed in `auth_tokens`, which stays the authority. A `t` token is
accepted on its signature and expiry alone — no database read on the busiest requests (check-in) —
unless it has *changed* since it was issued: logged out, or its user became staff. Each process keeps
the hashes of changed tokens and re-reads them every IDENTITY_CACHE_SECONDS, the same delay the
identity cache already allows for a change made through another process; the process that made
the change knows at once. `s` tokens and any token that fails the check go to the database on
every request (service/auth/service.py), so staff changes take effect everywhere at once.

The set of changed tokens belongs to the app instance (one per process in production).
"""

import base64
import datetime as dt
import functools
import hashlib
import hmac
import secrets
import time

from bson import ObjectId
from bson.errors import InvalidId
from flask import current_app

from service.auth import repository as tokens
from service.core import forksafe
from service.core.db import utcnow

TRAINEE_KIND, STAFF_KIND = "t", "s"
# Writes made by another process may commit a little after the time they carry: re-read this much.
_SYNC_OVERLAP = dt.timedelta(minutes=2)


@functools.lru_cache(maxsize=4)
def _key(secret_key):
    return hmac.new(secret_key.encode(), b"lingjun-bearer-token", hashlib.sha256).digest()


def _signature(payload):
    mac = hmac.new(_key(current_app.config["SECRET_KEY"]), payload.encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(mac).decode()


def issue(*, user_id, expires_at, staff):
    payload = f"{user_id}.{int(expires_at.timestamp())}.{STAFF_KIND if staff else TRAINEE_KIND}." \
              f"{secrets.token_urlsafe(18)}"
    return f"{payload}.{_signature(payload)}"


def trainee_user(token):
    """The user id of a well-signed, unexpired trainee (`t`) token; None for anything else."""
    parts = token.split(".")
    if len(parts) != 5 or parts[2] != TRAINEE_KIND:
        return None
    payload, signature = token.rsplit(".", 1)
    if not hmac.compare_digest(signature.encode(), _signature(payload).encode()):
        return None
    try:
        user_id, expires = ObjectId(parts[0]), int(parts[1])
    except (InvalidId, ValueError):
        return None
    if expires <= utcnow().timestamp():
        return None
    return user_id, dt.datetime.fromtimestamp(expires, dt.timezone.utc)


class _ChangedTokens:
    """The hashes of tokens changed since issue (logged out, or their user became staff), per database."""

    def __init__(self):
        self.lock = forksafe.Lock()
        self.hashes = {}  # token hash -> its expiry (forgotten once expired)
        self.read_until = None  # changes up to this time (UTC) have been read
        self.next_read = 0.0  # monotonic


_EXTENSION = "changed_tokens"


def state_for(app):
    state = app.extensions.get(_EXTENSION)
    if state is None:
        state = app.extensions.setdefault(_EXTENSION, _ChangedTokens())
    return state


def _state():
    return state_for(current_app)


def _refresh(state):
    now = time.monotonic()
    if now < state.next_read:
        return
    # One thread re-reads; the others go on with the set as it is, unless it was never read.
    if not state.lock.acquire(blocking=state.read_until is None):
        return
    try:
        if now < state.next_read:
            return
        started = utcnow()
        since = (state.read_until - _SYNC_OVERLAP if state.read_until
                 else started - dt.timedelta(hours=current_app.config["TOKEN_TTL_HOURS"]))
        changed = {doc["_id"]: doc["expires_at"] for doc in tokens.changed_since(since)}
        state.hashes = {h: exp for h, exp in {**state.hashes, **changed}.items() if exp > started}
        state.read_until = started
        state.next_read = now + current_app.config["IDENTITY_CACHE_SECONDS"]
    finally:
        state.lock.release()


def has_changed(token_hash):
    state = _state()
    _refresh(state)
    return token_hash in state.hashes


def note_changed(expiry_by_hash):
    """This process changed these tokens ({hash: expiry}): it stops trusting their signature at once."""
    state = _state()
    with state.lock:
        state.hashes.update(expiry_by_hash)
