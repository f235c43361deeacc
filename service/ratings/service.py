"""Satisfaction ratings (满意度评价): session stars and the class's four dimensions.

Windows: a session can be rated from its end, the class from the end of its last session; both
close RATING_CLOSE_DAYS days after the class's last day, and a rating can be changed until then.
Who may rate: a session, trainees recorded present or late; the class, its confirmed trainees.
"""

import contextlib
import datetime as dt

from bson import ObjectId
from flask import current_app
from pymongo.errors import DuplicateKeyError

from service.attendance import repository as attendance
from service.classes import repository as classes_repo
from service.classes import service as classes
from service.core import crypto
from service.core.db import utcnow
from service.core.errors import Conflict, Forbidden, NotFound, RuleViolation
from service.core.shares import share
from service.core.timeutil import BEIJING, beijing_midnight
from service.ratings import repository
from service.registrations import repository as registrations

SESSION, CLASS = "session", "class"
ATTENDED = ("present", "late")
# The four things the bureau evaluates (notice 333): 课程设置, 师资力量, 组织管理, 实际效果.
DIMENSIONS = {"course_design": "课程设置", "faculty": "师资力量", "organisation": "组织管理", "effect": "实际效果"}
SATISFIED_FROM = 4  # a rating of 4 or 5 stars counts as satisfied


# ---- windows and eligibility -------------------------------------------------------------

def closes_at(class_doc):
    """Ratings close this many days after the class's last day (end of that day, Beijing time)."""
    last_day = dt.date.fromisoformat(class_doc["end_date"])
    return beijing_midnight(last_day + dt.timedelta(days=1 + current_app.config["RATING_CLOSE_DAYS"]))


def class_opens_at(class_doc):
    sessions = [s for s in class_doc.get("sessions") or [] if not s.get("cancelled")]  # the last one held
    return max(s["ends_at"] for s in sessions) if sessions else None


def _check_window(opens, closes, now):
    if opens is None or now < opens:
        when = f"（{opens.astimezone(BEIJING):%m-%d %H:%M} 起）" if opens else ""
        raise RuleViolation("RATING_NOT_OPEN", f"课程结束后才能评价{when}",
                            extra={"opens_at": opens.astimezone(BEIJING).isoformat() if opens else None})
    if now >= closes:
        raise RuleViolation("RATING_CLOSED", "评价已截止")


def _session_target(*, user_id, session_id, now):
    """(class, session, region code of the rater) or the refusal."""
    class_doc = classes_repo.find_by_session(session_id)
    if class_doc is None:
        raise NotFound("SESSION_NOT_FOUND", "课程不存在")
    session = next(s for s in class_doc["sessions"] if s["_id"] == session_id)
    if session.get("cancelled"):
        raise RuleViolation("SESSION_CANCELLED", "本节课已取消，无需评价")
    _check_window(session["ends_at"], closes_at(class_doc), now)
    record = attendance.find_one(session_id=session_id, user_id=user_id)
    if record is None or record["status"] not in ATTENDED:
        raise Forbidden("RATING_NOT_ELIGIBLE", "只有出席本节课（已签到或迟到）的学员可以评价本节课")
    return class_doc, session, record["region_code"]


def _class_target(*, user_id, class_id, now):
    class_doc = classes.get_or_raise(class_id=class_id)
    registration = registrations.confirmed_for(class_id=class_id, user_id=user_id, projection={"region_code": 1})
    if registration is None:
        raise Forbidden("NOT_ENROLLED", "只有确认参训本班的学员可以评价本班")
    _check_window(class_opens_at(class_doc), closes_at(class_doc), now)
    return class_doc, registration["region_code"]


# ---- writing ---------------------------------------------------------------------------

