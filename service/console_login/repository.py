"""The `console_logins` (one-time login requests) and `console_sessions` collections.

Both live in MongoDB so every process agrees: a request confirmed through one process is seen by
the console polling another, and a logout or expiry ends a session for all of them at once.
"""

from pymongo import IndexModel, ReturnDocument

from service.core.db import collection, declare_indexes, utcnow

LOGINS = "console_logins"
SESSIONS = "console_sessions"

PENDING, CONFIRMED, USED = "pending", "confirmed", "used"

declare_indexes(
    LOGINS,
    # Kept an hour past expiry so a late confirmation is told "expired" rather than "not found".
    IndexModel("expires_at", expireAfterSeconds=3600, name="expires_ttl"),
)
declare_indexes(
    SESSIONS,
    IndexModel("expires_at", expireAfterSeconds=0, name="expires_ttl"),
    IndexModel("user_id", name="user"),
)


def insert_login(doc):
    collection(LOGINS).insert_one(doc)
    return doc


def get_login(login_id):
    return collection(LOGINS).find_one({"_id": login_id})


def confirm_login(*, login_id, user_id):
    """pending -> confirmed in one conditional update; None when not pending or expired."""
    now = utcnow()
    return collection(LOGINS).find_one_and_update(
        {"_id": login_id, "status": PENDING, "expires_at": {"$gt": now}},
        {"$set": {"status": CONFIRMED, "user_id": user_id, "confirmed_at": now}},
        return_document=ReturnDocument.AFTER)


def use_login(*, login_id, poll_hash):
    """confirmed -> used, once, by the console holding the poll secret; None otherwise."""
    now = utcnow()
    return collection(LOGINS).find_one_and_update(
        {"_id": login_id, "poll_hash": poll_hash, "status": CONFIRMED, "expires_at": {"$gt": now}},
        {"$set": {"status": USED, "used_at": now}},
        return_document=ReturnDocument.AFTER)


def unuse_login(*, login_id, used_at):
    """used -> confirmed again, for the exchange that used it at `used_at` and then failed."""
    collection(LOGINS).update_one({"_id": login_id, "status": USED, "used_at": used_at},
                                  {"$set": {"status": CONFIRMED}, "$unset": {"used_at": ""}})


def insert_session(doc):
    collection(SESSIONS).insert_one(doc)
    return doc


def find_session(session_hash):
    return collection(SESSIONS).find_one({"_id": session_hash, "expires_at": {"$gt": utcnow()}})


def touch_session(*, session_hash, last_seen_at, expires_at):
    collection(SESSIONS).update_one({"_id": session_hash},
                                    {"$set": {"last_seen_at": last_seen_at, "expires_at": expires_at}})


def delete_session(session_hash):
    collection(SESSIONS).delete_one({"_id": session_hash})


def delete_sessions_of(user_id):
    collection(SESSIONS).delete_many({"user_id": user_id})
