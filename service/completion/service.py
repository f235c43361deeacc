"""Completion rule (结业条件) per class, who meets it and why not, low-attendance warnings.

A trainee completes when
  - attendance rate = (present + late) / scheduled sessions of the class >= min_attendance_rate
    (service.attendance.rates; cancelled sessions count nowhere),
  - class hours excused on leave / class hours <= max_excused_share (the leave preview warns
    against the same figure, so it is counted in class hours like there),
  - and, when required, the class rating was submitted.
Defaults come from the configuration; an organizer may change them per class.
"""

from flask import current_app

from service.attendance import rates
from service.attendance import repository as attendance_repo
from service.classes import repository as classes_repo
from service.classes import rules as class_rules
from service.classes import service as classes
from service.core.db import utcnow
from service.core.errors import Conflict, NotFound
from service.completion import repository
from service.outbox import service as outbox
from service.ratings import repository as ratings
from service.registrations import repository as registrations
from service.staff import repository as staff_accounts

RULE_FIELDS = ("min_attendance_rate", "max_excused_share", "require_class_rating")


def default_rule():
    config = current_app.config
    return {"min_attendance_rate": config["COMPLETION_MIN_ATTENDANCE_RATE"],
            "max_excused_share": config["COMPLETION_MAX_EXCUSED_SHARE"],
            "require_class_rating": config["COMPLETION_REQUIRE_CLASS_RATING"]}


def rule_of(class_doc):
    """The class's rule: its own values over the defaults."""
    stored = class_doc.get("completion_rule") or {}
    return {**default_rule(), **{k: stored[k] for k in RULE_FIELDS if k in stored}}


def rule_view(class_doc):
    stored = class_doc.get("completion_rule") or {}
    return {"class_id": class_doc["_id"], **rule_of(class_doc), "customised": sorted(k for k in RULE_FIELDS if k in stored),
            "defaults": default_rule()}


def set_rule(*, class_id, changes, changed_by):
    """An organizer changes the class's rule; recorded in the class's change history."""
    class_doc = classes.get_or_raise(class_id=class_id)
    current = class_doc.get("completion_rule") or {}
    new = {**current, **changes}
    if new == current:
        return rule_view(class_doc)
    now = utcnow()
    # The timetable is not touched, so the class's own update path (which re-checks dates and
    # sessions) is not needed; the versioned write still refuses a concurrent edit.
    saved = classes_repo.update_versioned(class_id=class_id, version=class_doc["version"], update={
        "$set": {"completion_rule": new, "updated_at": now},
        "$push": {"changes": {"at": now, "by": changed_by,
                              "what": {"completion_rule": {"old": current, "new": new}}}}})
    if saved is None:
        raise Conflict("CLASS_VERSION_CONFLICT", "班级信息已被他人修改，请刷新后重试")
    return rule_view(saved)


# ---- evaluation ------------------------------------------------------------------------

def statuses_by_trainee(class_doc, *, region_codes=None, user_id=None):
    """user_id -> {session_id: status} over the class's (scheduled) sessions, in one query; the
    figures are then computed by service.attendance.rates like everywhere else."""
    statuses = {}
    for record in attendance_repo.statuses_of_class(class_doc, user_id=user_id, region_codes=region_codes):
        statuses.setdefault(record["user_id"], {})[record["session_id"]] = record["status"]
    return statuses


def is_finished(class_doc, now):
    sessions = class_doc.get("sessions") or []
    return bool(sessions) and max(s["ends_at"] for s in sessions) <= now


def _percent(value):
    return f"{value * 100:.1f}".rstrip("0").rstrip(".") + "%"


