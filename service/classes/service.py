"""Classes: organizers set them up; everyone reads the published ones within their scope."""

import datetime as dt

from bson import ObjectId

from service.attendance import repository as attendance_repo
from service.attendance import roster
from service.classes import repository, rules
from service.core.auth import PROVINCE_STAFF, SUPERVISOR
from service.core.db import utcnow
from service.core.errors import Conflict, NotFound, RuleViolation
from service.programmes import service as programmes
from service.registrations import repository as registrations
from service.staff import repository as staff_repo

PUBLIC_STATUSES = ("published", "in_progress", "finished", "archived")
# Allowed status changes: from -> targets.
TRANSITIONS = {
    "draft": {"published", "cancelled"},
    "published": {"in_progress", "cancelled"},
    "in_progress": {"finished"},
    "finished": {"archived"},
    "archived": set(),
    "cancelled": set(),
}
EDITABLE_TIMETABLE = ("draft", "published", "in_progress")
STATUS_NAMES = {"draft": "草稿", "published": "已发布", "in_progress": "进行中", "finished": "已结束",
                "archived": "已归档", "cancelled": "已取消"}


# ---- reading ---------------------------------------------------------------------------

def get_or_raise(*, class_id):
    class_doc = repository.get(class_id)
    if class_doc is None:
        raise NotFound("CLASS_NOT_FOUND", "班级不存在")
    return class_doc


def is_visible(class_doc, identity):
    return (identity.is_admin or identity.supervises(class_doc["_id"])
            or class_doc["status"] in PUBLIC_STATUSES)


def get_visible(*, class_id, identity):
    """A class the caller may see; drafts and cancelled classes only for admins (and their supervisors)."""
    class_doc = repository.get(class_id)
    if class_doc is None or not is_visible(class_doc, identity):
        raise NotFound("CLASS_NOT_FOUND", "班级不存在")
    return class_doc


def list_classes(*, identity, year=None, programme_id=None, region_code=None, status=None, mine=False,
                 page=1, page_size=20):
    """Classes the caller may see, filtered; `mine` narrows to the caller's own scope."""
    clauses = []
    if not identity.is_admin:
        clauses.append({"$or": [{"status": {"$in": list(PUBLIC_STATUSES)}},
                                {"_id": {"$in": list(identity.class_ids)}}]})
    if year:
        clauses.append({"year": year})
    if programme_id:
        clauses.append({"programme_id": programme_id})
    if status:
        clauses.append({"status": status})
    if region_code:
        clauses.append({f"quotas.{region_code}": {"$exists": True}})
    if mine:
        clauses.append(_mine_clause(identity))
    query = {"$and": clauses} if clauses else {}
    items, total = repository.find(query, skip=(page - 1) * page_size, limit=page_size,
                                   projection={"changes": 0})
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def _mine_clause(identity):
    scopes = []
    if SUPERVISOR in identity.roles:
        scopes.append({"_id": {"$in": list(identity.class_ids)}})
    if PROVINCE_STAFF in identity.roles:
        scopes.extend({f"quotas.{code}": {"$exists": True}} for code in identity.region_codes)
    # Trainees' own classes come from their registrations (registration feature).
    return {"$or": scopes} if scopes else {"_id": {"$in": []}}


# ---- writing ---------------------------------------------------------------------------

def _jsonable(value):
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _save(class_doc, *, changed_by, what, set_fields=None, extra_filter=None, always_record=False):
    """Versioned update; once published every change is recorded in the same atomic write."""
    update = {"$set": {**(set_fields or {}), "updated_at": utcnow()}}
    if (class_doc["status"] != "draft" or always_record) and what:
        update["$push"] = {"changes": {"at": utcnow(), "by": changed_by, "what": _jsonable(what)}}
    saved = repository.update_versioned(class_id=class_doc["_id"], version=class_doc["version"],
                                        update=update, extra_filter=extra_filter)
    if saved is None:
        raise Conflict("CLASS_VERSION_CONFLICT", "班级信息已被他人修改，请刷新后重试")
    return saved


