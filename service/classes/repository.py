"""The `classes` collection.

A class document embeds its sessions and its quota table:
  sessions: [{_id, title, teacher, content_area, kind, location, starts_at, ends_at, checkin}]
  quotas:   {"<region_code>": {"places": n, "used": m, "holders": [registration ids counted]}}
Embedding makes every timetable and quota change one atomic single-document update:
organizer edits carry the expected `version` in the filter (optimistic concurrency, so the
overlap and capacity checks hold for exactly the state they were made on), and the quota
counter moves with a conditional `$inc` that can never pass `places`.

A place is taken and given back *for a registration* (`holders`, beside `used` in the same update):
taking it twice or giving it back twice changes nothing, so a request that failed half-way (the
place moved, the registration's own write did not) can simply be sent again (issue 14 §3).
"""

from pymongo import IndexModel, ReturnDocument

from service.core.db import collection, declare_indexes

CLASSES = "classes"

declare_indexes(
    CLASSES,
    IndexModel([("year", -1), ("status", 1), ("start_date", 1)], name="year_status_start"),
    IndexModel([("programme_id", 1), ("start_date", 1)], name="programme_start"),
    IndexModel("sessions._id", name="session_id"),
    IndexModel("sessions.starts_at", name="session_starts"),
)


def insert(doc):
    collection(CLASSES).insert_one(doc)
    return doc


def get(class_id, projection=None):
    return collection(CLASSES).find_one({"_id": class_id}, projection)


def by_ids(class_ids, projection=None):
    """The classes with these ids, in one query."""
    return list(collection(CLASSES).find({"_id": {"$in": list(class_ids)}}, projection))


def find(query, *, skip, limit, projection=None):
    cursor = collection(CLASSES).find(query, projection).sort([("start_date", 1), ("_id", 1)])
    return list(cursor.skip(skip).limit(limit)), collection(CLASSES).count_documents(query)


def update_versioned(*, class_id, version, update, extra_filter=None):
    """Apply `update` only if the class is still at `version`; returns the new document or None."""
    query = {"_id": class_id, "version": version, **(extra_filter or {})}
    update = {**update, "$inc": {**update.get("$inc", {}), "version": 1}}
    return collection(CLASSES).find_one_and_update(query, update, return_document=ReturnDocument.AFTER)


TAKEN, HELD_ALREADY = "taken", "held already"


def take_quota_place(*, class_id, region_code, registration_id, even_if_full=False):
    """Count one place against a region's quota for this registration unless it is full (one
    conditional update). Returns TAKEN, HELD_ALREADY (a retried request whose first try took it:
    a place is never counted twice for one registration) or None (full). `even_if_full` puts
    back a place just given back by a request that then failed."""
    used, places, holders = (f"quotas.{region_code}.{name}" for name in ("used", "places", "holders"))
    query = {"_id": class_id, holders: {"$ne": registration_id}}
    if not even_if_full:
        query["$expr"] = {"$lt": [f"${used}", f"${places}"]}
    result = collection(CLASSES).update_one(query, {"$inc": {used: 1}, "$push": {holders: registration_id}})
    if result.modified_count == 1:
        return TAKEN
    if collection(CLASSES).count_documents({"_id": class_id, holders: registration_id}, limit=1):
        return HELD_ALREADY
    return None


def release_quota_place(*, class_id, region_code, registration_id):
    """Give the registration's place back; nothing if it holds none (given back already).
    A place counted before `holders` existed (no list yet) is given back by the count alone."""
    used, holders = f"quotas.{region_code}.used", f"quotas.{region_code}.holders"
    result = collection(CLASSES).update_one(
        {"_id": class_id, used: {"$gt": 0}, "$or": [{holders: registration_id}, {holders: {"$exists": False}}]},
        {"$inc": {used: -1}, "$pull": {holders: registration_id}})
    return result.modified_count == 1


