"""Reading attendance: the supervisor's live board, a trainee's own record, the class sheet."""

from collections import Counter, defaultdict

from service.attendance import rates, repository, roster
from service.attendance.service import (ABSENT, EXCUSED, LATE, PRESENT, STATUS_NAMES, leave_session_ids,
                                        leaves_covering)
from service.classes import rules as class_rules
from service.classes import service as classes
from service.core import crypto, regions
from service.core.auth import PROVINCE_STAFF
from service.core.db import utcnow
from service.core.errors import Forbidden
from service.core.excel import pct, xlsx_response
from service.core.timeutil import BEIJING


CANCELLED, ON_LEAVE = "cancelled", "on_leave"
SHEET_CELLS = {**STATUS_NAMES, CANCELLED: "已取消"}


def _reader_scope(identity, class_id):
    """(full phone numbers?, regions limited to or None); refuses everyone else."""
    if identity.supervises(class_id) and not identity.is_admin:
        return True, None
    if identity.is_admin:
        return False, None
    if PROVINCE_STAFF in identity.roles:
        return False, set(identity.region_codes)
    raise Forbidden("OUT_OF_SCOPE", "只能查看您负责班级的考勤")


def _scope(identity, session_id):
    """The class, the session, full phones?, and the trainees in the reader's scope."""
    class_doc, session = roster.session_context(session_id)
    full_phones, only_regions = _reader_scope(identity, class_doc["_id"])
    trainees = {uid: r for uid, r in roster.confirmed_roster(class_doc["_id"]).items()
                if only_regions is None or r["region_code"] in only_regions}
    return class_doc, session, full_phones, trainees


def _counts(expected, tally, on_leave_without_record, missing):
    # Each expected trainee counts once: a record decides (a trainee on leave who checked in came
    # back early and counts as checked in); without one, approved leave is on_leave, else missing.
    # So checked_in + on_leave + absent + missing = expected.
    return {"expected": expected, "checked_in": tally[PRESENT] + tally[LATE], "present": tally[PRESENT],
            "late": tally[LATE], "on_leave": tally[EXCUSED] + on_leave_without_record, "absent": tally[ABSENT],
            "missing": missing}


def _session_view(identity, session_id):
    """The board's reading: the trainees in the reader's scope, their records (the fields the board
    shows) and their approved leave for this session."""
    class_doc, session, full_phones, trainees = _scope(identity, session_id)
    records = {r["user_id"]: r for r in repository.for_session(session_id)
               if r["user_id"] in trainees}
    leaves = [leave for leave in leaves_covering(class_doc["_id"], session_id) if leave["user_id"] in trainees]
    on_leave = {leave["user_id"] for leave in leaves}
    # Nobody is missing from a session that will not take place.
    missing_ids = [] if class_rules.is_cancelled(session) else \
        [uid for uid in trainees if uid not in records and uid not in on_leave]
    counts = _counts(len(trainees), Counter(r["status"] for r in records.values()),
                     len(on_leave - records.keys()), len(missing_ids))
    return class_doc, session, full_phones, trainees, records, leaves, missing_ids, counts


def counts(*, identity, session_id):
    """Only the counts and the closed state (the projector page polls this every second): from the
    session's tally (one small document, see repository.tally) instead of its records. Only the
    organizer and the class's supervisors open the projector, so the scope is the whole class."""
    class_doc, session, _, trainees = _scope(identity, session_id)
    if len(trainees) != len(roster.confirmed_roster(class_doc["_id"])):
        *_, session_counts = _session_view(identity, session_id)  # a narrower scope: read the records
        return {"counts": session_counts, "closed": roster.closed_now(session_id)}
    tally = repository.tally(session_id)
    on_leave = {leave["user_id"] for leave in leaves_covering(class_doc["_id"], session_id)
                if leave["user_id"] in trainees}
    on_leave_without_record = len(on_leave - repository.have_records(session_id, on_leave))
    accounted = sum(tally.values()) + on_leave_without_record
    missing = 0 if class_rules.is_cancelled(session) else max(len(trainees) - accounted, 0)
    return {"counts": _counts(len(trainees), tally, on_leave_without_record, missing),
            "closed": roster.closed_now(session_id)}


