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
