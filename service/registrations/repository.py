"""The `registrations` collection.

The database settles the races:
  - one open registration per trainee per class: partial unique (class_id, user_id) over OPEN;
  - one enterprise per programme year: partial unique `enterprise_key` (programme:credit code)
    over ACTIVE, so a rejected or withdrawn registration does not block a new one;
  - every state change carries the expected `version` and state in its filter.
"""

from pymongo import IndexModel, ReturnDocument

from service.core import regions
from service.core.db import collection, declare_indexes, in_chunks
from service.reports import summaries
from service.registrations import states
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
    IndexModel([("year", 1), ("region_code", 1), ("class_id", 1), ("submitted_at", 1), ("_id", 1)],
               name="year_roster"),
)


def insert(doc):
    collection(REGISTRATIONS).insert_one(doc)
    summaries.changed(region_code=doc.get("region_code"), year=doc.get("year"))
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


# A roster cursor reads this many documents per round trip: the client holds at most that many
# (a projected roster row is ~0.3 KB, so the server's 16 MB batches would hand over a whole
# national year at once).
ROSTER_BATCH = 1000
ROSTER_ORDER = [("region_code", 1), ("class_id", 1), ("submitted_at", 1), ("_id", 1)]


def counted_in_class(class_id, *, region_code=None, projection=None):
    """A cursor over the class's registrations counted against quotas (COUNTED), by region then
    submission: the roster (花名册), read as it is written (index `region_review` / `class_state`)."""
    query = {"class_id": class_id, "state": {"$in": list(states.COUNTED)}}
    if region_code is not None:
        query["region_code"] = region_code
    return collection(REGISTRATIONS).find(query, projection).sort(ROSTER_ORDER).batch_size(ROSTER_BATCH)


def counted_in_classes(class_ids):
    """[{_id, class_id, region_code}] of the registrations counted against these classes' quotas
    (COUNTED; the `class_state` index): the places' migration and reconciliation."""
    found = []
    for chunk in in_chunks(class_ids):
        found.extend(collection(REGISTRATIONS).find({"class_id": {"$in": chunk}, "state": {"$in": list(states.COUNTED)}},
                                                    {"class_id": 1, "region_code": 1}))
    return found


def states_of(registration_ids):
    """{registration id: state} of those of these registrations that exist."""
    found = {}
    for chunk in in_chunks(registration_ids):
        found.update((d["_id"], d["state"]) for d in collection(REGISTRATIONS).find({"_id": {"$in": chunk}},
                                                                                    {"state": 1}))
    return found


def counted_in_year(year, *, region_code=None, projection=None):
    """The programme year's counted registrations in every class, by region, class and submission:
    the national roster (tens of thousands of rows, never held in a list: one region's at a time).
    One query per region (index `year_roster`): each answers within the socket timeout even on a
    slow server, where one query sorting the whole year did not (the embedded server scanned and
    sorted 44,000 documents before its first batch). A region's rows are put in order here, not by
    the server: the embedded server sorts through a Python comparison object per document (a fifth
    of its time on the roster), the same order costs a key tuple here. Every counted registration
    has a region of core.regions: its region code is the profile's, checked against that list
    when the registration is submitted."""
    codes = [region_code] if region_code is not None else sorted(regions.all_regions())
    if projection is not None:
        projection = {**projection, **dict.fromkeys(("class_id", "submitted_at"), 1)}
    for code in codes:
        rows = list(collection(REGISTRATIONS).find(
            {"year": year, "region_code": code, "state": {"$in": list(states.COUNTED)}}, projection,
        ).batch_size(ROSTER_BATCH))
        rows.sort(key=_roster_key)
        yield from rows


def _roster_key(registration):
    """ROSTER_ORDER within a region as MongoDB sorts it: class, then submission (none first), then _id."""
    submitted = registration.get("submitted_at")
    return registration["class_id"], submitted is not None, submitted or 0, registration["_id"]


def find(query, *, skip=0, limit=0, sort=(("submitted_at", 1), ("_id", 1))):
    cursor = collection(REGISTRATIONS).find(query).sort(list(sort)).skip(skip).limit(limit)
    return list(cursor), collection(REGISTRATIONS).count_documents(query)


def class_and_credit_codes(query):
    """[{_id, class_id, credit_code}] of the registrations matching `query` (a review filter's candidates)."""
    return list(collection(REGISTRATIONS).find(query, {"class_id": 1, "credit_code": 1}))


def count(query):
    return collection(REGISTRATIONS).count_documents(query)


def move(*, registration, update):
    """Apply `update` if the registration is still at the version it was read at."""
    update = {**update, "$inc": {"version": 1}}
    moved = collection(REGISTRATIONS).find_one_and_update(
        {"_id": registration["_id"], "version": registration["version"], "state": registration["state"]},
        update, return_document=ReturnDocument.AFTER)
    if moved is not None:
        summaries.changed(region_code=moved.get("region_code"), year=moved.get("year"))
    return moved


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


