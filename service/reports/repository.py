"""Report pipelines. Reports only read: every figure is counted by MongoDB aggregation on
indexed fields, and only the (small) grouped results come back to Python.

The report access paths need indexes on collections owned by other features; they are
declared here, beside the pipelines that use them, so their reason stays visible.
"""

from pymongo import IndexModel

from service.attendance import repository as attendance_repository
from service.classes import repository as classes_repo
from service.core.db import collection, declare_indexes
from service.registrations import states
from service.registrations.checks import LITTLE_GIANT

declare_indexes(
    "registrations",
    IndexModel([("year", 1), ("region_code", 1), ("state", 1)], name="report_year_region_state"),
)
declare_indexes("rating_receipts", IndexModel([("user_id", 1), ("class_id", 1)], name="report_user_class"))
# The all-regions KPI table reads a year without a region: these lead with the year (or title).
declare_indexes("ratings", IndexModel([("year", 1), ("kind", 1), ("region_code", 1)], name="report_year_kind_region"))
declare_indexes("certificates",
                IndexModel([("year", 1), ("status", 1), ("region_code", 1)], name="report_year_status_region"))
declare_indexes("enterprises", IndexModel([("title", 1), ("region_code", 1)], name="report_title_region"))

# Every state but draft, spelled out: with an inequality (`$ne: "draft"`) the embedded development
# server stops using the index and scans the whole collection.
SUBMITTED_STATES = sorted(set(states.LABELS) - {states.DRAFT})
# Applied = submitted at least once, and so placed in a region (set on submission). A draft, or a
# draft withdrawn before it was ever submitted, is no application: counting it let anyone inflate
# `applied` by creating and withdrawing drafts, and added a row without a region.
# (A caller's region filter, placed after it, narrows its region_code condition.)
APPLIED = {"state": {"$in": SUBMITTED_STATES}, "history.to": states.SUBMITTED, "region_code": {"$type": "string"}}
# A province decision on a submitted registration (recommend, return, reject).
REVIEW_STEPS = sorted({to_state for _, to_state, _ in states.PROVINCE_ACTIONS.values()})


def _count_if(condition):
    return {"$sum": {"$cond": [condition, 1, 0]}}


def _status_is(status):
    return {"$eq": ["$status", status]}


# ---- class report ------------------------------------------------------------------------

def enrolment_by_region(class_id, scope_match):
    """[{_id: region, applied, admitted, confirmed}] (see APPLIED: drafts are not applications)."""
    return list(collection("registrations").aggregate([
        {"$match": {"class_id": class_id, **APPLIED, **scope_match}},
        {"$group": {"_id": "$region_code", "applied": {"$sum": 1},
                    "admitted": _count_if({"$in": ["$state", ["admitted", "confirmed"]]}),
                    "confirmed": _count_if({"$eq": ["$state", "confirmed"]})}},
        {"$sort": {"_id": 1}}]))


def attendance_by_session(class_doc, scope_match):
    """{session_id: {status: count}}: grouped on (session, status) with a plain count, which the
    embedded server evaluates about twice as fast as four conditional sums."""
    counts = {}
    for group in collection("attendance").aggregate([
            {"$match": {**attendance_repository.of_classes(class_doc), **scope_match}},
            {"$group": {"_id": {"session_id": "$session_id", "status": "$status"}, "n": {"$sum": 1}}}]):
        counts.setdefault(group["_id"]["session_id"], {})[group["_id"]["status"]] = group["n"]
    return counts


def leave_by_type(class_id, scope_match):
    """[{_id: type, requests, users}] for approved leave (returned early included)."""
    return list(collection("leave_requests").aggregate([
        {"$match": {"class_id": class_id, "state": {"$in": ["approved", "returned_early"]}, **scope_match}},
        {"$group": {"_id": "$type", "requests": {"$sum": 1}, "users": {"$addToSet": "$user_id"}}}]))


def certificates_by_status(match):
    return {g["_id"]: g["n"] for g in collection("certificates").aggregate([
        {"$match": match}, {"$group": {"_id": "$status", "n": {"$sum": 1}}}])}