def _assess(*, rule, statuses, rated, class_doc, now, hours, total_hours):
    final = rates.trainee_final(statuses, class_doc, now)
    so_far = rates.trainee_so_far(statuses, class_doc, now)
    rate, attended, sessions_total = final["attendance_rate"], final["attended"], final["sessions_total"]
    remaining = final["sessions_remaining"]
    excused_hours = sum(hours.get(s, 0) for s, status in statuses.items() if status == rates.EXCUSED)
    excused_share = excused_hours / total_hours if total_hours else 0.0
    failed = []
    if rate < rule["min_attendance_rate"]:
        required = _percent(rule["min_attendance_rate"])
        if remaining:
            # Sessions remain: the figure can still grow, so say where the trainee stands, not that they failed.
            held = so_far["sessions_held"]
            standing = (f"目前出勤 {attended}/{held} 节（{_percent(so_far['attendance_rate'])}）"
                        if held else "目前尚无已上课程")
            message = (f"{standing}，按全部 {sessions_total} 节计目前为 {_percent(rate)}，"
                       f"结业要求 {required}；还有 {remaining} 节课")
        else:
            message = f"出勤率 {_percent(rate)}（{attended}/{sessions_total} 节），低于要求的 {required}"
        failed.append({"condition": "attendance_rate", "actual": rate,
                       "required": rule["min_attendance_rate"], "message": message})
    if excused_share > rule["max_excused_share"]:
        failed.append({"condition": "excused_share", "actual": round(excused_share, 4),
                       "required": rule["max_excused_share"],
                       "message": f"请假课时占比 {_percent(excused_share)}（{round(excused_hours, 1)}/"
                                  f"{round(total_hours, 1)} 课时），超过允许的 {_percent(rule['max_excused_share'])}"})
    if rule["require_class_rating"] and not rated:
        failed.append({"condition": "class_rating", "actual": 0, "required": 1,
                       "message": "尚未提交班级满意度评价"})
    # attended / present / late / absent / excused over the sessions held so far, like every rate
    # (service.attendance.rates): a session still running counts nowhere yet.
    return {"sessions_total": sessions_total, "sessions_held": so_far["sessions_held"], "attended": attended,
            "present": so_far["present"], "late": so_far["late"], "absent": so_far["absent"],
            "excused": so_far["excused"], "attendance_rate": rate,
            "attended_so_far": so_far["attended"], "attendance_rate_so_far": so_far["attendance_rate"],
            "excused_class_hours": round(excused_hours, 1), "excused_share": round(excused_share, 4),
            "class_rated": rated, "eligible": not failed, "failed": failed}


def _registrations(class_id, region_codes=None):
    return registrations.confirmed_in_class(class_id, region_codes=region_codes,
                                            projection={"user_id": 1, "region_code": 1, "snapshot.name": 1})


def _class_figures(class_doc, now):
    """What every trainee of the class is measured against: the rule, class hours, the clock."""
    hours = class_rules.hours_by_session(class_doc)
    return {"rule": rule_of(class_doc), "hours": hours, "total_hours": sum(hours.values()),
            "class_doc": class_doc, "now": now}


def evaluate(*, class_doc, region_codes=None, now=None):
    """Every confirmed trainee of the class: eligible or not, each failed condition with its figures."""
    now = now or utcnow()
    figures = _class_figures(class_doc, now)
    rule = figures["rule"]
    statuses = statuses_by_trainee(class_doc, region_codes=region_codes)
    raters = ratings.class_raters(class_doc["_id"])
    certified = repository.valid_registration_ids(class_doc["_id"])
    warned = repository.warned_user_ids(class_doc["_id"])
    rows = []
    for registration in _registrations(class_doc["_id"], region_codes):
        user_id = registration["user_id"]
        assessment = _assess(statuses=statuses.get(user_id, {}), rated=user_id in raters, **figures)
        rows.append({"registration_id": registration["_id"], "user_id": user_id,
                     "name": registration["snapshot"]["name"], "region_code": registration["region_code"],
                     **assessment, "certificate_issued": registration["_id"] in certified,
                     "low_attendance_warned": user_id in warned})
    finished = is_finished(class_doc, now)
    return {"class_id": class_doc["_id"], "rule": rule, "class_finished": finished,
            "final": finished, "trainees": len(rows), "eligible": sum(r["eligible"] for r in rows),
            "certificates_issued": sum(r["certificate_issued"] for r in rows), "rows": rows}


