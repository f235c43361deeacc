"""Report pipelines. Reports only read: every figure is counted by MongoDB aggregation on
indexed fields, and only the (small) grouped results come back to Python.

The report access paths need indexes on collections owned by other features; they are
declared here, beside the pipelines that use them, so their reason stays visible.
"""

import datetime as dt

from pymongo import IndexModel

from service.core.db import collection, declare_indexes

declare_indexes(
    "attendance",
    # Region-year KPI: the region's attendance records in the year's classes.
    IndexModel([("region_code", 1), ("class_id", 1), ("registration_id", 1)], name="report_region_class"),
    # Trainee archive: one trainee's records.
    IndexModel([("user_id", 1), ("class_id", 1)], name="report_user_class"),
)
declare_indexes(
    "registrations",
    IndexModel([("year", 1), ("region_code", 1), ("state", 1)], name="report_year_region_state"),
)
declare_indexes("session_checkins", IndexModel([("class_id", 1), ("closed_at", 1)], name="report_class_closed"))
declare_indexes("rating_receipts", IndexModel([("user_id", 1), ("class_id", 1)], name="report_user_class"))

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
# Every state but draft, spelled out: with an inequality (`$ne: "draft"`) the embedded development
# server stops using the index and scans the whole collection.
SUBMITTED_STATES = ["submitted", "returned", "recommended", "rejected", "admitted", "waitlisted", "confirmed",
                    "withdrawn", "cancelled"]
REVIEW_STEPS = ["recommended", "returned", "rejected"]  # a province decision on a submitted registration


# Long `$in` lists go out in chunks: MongoDB takes any size, but the embedded development server
# checks every matched document against the whole list, so its cost grows with the list squared
# (the registry's look-ups do the same, see service/registry/repository.py).
IN_CHUNK = 50


def _chunks(values):
    values = sorted(values)
    for start in range(0, len(values), IN_CHUNK):
        yield values[start:start + IN_CHUNK]


def _count_if(condition):
    return {"$sum": {"$cond": [condition, 1, 0]}}


def _status_is(status):
    return {"$eq": ["$status", status]}


# ---- class report ------------------------------------------------------------------------

def enrolment_by_region(class_id, scope_match):
    """[{_id: region, applied, admitted, confirmed}] (drafts are not applications)."""
    return list(collection("registrations").aggregate([
        {"$match": {"class_id": class_id, "state": {"$in": SUBMITTED_STATES}, **scope_match}},
        {"$group": {"_id": "$region_code", "applied": {"$sum": 1},
                    "admitted": _count_if({"$in": ["$state", ["admitted", "confirmed"]]}),
                    "confirmed": _count_if({"$eq": ["$state", "confirmed"]})}},
        {"$sort": {"_id": 1}}]))