def _submit(*, user_id, target, kind, class_doc, session, region_code, values, create, now):
    rating_fields = {"kind": kind, "class_id": class_doc["_id"], "year": class_doc.get("year"),
                     "region_code": region_code, **values}
    if session is not None:
        rating_fields.update(session_id=session["_id"], teacher=session.get("teacher") or "")
    if create:
        rating_id = repository.random_id()
        receipt = {"user_id": user_id, "target": target, "kind": kind, "class_id": class_doc["_id"],
                   "session_id": session["_id"] if session else None,
                   "rating_ref": crypto.encrypt(str(rating_id)), "created_at": now, "updated_at": now}
        try:
            repository.insert_receipt(receipt)
        except repository.AlreadyRated:
            return _finish_lost_rating(user_id=user_id, target=target, rating_fields=rating_fields,
                                       class_doc=class_doc)
        try:
            rating = repository.insert_rating({"_id": rating_id, **rating_fields})
        except DuplicateKeyError:
            # A change (PUT) raced in between and wrote this rating already: it stays, owned by the receipt.
            rating = repository.get_rating(rating_id)
        except Exception:
            repository.delete_receipt(receipt["_id"])  # leave nothing half-written
            raise
    else:
        receipt = repository.receipt(user_id=user_id, target=target)
        if receipt is None:
            raise NotFound("RATING_NOT_FOUND", "您还没有评价，请先提交评价")
        rating = repository.replace_rating(ObjectId(crypto.decrypt(receipt["rating_ref"])), rating_fields)
        repository.touch_receipt(receipt["_id"], now)
        receipt["updated_at"] = now
    return _view(rating, receipt, class_doc)


def _finish_lost_rating(*, user_id, target, rating_fields, class_doc):
    """A second submission: 409 ALREADY_RATED, unless the first one's receipt was left without its
    rating (the rating's write failed and so did taking the receipt back): then this one writes the
    rating under the receipt and answers as a first submission. Inserted, never replaced: a rating
    stored meanwhile stays and this one is refused. (A double tap whose second request lands
    between the first one's two writes is answered 201 too, with the one rating stored.)"""
    receipt = repository.receipt(user_id=user_id, target=target)
    if receipt is not None:
        rating_id = ObjectId(crypto.decrypt(receipt["rating_ref"]))
        if repository.get_rating(rating_id) is None:
            with contextlib.suppress(DuplicateKeyError):
                return _view(repository.insert_rating({"_id": rating_id, **rating_fields}), receipt, class_doc)
    raise Conflict("ALREADY_RATED", "您已评价过，如需修改请使用“修改评价”")


def _view(rating, receipt, class_doc):
    view = {"kind": rating["kind"], "class_id": rating["class_id"], "session_id": rating.get("session_id"),
            "rated_at": receipt["created_at"], "updated_at": receipt["updated_at"],
            "changeable_until": closes_at(class_doc)}
    if rating["kind"] == SESSION:
        view.update(stars=rating["stars"], comment=rating.get("comment") or "")
    else:
        view.update(scores=rating["scores"], suggestions=rating.get("suggestions") or "")
    return view


def rate_session(*, user_id, session_id, stars, comment="", create=True):
    """Rate a session 1–5 stars (create) or change my rating (create=False)."""
    now = utcnow()
    class_doc, session, region_code = _session_target(user_id=user_id, session_id=session_id, now=now)
    return _submit(user_id=user_id, target=f"{SESSION}:{session_id}", kind=SESSION, class_doc=class_doc,
                   session=session, region_code=region_code, values={"stars": stars, "comment": comment or ""},
                   create=create, now=now)


def rate_class(*, user_id, class_id, suggestions="", create=True, **scores):
    """Rate the class on the four dimensions (create) or change my rating (create=False)."""
    now = utcnow()
    class_doc, region_code = _class_target(user_id=user_id, class_id=class_id, now=now)
    values = {"scores": {key: scores[key] for key in DIMENSIONS}, "suggestions": suggestions or ""}
    return _submit(user_id=user_id, target=f"{CLASS}:{class_id}", kind=CLASS, class_doc=class_doc, session=None,
                   region_code=region_code, values=values, create=create, now=now)


# ---- reading my own ------------------------------------------------------------------------

