"""Collections `attendance` (one record per session and trainee), `session_checkins`
(per-session check-in state: closed or not) and `session_tallies` (per-session count of records by
status, what the projector polls: see "The session's tally" below).

Attendance records are read by session: a class's records are those of its sessions, a
trainee's those of (their classes' sessions, user), a region's those of the sessions in question
with the region as a filter. The unique (session, trainee) index serves all of these, so it is
the collection's only index: a whole class checks in within minutes, and every further index is
one more write on each of those inserts.
"""

import logging
import os
import threading
import time
from collections import Counter

from flask import current_app
from pymongo import IndexModel, ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from service.core import forksafe
from service.core.db import collection, declare_indexes, in_chunks, retire_indexes, utcnow

log = logging.getLogger(__name__)

ATTENDANCE = "attendance"
SESSION_CHECKINS = "session_checkins"
SESSION_TALLIES = "session_tallies"
STATUSES = ("present", "late", "absent", "excused")

declare_indexes(
    ATTENDANCE,
    # One record per (session, trainee): a second scan can never write a second record.
    IndexModel([("session_id", 1), ("user_id", 1)], unique=True, name="one_per_session_trainee"),
)
# Class-, trainee- and region-led indexes of earlier versions: their reads now go by session.
retire_indexes(ATTENDANCE, "class_trainee", "report_user_class", "report_region_class")
declare_indexes(SESSION_CHECKINS, IndexModel([("closed_at", 1)], name="closed"))


RETRY_NONCES_KEPT = 10


def insert(doc, *, note_nonce=None):
    """Insert a record; returns (record, created). A duplicate returns the existing one, having
    noted `note_nonce` among its `answered_nonces` (in the same round trip as reading it)."""
    try:
        collection(ATTENDANCE).insert_one(doc)
    except DuplicateKeyError:
        return find_noting_nonce(session_id=doc["session_id"], user_id=doc["user_id"], nonce=note_nonce), False
    _count_later(doc["session_id"], doc["status"])
    return doc, True


def find_noting_nonce(*, session_id, user_id, nonce):
    """The record, after noting `nonce` as one this record has answered (the last few are kept): a
    request retried with that nonce after its code expired is then answered as it was the first
    time. Without a nonce, a plain read."""
    if not nonce:
        return find_one(session_id=session_id, user_id=user_id)
    return collection(ATTENDANCE).find_one_and_update(
        {"session_id": session_id, "user_id": user_id},
        {"$push": {"answered_nonces": {"$each": [nonce], "$slice": -RETRY_NONCES_KEPT}}},
        return_document=ReturnDocument.AFTER)


def find_one(*, session_id, user_id):
    return collection(ATTENDANCE).find_one({"session_id": session_id, "user_id": user_id})


def for_session(session_id, projection=None):
    """The session's records. Polled pages read them whole: the embedded server applies a
    projection document by document in Python, so naming the board's nine fields cost 2.9 ms of
    its CPU per 100 records against 2.1 ms for the whole records (benchmarks/checkin_peak.py)."""
    return list(collection(ATTENDANCE).find({"session_id": session_id}, projection))


def of_classes(*class_docs):
    """The `$match` condition for the records of these classes (documents with their `sessions`):
    their sessions' records, read on the (session, trainee) index. A cancelled session's records
    (check-ins made before it was cancelled) count nowhere."""
    return {"session_id": {"$in": [s["_id"] for c in class_docs for s in c.get("sessions") or []
                                   if not s.get("cancelled")]}}


def for_class(class_doc, user_id=None, *, projection=None):
    query = of_classes(class_doc)
    if user_id is not None:
        query["user_id"] = user_id
    return list(collection(ATTENDANCE).find(query, projection))


def for_trainee(user_id, *, class_docs, statuses=None):
    """One trainee's records across several classes in one query."""
    query = {**of_classes(*class_docs), "user_id": user_id}
    if statuses is not None:
        query["status"] = {"$in": list(statuses)}
    return list(collection(ATTENDANCE).find(query, {"class_id": 1, "session_id": 1, "status": 1}))