def board(*, identity, session_id):
    """Counts; who is missing, absent (recorded so, e.g. at closing) and late; cheap enough to poll."""
    class_doc, session, full_phones, trainees, records, leaves, missing_ids, session_counts = \
        _session_view(identity, session_id)

    def person(user_id, **extra):
        trainee = trainees[user_id]
        mobile = trainee["mobile_masked"]
        if full_phones and trainee.get("mobile_enc"):
            mobile = crypto.decrypt(trainee["mobile_enc"])
        return {"registration_id": trainee["_id"], "name": trainee["name"], "mobile": mobile,
                "region_code": trainee["region_code"], "region_name": regions.name_of(trainee["region_code"]),
                **extra}

    def ordered(people):
        return sorted(people, key=lambda m: (m["region_code"], m["name"]))

    missing = [person(user_id) for user_id in missing_ids]
    # Once the session is closed the missing became absent records: they stay listed (with phones, to
    # call them and correct a mark), and so do the late, so nobody drops off the board by closing it.
    absent = [person(uid, remark=r.get("remark")) for uid, r in records.items() if r["status"] == ABSENT]
    late = [person(uid, checked_in_at=r.get("checked_in_at")) for uid, r in records.items() if r["status"] == LATE]
    devices = defaultdict(list)
    for record in records.values():
        if record.get("device_id"):
            devices[record["device_id"]].append(trainees[record["user_id"]]["name"])
    window = class_rules.effective_checkin(class_doc, session)
    return {
        "session_id": session_id, "class_id": class_doc["_id"], "title": session["title"],
        "starts_at": session["starts_at"], "late_after": window["late_after"],
        "checkin_closes_at": window["checkin_closes_at"], "closed": roster.closed_now(session_id),
        "cancelled": class_rules.is_cancelled(session),
        "counts": session_counts,
        "missing": ordered(missing),
        "absent": ordered(absent),
        "late": ordered(late),
        "leaves": [{"leave_request_id": leave["_id"], "registration_id": trainees[leave["user_id"]]["_id"],
                    "name": trainees[leave["user_id"]]["name"], "type": leave["type"],
                    "acknowledged": bool(leave.get("acknowledgements"))} for leave in leaves],
        "flags": [{"kind": "shared_device", "device_id": device, "names": names, "distance_m": None}
                  for device, names in devices.items() if len(names) > 1]
                 # Every flag a check-in carries (no_location, out_of_range, offline, ...) reaches the board.
                 + [{"kind": flag, "device_id": r.get("device_id"), "names": [trainees[r["user_id"]]["name"]],
                     "distance_m": r.get("distance_m")}
                    for r in sorted(records.values(), key=lambda r: r.get("checked_in_at") or r["created_at"])
                    for flag in r.get("flags") or []],
    }


def _my_status(record, session, window, on_leave, now):
    """What the trainee's page shows for one session."""
    if class_rules.is_cancelled(session):
        return CANCELLED
    if record:
        return record["status"]
    if session["_id"] in on_leave:
        return ON_LEAVE  # approved leave: the page must not say "check in now"
    if now < window["checkin_opens_at"]:
        return "not_started"
    return "open" if now <= window["checkin_closes_at"] else "not_recorded"


def my_attendance(*, user_id, class_id):
    """The trainee's sessions of the class with their statuses (MyAttendanceSchema). 403
    NOT_ENROLLED for a caller who is neither a confirmed trainee of the class nor has records in it
    (one who withdrew keeps seeing what was recorded): its timetable would show them sessions
    "open" to a check-in that refuses them."""
    class_doc = classes.get_or_raise(class_id=class_id)
    records = {r["session_id"]: r for r in repository.for_class(class_doc, user_id)}
    if not records and roster.confirmed_entry(class_id, user_id) is None:
        raise Forbidden("NOT_ENROLLED", "您不是本班已确认参训的学员")
    return my_attendance_view(class_doc, records, leave_session_ids(class_id, user_id), utcnow())