def create(*, created_by, programme_id, quotas, checkin_settings, **fields):
    """Create a draft class with its quota table."""
    programme = programmes.get_or_raise(programme_id=programme_id)
    if programme["status"] == "cancelled":
        raise RuleViolation("PROGRAMME_CANCELLED", "培训项目已取消，不能新建班级")
    rules.check_dates(start_date=fields["start_date"], end_date=fields["end_date"], programme_year=programme["year"])
    opens_at, deadline, confirmation = rules.resolve_deadlines(
        start_date=fields["start_date"], opens_at=fields.pop("registration_opens_at"),
        deadline=fields.pop("registration_deadline"), confirmation=fields.pop("confirmation_deadline"))
    table = rules.quota_table(quotas)
    rules.check_capacity(capacity=fields["capacity"], quotas=table,
                         allow_above=fields["allow_quota_above_capacity"])
    doc = {
        **fields,
        "programme_id": programme_id,
        "year": programme["year"],
        "start_date": fields["start_date"].isoformat(),
        "end_date": fields["end_date"].isoformat(),
        "content_areas": list(dict.fromkeys(fields["content_areas"])),
        "registration_opens_at": opens_at,
        "registration_deadline": deadline,
        "confirmation_deadline": confirmation,
        "checkin_settings": checkin_settings,
        "quotas": table,
        "sessions": [],
        "status": "draft",
        "version": 1,
        "changes": [],
        "created_by": created_by,
        "created_at": utcnow(),
        "updated_at": None,
    }
    return repository.insert(doc)


def update(*, class_id, changes, changed_by, version=None, allow_date_change_with_registrations=False):
    """Change a class's details; dates of a class with registrations move only with the flag."""
    class_doc = get_or_raise(class_id=class_id)
    if version is not None and version != class_doc["version"]:
        raise Conflict("CLASS_VERSION_CONFLICT", "班级信息已被他人修改，请刷新后重试")
    if class_doc["status"] in ("archived", "cancelled"):
        raise RuleViolation("CLASS_NOT_EDITABLE", f"班级{STATUS_NAMES[class_doc['status']]}，不能修改")
    for key in ("start_date", "end_date"):
        if key in changes:
            changes[key] = changes[key].isoformat()
    if "content_areas" in changes:
        changes["content_areas"] = list(dict.fromkeys(changes["content_areas"]))
    merged = {**class_doc, **changes}
    dates_moved = (merged["start_date"], merged["end_date"]) != (class_doc["start_date"], class_doc["end_date"])
    if dates_moved and class_doc["status"] != "draft" and not allow_date_change_with_registrations \
            and registrations.any_in_class(class_id):
        raise RuleViolation("CLASS_DATES_LOCKED", "已有学员报名，修改日期需确认（allow_date_change_with_registrations）")
    rules.check_dates(start_date=merged["start_date"], end_date=merged["end_date"], programme_year=class_doc["year"])
    rules.check_sessions(sessions=merged["sessions"], start_date=merged["start_date"], end_date=merged["end_date"])
    # Deadlines stay as they are unless sent; moved dates must still leave them before the start.
    rules.resolve_deadlines(start_date=merged["start_date"], opens_at=merged.get("registration_opens_at"),
                            deadline=merged["registration_deadline"],
                            confirmation=merged["confirmation_deadline"])
    rules.check_capacity(capacity=merged["capacity"], quotas=class_doc["quotas"],
                         allow_above=merged.get("allow_quota_above_capacity", False))
    what = {k: {"old": class_doc.get(k), "new": v} for k, v in changes.items() if class_doc.get(k) != v}
    if not what:
        return class_doc
    return _save(class_doc, changed_by=changed_by, what=what, set_fields={k: changes[k] for k in what})


def change_status(*, class_id, status, changed_by, reason=None):
    """Move a class along draft → published → in_progress → finished → archived, or cancel it."""
    class_doc = get_or_raise(class_id=class_id)
    if status not in TRANSITIONS[class_doc["status"]]:
        raise RuleViolation("CLASS_STATUS_INVALID",
                            f"班级当前{STATUS_NAMES[class_doc['status']]}，不能改为{STATUS_NAMES[status]}")
    if status == "cancelled" and not reason:
        raise RuleViolation("REASON_REQUIRED", "取消班级须填写原因", errors={"reason": ["请填写原因"]})
    if status == "published":
        programme = programmes.get_or_raise(programme_id=class_doc["programme_id"])
        rules.check_publishable(class_doc=class_doc, programme=programme)
    what = {"status": {"old": class_doc["status"], "new": status}}
    if reason:
        what["reason"] = reason
    return _save(class_doc, changed_by=changed_by, what=what, set_fields={"status": status},
                 always_record=True)


