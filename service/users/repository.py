"""The `users` collection (one per WeChat openid) and `wechat_sessions` (session keys).

The WeChat session_key lives in its own collection so no code that reads users can
ever put it into a response.
"""

from pymongo import IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from service.core.db import collection, declare_indexes, utcnow

USERS = "users"
WECHAT_SESSIONS = "wechat_sessions"

declare_indexes(
    USERS,
    IndexModel("openid", unique=True, name="openid_unique",
               partialFilterExpression={"openid": {"$type": "string"}}),
    IndexModel("unionid", name="unionid"),
)


def upsert_by_openid(*, openid, unionid=None):
    """Create the user on first login, otherwise touch last_login_at; return the document."""
    now = utcnow()
    update = {"$set": {"last_login_at": now}, "$setOnInsert": {"openid": openid, "created_at": now}}
    if unionid:
        update["$set"]["unionid"] = unionid
    for attempt in range(2):
        try:
            return collection(USERS).find_one_and_update(
                {"openid": openid}, update, upsert=True, return_document=ReturnDocument.AFTER)
        except DuplicateKeyError:
            # Two first logins of the same person raced: the other one inserted; update it.
            if attempt:
                raise
    return None


def get(user_id):
    return collection(USERS).find_one({"_id": user_id})


def get_many(user_ids):
    return {u["_id"]: u for u in collection(USERS).find({"_id": {"$in": list(user_ids)}})}


def store_session_key(*, user_id, session_key):
    collection(WECHAT_SESSIONS).update_one(
        {"_id": user_id}, {"$set": {"session_key": session_key, "updated_at": utcnow()}}, upsert=True)


def by_openid(openid):
    """The user with this WeChat openid, or None (index on openid)."""
    return collection(USERS).find_one({"openid": openid})
