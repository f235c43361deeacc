"""Rules of a class and its timetable, as plain functions that raise RuleViolation."""

import datetime as dt

from service.core import regions
from service.core.errors import RuleViolation
from service.core.timeutil import beijing_date, beijing_midnight

# Registration and confirmation close one week before the class opens (notice 243).
DEFAULT_DEADLINE_BEFORE_START = dt.timedelta(days=7)

# Check-in window defaults (issue: opens 30 min before, late after 10 min, closes at the end).
CHECKIN_DEFAULTS = {"opens_before_minutes": 30, "late_after_minutes": 10,
                    "closes_after_end_minutes": 0, "out_of_range": "refuse"}

# A 小巨人 class must teach 科学理论 and 形势政策 (notice 243, 附件1).
LITTLE_GIANT_REQUIRED_AREAS = ("科学理论", "形势政策")


# A class runs in its programme's year; a cycle may start late in the year before or run into the
# next (2017–18 was one cycle), no further.
YEARS_AROUND_PROGRAMME = 1


def check_dates(*, start_date, end_date, programme_year=None):
    if end_date < start_date:
        raise RuleViolation("CLASS_DATES_INVALID", "结束日期不能早于开班日期",
                            errors={"end_date": ["结束日期不能早于开班日期"]})
    if programme_year is None:
        return
    low, high = programme_year - YEARS_AROUND_PROGRAMME, programme_year + YEARS_AROUND_PROGRAMME
    for name, day in (("start_date", start_date), ("end_date", end_date)):
        year = day.year if hasattr(day, "year") else int(str(day)[:4])  # date, or ISO text as stored
        if not low <= year <= high:
            message = f"日期应在培训项目年度（{programme_year} 年）前后一年内"
            raise RuleViolation("CLASS_DATES_INVALID", message, errors={name: [message]})


def resolve_deadlines(*, start_date, opens_at, deadline, confirmation):
    """Fill the defaults and check the order: opens < deadline <= confirmation < class start."""
    class_start = beijing_midnight(start_date)
    deadline = deadline or class_start - DEFAULT_DEADLINE_BEFORE_START
    confirmation = confirmation or deadline
    if deadline >= class_start:
        raise RuleViolation("REGISTRATION_DEADLINE_INVALID", "报名截止时间必须早于开班时间",
                            errors={"registration_deadline": ["报名截止时间必须早于开班时间"]})
    if opens_at is not None and opens_at >= deadline:
        raise RuleViolation("REGISTRATION_OPENS_INVALID", "报名开始时间必须早于报名截止时间",
                            errors={"registration_opens_at": ["报名开始时间必须早于报名截止时间"]})
    if confirmation < deadline or confirmation >= class_start:
        raise RuleViolation("CONFIRMATION_DEADLINE_INVALID", "确认参训截止时间应在报名截止之后、开班之前",
                            errors={"confirmation_deadline": ["确认参训截止时间应在报名截止之后、开班之前"]})
    return opens_at, deadline, confirmation


def check_region(region_code):
    if not regions.is_valid(region_code):
        raise RuleViolation("REGION_UNKNOWN", f"地区代码 {region_code} 不存在",
                            errors={"region_code": ["地区代码不存在"]})


def quota_table(quota_inputs):
    """[{region_code, places}] -> {"code": {"places", "used": 0}}; codes valid and unique."""
    table = {}
    for item in quota_inputs:
        check_region(item["region_code"])
        if item["region_code"] in table:
            raise RuleViolation("QUOTA_REGION_DUPLICATE", f"地区 {item['region_code']} 重复填写了名额",
                                errors={"quotas": ["同一地区只能填写一次"]})
        table[item["region_code"]] = {"places": item["places"], "used": 0}
    return table


def check_capacity(*, capacity, quotas, allow_above):
    total = sum(q["places"] for q in quotas.values())
    if total > capacity and not allow_above:
        raise RuleViolation("QUOTA_EXCEEDS_CAPACITY",
                            f"各地区名额合计 {total} 超过班级容量 {capacity}",
                            errors={"capacity": [f"容量应不少于名额合计 {total}"]})