def insert_missing(docs):
    """Insert records for trainees without one; existing records (a late scan) win."""
    if not docs:
        return 0
    try:
        inserted = len(collection(ATTENDANCE).insert_many(docs, ordered=False).inserted_ids)
    except BulkWriteError as exc:
        inserted = exc.details.get("nInserted", 0)
    for session_id in {d["session_id"] for d in docs}:
        recount(session_id)  # closing: no check-in comes after it
    return inserted


def set_status(*, session_id, user_id, new_fields, history_entry, expected_status=None, expected_method=None,
               upsert_doc=None):
    """Change a record's status with its history entry (optionally only from `expected_status`
    set by `expected_method`)."""
    query = {"session_id": session_id, "user_id": user_id}
    if expected_status is not None:
        query["status"] = expected_status
    if expected_method is not None:
        query["method"] = expected_method
    update = {"$set": {**new_fields, "updated_at": utcnow()}, "$push": {"history": history_entry}}
    if upsert_doc:
        update["$setOnInsert"] = upsert_doc
    try:
        before = collection(ATTENDANCE).find_one_and_update(query, update, upsert=bool(upsert_doc),
                                                            return_document=ReturnDocument.BEFORE)
        matched = before is not None or bool(upsert_doc)
    except DuplicateKeyError:  # created by a scan at the same moment: apply to that one
        before = collection(ATTENDANCE).find_one_and_update(
            {"session_id": session_id, "user_id": user_id}, {k: v for k, v in update.items() if k != "$setOnInsert"},
            return_document=ReturnDocument.BEFORE)
        matched = before is not None
    if not matched:
        return None
    # A rare write (mark, leave, offline correction): its effect on the tally now, from the status
    # the record had when this update changed it; then the record as it is now.
    moved = Counter({new_fields["status"]: 1})
    if before is not None:
        moved[before["status"]] -= 1
    _count_now(session_id, moved)
    return find_one(session_id=session_id, user_id=user_id)


def session_state(session_id):
    return collection(SESSION_CHECKINS).find_one({"_id": session_id})


def mark_closed(*, session_id, class_id, by):
    """Close once: returns the state document if this call closed it, None if already closed."""
    try:
        return collection(SESSION_CHECKINS).find_one_and_update(
            {"_id": session_id, "closed_at": None},
            {"$set": {"closed_at": utcnow(), "closed_by": by, "class_id": class_id}},
            upsert=True, return_document=ReturnDocument.AFTER)
    except DuplicateKeyError:
        return None


def closed_session_ids(session_ids):
    """Of `session_ids`, those whose check-in was closed (closing records every confirmed trainee)."""
    closed = set()
    for chunk in in_chunks(session_ids):
        closed.update(d["_id"] for d in collection(SESSION_CHECKINS).find(
            {"_id": {"$in": chunk}, "closed_at": {"$ne": None}}, {"_id": 1}))
    return closed


def counts_by_registration(session_ids, region_match):
    """{registration id: records} for these sessions (of one class; region_match {} or
    {"region_code": code}): the KPIs' attendance check of sessions not closed yet."""
    return {g["_id"]: g["n"] for g in collection(ATTENDANCE).aggregate([
        {"$match": {"session_id": {"$in": list(session_ids)}, **region_match}},
        {"$group": {"_id": "$registration_id", "n": {"$sum": 1}}}])}


# ---- The session's tally: what the projector polls --------------------------------------------------
#
# A national peak is 50 classes checking in at once, each projector page polling every second:
# reading a session's ~100 records costs the embedded database about ten times a read by _id (it
# fetches and decodes each one), so the projector reads one small document per session instead,
# `session_tallies` {_id: session id, "present": n, "late": n, "absent": n, "excused": n}.
#
# Every write to a session's records moves it by exactly its own effect, so it equals a count of
# the records: a check-in that created its record is added by its process's flusher thread within
# FLUSH_GATHER_SECONDS, the check-ins of those moments in one $inc per session (the check-in's own
# path stays one insert and no other write); a poll first writes its own process's pending counts,
# so in the process that took the check-in the projector moves at once, in the others within
# FLUSH_GATHER_SECONDS plus a write. Rare writes (marks, leave, offline corrections) move it at
# once, from the status the record had when they changed it. Closing counts the records again (no check-in comes after
# it), and a session without a tally yet (records written before it existed) is counted from its
# records at its first poll. A poll also counts the records again when the tally was last counted
# more than RECOUNT_SECONDS ago (one poll of one process does it: the update is conditional on the
# time it read), so a count lost with a process that died between a check-in's insert and its
# flush, or one a recount and a flush crossed on, is mended within RECOUNT_SECONDS; the board
# counts the records themselves and is exact.

