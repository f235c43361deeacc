"""The `programmes` collection."""

from pymongo import IndexModel, ReturnDocument

from service.core.db import collection, declare_indexes, utcnow

PROGRAMMES = "programmes"

declare_indexes(PROGRAMMES, IndexModel([("year", -1), ("status", 1)], name="year_status"))


def insert(doc):
    collection(PROGRAMMES).insert_one(doc)
    return doc


def get(programme_id):
    return collection(PROGRAMMES).find_one({"_id": programme_id})


def find(query, *, skip, limit):
    cursor = collection(PROGRAMMES).find(query).sort([("year", -1), ("_id", 1)]).skip(skip).limit(limit)
    return list(cursor), collection(PROGRAMMES).count_documents(query)


def update(*, programme_id, changes, expected_status=None):
    query = {"_id": programme_id}
    if expected_status:
        query["status"] = {"$in": list(expected_status)}
    return collection(PROGRAMMES).find_one_and_update(
        query, {"$set": {**changes, "updated_at": utcnow()}}, return_document=ReturnDocument.AFTER)


def by_name(name):
    """The programme year called `name`, or None (the demo finds its own year by name)."""
    return collection(PROGRAMMES).find_one({"name": name})
