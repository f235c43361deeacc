"""What the check-in hot path needs, cached per process.

A whole class scans within minutes; re-reading the class document and the class's confirmed
registrations for every scan would multiply the database round trips. Both change rarely
during check-in (confirmation closes before the class starts), so each process keeps them for
ROSTER_CACHE_SECONDS: timetable edits, withdrawals and a closing made by another process show up
within that delay. A trainee (or registration) missing from the cached roster is looked up
directly, so one confirmed after the roster was read can check in at once.
"""

import time

from flask import current_app

from service.attendance import repository
from service.classes import repository as classes_repo
from service.core import forksafe
from service.core.errors import NotFound
from service.registrations import repository as registrations_repo

_lock = forksafe.Lock()
_loading = {}  # cache key -> lock held by the one thread loading it
_cache = {}  # (db name, kind, id) -> (expires, value)


def _cached(kind, key, load):
    cache_key = (current_app.config["MONGODB_DB"], kind, key)
    hit = _cache.get(cache_key)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    with _lock:
        loading = _loading.setdefault(cache_key, forksafe.Lock())
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


def _read_closed(session_id):
    return bool((repository.session_state(session_id) or {}).get("closed_at"))


def is_closed(session_id):
    """Whether a supervisor (or the end-of-session job) closed check-in, as this process last read
    it (at most ROSTER_CACHE_SECONDS old): the check-in hot path, which must not read per scan."""
    return _cached("closed", session_id, lambda: _read_closed(session_id))


def closed_now(session_id):
    """Whether check-in is closed, read from the database now (one read by _id): the board and the
    projector poll this, and every process must agree on it at once after a closing. A closing
    seen here also reaches this process's check-in path at once."""
    closed = _read_closed(session_id)
    if closed:
        with _lock:
            _cache[(current_app.config["MONGODB_DB"], "closed", session_id)] = (float("inf"), True)
    return closed


ROSTER_FIELDS = {"user_id": 1, "region_code": 1, "snapshot.name": 1, "snapshot.mobile_enc": 1,
                 "snapshot.mobile_masked": 1}


def _entry(registration):
    return {"_id": registration["_id"], "region_code": registration["region_code"],
            "name": registration["snapshot"]["name"], "mobile_enc": registration["snapshot"].get("mobile_enc"),
            "mobile_masked": registration["snapshot"].get("mobile_masked")}


def confirmed_roster(class_id):
    """user_id -> the trainee's confirmed registration (only the fields check-in needs)."""

    def load():
        registrations = registrations_repo.confirmed_in_class(class_id, projection=ROSTER_FIELDS)
        return {r["user_id"]: _entry(r) for r in registrations}

    return _cached("roster", class_id, load)


def confirmed_entry(class_id, user_id):
    """The trainee's roster entry in the class, or None if not confirmed."""
    entry = confirmed_roster(class_id).get(user_id)
    if entry is None:  # confirmed since the roster was read?
        found = registrations_repo.confirmed_for(class_id=class_id, user_id=user_id, projection=ROSTER_FIELDS)
        entry = found and _entry(found)
    return entry


def confirmed_by_registration(class_id, registration_id):
    """(user_id, roster entry) of a confirmed registration of the class, or None."""
    found = next(((user_id, entry) for user_id, entry in confirmed_roster(class_id).items()
                  if entry["_id"] == registration_id), None)
    if found is None:  # confirmed since the roster was read?
        registration = registrations_repo.confirmed_by_id(class_id=class_id, registration_id=registration_id,
                                                          projection=ROSTER_FIELDS)
        found = registration and (registration["user_id"], _entry(registration))
    return found
