"""The `auth_tokens` collection: hashed bearer tokens, expired by a TTL index."""

from pymongo import IndexModel

from service.core.db import collection, declare_indexes, utcnow

TOKENS = "auth_tokens"

declare_indexes(
    TOKENS,
    # The TTL monitor deletes expired tokens (about once a minute); reads also check expiry.
    IndexModel("expires_at", expireAfterSeconds=0, name="expires_ttl"),
    IndexModel("user_id", name="user"),
)


def insert(*, token_hash, user_id, expires_at, staff):
    # `staff: False` lets a trainee's token resolve without reading staff accounts (one database
    # read less on the busiest request, check-in); it turns True when the user binds an account.
    collection(TOKENS).insert_one(
        {"_id": token_hash, "user_id": user_id, "expires_at": expires_at, "staff": staff, "created_at": utcnow()})


def mark_staff(user_id):
    """The user now holds (or may hold) a staff account: their tokens must read staff accounts."""
    collection(TOKENS).update_many({"user_id": user_id, "staff": False}, {"$set": {"staff": True}})


def find_valid(token_hash):
    return collection(TOKENS).find_one({"_id": token_hash, "expires_at": {"$gt": utcnow()}})


def delete(token_hash):
    return collection(TOKENS).delete_one({"_id": token_hash}).deleted_count