def mine(*, user_id, session_id=None, class_id=None):
    """My rating of a session or of a class (only I can read it back)."""
    if session_id is not None:
        target = f"{SESSION}:{session_id}"
        class_doc = classes_repo.find_by_session(session_id)
        if class_doc is None:
            raise NotFound("SESSION_NOT_FOUND", "课程不存在")
    else:
        target = f"{CLASS}:{class_id}"
        class_doc = classes.get_or_raise(class_id=class_id)
    receipt = repository.receipt(user_id=user_id, target=target)
    rating = repository.get_rating(ObjectId(crypto.decrypt(receipt["rating_ref"]))) if receipt else None
    if rating is None:
        raise NotFound("RATING_NOT_FOUND", "您还没有评价")
    return _view(rating, receipt, class_doc)


def pending(*, user_id):
    """What I can still rate now: attended sessions and my classes, open and not yet rated."""
    # Four queries whatever the number of classes: registrations, classes, attendance, receipts.
    now = utcnow()
    class_ids = [r["class_id"] for r in registrations.confirmed_of_user(user_id, projection={"class_id": 1})]
    open_classes = [c for c in classes_repo.by_ids(class_ids, {"name": 1, "end_date": 1, "sessions": 1})
                    if now < closes_at(c)]
    if not open_classes:
        return {"count": 0, "items": []}
    open_ids = [c["_id"] for c in open_classes]
    attended = {r["session_id"] for r in attendance.for_trainee(user_id, class_docs=open_classes, statuses=ATTENDED)}
    rated = {r["target"] for r in repository.receipts_of(user_id=user_id, class_ids=open_ids)}
    items = []
    for class_doc in open_classes:
        closes = closes_at(class_doc)
        for session in class_doc.get("sessions") or []:
            if session["_id"] in attended and session["ends_at"] <= now and f"{SESSION}:{session['_id']}" not in rated:
                items.append({"kind": SESSION, "class_id": class_doc["_id"], "class_name": class_doc["name"],
                              "session_id": session["_id"], "title": session["title"],
                              "teacher": session.get("teacher"), "starts_at": session["starts_at"],
                              "closes_at": closes})
        opens = class_opens_at(class_doc)
        if opens is not None and opens <= now and f"{CLASS}:{class_doc['_id']}" not in rated:
            items.append({"kind": CLASS, "class_id": class_doc["_id"], "class_name": class_doc["name"],
                          "session_id": None, "title": class_doc["name"], "teacher": None, "starts_at": opens,
                          "closes_at": closes})
    items.sort(key=lambda i: (i["closes_at"], i["kind"] == CLASS, i["starts_at"]))
    return {"count": len(items), "items": items}


# ---- satisfaction (anonymous aggregates) ----------------------------------------------------

def rate(satisfied, count):
    return share(satisfied, count)


def _flag(rate_value, threshold):
    return rate_value is not None and rate_value < threshold


def _satisfied(expression):
    return {"$sum": {"$cond": [{"$gte": [expression, SATISFIED_FROM]}, 1, 0]}}


def satisfaction_pipeline(match, *, with_comments):
    facets = {
        "sessions": [{"$match": {"kind": SESSION}},
                     {"$group": {"_id": "$session_id", "count": {"$sum": 1}, "satisfied": _satisfied("$stars"),
                                 "total": {"$sum": "$stars"}}}],
        "teachers": [{"$match": {"kind": SESSION}},
                     {"$group": {"_id": "$teacher", "count": {"$sum": 1}, "satisfied": _satisfied("$stars"),
                                 "total": {"$sum": "$stars"}}}],
        "dimensions": [{"$match": {"kind": CLASS}},
                       {"$group": {"_id": None, "count": {"$sum": 1},
                                   **{f"{d}_satisfied": _satisfied(f"$scores.{d}") for d in DIMENSIONS},
                                   **{f"{d}_total": {"$sum": f"$scores.{d}"} for d in DIMENSIONS}}}],
    }
    if with_comments:
        # Sorted by the random _id: the order says nothing about who wrote what, or when.
        facets["comments"] = [{"$match": {"kind": SESSION, "comment": {"$nin": [None, ""]}}}, {"$sort": {"_id": 1}},
                              {"$project": {"_id": 0, "session_id": 1, "stars": 1, "text": "$comment"}}]
        facets["suggestions"] = [{"$match": {"kind": CLASS, "suggestions": {"$nin": [None, ""]}}},
                                 {"$sort": {"_id": 1}}, {"$project": {"_id": 0, "text": "$suggestions"}}]
    return [{"$match": match}, {"$facet": facets}]