# ---- region-year KPIs ------------------------------------------------------------------------
# Every pipeline groups by region: the all-regions table costs the same few passes as one region.
# `region_match` is {} for every region, or {"region_code": code} for one.

PROFILE_FIELDS = ("snapshot.name", "snapshot.id_number_masked", "snapshot.mobile_masked", "snapshot.position",
                  "snapshot.enterprise.name", "snapshot.enterprise.credit_code")
# The province decided on the registration once it was submitted.
REVIEWED = {"history": {"$elemMatch": {"from": states.SUBMITTED, "to": {"$in": REVIEW_STEPS}}}}
# A confirmed trainee's archive lacks the review or part of the profile. Counting goes through
# query filters like these rather than per-document expressions: on a national year the embedded
# development server evaluates the expressions (a $filter over the history) about five times slower.
ARCHIVE_INCOMPLETE = {"$or": [{"history": {"$not": REVIEWED["history"]}},
                              *({path: {"$in": [None, ""]}} for path in PROFILE_FIELDS)]}


def _filled(path):
    return {"$gt": [{"$strLenCP": {"$ifNull": [f"${path}", ""]}}, 0]}


def _reviewed():
    return {"$gt": [{"$size": {"$filter": {
        "input": {"$ifNull": ["$history", []]}, "as": "h",
        "cond": {"$and": [{"$eq": ["$$h.from", states.SUBMITTED]}, {"$in": ["$$h.to", REVIEW_STEPS]}]}}}}, 0]}


def _archive_fields():
    """What a trainee's archive needs from the registration itself, per registration (for the few
    listed): the province's review and the profile."""
    return {"class_id": 1, "region_code": 1, "name": "$snapshot.name", "reviewed": _reviewed(),
            "profile_complete": {"$and": [_filled(path) for path in PROFILE_FIELDS]}}


def _per_region(*stages):
    return [*stages, {"$group": {"_id": "$region_code", "n": {"$sum": 1}}}]


def registrations_by_region(year, region_match, *, with_incomplete=False):
    """One pass over the year's submitted registrations: {region: {pending, reviewed, confirmed,
    incomplete (confirmed, profile or review missing), trainees (people), class_ids}}, and with
    `with_incomplete` those incomplete registrations themselves (name, class, flags)."""
    confirmed = {"$match": {"state": states.CONFIRMED}}
    facets = {
        "pending": _per_region({"$match": {"state": states.SUBMITTED}}),
        "reviewed": _per_region({"$match": {"state": {"$ne": states.SUBMITTED}, **REVIEWED}}),
        "incomplete": _per_region({"$match": {"state": states.CONFIRMED, **ARCHIVE_INCOMPLETE}}),
        # Distinct values by grouping (an $addToSet of thousands is slow on the embedded server).
        "users": [confirmed, {"$group": {"_id": {"region": "$region_code", "user": "$user_id"}}},
                  {"$group": {"_id": "$_id.region", "n": {"$sum": 1}}}],
        "classes": [confirmed, {"$group": {"_id": {"region": "$region_code", "class": "$class_id"},
                                           "n": {"$sum": 1}}}],
    }
    if with_incomplete:
        facets["incomplete_rows"] = [{"$match": {"state": states.CONFIRMED, **ARCHIVE_INCOMPLETE}},
                                     {"$project": _archive_fields()}]
    found = list(collection("registrations").aggregate([
        {"$match": {"year": year, **APPLIED, **region_match}},
        {"$facet": facets}]))[0]
    by_region = {}

    def region(code):
        return by_region.setdefault(code, {"pending": 0, "reviewed": 0, "incomplete": 0, "trainees": 0,
                                           "confirmed": 0, "class_ids": set()})

    for key, field in (("pending", "pending"), ("reviewed", "reviewed"), ("incomplete", "incomplete"),
                       ("users", "trainees")):
        for group in found[key]:
            region(group["_id"])[field] = group["n"]
    for group in found["classes"]:
        figures = region(group["_id"]["region"])
        figures["class_ids"].add(group["_id"]["class"])
        figures["confirmed"] += group["n"]
    return by_region, found.get("incomplete_rows", [])


