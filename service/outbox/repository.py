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


def claim_due(*, lease_until):
    """Take one due message for sending; the lease stops two dispatchers sending it twice."""
    now = utcnow()
    return collection(OUTBOX).find_one_and_update(
        {"status": "pending", "next_attempt_at": {"$lte": now}},
        {"$set": {"next_attempt_at": lease_until}, "$inc": {"attempts": 1}},
        sort=[("next_attempt_at", 1)], return_document=ReturnDocument.AFTER)


def mark(message_id, **fields):
    collection(OUTBOX).update_one({"_id": message_id}, {"$set": {**fields, "updated_at": utcnow()}})
