"""Collections `attendance` (one record per session and trainee) and `session_checkins`
(per-session check-in state: closed or not)."""

from pymongo import IndexModel, ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError

from service.core.db import collection, declare_indexes, in_chunks, utcnow

ATTENDANCE = "attendance"
SESSION_CHECKINS = "session_checkins"

declare_indexes(
    ATTENDANCE,
    # One record per (session, trainee): a second scan can never write a second record.
    IndexModel([("session_id", 1), ("user_id", 1)], unique=True, name="one_per_session_trainee"),
    IndexModel([("class_id", 1), ("user_id", 1)], name="class_trainee"),
)
declare_indexes(SESSION_CHECKINS, IndexModel([("closed_at", 1)], name="closed"))


def insert(doc):
    """Insert a record; returns (record, created). A duplicate returns the existing one."""
    try:
        collection(ATTENDANCE).insert_one(doc)
        return doc, True
    except DuplicateKeyError:
        return find_one(session_id=doc["session_id"], user_id=doc["user_id"]), False


def find_one(*, session_id, user_id):
    return collection(ATTENDANCE).find_one({"session_id": session_id, "user_id": user_id})


def for_session(session_id):
    return list(collection(ATTENDANCE).find({"session_id": session_id}))


def for_class(class_id, user_id=None):
    query = {"class_id": class_id}
    if user_id is not None:
        query["user_id"] = user_id
    return list(collection(ATTENDANCE).find(query))


def for_trainee(user_id, *, class_ids, statuses=None):
    """One trainee's records across several classes in one query (on the class_trainee index)."""
    query = {"class_id": {"$in": list(class_ids)}, "user_id": user_id}
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


def set_status(*, session_id, user_id, new_fields, history_entry, expected_status=None, upsert_doc=None):
    """Change a record's status with its history entry (optionally only from `expected_status`)."""
    query = {"session_id": session_id, "user_id": user_id}
    if expected_status is not None:
        query["status"] = expected_status
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