_pending_lock = forksafe.Lock()  # unlocked in a forked child (service.core.forksafe)
_flush_lock = forksafe.Lock()
_pending = {}  # (database name, session id) -> (its tallies collection, Counter of statuses not yet added)
_flusher = {"pid": None, "wake": threading.Event()}
# How long the flusher waits after a check-in for the next ones, which join the same $inc.
FLUSH_GATHER_SECONDS = 0.05
# How old a tally may be before a poll counts the session's records again (a 50-class peak: fewer
# than two recounts a second, against 50 polls a second).
RECOUNT_SECONDS = 30


def _after_fork_in_child():
    # A fork copies none of the parent's threads (its locks come back unlocked: forksafe): the
    # child starts afresh; the parent's pending counts are the parent's to write.
    global _pending
    _pending = {}
    _flusher["pid"] = None


os.register_at_fork(after_in_child=_after_fork_in_child)


def _tallies():
    return collection(SESSION_TALLIES)


def _count_later(session_id, status):
    """A check-in created its record: counted by this process's flusher within FLUSH_GATHER_SECONDS
    (no database write on the check-in's own path)."""
    key = (current_app.config["MONGODB_DB"], session_id)
    with _pending_lock:
        _pending.setdefault(key, (_tallies(), Counter()))[1][status] += 1
    if _flusher["pid"] != os.getpid():  # first check-in of this process (threads do not survive a fork)
        with _pending_lock:
            if _flusher["pid"] != os.getpid():
                _flusher["pid"], _flusher["wake"] = os.getpid(), threading.Event()
                threading.Thread(target=_flush_loop, args=(_flusher["wake"],), name="attendance-tally",
                                 daemon=True).start()
    _flusher["wake"].set()


def _flush_loop(wake):
    while True:
        wake.wait()
        time.sleep(FLUSH_GATHER_SECONDS)
        wake.clear()
        flush_counts()


def flush_counts(*, database=None):
    """Add the pending counts (of `database` only, or all) to their sessions' tallies: one $inc per
    session. Returns once they are written (a poll sees its own process's check-ins)."""
    with _flush_lock:
        with _pending_lock:
            batch = {key: _pending.pop(key) for key in list(_pending) if database in (None, key[0])}
        for (_, session_id), (tallies, counts) in batch.items():
            try:
                _increment(tallies, session_id, counts)
            except PyMongoError:
                log.warning("check-in count of session %s not added to its tally (the closing recounts it)",
                            session_id)


def _increment(target, session_id, counts):
    moves = {status: n for status, n in counts.items() if n}
    if not moves:
        return
    try:
        target.update_one({"_id": session_id}, {"$inc": moves}, upsert=True)
    except DuplicateKeyError:  # created by another process at the same moment
        target.update_one({"_id": session_id}, {"$inc": moves})


def _count_now(session_id, counts):
    _increment(_tallies(), session_id, counts)


def _count_records(session_id):
    counts = Counter(r["status"] for r in collection(ATTENDANCE).find({"session_id": session_id},
                                                                      {"_id": 0, "status": 1}))
    return {status: counts.get(status, 0) for status in STATUSES}


def recount(session_id):
    """Count the session's records now and store the counts (closing); -> {status: n}."""
    figures = _count_records(session_id)
    _tallies().update_one({"_id": session_id}, {"$set": {**figures, "recounted_at": utcnow()}}, upsert=True)
    return figures


