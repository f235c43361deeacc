"""Report pipelines. Reports only read: every figure is counted by MongoDB aggregation on
indexed fields, and only the (small) grouped results come back to Python.

The report access paths need indexes on collections owned by other features; they are
declared here, beside the pipelines that use them, so their reason stays visible.
"""

from pymongo import IndexModel

from service.attendance import repository as attendance_repository
from service.classes import repository as classes_repo
from service.core.db import collection, declare_indexes
from service.registrations.repository import APPLIED

declare_indexes("rating_receipts", IndexModel([("user_id", 1), ("class_id", 1)], name="report_user_class"))



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