def check_sessions(*, sessions, start_date, end_date):
    """Each session ends after it starts, lies inside the class dates, and none overlap."""
    start_date = dt.date.fromisoformat(start_date) if isinstance(start_date, str) else start_date
    end_date = dt.date.fromisoformat(end_date) if isinstance(end_date, str) else end_date
    for session in sessions:
        if session["ends_at"] <= session["starts_at"]:
            raise RuleViolation("SESSION_TIMES_INVALID", f"课程“{session['title']}”的结束时间必须晚于开始时间",
                                errors={"ends_at": ["结束时间必须晚于开始时间"]})
        if beijing_date(session["starts_at"]) < start_date or \
                beijing_date(session["ends_at"] - dt.timedelta(microseconds=1)) > end_date:
            raise RuleViolation("SESSION_OUTSIDE_CLASS_DATES",
                                f"课程“{session['title']}”不在班级日期 {start_date} 至 {end_date} 之内",
                                errors={"starts_at": ["课程时间须在班级日期之内"]})
    # A cancelled session leaves its slot free for a replacement.
    ordered = sorted((s for s in sessions if not is_cancelled(s)), key=lambda s: s["starts_at"])
    for earlier, later in zip(ordered, ordered[1:]):
        if later["starts_at"] < earlier["ends_at"]:
            raise RuleViolation("SESSION_OVERLAP",
                                f"课程“{later['title']}”与“{earlier['title']}”时间重叠",
                                errors={"starts_at": ["与其他课程时间重叠"]})


def check_publishable(*, class_doc, programme):
    if programme["status"] != "published":
        raise RuleViolation("PROGRAMME_NOT_PUBLISHED", "所属培训项目尚未发布，班级不能发布")
    if not class_doc["quotas"]:
        raise RuleViolation("QUOTAS_MISSING", "请先分配各地区名额再发布班级")
    if programme.get("require_little_giant") or programme["kind"] == "little_giant":
        missing = [a for a in LITTLE_GIANT_REQUIRED_AREAS if a not in class_doc["content_areas"]]
        if missing:
            raise RuleViolation("CONTENT_AREAS_REQUIRED",
                                f"“小巨人”培训班必须包含{'、'.join(missing)}内容",
                                errors={"content_areas": [f"缺少：{'、'.join(missing)}"]})


def effective_checkin(class_doc, session):
    """Check-in settings of a session (session override > class setting > default) and its times."""
    settings = {**CHECKIN_DEFAULTS, **(class_doc.get("checkin_settings") or {}),
                **(session.get("checkin") or {})}
    return {
        "checkin": settings,
        "checkin_opens_at": session["starts_at"] - dt.timedelta(minutes=settings["opens_before_minutes"]),
        "late_after": session["starts_at"] + dt.timedelta(minutes=settings["late_after_minutes"]),
        "checkin_closes_at": session["ends_at"] + dt.timedelta(minutes=settings["closes_after_end_minutes"]),
    }


def is_cancelled(session):
    """A session an organizer cancelled (teacher ill, ...): it takes no check-in and counts nowhere."""
    return bool(session.get("cancelled"))


def scheduled_sessions(class_doc):
    """The class's sessions that take place (not cancelled), in timetable order."""
    return [s for s in class_doc.get("sessions") or [] if not is_cancelled(s)]


def held_sessions(class_doc, now):
    """Sessions held so far at `now`: not cancelled, and their check-in window has closed.

    The one definition of "held so far": my-attendance, the attendance sheet, the board,
    completion, the low-attendance warning and the reports all count with it, and every
    attendance rate divides the check-ins of these sessions by their number
    (service.attendance.rates)."""
    return [s for s in scheduled_sessions(class_doc)
            if effective_checkin(class_doc, s)["checkin_closes_at"] <= now]


# A class hour (学时) lasts this long unless the class sets its own `minutes_per_class_hour`.
DEFAULT_MINUTES_PER_CLASS_HOUR = 45


def minutes_per_class_hour(class_doc):
    return class_doc.get("minutes_per_class_hour", DEFAULT_MINUTES_PER_CLASS_HOUR)


def session_hours(session, minutes_per_class_hour):
    minutes = (session["ends_at"] - session["starts_at"]).total_seconds() / 60
    return round(minutes / minutes_per_class_hour, 1)


def hours_by_session(class_doc):
    """{session id: class hours (学时)} of every session of the class that takes place."""
    per_hour = minutes_per_class_hour(class_doc)
    return {s["_id"]: session_hours(s, per_hour) for s in scheduled_sessions(class_doc)}


def class_hours(class_doc):
    return round(sum(hours_by_session(class_doc).values()), 1)
