"""Property test of the attendance rates: over random timetables, marks, leave, closings and clock
positions, my-attendance, the sheet (JSON and Excel), completion, the low-attendance warning and
the class report agree with each other and with an independent count, and every rate lies in [0, 1].

Each reader is called through the same function its endpoint uses on the records it has read
(my_attendance_view, sheet_view / sheet_table, completion._assess, rates.trainee_so_far for the
warning, reports.attendance_summary), so no database is needed for hundreds of examples.
"""

import datetime as dt
from collections import Counter

from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from service.attendance import rates
from service.attendance.reports import my_attendance_view, sheet_table, sheet_view
from service.classes import rules as class_rules
from service.completion.service import _assess
from service.core.excel import pct
from service.reports.service import attendance_summary

BASE = dt.datetime(2026, 5, 11, 0, 30, tzinfo=dt.timezone.utc)  # 08:30 in Beijing
STATUSES = ("present", "late", "absent", "excused")
RULE = {"min_attendance_rate": 0.8, "max_excused_share": 0.1, "require_class_rating": False}

session_st = st.fixed_dictionaries({
    "gap_minutes": st.integers(0, 240), "length_minutes": st.integers(20, 240), "cancelled": st.booleans(),
    "checkin": st.one_of(st.none(), st.fixed_dictionaries({
        "opens_before_minutes": st.integers(0, 120), "late_after_minutes": st.integers(0, 60),
        "closes_after_end_minutes": st.integers(0, 60)})),
})


@st.composite
def class_states(draw):
    specs = draw(st.lists(session_st, min_size=1, max_size=6))
    sessions, starts = [], BASE
    for index, spec in enumerate(specs):
        starts = starts + dt.timedelta(minutes=spec["gap_minutes"])
        session = {"_id": ObjectId(), "title": f"第{index + 1}讲", "starts_at": starts,
                   "ends_at": starts + dt.timedelta(minutes=spec["length_minutes"])}
        if spec["checkin"]:
            session["checkin"] = spec["checkin"]
        if spec["cancelled"]:
            session["cancelled"] = {"at": BASE, "by": None, "reason": "授课老师生病"}
        sessions.append(session)
        starts = session["ends_at"]
    class_doc = {"_id": ObjectId(), "name": "第一期", "sessions": sessions,
                 "checkin_settings": draw(st.sampled_from([{}, {"late_after_minutes": 5}]))}
    span = int((sessions[-1]["ends_at"] - BASE).total_seconds() // 60) + 120
    now = BASE + dt.timedelta(minutes=draw(st.integers(-120, span)))
    users = [ObjectId() for _ in range(draw(st.integers(1, 4)))]
    leave = {u: {s["_id"] for s in sessions if draw(st.booleans()) and draw(st.booleans())} for u in users}
    records = {u: {} for u in users}
    for session in sessions:
        begun = session["starts_at"] - dt.timedelta(minutes=30) <= now
        for user in users:
            # Marks and scans: any status in any session that could have records by now (a supervisor
            # may mark a running session), never in one that has not opened.
            if begun and draw(st.booleans()):
                records[user][session["_id"]] = draw(st.sampled_from(STATUSES))
        # Closing (refused before the start): everyone without a record is absent or on leave.
        if now >= session["starts_at"] and not class_rules.is_cancelled(session) and draw(st.booleans()):
            for user in users:
                records[user].setdefault(session["_id"], "excused" if session["_id"] in leave[user] else "absent")
    return class_doc, users, records, leave, now


def _oracle(class_doc, statuses, now):
    """Held so far and check-ins, counted independently of service.attendance.rates."""
    held = []
    for s in class_doc["sessions"]:
        window = {**class_rules.CHECKIN_DEFAULTS, **class_doc["checkin_settings"], **(s.get("checkin") or {})}
        if not s.get("cancelled") and s["ends_at"] + dt.timedelta(minutes=window["closes_after_end_minutes"]) <= now:
            held.append(s["_id"])
    attended = sum(statuses.get(s) in ("present", "late") for s in held)
    return len(held), attended


@settings(max_examples=300, deadline=None)
@given(class_states())
def test_every_reader_agrees_and_every_rate_lies_in_0_1(state):
    class_doc, users, records, leave, now = state
    trainees = {u: {"_id": ObjectId(), "name": f"学员{i}", "region_code": "110000"} for i, u in enumerate(users)}
    sheet = sheet_view(class_doc, trainees, records, now)
    rows = {r["registration_id"]: r for r in sheet["trainees"]}
    _, _, excel_rows = sheet_table(sheet)
    excel = {r[0]: r for r in excel_rows}
    hours = class_rules.hours_by_session(class_doc)
    class_attended = 0
    for user in users:
        statuses = records[user]
        held, attended = _oracle(class_doc, statuses, now)
        expected_rate = round(attended / held, 4) if held else None
        mine = my_attendance_view(class_doc, {s: {"status": v} for s, v in statuses.items()}, leave[user], now)
        row = rows[trainees[user]["_id"]]
        assessed = _assess(rule=RULE, statuses=statuses, rated=False, class_doc=class_doc, now=now, hours=hours,
                           total_hours=sum(hours.values()))
        warning = rates.trainee_so_far(statuses, class_doc, now)
        for figures in (mine, row, warning):
            assert (figures["sessions_held"] if "sessions_held" in figures else sheet["sessions_held"]) == held
            assert figures["attended"] == attended and figures["attendance_rate"] == expected_rate
        assert (assessed["sessions_held"], assessed["attended_so_far"], assessed["attendance_rate_so_far"]) == \
            (held, attended, expected_rate)
        assert excel[trainees[user]["name"]][-1] == pct(expected_rate)
        assert row["present"] + row["late"] + row["absent"] + row["excused"] <= held
        for value in (mine["attendance_rate"], row["attendance_rate"], assessed["attendance_rate_so_far"]):
            assert value is None or 0 <= value <= 1
        assert 0 <= assessed["attendance_rate"] <= 1 and 0 <= assessed["excused_share"] <= 1
        # What the trainee's page says about each session.
        for session, shown in zip(class_doc["sessions"], mine["sessions"]):
            if class_rules.is_cancelled(session):
                assert shown["status"] == "cancelled" and not shown["held"]
            elif session["_id"] in statuses:
                assert shown["status"] == statuses[session["_id"]]
            elif session["_id"] in leave[user]:
                assert shown["status"] == "on_leave"
        class_attended += attended

    counted = {}
    for user in users:
        for session_id, status in records[user].items():
            counted.setdefault(session_id, Counter())[status] += 1
    report = attendance_summary(class_doc, counted, len(users), now)
    held_count = sheet["sessions_held"]
    assert report["sessions_held"] == held_count and report["expected"] == len(users) * held_count
    assert report["attended"] == class_attended
    assert report["attendance_rate"] == (round(class_attended / (len(users) * held_count), 4) if held_count else None)
    for value in [report["attendance_rate"], report["late_rate"]] + \
            [s[k] for s in report["sessions"] for k in ("attendance_rate", "late_rate")]:
        assert value is None or 0 <= value <= 1
