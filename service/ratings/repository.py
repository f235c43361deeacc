"""Collections `ratings` (what was rated) and `rating_receipts` (who has rated what).

Anonymity is a storage decision, not a reporting filter: a rating document carries no user id,
registration id, name or time that could be joined back to the trainee. Its `_id` is random
(not a time-based ObjectId), so it cannot be matched to a receipt by creation time either.
The receipt holds the trainee, the target and the rating id *encrypted* with DATA_KEY: the
database alone cannot link the two, while the service can still show a trainee their own
rating and let them change it. The unique index on receipts refuses a second rating.
"""

import os

from bson import ObjectId
from pymongo import IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from service.core.db import collection, declare_indexes
from service.reports import summaries

RATINGS = "ratings"
RECEIPTS = "rating_receipts"

declare_indexes(
    RATINGS,
    IndexModel([("class_id", 1), ("kind", 1), ("region_code", 1)], name="class_kind_region"),
    IndexModel([("region_code", 1), ("year", 1), ("kind", 1)], name="region_year_kind"),
)
# The all-regions KPI table reads a year without a region (service.reports).
declare_indexes(RATINGS, IndexModel([("year", 1), ("kind", 1), ("region_code", 1)], name="report_year_kind_region"))
declare_indexes(
    RECEIPTS,
    # One rating per trainee per target ("session:<id>" / "class:<id>"): the database refuses the second.
    IndexModel([("user_id", 1), ("target", 1)], unique=True, name="one_per_trainee_target"),
    IndexModel([("class_id", 1), ("kind", 1), ("user_id", 1)], name="class_kind_user"),
)


class AlreadyRated(Exception):
    """The trainee already holds a receipt for this target."""


def random_id():
    """An ObjectId whose bytes are all random: its 'timestamp' says nothing about when it was made."""
    return ObjectId(os.urandom(12))


def insert_receipt(doc):
    try:
        collection(RECEIPTS).insert_one(doc)
    except DuplicateKeyError:
        raise AlreadyRated() from None
    return doc


def delete_receipt(receipt_id):
    collection(RECEIPTS).delete_one({"_id": receipt_id})


def receipt(*, user_id, target):
    return collection(RECEIPTS).find_one({"user_id": user_id, "target": target})


def receipts_of(*, user_id, class_ids=None):
    query = {"user_id": user_id}
    if class_ids is not None:
        query["class_id"] = {"$in": list(class_ids)}
    return list(collection(RECEIPTS).find(query, {"target": 1, "kind": 1, "class_id": 1, "session_id": 1}))


def touch_receipt(receipt_id, now):
    collection(RECEIPTS).update_one({"_id": receipt_id}, {"$set": {"updated_at": now}})


def class_raters(class_id):
    """User ids who submitted the class rating (completion reads this, never the ratings)."""
    return {d["user_id"] for d in collection(RECEIPTS).find({"class_id": class_id, "kind": "class"},
                                                             {"user_id": 1})}


def has_rated_class(*, class_id, user_id):
    """Whether the trainee submitted the class rating (one trainee's question, on the class_kind_user index)."""
    return collection(RECEIPTS).find_one({"class_id": class_id, "kind": "class", "user_id": user_id},
                                         {"_id": 1}) is not None


def insert_rating(doc):
    collection(RATINGS).insert_one(doc)
    summaries.changed(region_code=doc.get("region_code"), year=doc.get("year"))
    return doc


def get_rating(rating_id):
    return collection(RATINGS).find_one({"_id": rating_id})


def replace_rating(rating_id, fields):
    """Set the rated values (upsert: a receipt whose rating write was lost gets its rating now)."""
    rating = collection(RATINGS).find_one_and_update({"_id": rating_id}, {"$set": fields}, upsert=True,
                                                     return_document=ReturnDocument.AFTER)
    summaries.changed(region_code=rating.get("region_code"), year=rating.get("year"))
    return rating


def aggregate(pipeline):
    return list(collection(RATINGS).aggregate(pipeline))


# ---- for the reports feature (read side): the class report and the trainee archive -----------------

# The trainee archive counts a trainee's receipts per class.
declare_indexes(RECEIPTS, IndexModel([("user_id", 1), ("class_id", 1)], name="report_user_class"))


def receipts_given(user_id, class_ids):
    """{(class_id, kind): count} from who-rated receipts: how many, never what."""
    return {(g["_id"]["class_id"], g["_id"]["kind"]): g["n"] for g in collection(RECEIPTS).aggregate([
        {"$match": {"user_id": user_id, "class_id": {"$in": list(class_ids)}}},
        {"$group": {"_id": {"class_id": "$class_id", "kind": "$kind"}, "n": {"$sum": 1}}}])}
