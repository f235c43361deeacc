"""The `leave_requests` collection.

`session_ids` are the sessions the requested range covers (fixed at creation).
`claimed_session_ids` are the sessions the request holds right now: all of them while submitted
or approved, the ones before the return after 销假, none once withdrawn, rejected or cancelled.
A unique multikey index on (user_id, claimed_session_ids) means two live requests of one trainee
can never hold the same session, even when both are created at the same moment. Attendance reads
approved / returned-early requests by `claimed_session_ids` to mark sessions `excused`.
"""

from pymongo import IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from service.core.db import collection, declare_indexes

LEAVE_REQUESTS = "leave_requests"

declare_indexes(
    LEAVE_REQUESTS,
    IndexModel([("user_id", 1), ("claimed_session_ids", 1)], unique=True, name="one_live_leave_per_session",
               partialFilterExpression={"claim_active": True}),
    IndexModel([("region_code", 1), ("state", 1), ("created_at", 1)], name="region_inbox"),
    IndexModel([("class_id", 1), ("state", 1), ("claimed_session_ids", 1)], name="class_sessions"),
    IndexModel([("user_id", 1), ("created_at", -1)], name="mine"),
    IndexModel([("state", 1), ("created_at", 1), ("reminded_at", 1)], name="reminders"),
)


class SessionAlreadyClaimed(Exception):
    """Another live request of the same trainee holds one of the sessions."""


def insert(doc):
    try:
        collection(LEAVE_REQUESTS).insert_one(doc)
    except DuplicateKeyError:
        raise SessionAlreadyClaimed() from None
    return doc


def get(leave_id):
    return collection(LEAVE_REQUESTS).find_one({"_id": leave_id})


def find(query, *, sort=(("created_at", 1), ("_id", 1)), skip=0, limit=0):
    cursor = collection(LEAVE_REQUESTS).find(query).sort(list(sort)).skip(skip).limit(limit)
    return list(cursor), collection(LEAVE_REQUESTS).count_documents(query)


def transition(*, leave_id, from_state, version, to_state, entry, extra_set=None):
    """Move one request from `from_state` at `version`; None when someone else moved it first."""
    update = {"$set": {"state": to_state, "updated_at": entry["at"], **(extra_set or {})},
              "$inc": {"version": 1}, "$push": {"history": entry}}
    return collection(LEAVE_REQUESTS).find_one_and_update(
        {"_id": leave_id, "state": from_state, "version": version}, update, return_document=ReturnDocument.AFTER)


def push_acknowledgement(*, leave_id, acknowledgement):
    return collection(LEAVE_REQUESTS).find_one_and_update(
        {"_id": leave_id}, {"$push": {"acknowledgements": acknowledgement}}, return_document=ReturnDocument.AFTER)


def live_for_trainee(*, class_id, user_id):
    """Submitted, approved and returned-early requests of one trainee in one class."""
    return list(collection(LEAVE_REQUESTS).find(
        {"class_id": class_id, "user_id": user_id, "state": {"$in": ["submitted", "approved", "returned_early"]}}))


def mark_reminded(*, leave_id, now):
    """Claim the one reminder of a pending request (conditional, so two workers send it once)."""
    return collection(LEAVE_REQUESTS).find_one_and_update(
        {"_id": leave_id, "state": "submitted", "reminded_at": None}, {"$set": {"reminded_at": now}},
        return_document=ReturnDocument.AFTER)


def pending_older_than(moment, limit=200):
    return list(collection(LEAVE_REQUESTS).find(
        {"state": "submitted", "created_at": {"$lte": moment}, "reminded_at": None}).limit(limit))


# ---- asked by other features (one named query each; the indexes above serve them) ------------------

# Approved requests, and the part before the return of one returned early (销假), excuse sessions.
EXCUSING_STATES = ["approved", "returned_early"]


def approved_covering(*, class_id, session_id):
    """Approved leave covering the session (index `class_sessions`): who is excused, and how.

    The board and the projector ask this on every poll. The index is named (`hint`): the embedded
    server otherwise weighs the collection's indexes on each query, 0.67 ms of its CPU against
    0.23 ms hinted (benchmarks/checkin_peak.py's sharpest load); MongoDB would choose it anyway."""
    return list(collection(LEAVE_REQUESTS).find(
        {"class_id": class_id, "state": {"$in": EXCUSING_STATES}, "claimed_session_ids": session_id},
        {"user_id": 1, "type": 1, "acknowledgements": 1}).hint("class_sessions"))


def approved_session_ids(*, class_id, user_id):
    """Sessions of the class the trainee's approved leave covers."""
    return {sid for leave in collection(LEAVE_REQUESTS).find(
        {"class_id": class_id, "user_id": user_id, "state": {"$in": EXCUSING_STATES}},
        {"claimed_session_ids": 1}) for sid in leave.get("claimed_session_ids") or []}


def with_proof(attachment_id):
    """The request whose proof is the attachment (region and class only), or None."""
    return collection(LEAVE_REQUESTS).find_one({"proof_attachment_id": attachment_id},
                                                {"region_code": 1, "class_id": 1})


def taken_counts(*, user_ids, class_ids):
    """Approved (or returned-early) requests per (class, trainee): rows {"_id": {"c", "u"}, "n"}."""
    return collection(LEAVE_REQUESTS).aggregate([
        {"$match": {"user_id": {"$in": user_ids}, "class_id": {"$in": class_ids},
                    "state": {"$in": EXCUSING_STATES}}},
        {"$group": {"_id": {"c": "$class_id", "u": "$user_id"}, "n": {"$sum": 1}}}])


# ---- for the reports feature (read side): the class report and the trainee archive -----------------

def approved_by_type(class_id, scope_match):
    """[{_id: type, requests, users}] for approved leave (returned early included) of one class."""
    return list(collection(LEAVE_REQUESTS).aggregate([
        {"$match": {"class_id": class_id, "state": {"$in": EXCUSING_STATES}, **scope_match}},
        {"$group": {"_id": "$type", "requests": {"$sum": 1}, "users": {"$addToSet": "$user_id"}}}]))


def of_trainee_in_classes(user_id, class_ids):
    """The trainee's requests in these classes (type, dates, state), by start."""
    return list(collection(LEAVE_REQUESTS).find(
        {"user_id": user_id, "class_id": {"$in": list(class_ids)}},
        {"class_id": 1, "type": 1, "starts_at": 1, "ends_at": 1, "state": 1, "created_at": 1}).sort([("starts_at", 1)]))
