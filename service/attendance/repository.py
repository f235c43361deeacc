"""Collections `attendance` (one record per session and trainee) and `session_checkins`
(per-session check-in state: closed or not).

Attendance records are read by session: a class's records are those of its sessions, a
trainee's those of (their classes' sessions, user), a region's those of the sessions in question
with the region as a filter. The unique (session, trainee) index serves all of these, so it is
the collection's only index: a whole class checks in within minutes, and every further index is
one more write on each of those inserts.
"""

from pymongo import IndexModel, ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError

from service.core.db import collection, declare_indexes, in_chunks, retire_indexes, utcnow

ATTENDANCE = "attendance"
SESSION_CHECKINS = "session_checkins"

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
        return doc, True
    except DuplicateKeyError:
        return find_noting_nonce(session_id=doc["session_id"], user_id=doc["user_id"], nonce=note_nonce), False


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


def for_session(session_id):
    return list(collection(ATTENDANCE).find({"session_id": session_id}))


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
        return len(collection(ATTENDANCE).insert_many(docs, ordered=False).inserted_ids)
    except BulkWriteError as exc:
        return exc.details.get("nInserted", 0)


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
        return collection(ATTENDANCE).find_one_and_update(query, update, upsert=bool(upsert_doc),
                                                          return_document=ReturnDocument.AFTER)
    except DuplicateKeyError:  # created by a scan at the same moment: apply to that one
        return collection(ATTENDANCE).find_one_and_update(
            {"session_id": session_id, "user_id": user_id}, {k: v for k, v in update.items() if k != "$setOnInsert"},
            return_document=ReturnDocument.AFTER)


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