# ---- report pipelines (the region-year KPIs and the all-regions table of service.reports) ---------
# Every pipeline groups by region: the all-regions table costs the same few passes as one region.
# `region_match` is {} for every region, or {"region_code": code} for one.

# The all-regions KPI table reads a year without a region, the region report a year and a region.
declare_indexes(REGISTRATIONS,
                IndexModel([("year", 1), ("region_code", 1), ("state", 1)], name="report_year_region_state"))

# Every state but draft, spelled out: with an inequality (`$ne: "draft"`) the embedded development
# server stops using the index and scans the whole collection.
SUBMITTED_STATES = sorted(set(states.LABELS) - {states.DRAFT})
# Applied = submitted at least once, and so placed in a region (set on submission). A draft, or a
# draft withdrawn before it was ever submitted, is no application: counting it let anyone inflate
# `applied` by creating and withdrawing drafts, and added a row without a region.
# (A caller's region filter, placed after it, narrows its region_code condition.)
APPLIED = {"state": {"$in": SUBMITTED_STATES}, "history.to": SUBMITTED, "region_code": {"$type": "string"}}
# APPLIED in pipelines: the indexed part first, the rest as a second `$match`. With the array path
# `history.to` (or the `$type`) in the first `$match` the embedded development server reads the whole
# collection instead of the index (one region's KPIs: 18 s instead of 0.3 s on the national year).
APPLIED_INDEXED = {"state": {"$in": SUBMITTED_STATES}}
APPLIED_CHECK = {"history.to": SUBMITTED, "region_code": {"$type": "string"}}
# A province decision on a submitted registration (recommend, return, reject).
REVIEW_STEPS = sorted({to_state for _, to_state, _ in states.PROVINCE_ACTIONS.values()})
PROFILE_FIELDS = ("snapshot.name", "snapshot.id_number_masked", "snapshot.mobile_masked", "snapshot.position",
                  "snapshot.enterprise.name", "snapshot.enterprise.credit_code")
# The province decided on the registration once it was submitted.
REVIEWED = {"history": {"$elemMatch": {"from": SUBMITTED, "to": {"$in": REVIEW_STEPS}}}}
# A confirmed trainee's archive lacks the review or part of the profile. Counting goes through
# query filters like these rather than per-document expressions: on a national year the embedded
# development server evaluates the expressions (a $filter over the history) about five times slower.
ARCHIVE_INCOMPLETE = {"$or": [{"history": {"$not": REVIEWED["history"]}},
                              *({path: {"$in": [None, ""]}} for path in PROFILE_FIELDS)]}


def _count_if(condition):
    return {"$sum": {"$cond": [condition, 1, 0]}}


def _filled(path):
    return {"$gt": [{"$strLenCP": {"$ifNull": [f"${path}", ""]}}, 0]}


def _reviewed():
    return {"$gt": [{"$size": {"$filter": {
        "input": {"$ifNull": ["$history", []]}, "as": "h",
        "cond": {"$and": [{"$eq": ["$$h.from", SUBMITTED]}, {"$in": ["$$h.to", REVIEW_STEPS]}]}}}}, 0]}


def _archive_fields():
    """What a trainee's archive needs from the registration itself, per registration (for the few
    listed): the province's review and the profile."""
    return {"class_id": 1, "region_code": 1, "name": "$snapshot.name", "reviewed": _reviewed(),
            "profile_complete": {"$and": [_filled(path) for path in PROFILE_FIELDS]}}


def _per_region(*stages):
    return [*stages, {"$group": {"_id": "$region_code", "n": {"$sum": 1}}}]


