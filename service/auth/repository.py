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


def insert(*, token_hash, user_id, expires_at):
    collection(TOKENS).insert_one(
        {"_id": token_hash, "user_id": user_id, "expires_at": expires_at, "created_at": utcnow()})


def find_valid(token_hash):
    return collection(TOKENS).find_one({"_id": token_hash, "expires_at": {"$gt": utcnow()}})


def delete(token_hash):
    return collection(TOKENS).delete_one({"_id": token_hash}).deleted_count