def tally(session_id):
    """{status: number of the session's records}, from its tally (one read by _id)."""
    flush_counts(database=current_app.config["MONGODB_DB"])
    found = _tallies().find_one({"_id": session_id})
    if found is None:
        # First poll of a session no write has counted yet: count its records, unless a check-in's
        # count creates the tally meanwhile (then that one stands: it follows every write).
        figures = _count_records(session_id)
        try:
            _tallies().insert_one({"_id": session_id, **figures, "recounted_at": utcnow()})
            return figures
        except DuplicateKeyError:
            found = _tallies().find_one({"_id": session_id})
    counted_at = found.get("recounted_at")  # None: a tally a check-in's count created
    if counted_at is None or (utcnow() - counted_at).total_seconds() > RECOUNT_SECONDS:
        figures = _count_records(session_id)
        # Only the poll that read this time stores its count; the others answer the tally they read.
        _tallies().update_one({"_id": session_id, "recounted_at": counted_at},
                              {"$set": {**figures, "recounted_at": utcnow()}})
        return figures
    return {status: found.get(status, 0) for status in STATUSES}


def have_records(session_id, user_ids):
    """Of `user_ids` (a few: those on leave), those with a record in the session."""
    if not user_ids:
        return set()
    return {r["user_id"] for r in collection(ATTENDANCE).find(
        {"session_id": session_id, "user_id": {"$in": sorted(user_ids)}}, {"_id": 0, "user_id": 1})}


# ---- asked by other features (one named query each, on the (session, trainee) index) --------------

def statuses_of_class(class_doc, *, user_id=None, region_codes=None):
    """The class's records as (user_id, session_id, status) documents, optionally of one trainee or of
    some regions only; a cursor, read once."""
    query = of_classes(class_doc)
    if user_id is not None:
        query["user_id"] = user_id
    if region_codes is not None:
        query["region_code"] = {"$in": sorted(region_codes)}
    return collection(ATTENDANCE).find(query, {"user_id": 1, "session_id": 1, "status": 1})


def status_counts(class_docs, *, user_ids):
    """Records per (class, trainee, status) of these classes and trainees: rows
    {"_id": {"c": class_id, "u": user_id, "s": status}, "n": count}."""
    return collection(ATTENDANCE).aggregate([
        {"$match": {**of_classes(*class_docs), "user_id": {"$in": user_ids}}},
        {"$group": {"_id": {"c": "$class_id", "u": "$user_id", "s": "$status"}, "n": {"$sum": 1}}}])


def session_ids_with_status(*, user_id, session_ids, statuses):
    """Of `session_ids`, those where the trainee's record has one of `statuses`."""
    return {r["session_id"] for r in collection(ATTENDANCE).find(
        {"user_id": user_id, "session_id": {"$in": list(session_ids)}, "status": {"$in": list(statuses)}},
        {"session_id": 1})}


# ---- for the reports feature (read side): the class report and the trainee archive -----------------

def _count_if(condition):
    return {"$sum": {"$cond": [condition, 1, 0]}}


def _status_is(status):
    return {"$eq": ["$status", status]}


def counts_by_session(class_doc, scope_match):
    """{session_id: {status: count}}: grouped on (session, status) with a plain count, which the
    embedded server evaluates about twice as fast as four conditional sums."""
    counts = {}
    for group in collection(ATTENDANCE).aggregate([
            {"$match": {**of_classes(class_doc), **scope_match}},
            {"$group": {"_id": {"session_id": "$session_id", "status": "$status"}, "n": {"$sum": 1}}}]):
        counts.setdefault(group["_id"]["session_id"], {})[group["_id"]["status"]] = group["n"]
    return counts


def figures_of_trainee(user_id, class_docs):
    """{class_id: {present, late, absent, excused, records: [{session_id, status}]}} of one trainee."""
    return {g["_id"]: g for g in collection(ATTENDANCE).aggregate([
        {"$match": {**of_classes(*class_docs), "user_id": user_id}},
        {"$group": {"_id": "$class_id", "present": _count_if(_status_is("present")),
                    "late": _count_if(_status_is("late")), "absent": _count_if(_status_is("absent")),
                    "excused": _count_if(_status_is("excused")),
                    "records": {"$push": {"session_id": "$session_id", "status": "$status"}}}}])}