def quota_tables(*, statuses=None, class_ids=None):
    """A cursor over classes' quota tables ({_id, quotas}), optionally only those in `statuses` or
    with these ids (the places' migration and reconciliation, service.registrations.places)."""
    query = {}
    if statuses is not None:
        query["status"] = {"$in": list(statuses)}
    if class_ids is not None:
        query["_id"] = {"$in": list(class_ids)}
    return collection(CLASSES).find(query, {"quotas": 1})


def add_quota_holders(*, class_id, region_code, registration_ids):
    """Add these registrations to the region's `holders` and set `used` to the size of the list, in
    one update: whatever requests added or removed meanwhile is kept (a union with the list as it is
    when the update runs), and `used` then equals the holders counted. A quota written before
    `holders` existed gets its list. True if the quota changed."""
    holders, used = f"quotas.{region_code}.holders", f"quotas.{region_code}.used"
    union = {"$setUnion": [{"$ifNull": [f"${holders}", []]}, list(registration_ids)]}
    result = collection(CLASSES).update_one(
        {"_id": class_id, f"quotas.{region_code}": {"$exists": True}},
        [{"$set": {holders: union}}, {"$set": {used: {"$size": f"${holders}"}}}])
    return result.modified_count == 1


def running_or_due(now, projection=None):
    """Published or running classes whose first session has begun by `now` (the status job);
    served by the `sessions.starts_at` index."""
    return list(collection(CLASSES).find({"status": {"$in": ["published", "in_progress"]},
                                          "sessions.starts_at": {"$lte": now}}, projection))


def find_by_session(session_id):
    return collection(CLASSES).find_one({"sessions._id": session_id}, {"changes": 0})


def statuses(class_ids):
    """{class id: status} of those of these classes that exist, in one query."""
    found = collection(CLASSES).find({"_id": {"$in": list(class_ids)}}, {"status": 1})
    return {doc["_id"]: doc["status"] for doc in found}


def session_statuses(session_ids):
    """{session id: (class id, class status)} of those of these sessions that exist, in one query
    (the `session_id` index)."""
    wanted = set(session_ids)
    found = collection(CLASSES).find({"sessions._id": {"$in": list(wanted)}}, {"status": 1, "sessions._id": 1})
    return {session["_id"]: (doc["_id"], doc["status"])
            for doc in found for session in doc.get("sessions", []) if session["_id"] in wanted}


# Statuses of a class that belongs to a year's plan (drafts are not announced, cancelled ones not held).
PLANNED_STATUSES = ("published", "in_progress", "finished", "archived")


def planned_in_year(year, *, region_code=None, projection=None):
    """The year's announced classes (optionally only those where `region_code` has places), by start date
    (the `year_status_start` index)."""
    query = {"year": year, "status": {"$in": list(PLANNED_STATUSES)}}
    if region_code is not None:
        query[f"quotas.{region_code}.places"] = {"$gt": 0}
    return list(collection(CLASSES).find(query, projection).sort([("start_date", 1), ("_id", 1)]))


# Statuses of a class whose sessions may still be held.
RUNNING_STATUSES = ["published", "in_progress"]


def with_sessions_ended_by(now, projection=None):
    """Published or running classes with a session that ended by `now` (the closing job); a cursor."""
    return collection(CLASSES).find({"status": {"$in": RUNNING_STATUSES}, "sessions.ends_at": {"$lte": now}},
                                    projection)


def between_sessions(now, projection=None):
    """Published or running classes with a session ended and one still to start at `now` (the
    attendance-warning job); a cursor."""
    return collection(CLASSES).find({"status": {"$in": RUNNING_STATUSES}, "sessions.ends_at": {"$lte": now},
                                     "sessions.starts_at": {"$gt": now}}, projection)


def in_programme_named(programme_id, name_pattern):
    """The programme's first class whose name matches the regular expression `name_pattern`, or None."""
    return collection(CLASSES).find_one({"programme_id": programme_id, "name": {"$regex": name_pattern}})