def attendance_by_session(class_id, scope_match):
    """{session_id: {status: count}}: grouped on (session, status) with a plain count, which the
    embedded server evaluates about twice as fast as four conditional sums."""
    counts = {}
    for group in collection("attendance").aggregate([
            {"$match": {"class_id": class_id, **scope_match}},
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

def _filled(path):
    return {"$gt": [{"$strLenCP": {"$ifNull": [path, ""]}}, 0]}


def _reviewed():
    return {"$gt": [{"$size": {"$filter": {
        "input": {"$ifNull": ["$history", []]}, "as": "h",
        "cond": {"$and": [{"$eq": ["$$h.from", "submitted"]}, {"$in": ["$$h.to", REVIEW_STEPS]}]}}}}, 0]}


def region_registrations(region_code, year):
    """One pass over the region's registrations of the year: review counts, the confirmed trainees'
    classes, people and enterprises, and the confirmed whose profile or review is missing."""
    found = list(collection("registrations").aggregate([
        {"$match": {"year": year, "region_code": region_code, "state": {"$in": SUBMITTED_STATES}}},
        {"$project": {
            "state": 1, "class_id": 1, "user_id": 1, "credit_code": 1, "name": "$snapshot.name",
            "reviewed": _reviewed(),
            "profile_complete": {"$and": [_filled("$snapshot.name"), _filled("$snapshot.id_number_masked"),
                                          _filled("$snapshot.mobile_masked"), _filled("$snapshot.position"),
                                          _filled("$snapshot.enterprise.name"),
                                          _filled("$snapshot.enterprise.credit_code")]}}},
        {"$facet": {
            "summary": [{"$group": {
                "_id": None,
                "pending": _count_if({"$eq": ["$state", "submitted"]}),
                "reviewed": _count_if({"$and": [{"$ne": ["$state", "submitted"]}, "$reviewed"]}),
                "confirmed": _count_if({"$eq": ["$state", "confirmed"]})}}],
            # Distinct values by grouping (an $addToSet of thousands is slow on the embedded server).
            "users": [{"$match": {"state": "confirmed"}}, {"$group": {"_id": "$user_id"}}, {"$count": "n"}],
            "classes": [{"$match": {"state": "confirmed"}}, {"$group": {"_id": "$class_id"}}],
            "credit_codes": [{"$match": {"state": "confirmed"}}, {"$group": {"_id": "$credit_code"}}],
            "incomplete": [{"$match": {"state": "confirmed",
                                       "$or": [{"reviewed": False}, {"profile_complete": False}]}},
                           {"$project": {"class_id": 1, "name": 1, "reviewed": 1, "profile_complete": 1}}],
        }}]))[0]
    summary = found["summary"][0] if found["summary"] else {"pending": 0, "reviewed": 0, "confirmed": 0}
    summary["trainees"] = found["users"][0]["n"] if found["users"] else 0
    summary["class_ids"] = {g["_id"] for g in found["classes"]}
    summary["credit_codes"] = {g["_id"] for g in found["credit_codes"] if g["_id"]}
    return summary, found["incomplete"]


def confirmed_in_class(region_code, class_id):
    return list(collection("registrations").find(
        {"class_id": class_id, "region_code": region_code, "state": "confirmed"}, {"class_id": 1, "snapshot.name": 1}))


def closed_session_ids(class_ids):
    """Sessions of these classes whose check-in was closed (closing records everyone)."""
    closed = set()
    for chunk in _chunks(class_ids):
        closed.update(d["_id"] for d in collection("session_checkins").find(
            {"class_id": {"$in": chunk}, "closed_at": {"$gt": EPOCH}}, {"_id": 1}))
    return closed


def attendance_counts_by_registration(region_code, class_id):
    return {g["_id"]: g["n"] for g in collection("attendance").aggregate([
        {"$match": {"region_code": region_code, "class_id": class_id}},
        {"$group": {"_id": "$registration_id", "n": {"$sum": 1}}}])}


def little_giants(region_code, year, credit_codes):
    """{total, trained}: the region's 小巨人 valid at some time in the year, and those among `credit_codes`."""
    valid = {"region_code": region_code, "title": "小巨人", "valid_from": {"$lte": f"{year}-12-31"},
             "valid_until": {"$gte": f"{year}-01-01"}}
    total = list(collection("enterprises").aggregate([{"$match": valid}, {"$count": "n"}]))
    trained = 0
    for chunk in _chunks(credit_codes):
        # Look up by credit code first (the unique index), then keep the region's valid entries.
        found = list(collection("enterprises").aggregate([
            {"$match": {"credit_code": {"$in": chunk}, "title": "小巨人"}}, {"$match": valid}, {"$count": "n"}]))
        trained += found[0]["n"] if found else 0
    return {"total": total[0]["n"] if total else 0, "trained": trained}


def class_rating_satisfaction(match, dimensions):
    found = list(collection("ratings").aggregate([
        {"$match": {**match, "kind": "class"}},
        {"$group": {"_id": None, "ratings": {"$sum": 1},
                    **{d: _count_if({"$gte": [f"$scores.{d}", 4]}) for d in dimensions}}}]))
    return found[0] if found else {"ratings": 0}


def classes_by_id(class_ids, projection):
    return {c["_id"]: c for c in collection("classes").find({"_id": {"$in": list(class_ids)}}, projection)}


# ---- trainee archive ----------------------------------------------------------------------

def registrations_of(user_id, scope_match):
    return list(collection("registrations").find({"user_id": user_id, "state": {"$in": SUBMITTED_STATES},
                                                  **scope_match})
                .sort([("created_at", 1)]))


def attendance_of(user_id, class_ids):
    return {g["_id"]: g for g in collection("attendance").aggregate([
        {"$match": {"user_id": user_id, "class_id": {"$in": list(class_ids)}}},
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