def my_attendance_view(class_doc, records, on_leave, now):
    """records: {session_id: record} of the trainee; on_leave: session ids their approved leave covers."""
    held = set(rates.held_ids(class_doc, now))
    sessions = []
    for session in class_doc["sessions"]:
        record = records.get(session["_id"])
        window = class_rules.effective_checkin(class_doc, session)
        sessions.append({"session_id": session["_id"], "title": session["title"], "starts_at": session["starts_at"],
                         "ends_at": session["ends_at"], "status": _my_status(record, session, window, on_leave, now),
                         "held": session["_id"] in held,
                         "checked_in_at": record.get("checked_in_at") if record else None})
    figures = rates.trainee_so_far({sid: r["status"] for sid, r in records.items()}, class_doc, now)
    return {"class_id": class_doc["_id"], "sessions": sessions, "sessions_held": figures["sessions_held"],
            "attended": figures["attended"], "attendance_rate": figures["attendance_rate"]}


def sheet(*, identity, class_id):
    """Trainee × session matrix with statuses; counts and rates over the sessions held so far."""
    class_doc = classes.get_or_raise(class_id=class_id)
    _, only_regions = _reader_scope(identity, class_id)
    trainees = {uid: r for uid, r in roster.confirmed_roster(class_id).items()
                if only_regions is None or r["region_code"] in only_regions}
    by_user = defaultdict(dict)
    # A class of 200 over 15 sessions is 3,000 records: only the three fields the matrix shows.
    for record in repository.for_class(class_doc, projection={"_id": 0, "user_id": 1, "session_id": 1, "status": 1}):
        by_user[record["user_id"]][record["session_id"]] = record["status"]
    return sheet_view(class_doc, trainees, by_user, utcnow())


def sheet_view(class_doc, trainees, by_user, now):
    """trainees: {user_id: roster entry}; by_user: {user_id: {session_id: status}}."""
    held = set(rates.held_ids(class_doc, now))
    rows = []
    for user_id, trainee in sorted(trainees.items(), key=lambda kv: (kv[1]["region_code"], kv[1]["name"])):
        statuses = by_user.get(user_id) or {}
        figures = rates.trainee_so_far(statuses, class_doc, now)
        rows.append({"registration_id": trainee["_id"], "name": trainee["name"], "region_code": trainee["region_code"],
                     "statuses": [CANCELLED if class_rules.is_cancelled(s) else statuses.get(s["_id"])
                                  for s in class_doc["sessions"]],
                     "attended": figures["attended"], "present": figures["present"], "late": figures["late"],
                     "absent": figures["absent"], "excused": figures["excused"],
                     "attendance_rate": figures["attendance_rate"]})
    return {"class_id": class_doc["_id"], "sessions_held": len(held),
            "sessions": [{"id": s["_id"], "title": s["title"], "starts_at": s["starts_at"], "held": s["_id"] in held,
                          "cancelled": class_rules.is_cancelled(s)} for s in class_doc["sessions"]],
            "trainees": rows}


def sheet_xlsx(*, identity, class_id):
    data = sheet(identity=identity, class_id=class_id)
    class_name = classes.get_or_raise(class_id=class_id)["name"]
    return xlsx_response(f"{class_name}-考勤表.xlsx", [sheet_table(data)],
                         ascii_name=f"attendance-sheet-{class_id}.xlsx")


def sheet_table(data):
    """(title, headers, rows) of the Excel sheet: the JSON sheet's cells and figures."""
    headers = ["姓名", "地区"] + [f"{s['starts_at'].astimezone(BEIJING):%m-%d %H:%M} {s['title']}"
                                  + ("（已取消）" if s["cancelled"] else "") for s in data["sessions"]] \
        + [f"已上课节数（共{data['sessions_held']}节）", "出勤", "按时签到", "迟到", "缺勤", "请假", "出勤率"]
    rows = ([r["name"], regions.name_of(r["region_code"])] + [SHEET_CELLS.get(s, "") for s in r["statuses"]]
            + [data["sessions_held"], r["attended"], r["present"], r["late"], r["absent"], r["excused"],
               pct(r["attendance_rate"])] for r in data["trainees"])  # written as they are made
    return "考勤表", headers, rows