# ---- status that follows the timetable ------------------------------------------------------

AUTOMATIC = "按课程时间自动变更"


def advance_statuses(*, now=None):
    """Move classes along with their timetable (the background job; also after a closing):
    published → in_progress when the first session (not cancelled) begins, in_progress → finished
    when every session (not cancelled) has been closed. Each change is recorded in `changes` with
    `by` null (the system). Returns [(class_id, new status)]."""
    now = now or utcnow()
    moved = []
    for class_doc in repository.running_or_due(now, {"changes": 0}):
        moved.extend(_advance(class_doc, now))
    return moved


def advance_one(*, class_id, now=None):
    class_doc = repository.get(class_id, {"changes": 0})
    return _advance(class_doc, now or utcnow()) if class_doc else []


def _advance(class_doc, now):
    sessions = rules.scheduled_sessions(class_doc)
    if not sessions or class_doc["status"] not in ("published", "in_progress"):
        return []
    targets = []
    if class_doc["status"] == "published" and min(s["starts_at"] for s in sessions) <= now:
        targets.append("in_progress")
    if attendance_repo.closed_session_ids([s["_id"] for s in sessions]) >= {s["_id"] for s in sessions}:
        targets.append("finished")
    moved = []
    for target in targets:
        try:
            class_doc = _save(class_doc, changed_by=None, always_record=True, set_fields={"status": target},
                              what={"status": {"old": class_doc["status"], "new": target}, "reason": AUTOMATIC},
                              extra_filter={"status": class_doc["status"]})
        except Conflict:
            break  # changed meanwhile (an organizer, another worker): the next run looks again
        moved.append((class_doc["_id"], target))
    return moved


def _editable_timetable(class_doc):
    if class_doc["status"] not in EDITABLE_TIMETABLE:
        raise RuleViolation("CLASS_NOT_EDITABLE", f"班级{STATUS_NAMES[class_doc['status']]}，不能修改课程")


def _save_sessions(class_doc, sessions, *, changed_by, what):
    rules.check_sessions(sessions=sessions, start_date=class_doc["start_date"], end_date=class_doc["end_date"])
    return _save(class_doc, changed_by=changed_by, what=what,
                 set_fields={"sessions": sorted(sessions, key=lambda s: s["starts_at"])})


def add_session(*, class_id, session, changed_by):
    """Add a session to the timetable (inside the class dates, overlapping none)."""
    class_doc = get_or_raise(class_id=class_id)
    _editable_timetable(class_doc)
    session = {"_id": ObjectId(), **session}
    saved = _save_sessions(class_doc, class_doc["sessions"] + [session], changed_by=changed_by,
                           what={"session_added": {"id": session["_id"], "title": session["title"]}})
    return saved, session["_id"]


def _find_session(class_doc, session_id):
    for session in class_doc["sessions"]:
        if session["_id"] == session_id:
            return session
    raise NotFound("SESSION_NOT_FOUND", "课程不存在")


def update_session(*, class_id, session_id, changes, changed_by):
    class_doc = get_or_raise(class_id=class_id)
    _editable_timetable(class_doc)
    current = _find_session(class_doc, session_id)
    updated = {**current, **changes}
    if "checkin" in changes:
        updated["checkin"] = {**current.get("checkin", {}), **changes["checkin"]}
    sessions = [updated if s["_id"] == session_id else s for s in class_doc["sessions"]]
    what = {f"session.{k}": {"old": current.get(k), "new": v} for k, v in changes.items() if current.get(k) != v}
    return _save_sessions(class_doc, sessions, changed_by=changed_by, what={"session_id": session_id, **what})


def delete_session(*, class_id, session_id, changed_by):
    class_doc = get_or_raise(class_id=class_id)
    _editable_timetable(class_doc)
    current = _find_session(class_doc, session_id)
    sessions = [s for s in class_doc["sessions"] if s["_id"] != session_id]
    return _save_sessions(class_doc, sessions, changed_by=changed_by,
                          what={"session_removed": {"id": session_id, "title": current["title"]}})


