"""The `staff_accounts` collection.

A staff account carries one role and its scope. It is created unbound with a one-time
binding code (stored hashed); the person logs in through WeChat and binds it, which
sets `user_id`. A user's staff roles are the union of the active accounts bound to them.
"""

from pymongo import IndexModel, ReturnDocument

from service.auth import repository as auth_tokens
from service.auth import signed
from service.core import identity_cache
from service.core.db import collection, declare_indexes, utcnow

STAFF = "staff_accounts"

declare_indexes(
    STAFF,
    IndexModel("binding.code_hash", unique=True, name="binding_code_unique",
               partialFilterExpression={"binding.code_hash": {"$type": "string"}}),
    IndexModel([("user_id", 1), ("active", 1)], name="user_active"),
    IndexModel([("role", 1), ("region_code", 1)], name="role_region"),
    IndexModel("class_ids", name="class_ids"),
)


def _changed_scope(result):
    """Roles or scopes changed (after the write): cached identities are stale, and the bound
    user's tokens must read staff accounts from now on."""
    if result and result.get("user_id"):
        signed.note_changed(auth_tokens.mark_staff(result["user_id"]))
    identity_cache.forget_all()
    return result


def _revoke_tokens(user_id):
    """The account was deactivated or unbound: its person's tokens are refused from the next request
    on, in every process (staff tokens are read from the database on every request). They log in
    again and get what their remaining accounts give."""
    if user_id:
        signed.note_changed(auth_tokens.revoke_all_of_user(user_id))
    identity_cache.forget_all()


def insert(doc):
    collection(STAFF).insert_one(doc)
    return doc


def get(account_id):
    return collection(STAFF).find_one({"_id": account_id})


def active_for_user(user_id):
    return list(collection(STAFF).find({"user_id": user_id, "active": True},
                                       {"role": 1, "region_code": 1, "class_ids": 1}))


def name_of_user(user_id):
    """The name on one of the user's active staff accounts (to say who did something), or None."""
    account = collection(STAFF).find_one({"user_id": user_id, "active": True}, {"name": 1})
    return account.get("name") if account else None


def names_of_users(user_ids):
    """{user_id: staff account name} for these users, in one query; an active account's name wins
    over a deactivated one's (someone who has left still did what they did)."""
    names = {}
    for account in collection(STAFF).find({"user_id": {"$in": list(user_ids)}}, {"user_id": 1, "name": 1, "active": 1}):
        if account.get("active") or account["user_id"] not in names:
            names[account["user_id"]] = account.get("name")
    return names


def list_accounts(*, role=None, region_code=None, skip=0, limit=20):
    query = {}
    if role:
        query["role"] = role
    if region_code:
        query["region_code"] = region_code
    cursor = collection(STAFF).find(query, {"binding.code_hash": 0}).sort("_id", 1).skip(skip).limit(limit)
    return list(cursor), collection(STAFF).count_documents(query)


def claim_binding(*, code_hash, user_id):
    """Consume a binding code in one conditional update: unexpired, unused, active account."""
    now = utcnow()
    return _changed_scope(collection(STAFF).find_one_and_update(
        {"binding.code_hash": code_hash, "binding.expires_at": {"$gt": now}, "active": True,
         "user_id": None},
        {"$set": {"user_id": user_id, "bound_at": now, "bound_code_hash": code_hash}, "$unset": {"binding": ""}},
        return_document=ReturnDocument.AFTER,
    ))


def bound_by_code(*, code_hash, user_id):
    """The active account this user bound with this code (a bind sent again after the database
    failed half-way), its follow-up redone (idempotent); None otherwise."""
    return _changed_scope(collection(STAFF).find_one({"bound_code_hash": code_hash, "user_id": user_id,
                                                      "active": True}))


def set_binding(*, account_id, code_hash, expires_at):
    """New binding code, unbinding the account. The bound person's tokens are revoked *first*: if
    the database fails after that, the account is unchanged and its person only logs in again;
    sending the request again finishes it (revoking then was the unbinding's follow-up, which a
    retry could no longer find once the account is unbound)."""
    current = collection(STAFF).find_one({"_id": account_id}, {"user_id": 1})
    if current is None:
        return None
    _revoke_tokens(current.get("user_id"))
    before = collection(STAFF).find_one_and_update(
        {"_id": account_id},
        {"$set": {"binding": {"code_hash": code_hash, "expires_at": expires_at}, "user_id": None},
         "$unset": {"bound_at": "", "bound_code_hash": ""}},
        return_document=ReturnDocument.BEFORE,
    )
    if before is None:
        return None
    if before.get("user_id") != current.get("user_id"):  # bound meanwhile
        _revoke_tokens(before.get("user_id"))
    return get(account_id)


def update(*, account_id, changes):
    account = _changed_scope(collection(STAFF).find_one_and_update(
        {"_id": account_id}, {"$set": {**changes, "updated_at": utcnow()}},
        return_document=ReturnDocument.AFTER))
    if account is not None and changes.get("active") is False:
        _revoke_tokens(account.get("user_id"))
    return account


def supervisors_of(class_id):
    return list(collection(STAFF).find({"class_ids": class_id, "role": "supervisor"},
                                       {"name": 1, "user_id": 1, "active": 1}).sort("_id", 1))


def province_staff_of(region_code):
    """Active, bound province staff accounts of a region (who approve its leave)."""
    return list(collection(STAFF).find({"role": "province_staff", "region_code": region_code, "active": True,
                                        "user_id": {"$ne": None}}, {"user_id": 1}).sort("_id", 1))


def find_many(account_ids):
    return list(collection(STAFF).find({"_id": {"$in": list(account_ids)}}))


def set_class_supervisors(*, class_id, staff_ids):
    """Make exactly `staff_ids` the supervisors of the class (idempotent, so safe to retry)."""
    collection(STAFF).update_many({"_id": {"$in": list(staff_ids)}}, {"$addToSet": {"class_ids": class_id}})
    collection(STAFF).update_many({"class_ids": class_id, "_id": {"$nin": list(staff_ids)}},
                                  {"$pull": {"class_ids": class_id}})
    _changed_scope(None)
