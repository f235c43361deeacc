"""The `outbox` collection: one document per message to send."""

from pymongo import IndexModel, ReturnDocument

from service.core.db import collection, declare_indexes, utcnow

OUTBOX = "outbox"

declare_indexes(
    OUTBOX,
    IndexModel([("status", 1), ("next_attempt_at", 1)], name="due"),
    IndexModel("dedupe_key", unique=True, name="dedupe_unique",
               partialFilterExpression={"dedupe_key": {"$type": "string"}}),
    IndexModel("user_id", name="user"),
)


def insert(doc):
    collection(OUTBOX).insert_one(doc)
    return doc


def release_held(held_key, *, now, dedupe_key):
    """A held message (not yet due, never tried) becomes due now, under its real dedupe key."""
    collection(OUTBOX).update_one({"dedupe_key": held_key, "attempts": 0, "next_attempt_at": {"$gt": now}},
                                  {"$set": {"next_attempt_at": now, "dedupe_key": dedupe_key}})


def delete_held(dedupe_key, *, now):
    """Delete a held message that was never tried."""
    collection(OUTBOX).delete_one({"dedupe_key": dedupe_key, "attempts": 0, "next_attempt_at": {"$gt": now}})


def claim_due(*, lease_until):
    """Take one due message for sending; the lease stops two dispatchers sending it twice."""
    now = utcnow()
    return collection(OUTBOX).find_one_and_update(
        {"status": "pending", "next_attempt_at": {"$lte": now}},
        {"$set": {"next_attempt_at": lease_until}, "$inc": {"attempts": 1}},
        sort=[("next_attempt_at", 1)], return_document=ReturnDocument.AFTER)


def mark(message_id, **fields):
    collection(OUTBOX).update_one({"_id": message_id}, {"$set": {**fields, "updated_at": utcnow()}})