def cancel_session(*, class_id, session_id, reason, changed_by):
    """An organizer cancels a session that will not take place (teacher ill, ...), with a reason.

    The session stays in the timetable marked cancelled; it takes no check-in, cannot be closed,
    and leaves every count and rate (service.classes.rules.scheduled_sessions). A session that has
    already ended took place and cannot be cancelled."""
    class_doc = get_or_raise(class_id=class_id)
    _editable_timetable(class_doc)
    current = _find_session(class_doc, session_id)
    if rules.is_cancelled(current):
        raise Conflict("SESSION_ALREADY_CANCELLED", "该课程已取消")
    now = utcnow()
    if current["ends_at"] <= now:
        raise RuleViolation("SESSION_ALREADY_HELD", "课程已经结束，不能取消")
    cancelled = {"at": now, "by": changed_by, "reason": reason}
    sessions = [{**s, "cancelled": cancelled} if s["_id"] == session_id else s for s in class_doc["sessions"]]
    saved = _save(class_doc, changed_by=changed_by, always_record=True, set_fields={"sessions": sessions},
                  what={"session_cancelled": {"id": session_id, "title": current["title"], "reason": reason}})
    roster.forget("session", session_id)  # check-in caches the session: this process forgets it at once
    return saved


def set_quota(*, class_id, region_code, places, changed_by):
    """Set a region's places; never below the places already counted (checked in the same update)."""
    rules.check_region(region_code)
    class_doc = get_or_raise(class_id=class_id)
    if class_doc["status"] in ("finished", "archived", "cancelled"):
        raise RuleViolation("CLASS_NOT_EDITABLE", f"班级{STATUS_NAMES[class_doc['status']]}，不能修改名额")
    current = class_doc["quotas"].get(region_code)
    quotas = {**class_doc["quotas"], region_code: {"places": places, "used": current["used"] if current else 0}}
    rules.check_capacity(capacity=class_doc["capacity"], quotas=quotas,
                         allow_above=class_doc.get("allow_quota_above_capacity", False))
    if current is None:
        guard = {f"quotas.{region_code}": {"$exists": False}}
        set_fields = {f"quotas.{region_code}": {"places": places, "used": 0}}
    else:
        # `used` moves without touching `version` (registrations), so the floor is checked here.
        guard = {f"quotas.{region_code}.used": {"$lte": places}}
        set_fields = {f"quotas.{region_code}.places": places}
    what = {f"quota.{region_code}": {"old": current["places"] if current else None, "new": places}}
    try:
        return _save(class_doc, changed_by=changed_by, what=what, set_fields=set_fields, extra_filter=guard)
    except Conflict:
        fresh = get_or_raise(class_id=class_id)
        used = (fresh["quotas"].get(region_code) or {}).get("used", 0)
        if used > places:
            raise RuleViolation("QUOTA_BELOW_USED", f"该地区已占用 {used} 个名额，名额不能少于 {used}",
                                errors={"places": [f"不能少于已占用的 {used}"]}) from None
        raise


def assign_supervisors(*, class_id, staff_ids, changed_by):
    """Make these staff accounts (role supervisor) the class's supervisors."""
    class_doc = get_or_raise(class_id=class_id)
    staff_ids = list(dict.fromkeys(staff_ids))
    accounts = {a["_id"]: a for a in staff_repo.find_many(staff_ids)}
    for staff_id in staff_ids:
        account = accounts.get(staff_id)
        if account is None or account["role"] != SUPERVISOR or not account.get("active"):
            raise RuleViolation("SUPERVISOR_INVALID", "所选人员不是有效的班主任账号",
                                errors={"staff_ids": [f"{staff_id} 不是有效的班主任账号"]})
    before = [s["_id"] for s in staff_repo.supervisors_of(class_id)]
    staff_repo.set_class_supervisors(class_id=class_id, staff_ids=staff_ids)
    if set(before) != set(staff_ids):
        _save(class_doc, changed_by=changed_by, what={"supervisors": {"old": before, "new": staff_ids}})
    return get_or_raise(class_id=class_id)


def supervisors(class_id):
    return staff_repo.supervisors_of(class_id)
