"""The `auth_tokens` collection: hashed bearer tokens, expired by a TTL index.

A logout marks the token revoked rather than deleting it, and every change after issue sets
`changed_at`: processes that accept trainee tokens on their signature read those changes
(see service/auth/signed.py).
"""

from pymongo import IndexModel

from service.core.db import collection, declare_indexes, utcnow

TOKENS = "auth_tokens"
LOGIN_CODES = "login_codes"

declare_indexes(
    TOKENS,
    # The TTL monitor deletes expired tokens (about once a minute); reads also check expiry.
    IndexModel("expires_at", expireAfterSeconds=0, name="expires_ttl"),
    IndexModel("user_id", name="user"),
    IndexModel("changed_at", name="changed", partialFilterExpression={"changed_at": {"$type": "date"}}),
)
# Codes WeChat accepted, kept briefly (a keyed digest, never the code) so that a phone re-sending its
# code after a timeout is answered like the first time (service/auth/service.py).
declare_indexes(LOGIN_CODES, IndexModel("expires_at", expireAfterSeconds=0, name="expires_ttl"))


def remember_code(*, code_digest, openid, unionid, expires_at):
    collection(LOGIN_CODES).update_one(
        {"_id": code_digest},
        {"$setOnInsert": {"openid": openid, "unionid": unionid, "expires_at": expires_at, "created_at": utcnow()}},
        upsert=True)


def remembered_code(code_digest):
    return collection(LOGIN_CODES).find_one({"_id": code_digest, "expires_at": {"$gt": utcnow()}})


def insert(*, token_hash, user_id, expires_at, staff):
    # `staff: False` lets a trainee's token resolve without reading staff accounts (one database
    # read less on the busiest request, check-in); it turns True when the user binds an account.
    collection(TOKENS).insert_one(
        {"_id": token_hash, "user_id": user_id, "expires_at": expires_at, "staff": staff, "created_at": utcnow()})


def mark_staff(user_id):
    """The user now holds (or may hold) a staff account: their tokens must read staff accounts.
    Returns {token hash: expiry} of the tokens changed."""
    query = {"user_id": user_id, "staff": False, "expires_at": {"$gt": utcnow()}}
    changed = {d["_id"]: d["expires_at"] for d in collection(TOKENS).find(query, {"expires_at": 1})}
    if changed:
        collection(TOKENS).update_many({"_id": {"$in": list(changed)}},
                                       {"$set": {"staff": True, "changed_at": utcnow()}})
    return changed


def revoke_all_of_user(user_id):
    """Revoke every live token of the user (staff account deactivated or unbound).
    Returns {token hash: expiry} of the tokens revoked."""
    now = utcnow()
    query = {"user_id": user_id, "expires_at": {"$gt": now}, "revoked_at": {"$exists": False}}
    revoked = {d["_id"]: d["expires_at"] for d in collection(TOKENS).find(query, {"expires_at": 1})}
    if revoked:
        collection(TOKENS).update_many({"_id": {"$in": list(revoked)}, "revoked_at": {"$exists": False}},
                                       {"$set": {"revoked_at": now, "changed_at": now}})
    return revoked


def find_valid(token_hash):
    return collection(TOKENS).find_one(
        {"_id": token_hash, "expires_at": {"$gt": utcnow()}, "revoked_at": {"$exists": False}})


def revoke(token_hash):
    """Returns the token's expiry if this call revoked it, else None."""
    now = utcnow()
    doc = collection(TOKENS).find_one_and_update(
        {"_id": token_hash, "revoked_at": {"$exists": False}}, {"$set": {"revoked_at": now, "changed_at": now}},
        projection={"expires_at": 1})
    return doc["expires_at"] if doc else None


def changed_since(since):
    """Tokens changed at or after `since`, still unexpired: [{_id, expires_at}].

    Every process asks this every IDENTITY_CACHE_SECONDS (service/auth/signed.py). Without the
    partial index `changed` this scans every token (the embedded server did: 97 ms at 5,000
    tokens under its storage lock, a stall of every request of the check-in peak once per process
    every 20 s; its mend 4 now proves the index usable). The index is named so that no planner
    has to prove `$gte` a date inside `$type: "date"`; the hint is sound because such a `$gte`
    matches only documents whose `changed_at` is a date, exactly the index's documents."""
    return collection(TOKENS).find({"changed_at": {"$gte": since}, "expires_at": {"$gt": utcnow()}},
                                   {"expires_at": 1}).hint("changed")
