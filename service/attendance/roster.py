"""What the check-in hot path needs, cached per process for a few seconds.

A whole class scans within minutes; re-reading the class document and the class's confirmed
registrations for every scan would multiply the database round trips. Both change rarely
during check-in, so each process keeps them for ROSTER_CACHE_SECONDS (confirmations and
timetable edits show up within that delay).
"""

import threading
import time

from flask import current_app

from service.attendance import repository
from service.classes import repository as classes_repo
from service.core.errors import NotFound
from service.registrations import repository as registrations_repo

_lock = threading.Lock()
_loading = {}  # cache key -> lock held by the one thread loading it
_cache = {}  # (db name, kind, id) -> (expires, value)


def _cached(kind, key, load):
    cache_key = (current_app.config["MONGODB_DB"], kind, key)
    hit = _cache.get(cache_key)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    with _lock:
        loading = _loading.setdefault(cache_key, threading.Lock())
    # One thread loads. The others wait for it only when there is nothing to serve yet; an
    # expired value is served while it reloads, so a class scanning at full speed never queues
    # behind a reload.
    if not loading.acquire(blocking=hit is None):
        return hit[1]
    try:
        fresh = _cache.get(cache_key)
        if fresh and fresh[0] > time.monotonic():
            return fresh[1]
        value = load()
        with _lock:
            _cache[cache_key] = (time.monotonic() + current_app.config["ROSTER_CACHE_SECONDS"], value)
            _loading.pop(cache_key, None)
        return value
    finally:
        loading.release()


def invalidate():
    """Forget everything (tests that change the database directly)."""
    with _lock:
        _cache.clear()


def forget(kind, key):
    """Forget one entry of this process's cache."""
    with _lock:
        _cache.pop((current_app.config["MONGODB_DB"], kind, key), None)


def session_context(session_id):
    """(class document without sessions, the session) for a session id; 404 if unknown."""

    def load():
        class_doc = classes_repo.find_by_session(session_id)
        if class_doc is None:
            return None
        session = next(s for s in class_doc["sessions"] if s["_id"] == session_id)
        return class_doc, session

    found = _cached("session", session_id, load)
    if found is None:
        raise NotFound("SESSION_NOT_FOUND", "课程不存在")
    return found


def is_closed(session_id):
    """Whether a supervisor (or the end-of-session job) closed check-in."""
    return _cached("closed", session_id, lambda: bool((repository.session_state(session_id) or {}).get("closed_at")))


ROSTER_FIELDS = {"user_id": 1, "region_code": 1, "snapshot.name": 1, "snapshot.mobile_enc": 1,
                 "snapshot.mobile_masked": 1}


def confirmed_roster(class_id):
    """user_id -> the trainee's confirmed registration (only the fields check-in needs)."""

    def load():
        registrations = registrations_repo.confirmed_in_class(class_id, projection=ROSTER_FIELDS)
        return {r["user_id"]: {"_id": r["_id"], "region_code": r["region_code"], "name": r["snapshot"]["name"],
                               "mobile_enc": r["snapshot"].get("mobile_enc"),
                               "mobile_masked": r["snapshot"].get("mobile_masked")}
                for r in registrations}

    return _cached("roster", class_id, load)


def confirmed_by_registration(class_id, registration_id):
    """(user_id, roster entry) of a confirmed registration of the class, or None."""
    return next(((user_id, entry) for user_id, entry in confirmed_roster(class_id).items()
                 if entry["_id"] == registration_id), None)