def kpi_counts_by_region(year, region_match, *, with_incomplete=False):
    """One pass over the year's submitted registrations: {region: {pending, reviewed, confirmed,
    incomplete (confirmed, profile or review missing), trainees (people), class_ids}}, and with
    `with_incomplete` those incomplete registrations themselves (name, class, flags)."""
    confirmed = {"$match": {"state": CONFIRMED}}
    facets = {
        "pending": _per_region({"$match": {"state": SUBMITTED}}),
        "reviewed": _per_region({"$match": {"state": {"$ne": SUBMITTED}, **REVIEWED}}),
        "incomplete": _per_region({"$match": {"state": CONFIRMED, **ARCHIVE_INCOMPLETE}}),
        # Distinct values by grouping (an $addToSet of thousands is slow on the embedded server).
        "users": [confirmed, {"$group": {"_id": {"region": "$region_code", "user": "$user_id"}}},
                  {"$group": {"_id": "$_id.region", "n": {"$sum": 1}}}],
        "classes": [confirmed, {"$group": {"_id": {"region": "$region_code", "class": "$class_id"},
                                           "n": {"$sum": 1}}}],
    }
    if with_incomplete:
        facets["incomplete_rows"] = [{"$match": {"state": CONFIRMED, **ARCHIVE_INCOMPLETE}},
                                     {"$project": _archive_fields()}]
    found = list(collection(REGISTRATIONS).aggregate([
        {"$match": {"year": year, **region_match, **APPLIED_INDEXED}}, {"$match": APPLIED_CHECK},
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
    return list(collection(REGISTRATIONS).aggregate([
        {"$match": {"class_id": class_id, "state": CONFIRMED, **region_match}},
        {"$project": _archive_fields()}]))


def little_giants_by_region(year, region_match):
    """{region: {in_registry, trained}}: the region's 小巨人 in the registry valid at some time in the
    year (service.registry.repository.little_giant_codes_by_region), and how many of them sent a
    confirmed trainee of the region that year: the year's confirmed (region, credit code) pairs,
    grouped here in the database, against the registry's codes of each region (both indexed reads;
    the sets are a region's 小巨人 and trainees, not whole collections)."""
    from service.registry import repository as registry

    trained = {}
    for group in collection(REGISTRATIONS).aggregate([
            {"$match": {"year": year, **region_match, "state": CONFIRMED}},
            {"$group": {"_id": {"region": "$region_code", "credit_code": "$credit_code"}}}]):
        trained.setdefault(group["_id"].get("region"), set()).add(group["_id"].get("credit_code"))
    return {region: {"in_registry": len(codes), "trained": len(codes & trained.get(region, set()))}
            for region, codes in registry.little_giant_codes_by_region(year, region_match).items()}


# ---- asked by other features (one named query each; the indexes above serve them) ------------------

def class_of(registration_id):
    """The registration's class id, or None: tells a personal code of another class from a stranger's."""
    found = collection(REGISTRATIONS).find_one({"_id": registration_id}, {"class_id": 1})
    return found and found["class_id"]


def any_in_class(class_id):
    """Whether any registration (in any state) names the class (the classes feature's date-move rule)."""
    return collection(REGISTRATIONS).count_documents({"class_id": class_id}, limit=1) > 0


def includes_attachment_in_regions(attachment_id, region_codes):
    """Whether a registration of one of `region_codes` includes the attachment (index `attachments`)."""
    return bool(collection(REGISTRATIONS).count_documents(
        {"attachment_ids": attachment_id, "region_code": {"$in": list(region_codes)}}, limit=1))


def record_completion(*, registration_id, certificate=None, revoked_number=None):
    """`completed` on the registration is what the prior-trainee check reads (checks.py); the completion
    feature sets it when it issues a certificate and clears it when it revokes one.

    Not a state change: the registration's `version` does not move. Idempotent; True if this
    call changed the registration.
    """
    if certificate is not None:
        update = {"$set": {"completed": True, "completed_at": certificate["issued_at"],
                           "certificate_number": certificate["number"]}}
    else:
        update = {"$set": {"completed": False}, "$unset": {"completed_at": "", "certificate_number": ""}}
    query = {"_id": registration_id}
    if revoked_number is not None:
        # A reissue that landed meanwhile keeps its `completed` flag.
        query["certificate_number"] = revoked_number
    return collection(REGISTRATIONS).update_one(query, update).modified_count == 1


# ---- for the reports feature (read side): the class report and the trainee archive -----------------

def class_enrolment_by_region(class_id, scope_match):
    """[{_id: region, applied, admitted, confirmed, user_ids}] of one class, counting people: a
    trainee who submitted, withdrew and submitted again is one applicant, not two (see APPLIED:
    drafts are not applications). `user_ids`: the region's applicants, for a total across regions."""
    return list(collection(REGISTRATIONS).aggregate([
        {"$match": {"class_id": class_id, **APPLIED_INDEXED, **scope_match}}, {"$match": APPLIED_CHECK},
        {"$group": {"_id": {"region": "$region_code", "user": "$user_id"},
                    "admitted": {"$max": {"$cond": [{"$in": ["$state", ["admitted", "confirmed"]]}, 1, 0]}},
                    "confirmed": {"$max": {"$cond": [{"$eq": ["$state", "confirmed"]}, 1, 0]}}}},
        {"$group": {"_id": "$_id.region", "applied": {"$sum": 1}, "admitted": {"$sum": "$admitted"},
                    "confirmed": {"$sum": "$confirmed"}, "user_ids": {"$push": "$_id.user"}}},
        {"$sort": {"_id": 1}}]))


def applied_of_trainee(user_id, scope_match):
    """The trainee's applications (see APPLIED) in the caller's scope, oldest first."""
    return list(collection(REGISTRATIONS).find({"user_id": user_id, **APPLIED, **scope_match})
                .sort([("created_at", 1)]))
