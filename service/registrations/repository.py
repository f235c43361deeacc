"""The `registrations` collection.

The database settles the races:
  - one open registration per trainee per class: partial unique (class_id, user_id) over OPEN;
  - one enterprise per programme year: partial unique `enterprise_key` (programme:credit code)
    over ACTIVE, so a rejected or withdrawn registration does not block a new one;
  - every state change carries the expected `version` and state in its filter.
"""

from pymongo import IndexModel, ReturnDocument

from service.core.db import collection, declare_indexes
from service.registrations.states import ACTIVE, CONFIRMED, OPEN, SUBMITTED

REGISTRATIONS = "registrations"

declare_indexes(
    REGISTRATIONS,
    IndexModel([("class_id", 1), ("user_id", 1)], unique=True, name="one_open_per_trainee_class",
               partialFilterExpression={"state": {"$in": list(OPEN)}}),
    IndexModel("enterprise_key", unique=True, name="one_active_per_enterprise_year",
               partialFilterExpression={"state": {"$in": list(ACTIVE)}, "enterprise_key": {"$type": "string"}}),
    IndexModel([("region_code", 1), ("class_id", 1), ("state", 1), ("submitted_at", 1)], name="region_review"),
    IndexModel([("class_id", 1), ("state", 1), ("region_code", 1)], name="class_state"),
    IndexModel([("user_id", 1), ("created_at", -1)], name="user"),
    IndexModel([("id_number_hash", 1), ("completed", 1)], name="prior_training"),
    IndexModel("attachment_ids", name="attachments"),
)


def insert(doc):
    collection(REGISTRATIONS).insert_one(doc)
    return doc


def get(registration_id):
    return collection(REGISTRATIONS).find_one({"_id": registration_id})


def confirmed_for(*, class_id, user_id, projection=None):
    """The trainee's confirmed registration (确认参训) in the class, or None."""
    return collection(REGISTRATIONS).find_one({"class_id": class_id, "user_id": user_id, "state": CONFIRMED},
                                              projection)


def confirmed_by_id(*, class_id, registration_id, projection=None):
    """The registration if it is a confirmed one of the class, else None."""
    return collection(REGISTRATIONS).find_one({"_id": registration_id, "class_id": class_id, "state": CONFIRMED},
                                              projection)


def confirmed_of_user(user_id, *, projection=None):
    """Every class the trainee confirmed (one query, on the `user` index)."""
    return list(collection(REGISTRATIONS).find({"user_id": user_id, "state": CONFIRMED}, projection))


def confirmed_in_class(class_id, *, region_codes=None, projection=None):
    """The class's confirmed trainees (optionally only some regions), by region then registration."""
    query = {"class_id": class_id, "state": CONFIRMED}
    if region_codes is not None:
        query["region_code"] = {"$in": sorted(region_codes)}
    return list(collection(REGISTRATIONS).find(query, projection).sort([("region_code", 1), ("_id", 1)]))


def find(query, *, skip=0, limit=0, sort=(("submitted_at", 1), ("_id", 1))):
    cursor = collection(REGISTRATIONS).find(query).sort(list(sort)).skip(skip).limit(limit)
    return list(cursor), collection(REGISTRATIONS).count_documents(query)


def count(query):
    return collection(REGISTRATIONS).count_documents(query)


def move(*, registration, update):
    """Apply `update` if the registration is still at the version it was read at."""
    update = {**update, "$inc": {"version": 1}}
    return collection(REGISTRATIONS).find_one_and_update(
        {"_id": registration["_id"], "version": registration["version"], "state": registration["state"]},
        update, return_document=ReturnDocument.AFTER)


def first_waitlisted(*, class_id, region_code):
    cursor = collection(REGISTRATIONS).find(
        {"class_id": class_id, "region_code": region_code, "state": "waitlisted"}).sort(
        [("recommended_at", 1), ("_id", 1)]).limit(1)
    return next(iter(cursor), None)


def awaiting_review(*, year, region_code, projection=None):
    """The region's registrations of the year still waiting for the province's review (资格审核), oldest first."""
    return list(collection(REGISTRATIONS).find({"year": year, "region_code": region_code, "state": SUBMITTED},
                                               projection).sort([("submitted_at", 1), ("_id", 1)]))


def confirmed_counts(class_ids, *, region_code=None):
    """{(class_id, region_code): confirmed trainees} for these classes (optionally one region)."""
    match = {"class_id": {"$in": list(class_ids)}, "state": CONFIRMED}
    if region_code is not None:
        match["region_code"] = region_code
    return {(g["_id"]["class_id"], g["_id"]["region_code"]): g["n"] for g in collection(REGISTRATIONS).aggregate([
        {"$match": match},
        {"$group": {"_id": {"class_id": "$class_id", "region_code": "$region_code"}, "n": {"$sum": 1}}}])}
