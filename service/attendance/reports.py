"""Reading attendance: the supervisor's live board, a trainee's own record, the class sheet."""

from collections import Counter, defaultdict

from service.attendance import repository, roster
from service.attendance.service import ABSENT, EXCUSED, LATE, PRESENT, STATUS_NAMES, leaves_covering
from service.classes import rules as class_rules
from service.classes import service as classes
from service.core import crypto, regions
from service.core.auth import PROVINCE_STAFF
from service.core.db import utcnow
from service.core.errors import Forbidden
from service.core.excel import xlsx_response
from service.core.shares import share
from service.core.timeutil import BEIJING


def _reader_scope(identity, class_id):
    """(full phone numbers?, regions limited to or None); refuses everyone else."""
    if identity.supervises(class_id) and not identity.is_admin:
        return True, None
    if identity.is_admin:
        return False, None
    if PROVINCE_STAFF in identity.roles:
        return False, set(identity.region_codes)
    raise Forbidden("OUT_OF_SCOPE", "只能查看您负责班级的考勤")


def _session_view(identity, session_id):
    """What board and counts share: the class, the session, the trainees in the reader's scope,
    their records and their approved leave for this session."""
    class_doc, session = roster.session_context(session_id)
    full_phones, only_regions = _reader_scope(identity, class_doc["_id"])
    trainees = {uid: r for uid, r in roster.confirmed_roster(class_doc["_id"]).items()
                if only_regions is None or r["region_code"] in only_regions}
    records = {r["user_id"]: r for r in repository.for_session(session_id) if r["user_id"] in trainees}
    leaves = [leave for leave in leaves_covering(class_doc["_id"], session_id) if leave["user_id"] in trainees]
    on_leave = {leave["user_id"] for leave in leaves}
    missing_ids = [uid for uid in trainees if uid not in records and uid not in on_leave]
    tally = Counter(r["status"] for r in records.values())
    counts = {"expected": len(trainees), "checked_in": tally[PRESENT] + tally[LATE], "present": tally[PRESENT],
              "late": tally[LATE],
              "on_leave": len(on_leave | {u for u, r in records.items() if r["status"] == EXCUSED}),
              "absent": tally[ABSENT], "missing": len(missing_ids)}
    return class_doc, session, full_phones, trainees, records, leaves, missing_ids, counts


def counts(*, identity, session_id):
    """Only the counts and the closed state (the projector page polls this often)."""
    *_, session_counts = _session_view(identity, session_id)
    return {"counts": session_counts, "closed": roster.is_closed(session_id)}


def board(*, identity, session_id):
    """Counts and who is missing, cheap enough to poll every few seconds."""
    class_doc, session, full_phones, trainees, records, leaves, missing_ids, session_counts = \
        _session_view(identity, session_id)
    missing = []
    for user_id in missing_ids:
        trainee = trainees[user_id]
        mobile = trainee["mobile_masked"]
        if full_phones and trainee.get("mobile_enc"):
            mobile = crypto.decrypt(trainee["mobile_enc"])
        missing.append({"registration_id": trainee["_id"], "name": trainee["name"], "mobile": mobile,
                        "region_code": trainee["region_code"], "region_name": regions.name_of(trainee["region_code"])})
    devices = defaultdict(list)
    for record in records.values():
        if record.get("device_id"):
            devices[record["device_id"]].append(trainees[record["user_id"]]["name"])
    window = class_rules.effective_checkin(class_doc, session)
    return {
        "session_id": session_id, "class_id": class_doc["_id"], "title": session["title"],
        "starts_at": session["starts_at"], "late_after": window["late_after"],
        "checkin_closes_at": window["checkin_closes_at"], "closed": roster.is_closed(session_id),
        "counts": session_counts,
        "missing": sorted(missing, key=lambda m: (m["region_code"], m["name"])),
        "leaves": [{"leave_request_id": leave["_id"], "registration_id": trainees[leave["user_id"]]["_id"],
                    "name": trainees[leave["user_id"]]["name"], "type": leave["type"],
                    "acknowledged": bool(leave.get("acknowledgements"))} for leave in leaves],
        "flags": [{"kind": "shared_device", "device_id": device, "names": names}
                  for device, names in devices.items() if len(names) > 1]
                 + [{"kind": "out_of_range", "names": [trainees[r["user_id"]]["name"]], "distance_m": r.get("distance_m")}
                    for r in records.values() if "out_of_range" in (r.get("flags") or [])],
    }