def summary(*, class_doc, region_codes=None, with_comments=True):
    """Satisfaction of a class: per session, teacher and dimension with flags, and comments (no names)."""
    threshold = current_app.config["SATISFACTION_THRESHOLD"]
    match = {"class_id": class_doc["_id"]}
    if region_codes is not None:
        match["region_code"] = {"$in": sorted(region_codes)}
    facets = repository.aggregate(satisfaction_pipeline(match, with_comments=with_comments))[0]
    by_session = {g["_id"]: g for g in facets["sessions"]}
    sessions = []
    for session in class_doc.get("sessions") or []:
        group = by_session.get(session["_id"], {"count": 0, "satisfied": 0, "total": 0})
        value = rate(group["satisfied"], group["count"])
        sessions.append({"session_id": session["_id"], "title": session["title"], "teacher": session.get("teacher"),
                         "starts_at": session["starts_at"], "ratings": group["count"],
                         "average": round(group["total"] / group["count"], 2) if group["count"] else None,
                         "satisfaction_rate": value, "flagged": _flag(value, threshold)})
    teachers = []
    for group in sorted(facets["teachers"], key=lambda g: g["_id"] or ""):
        value = rate(group["satisfied"], group["count"])
        teachers.append({"teacher": group["_id"] or "", "ratings": group["count"],
                         "average": round(group["total"] / group["count"], 2),
                         "satisfaction_rate": value, "flagged": _flag(value, threshold)})
    dims = facets["dimensions"][0] if facets["dimensions"] else {"count": 0}
    dimensions = []
    for key, label in DIMENSIONS.items():
        count = dims["count"]
        value = rate(dims.get(f"{key}_satisfied", 0), count)
        dimensions.append({"dimension": key, "label": label, "ratings": count,
                           "average": round(dims[f"{key}_total"] / count, 2) if count else None,
                           "satisfaction_rate": value, "flagged": _flag(value, threshold)})
    session_count = sum(g["count"] for g in facets["sessions"])
    titles = {s["_id"]: s["title"] for s in class_doc.get("sessions") or []}
    result = {
        "threshold": threshold,
        "session_ratings": session_count,
        "session_satisfaction_rate": rate(sum(g["satisfied"] for g in facets["sessions"]), session_count),
        "class_ratings": dims["count"],
        # Overall = every dimension score of every class rating, each counted once.
        "overall_satisfaction_rate": rate(sum(dims.get(f"{d}_satisfied", 0) for d in DIMENSIONS),
                                          dims["count"] * len(DIMENSIONS)),
        "sessions": sessions, "teachers": teachers, "dimensions": dimensions,
        "comments": None, "suggestions": None,
    }
    result["overall_flagged"] = _flag(result["overall_satisfaction_rate"], threshold)
    if with_comments:
        result["comments"] = [{**c, "session_title": titles.get(c["session_id"], "")} for c in facets["comments"]]
        result["suggestions"] = [s["text"] for s in facets["suggestions"]]
    return result


def overall_by(match, *, group_by=None):
    """Overall satisfaction of class ratings matching `match`, grouped by a field (e.g. "$region_code";
    None: all together), counted as in `summary`: every dimension score of every class rating once.
    {group: {"class_ratings", "satisfied_scores", "scores", "rate"}}; groups without ratings are absent."""
    groups = repository.aggregate([
        {"$match": {**match, "kind": CLASS}},
        {"$group": {"_id": group_by, "count": {"$sum": 1},
                    **{f"{d}_satisfied": _satisfied(f"$scores.{d}") for d in DIMENSIONS}}}])
    result = {}
    for group in groups:
        satisfied = sum(group[f"{d}_satisfied"] for d in DIMENSIONS)
        scores = group["count"] * len(DIMENSIONS)
        result[group["_id"]] = {"class_ratings": group["count"], "satisfied_scores": satisfied, "scores": scores,
                                "rate": rate(satisfied, scores)}
    return result