def for_trainee(*, class_id, user_id):
    """My own completion figures in a class."""
    # Only this trainee's documents: class, registration, attendance tally, class-rating receipt, certificate.
    class_doc = classes.get_or_raise(class_id=class_id)
    registration = registrations.confirmed_for(class_id=class_id, user_id=user_id, projection={"_id": 1})
    if registration is None:
        raise NotFound("REGISTRATION_NOT_FOUND", "您没有确认参训该班级")
    now = utcnow()
    figures = _class_figures(class_doc, now)
    statuses = statuses_by_trainee(class_doc, user_id=user_id).get(user_id, {})
    assessment = _assess(statuses=statuses, rated=ratings.has_rated_class(class_id=class_id, user_id=user_id),
                         **figures)
    return {"class_id": class_id, "rule": figures["rule"], "class_finished": is_finished(class_doc, now),
            "registration_id": registration["_id"], **assessment,
            "certificate_issued": repository.holds_valid(registration["_id"])}


# ---- low-attendance warning ----------------------------------------------------------------

def warn_low_attendance(*, class_doc, now=None):
    """Warn trainees below the attendance threshold while sessions are still to come (once per class).

    The trainee and their region's staff get a subscribe message through the outbox.
    Returns the user ids warned by this call.
    """
    now = now or utcnow()
    sessions = class_rules.scheduled_sessions(class_doc)
    held = class_rules.held_sessions(class_doc, now)
    if not held or len(held) == len(sessions):
        return []
    minimum = rule_of(class_doc)["min_attendance_rate"]
    statuses = statuses_by_trainee(class_doc)
    warned, staff_by_region = [], {}
    already = repository.warned_user_ids(class_doc["_id"])
    for registration in _registrations(class_doc["_id"]):
        user_id = registration["user_id"]
        if user_id in already:
            continue
        so_far = rates.trainee_so_far(statuses.get(user_id, {}), class_doc, now)
        if so_far["attendance_rate"] >= minimum:
            continue
        figures = {"attendance_rate_so_far": so_far["attendance_rate"], "sessions_held": so_far["sessions_held"],
                   "required": minimum, "sessions_left": len(sessions) - len(held)}
        # Queue first (the outbox dedupe keys make a repeat harmless), then record: a crash in
        # between means the next run queues again and nothing is lost.
        region = registration["region_code"]
        if region not in staff_by_region:  # one read per region, not per trainee
            staff_by_region[region] = staff_accounts.province_staff_of(region)
        _notify(class_doc, registration, figures, staff_by_region[region])
        if repository.claim_warning(class_id=class_doc["_id"], user_id=user_id, figures=figures):
            warned.append(user_id)
    return warned


def _notify(class_doc, registration, figures, region_staff):
    class_name = class_doc["name"]
    detail = f"出勤率{_percent(figures['attendance_rate_so_far'])}，结业要求{_percent(figures['required'])}"
    page = f"pages/attendance/mine?class_id={class_doc['_id']}"
    key = f"completion:{class_doc['_id']}:{registration['user_id']}:low_attendance"
    outbox.enqueue(user_id=registration["user_id"], template="attendance_warning", page=page,
                   values={"thing1": class_name, "thing2": detail,
                           "thing3": f"还有{figures['sessions_left']}节课，请按时参加"},
                   dedupe_key=f"{key}:trainee")
    for account in region_staff:
        outbox.enqueue(user_id=account["user_id"], template="attendance_warning",
                       values={"thing1": class_name, "thing2": f"{registration['snapshot']['name']}{detail}",
                               "thing3": "请提醒学员按时参训"},
                       dedupe_key=f"{key}:staff:{account['user_id']}")


def warn_due(*, now=None):
    """Run the warning over every class with sessions behind and ahead of `now` (background job)."""
    now = now or utcnow()
    warned = 0
    for class_doc in classes_repo.between_sessions(now, {"changes": 0}):
        warned += len(warn_low_attendance(class_doc=class_doc, now=now))
    return warned

