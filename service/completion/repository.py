"""Collections `certificates`, `certificate_counters` and `completion_warnings`.

The database settles the races of a bulk issue run twice at once: certificate numbers are
unique, and a registration holds at most one valid certificate (partial unique index), so the
second run's insert fails instead of issuing a duplicate. A revoked certificate leaves the
registration free for a new one. Numbers come from one counter per programme year: a bulk issue
reserves its whole block with a single `find_one_and_update` ($inc by the block size), so two runs
at once get disjoint blocks. A lost race (the other run issued that trainee first) costs a gap in
the numbers, never a duplicate; the unique index on `number` stays as the last guard.
"""

from pymongo import IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from service.core.db import collection, declare_indexes, utcnow
from service.reports import summaries

CERTIFICATES = "certificates"
COUNTERS = "certificate_counters"
WARNINGS = "completion_warnings"

declare_indexes(
    CERTIFICATES,
    IndexModel("number", unique=True, name="number_unique"),
    IndexModel("registration_id", unique=True, name="one_valid_per_registration",
               partialFilterExpression={"status": "valid"}),
    IndexModel([("class_id", 1), ("status", 1), ("region_code", 1)], name="class_status_region"),
    IndexModel([("user_id", 1), ("issued_at", -1)], name="user"),
    IndexModel([("region_code", 1), ("year", 1), ("status", 1)], name="region_year_status"),
)
# The all-regions KPI table reads a year without a region (service.reports).
declare_indexes(CERTIFICATES,
                IndexModel([("year", 1), ("status", 1), ("region_code", 1)], name="report_year_status_region"))
# One low-attendance warning per trainee per class.
declare_indexes(WARNINGS, IndexModel([("class_id", 1), ("user_id", 1)], unique=True, name="one_per_class_trainee"))


class AlreadyIssued(Exception):
    """The registration already holds a valid certificate."""


def reserve_numbers(year, count):
    """Reserve `count` consecutive serials of the year in one atomic $inc; returns them in order."""
    if count <= 0:
        return range(0)
    # The counter is created first and then incremented without upsert: an upsert racing with
    # another upsert on the same new _id may answer without the document on the embedded server.
    try:
        collection(COUNTERS).insert_one({"_id": int(year), "seq": 0})
    except DuplicateKeyError:
        pass
    counter = collection(COUNTERS).find_one_and_update({"_id": int(year)}, {"$inc": {"seq": count}},
                                                       return_document=ReturnDocument.AFTER)
    return range(counter["seq"] - count + 1, counter["seq"] + 1)


def insert(doc):
    try:
        collection(CERTIFICATES).insert_one(doc)
    except DuplicateKeyError as exc:
        details = exc.details or {}
        if "registration_id" in (details.get("keyPattern") or {}) or "one_valid_per_registration" in str(details):
            raise AlreadyIssued() from None
        raise  # a number clash is a fault, not "already issued"
    summaries.changed(region_code=doc.get("region_code"), year=doc.get("year"))
    return doc


def get(certificate_id):
    return collection(CERTIFICATES).find_one({"_id": certificate_id})


def by_number(number):
    return collection(CERTIFICATES).find_one({"number": number})


def for_class(class_id, *, region_codes=None):
    query = {"class_id": class_id}
    if region_codes is not None:
        query["region_code"] = {"$in": sorted(region_codes)}
    return list(collection(CERTIFICATES).find(query).sort([("number", 1)]))


def holds_valid(registration_id):
    """Whether the registration holds a valid certificate (on the partial unique index)."""
    return collection(CERTIFICATES).find_one({"registration_id": registration_id, "status": "valid"},
                                             {"_id": 1}) is not None


def valid_registration_ids(class_id):
    return {d["registration_id"] for d in collection(CERTIFICATES).find({"class_id": class_id, "status": "valid"},
                                                                        {"registration_id": 1})}


def of_user(user_id):
    return list(collection(CERTIFICATES).find({"user_id": user_id}).sort([("issued_at", -1)]))


def revoke(*, certificate_id, by, reason):
    """valid -> revoked in one conditional update; None if it was not valid any more."""
    revoked = collection(CERTIFICATES).find_one_and_update(
        {"_id": certificate_id, "status": "valid"},
        {"$set": {"status": "revoked", "revoked_at": utcnow(), "revoked_by": by, "revoke_reason": reason}},
        return_document=ReturnDocument.AFTER)
    if revoked is not None:
        summaries.changed(region_code=revoked.get("region_code"), year=revoked.get("year"))
    return revoked


def claim_warning(*, class_id, user_id, figures):
    """True the first time a trainee of a class is warned; False ever after."""
    try:
        collection(WARNINGS).insert_one({"class_id": class_id, "user_id": user_id, "figures": figures,
                                         "created_at": utcnow()})
        return True
    except DuplicateKeyError:
        return False


def warned_user_ids(class_id):
    return {d["user_id"] for d in collection(WARNINGS).find({"class_id": class_id}, {"user_id": 1})}


def valid_by_region(year, region_match):
    """{region: valid certificates of the year} (the KPIs' trainees completed); region_match is {}
    or {"region_code": code}."""
    return {g["_id"]: g["n"] for g in collection(CERTIFICATES).aggregate([
        {"$match": {"year": year, "status": "valid", **region_match}},
        {"$group": {"_id": "$region_code", "n": {"$sum": 1}}}])}


# ---- for the reports feature (read side): the class report and the trainee archive -----------------

def counts_by_status(match):
    """{status: certificates} matching `match` (a class, and the caller's region filter)."""
    return {g["_id"]: g["n"] for g in collection(CERTIFICATES).aggregate([
        {"$match": match}, {"$group": {"_id": "$status", "n": {"$sum": 1}}}])}


def of_trainee_in_classes(user_id, class_ids):
    return list(collection(CERTIFICATES).find({"user_id": user_id, "class_id": {"$in": list(class_ids)}})
                .sort([("issued_at", 1)]))