def archive_rows(class_id, region_match):
    """The class's confirmed registrations (in the region) with the archive fields, for the
    attendance check of a class whose held sessions are not all closed yet."""
    return list(collection("registrations").aggregate([
        {"$match": {"class_id": class_id, "state": states.CONFIRMED, **region_match}},
        {"$project": _archive_fields()}]))


def attendance_counts_by_registration(session_ids, region_match):
    """{registration id: records} for these sessions (of one class)."""
    return {g["_id"]: g["n"] for g in collection("attendance").aggregate([
        {"$match": {"session_id": {"$in": list(session_ids)}, **region_match}},
        {"$group": {"_id": "$registration_id", "n": {"$sum": 1}}}])}


def little_giants_by_region(year, region_match):
    """{region: {in_registry, trained}}: the region's 小巨人 in the registry valid at some time in the
    year, and how many of them sent a confirmed trainee of the region that year. One pipeline: the
    confirmed registrations and the registry entries side by side, grouped on (region, credit code)
    (no per-registration look-up; registrations first: the embedded development server reads a
    `$unionWith` sub-pipeline without its index, and the registry is the smaller collection)."""
    return {g["_id"]: g for g in collection("registrations").aggregate([
        {"$match": {"year": year, **region_match, "state": states.CONFIRMED}},
        {"$project": {"_id": 0, "region_code": 1, "credit_code": 1, "trained": {"$literal": True}}},
        {"$unionWith": {"coll": "enterprises", "pipeline": [
            {"$match": {"title": LITTLE_GIANT, **region_match, "valid_from": {"$lte": f"{year}-12-31"},
                        "valid_until": {"$gte": f"{year}-01-01"}}},
            {"$project": {"_id": 0, "region_code": 1, "credit_code": 1, "giant": {"$literal": True}}}]}},
        {"$group": {"_id": {"region": "$region_code", "credit_code": "$credit_code"},
                    "giant": {"$max": "$giant"}, "trained": {"$max": "$trained"}}},
        {"$match": {"giant": True}},
        {"$group": {"_id": "$_id.region", "in_registry": {"$sum": 1},
                    "trained": _count_if({"$eq": ["$trained", True]})}}])}


def valid_certificates_by_region(year, region_match):
    return {g["_id"]: g["n"] for g in collection("certificates").aggregate([
        {"$match": {"year": year, "status": "valid", **region_match}},
        {"$group": {"_id": "$region_code", "n": {"$sum": 1}}}])}


def classes_by_id(class_ids, projection):
    return {c["_id"]: c for c in classes_repo.by_ids(class_ids, projection)}


# ---- trainee archive ----------------------------------------------------------------------

def registrations_of(user_id, scope_match):
    return list(collection("registrations").find({"user_id": user_id, **APPLIED, **scope_match})
                .sort([("created_at", 1)]))


def attendance_of(user_id, class_docs):
    return {g["_id"]: g for g in collection("attendance").aggregate([
        {"$match": {**attendance_repository.of_classes(*class_docs), "user_id": user_id}},
        {"$group": {"_id": "$class_id", "present": _count_if(_status_is("present")),
                    "late": _count_if(_status_is("late")), "absent": _count_if(_status_is("absent")),
                    "excused": _count_if(_status_is("excused")),
                    "records": {"$push": {"session_id": "$session_id", "status": "$status"}}}}])}


def leave_of(user_id, class_ids):
    return list(collection("leave_requests").find(
        {"user_id": user_id, "class_id": {"$in": list(class_ids)}},
        {"class_id": 1, "type": 1, "starts_at": 1, "ends_at": 1, "state": 1, "created_at": 1}).sort([("starts_at", 1)]))


def ratings_given(user_id, class_ids):
    """{(class_id, kind): count} from who-rated receipts: how many, never what."""
    return {(g["_id"]["class_id"], g["_id"]["kind"]): g["n"] for g in collection("rating_receipts").aggregate([
        {"$match": {"user_id": user_id, "class_id": {"$in": list(class_ids)}}},
        {"$group": {"_id": {"class_id": "$class_id", "kind": "$kind"}, "n": {"$sum": 1}}}])}


def certificates_of(user_id, class_ids):
    return list(collection("certificates").find({"user_id": user_id, "class_id": {"$in": list(class_ids)}})
                .sort([("issued_at", 1)]))
