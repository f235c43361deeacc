"""Attendance rates (出勤率): every figure my-attendance, the sheet, the board, completion, the
low-attendance warning and the reports show is computed here.

"Held so far" has one definition, service.classes.rules.held_sessions: a session not cancelled
whose check-in window has closed. A rate divides check-ins (present or late) *of those sessions*
by their number, so numerator and denominator cover the same sessions: a check-in to a session
still running shows on that session but joins the rate when its window closes. With one record
per (session, trainee) (a unique index) every rate lies in [0, 1].

The final completion rate divides the check-ins of the sessions held so far by the number of
scheduled (not cancelled) sessions: once the class is over, the same sessions above and below.
"""

from collections import Counter

from service.classes import rules as class_rules
from service.core.shares import share

PRESENT, LATE, ABSENT, EXCUSED = "present", "late", "absent", "excused"
ATTENDED = (PRESENT, LATE)


def held_ids(class_doc, now):
    """Ids of the sessions held so far, in timetable order."""
    return [s["_id"] for s in class_rules.held_sessions(class_doc, now)]


def scheduled_ids(class_doc):
    return [s["_id"] for s in class_rules.scheduled_sessions(class_doc)]


def tally(statuses, session_ids):
    """One trainee over `session_ids`: statuses is {session_id: status} (sessions without a record
    are missing). -> {sessions, attended, present, late, absent, excused, rate}."""
    counted = Counter(statuses.get(s) for s in session_ids)
    attended = counted[PRESENT] + counted[LATE]
    return {"sessions": len(session_ids), "attended": attended, "present": counted[PRESENT],
            "late": counted[LATE], "absent": counted[ABSENT], "excused": counted[EXCUSED],
            "rate": share(attended, len(session_ids))}


def trainee_so_far(statuses, class_doc, now):
    """The trainee's figures over the sessions held so far (my-attendance, sheet, warning,
    completion's `attendance_rate_so_far`): {sessions_held, attended, present, late, absent,
    excused, attendance_rate (None before any session was held)}."""
    figures = tally(statuses, held_ids(class_doc, now))
    return {"sessions_held": figures.pop("sessions"), "attendance_rate": figures.pop("rate"), **figures}


def trainee_final(statuses, class_doc, now):
    """Completion's `attendance_rate`: check-ins of the sessions held so far over every scheduled (not
    cancelled) session. Once the class is over both are the same sessions; before, a check-in to a
    session still running does not count yet (as in every other rate), so the figure only grows as
    sessions are held. 0.0 for a class without sessions, so the rule fails rather than passes on nothing.
    -> {sessions_total, sessions_remaining, attended, attendance_rate}."""
    held = held_ids(class_doc, now)
    total = len(scheduled_ids(class_doc))
    attended = tally(statuses, held)["attended"]
    rate = share(attended, total)
    return {"sessions_total": total, "sessions_remaining": max(total - len(held), 0), "attended": attended,
            "attendance_rate": rate if rate is not None else 0.0}


def session_rate(attended, expected):
    """A held session's rate over the trainees expected there (the class report)."""
    return share(attended, expected)


def class_so_far(per_session, class_doc, now, expected):
    """The class over the sessions held so far. per_session: {session_id: {status: count}};
    expected: trainees expected in each session. -> {sessions_held, expected, present, late,
    absent, excused, attended, attendance_rate, late_rate}."""
    held = held_ids(class_doc, now)
    totals = {k: sum((per_session.get(s) or {}).get(k, 0) for s in held) for k in (PRESENT, LATE, ABSENT, EXCUSED)}
    attended = totals[PRESENT] + totals[LATE]
    total_expected = expected * len(held)
    return {"sessions_held": len(held), "expected": total_expected, **totals, "attended": attended,
            "attendance_rate": session_rate(attended, total_expected),
            "late_rate": session_rate(totals[LATE], total_expected)}
