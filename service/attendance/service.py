"""Check-in rules: enrolment, window, lateness, location, one record per session and trainee."""

import math
import time

from flask import current_app

from service.attendance import repository, roster, tokens
from service.classes import repository as classes_repo
from service.classes import rules as class_rules
from service.core.auth import ensure_class
from service.core.db import utcnow
from service.core.errors import Forbidden, NotFound, RuleViolation
from service.core.timeutil import BEIJING
from service.leave import repository as leave_requests
from service.registrations import repository as registrations

PRESENT, LATE, ABSENT, EXCUSED = "present", "late", "absent", "excused"
STATUSES = (PRESENT, LATE, ABSENT, EXCUSED)
STATUS_NAMES = {PRESENT: "已签到", LATE: "迟到", ABSENT: "缺勤", EXCUSED: "请假"}
EARTH_RADIUS_M = 6371000


def distance_m(lat1, lng1, lat2, lng2):
    """Great-circle distance (haversine), in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _check_window(class_doc, session, now):
    if class_rules.is_cancelled(session):
        raise RuleViolation("SESSION_CANCELLED", "本节课已取消，无需签到")
    window = class_rules.effective_checkin(class_doc, session)
    if now < window["checkin_opens_at"]:
        raise RuleViolation("CHECKIN_NOT_OPEN", "签到尚未开始，请在开课前30分钟内签到",
                            extra={"opens_at": window["checkin_opens_at"].astimezone(BEIJING).isoformat()})
    if now > window["checkin_closes_at"] or roster.is_closed(session["_id"]):
        raise RuleViolation("CHECKIN_CLOSED", "本节课签到已结束，如有疑问请联系班主任")
    return window


def _location(class_doc, window, latitude, longitude):
    """(distance, flags); refuses a check-in beyond the venue radius when the class says so."""
    venue = class_doc.get("venue") or {}
    if venue.get("latitude") is None:
        return None, []
    refuse = window["checkin"]["out_of_range"] == "refuse"
    if latitude is None or longitude is None:
        if refuse:
            raise RuleViolation("LOCATION_REQUIRED", "请允许小程序获取位置后再签到")
        return None, ["no_location"]
    distance = round(distance_m(latitude, longitude, venue["latitude"], venue["longitude"]))
    if distance > venue.get("checkin_radius_m", 500):
        if refuse:
            raise RuleViolation("OUT_OF_RANGE", f"您距离签到地点约 {distance} 米，请到达培训现场后签到",
                                extra={"distance_m": distance})
        return distance, ["out_of_range"]
    return distance, []


def _answer(record, created, nonce):
    if not created and record["status"] not in (PRESENT, LATE):
        # Closing (or a supervisor) already recorded absent/excused: a scan does not overwrite it.
        raise RuleViolation("ALREADY_MARKED",
                            f"本节课您已被记为“{STATUS_NAMES[record['status']]}”，如有疑问请联系班主任",
                            status=409, extra={"status": record["status"]})
    # The same request retried (same nonce) gets the same answer as the first time.
    result = "checked_in" if created or (nonce and record.get("nonce") == nonce) else "already_checked_in"
    return {"result": result, "record": record}


def new_record(*, class_doc, session, user_id, registration, status, method, now, by, extra=None):
    """A new attendance record with its first history entry (check-ins, marks, closing, offline scans)."""
    return {"session_id": session["_id"], "class_id": class_doc["_id"], "user_id": user_id,
            "registration_id": registration["_id"], "region_code": registration["region_code"],
            "status": status, "method": method, "checked_in_at": now,
            "history": [{"at": now, "by": by, "from": None, "to": status, "reason": method}],
            "created_at": now, **(extra or {})}


def check_in_with_class_code(*, user_id, code, session_id=None, latitude=None, longitude=None, nonce=None,
                             device_id=None, ip=None):
    """A trainee scanned the class code (bare, or its URL), or opened the mini-program code."""
    code = tokens.from_scan(code)
    try:
        coded_session = tokens.verify(tokens.CLASS, code)
    except tokens.CodeError as exc:
        retried = _retried_check_in(exc, user_id=user_id, session_id=session_id, nonce=nonce)
        if retried is None:
            raise _code_error(exc) from None
        return retried
    if session_id is not None and coded_session != session_id:
        roster.session_context(session_id)  # an unknown session is 404 SESSION_NOT_FOUND, not "other session"
        raise RuleViolation("CODE_OTHER_SESSION", "这是其他课程的签到码，请扫描本节课的签到码")
    class_doc, session = roster.session_context(coded_session)
    if class_doc["status"] == "draft":
        # The code names the session in the body, out of reach of classes.access's hook: a draft's
        # session is unknown to trainees (an organizer trying the projector has no one to check in).
        raise NotFound("SESSION_NOT_FOUND", "课程不存在")
    registration = roster.confirmed_entry(class_doc["_id"], user_id)
    if registration is None:
        raise Forbidden("NOT_ENROLLED", "您不是本班已确认参训的学员，无法签到")
    now = utcnow()
    try:
        window = _check_window(class_doc, session, now)
        distance, flags = _location(class_doc, window, latitude, longitude)
    except RuleViolation:
        # Someone already checked in who scans again later still gets their record back.
        existing = repository.find_one(session_id=session["_id"], user_id=user_id)
        if existing and existing["status"] in (PRESENT, LATE):
            if nonce and nonce != existing.get("nonce"):
                existing = repository.find_noting_nonce(session_id=session["_id"], user_id=user_id, nonce=nonce)
            return _answer(existing, False, nonce)
        raise
    status = PRESENT if now <= window["late_after"] else LATE
    record, created = repository.insert(new_record(
        class_doc=class_doc, session=session, user_id=user_id, registration=registration, status=status,
        method="class_code", now=now, by=user_id,
        extra={"nonce": nonce, "device_id": device_id, "ip": ip, "distance_m": distance, "flags": flags,
               "location": {"latitude": latitude, "longitude": longitude} if latitude is not None else None}),
        note_nonce=nonce)
    return _answer(record, created, nonce)


def _retried_check_in(exc, *, user_id, session_id, nonce):
    """A check-in retried after a network timeout carries the code and nonce of its first attempt.
    If that attempt reached us and was answered from a record (it created it: `nonce`; or it found
    the trainee's record already there: `answered_nonces`), the retry is answered as the first
    attempt was — checked_in, already_checked_in or ALREADY_MARKED — for CHECKIN_RETRY_SECONDS after
    the code expired. Anything else with an expired code — a new nonce, or a first attempt that
    never arrived (nothing shows it was scanned in time) — stays CODE_EXPIRED. Only expired codes
    come here, so the check-in hot path is unchanged."""
    if exc.reason != "expired" or not nonce or (session_id is not None and exc.object_id != session_id):
        return None
    if time.time() - exc.expired_at > current_app.config["CHECKIN_RETRY_SECONDS"]:
        return None
    class_doc, _ = roster.session_context(exc.object_id)
    if roster.confirmed_entry(class_doc["_id"], user_id) is None:
        return None
    record = repository.find_one(session_id=exc.object_id, user_id=user_id)
    if record is None or (record.get("nonce") != nonce and nonce not in (record.get("answered_nonces") or ())):
        return None
    return _answer(record, False, nonce)


def _code_error(exc):
    if exc.reason == "expired":
        return RuleViolation("CODE_EXPIRED", "签到码已过期，请扫描屏幕上最新的签到码")
    return RuleViolation("CODE_INVALID", "无效的签到码")


def check_in_with_personal_code(*, identity, session_id, code, device_id=None, ip=None):
    """A supervisor scanned a trainee's personal code."""
    class_doc, session = roster.session_context(session_id)
    ensure_class(identity, class_doc["_id"])
    try:
        registration_id = tokens.verify(tokens.PERSONAL, code)
    except tokens.CodeError as exc:
        raise _code_error(exc) from None
    found = roster.confirmed_by_registration(class_doc["_id"], registration_id)
    if found is None:
        other_class_id = registrations.class_of(registration_id)
        if other_class_id is not None and other_class_id != class_doc["_id"]:
            raise RuleViolation("PERSONAL_CODE_OTHER_CLASS", "该学员不是本班学员")
        raise Forbidden("NOT_ENROLLED", "该学员未确认参训本班")
    user_id, registration = found
    now = utcnow()
    window = _check_window(class_doc, session, now)
    status = PRESENT if now <= window["late_after"] else LATE
    record, created = repository.insert(new_record(
        class_doc=class_doc, session=session, user_id=user_id, registration=registration, status=status,
        method="personal_code", now=now, by=identity.user_id,
        extra={"device_id": device_id, "ip": ip, "flags": [], "scanned_by": identity.user_id}))
    return {**_answer(record, created, None), "trainee_name": registration["name"]}


def personal_code(*, registration):
    """The trainee's current personal code (rotates; the mini-program refreshes it)."""
    if registration["state"] != "confirmed":
        raise RuleViolation("NOT_ENROLLED", "确认参训后才能使用个人签到码", status=403)
    code, expires = tokens.issue(tokens.PERSONAL, registration["_id"])
    return {"code": code, "url": None, "expires_at": expires}


def class_code(*, identity, session_id):
    """The class code to display now (supervisors of the class)."""
    class_doc, session = roster.session_context(session_id)
    ensure_class(identity, class_doc["_id"])
    if class_rules.is_cancelled(session):
        raise RuleViolation("SESSION_CANCELLED", "本节课已取消，无需签到")
    code, expires = tokens.issue(tokens.CLASS, session_id)
    return {"code": code, "url": tokens.class_code_url(code), "expires_at": expires, "session_id": session_id,
            "class_id": class_doc["_id"]}


def mark(*, identity, session_id, registration_id, status, reason):
    """A supervisor records or corrects a trainee's status; every change keeps who, when, old → new."""
    class_doc, session = roster.session_context(session_id)
    ensure_class(identity, class_doc["_id"])
    found = roster.confirmed_by_registration(class_doc["_id"], registration_id)
    if found is None:
        raise NotFound("REGISTRATION_NOT_FOUND", "该学员未确认参训本班")
    user_id, registration = found
    now = utcnow()
    current = repository.find_one(session_id=session_id, user_id=user_id)
    entry = {"at": now, "by": identity.user_id, "from": current["status"] if current else None, "to": status,
             "reason": reason}
    base = new_record(class_doc=class_doc, session=session, user_id=user_id, registration=registration,
                   status=status, method="manual", now=now, by=identity.user_id)
    new_fields = {"status": status, "method": "manual", "remark": reason}
    if status in (ABSENT, EXCUSED):
        new_fields["checked_in_at"] = None  # no check-in time for an absence (the history keeps when it changed)
    upsert_doc = {k: v for k, v in base.items() if k not in ("history", *new_fields)}
    return repository.set_status(session_id=session_id, user_id=user_id, new_fields=new_fields,
                                 history_entry=entry, upsert_doc=upsert_doc)


def leaves_covering(class_id, session_id):
    """Approved leave (or the part before 销假) covering the session (asked of the leave feature)."""
    return leave_requests.approved_covering(class_id=class_id, session_id=session_id)


def leave_session_ids(class_id, user_id):
    """Sessions of the class the trainee's approved leave covers (asked of the leave feature)."""
    return leave_requests.approved_session_ids(class_id=class_id, user_id=user_id)


def excused_user_ids(class_id, session_id):
    return {d["user_id"] for d in leaves_covering(class_id, session_id)}


def apply_leave(*, user_id, excuse_session_ids=(), release_session_ids=(), by, reason):
    """Leave approved or reversed after records exist: absent ↔ excused, each change in the history.

    Sessions without a record need nothing: closing reads approved leave. A trainee who came
    anyway (present / late) keeps that record.
    """
    now = utcnow()
    changed = []
    for session_ids, old, new in ((excuse_session_ids, ABSENT, EXCUSED), (release_session_ids, EXCUSED, ABSENT)):
        for session_id in session_ids:
            record = repository.set_status(
                session_id=session_id, user_id=user_id, expected_status=old,
                new_fields={"status": new, "method": "leave"},
                history_entry={"at": now, "by": by, "from": old, "to": new, "reason": reason})
            if record is not None:
                changed.append(record)
    return changed


def attended_session_ids(*, user_id, session_ids):
    """Of `session_ids`, those the trainee checked in to (present or late)."""
    return repository.session_ids_with_status(user_id=user_id, session_ids=session_ids, statuses=(PRESENT, LATE))


def close(*, session_id, by, identity=None):
    """Close check-in: everyone without a record becomes absent, or excused on approved leave.

    Two writes: the close, then the records. If the database fails between them, the same request
    sent again finds the session closed and writes the records still missing (idempotent: one
    record per trainee and session), answering as the first close would have; a close with
    nothing left to write is 409 SESSION_ALREADY_CLOSED."""
    class_doc, session = roster.session_context(session_id)
    if identity is not None:
        ensure_class(identity, class_doc["_id"])
    if class_rules.is_cancelled(session):
        raise RuleViolation("SESSION_CANCELLED", "本节课已取消，无需关闭签到")
    if utcnow() < session["starts_at"]:
        # Closing marks everyone without a record absent: before the start nobody could be late yet.
        raise RuleViolation("SESSION_NOT_STARTED", "课程尚未开始，不能结束签到；如课程不再举行，请由管理员取消该课程",
                            extra={"starts_at": session["starts_at"].astimezone(BEIJING).isoformat()})
    closed_now = repository.mark_closed(session_id=session_id, class_id=class_doc["_id"], by=by) is not None
    # Fresh roster for the marking; this process refuses further scans at once.
    roster.forget("roster", class_doc["_id"])
    roster.forget("closed", session_id)
    confirmed = roster.confirmed_roster(class_doc["_id"])
    have = {r["user_id"] for r in repository.for_session(session_id)}
    excused = excused_user_ids(class_doc["_id"], session_id)
    now = utcnow()
    docs = []
    for user_id, registration in confirmed.items():
        if user_id in have:
            continue
        status = EXCUSED if user_id in excused else ABSENT
        doc = new_record(class_doc=class_doc, session=session, user_id=user_id, registration=registration,
                      status=status, method="close", now=now, by=by)
        doc["checked_in_at"] = None
        docs.append(doc)
    if not closed_now:
        if not docs:
            raise RuleViolation("SESSION_ALREADY_CLOSED", "本节课签到已结束", status=409)
        now = (repository.session_state(session_id) or {}).get("closed_at") or now
    inserted = repository.insert_missing(docs)
    return {"session_id": session_id, "closed_at": now, "marked": inserted,
            "absent": sum(d["status"] == ABSENT for d in docs), "excused": sum(d["status"] == EXCUSED for d in docs)}


def close_due_sessions(*, now=None):
    """Close every session whose check-in window has ended (the background worker calls this)."""
    now = now or utcnow()
    closed = []
    candidates = classes_repo.with_sessions_ended_by(now, {"sessions": 1, "checkin_settings": 1})
    for class_doc in candidates:
        due = class_rules.held_sessions(class_doc, now)
        already = repository.closed_session_ids(s["_id"] for s in due)
        for session in due:
            if session["_id"] in already:
                continue
            try:
                closed.append(close(session_id=session["_id"], by=None))
            except RuleViolation:
                pass  # closed by a supervisor meanwhile
    return closed