def my_attendance(*, user_id, class_id):
    class_doc = classes.get_or_raise(class_id=class_id)
    records = {r["session_id"]: r for r in repository.for_class(class_doc, user_id)}
    now = utcnow()
    sessions = []
    for session in class_doc["sessions"]:
        record = records.get(session["_id"])
        window = class_rules.effective_checkin(class_doc, session)
        status = record["status"] if record else ("open" if window["checkin_opens_at"] <= now <= window[
            "checkin_closes_at"] else ("not_started" if now < window["checkin_opens_at"] else "not_recorded"))
        sessions.append({"session_id": session["_id"], "title": session["title"], "starts_at": session["starts_at"],
                         "ends_at": session["ends_at"], "status": status,
                         "checked_in_at": record.get("checked_in_at") if record else None})
    held = len(class_rules.held_sessions(class_doc, now))
    attended = sum(1 for r in records.values() if r["status"] in (PRESENT, LATE))
    return {"class_id": class_id, "sessions": sessions, "sessions_held": held, "attended": attended,
            "attendance_rate": share(attended, held)}


def sheet(*, identity, class_id):
    """Trainee × session matrix with statuses and rates."""
    class_doc = classes.get_or_raise(class_id=class_id)
    _, only_regions = _reader_scope(identity, class_id)
    trainees = {uid: r for uid, r in roster.confirmed_roster(class_id).items()
                if only_regions is None or r["region_code"] in only_regions}
    by_user = defaultdict(dict)
    for record in repository.for_class(class_doc):
        by_user[record["user_id"]][record["session_id"]] = record["status"]
    held = len(class_rules.held_sessions(class_doc, utcnow()))
    rows = []
    for user_id, trainee in sorted(trainees.items(), key=lambda kv: (kv[1]["region_code"], kv[1]["name"])):
        statuses = [by_user[user_id].get(s["_id"]) for s in class_doc["sessions"]]
        tally = Counter(statuses)
        attended = tally[PRESENT] + tally[LATE]
        rows.append({"registration_id": trainee["_id"], "name": trainee["name"], "region_code": trainee["region_code"],
                     "statuses": statuses, "present": tally[PRESENT], "late": tally[LATE], "absent": tally[ABSENT],
                     "excused": tally[EXCUSED], "attendance_rate": share(attended, held)})
    return {"class_id": class_id, "sessions_held": held,
            "sessions": [{"id": s["_id"], "title": s["title"], "starts_at": s["starts_at"]} for s in class_doc["sessions"]],
            "trainees": rows}


def sheet_xlsx(*, identity, class_id):
    data = sheet(identity=identity, class_id=class_id)
    headers = ["姓名", "地区"] + [f"{s['starts_at'].astimezone(BEIJING):%m-%d %H:%M} {s['title']}" for s in data["sessions"]] \
        + ["出勤", "迟到", "缺勤", "请假", "出勤率"]
    rows = [[r["name"], regions.name_of(r["region_code"])] + [STATUS_NAMES.get(s, "") for s in r["statuses"]]
            + [r["present"], r["late"], r["absent"], r["excused"],
               f"{r['attendance_rate']:.0%}" if r["attendance_rate"] is not None else ""] for r in data["trainees"]]
    class_name = classes.get_or_raise(class_id=class_id)["name"]
    return xlsx_response(f"{class_name}-考勤表.xlsx", [("考勤表", headers, rows)])
