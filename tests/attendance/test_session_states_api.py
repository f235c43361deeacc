"""Issue 16: rates over the sessions held so far, closing before the start, cancelled sessions,
leave shown as on leave, every check-in flag on the board."""

from bson import ObjectId

from service.attendance import tokens
from service.attendance.repository import ATTENDANCE, SESSION_CHECKINS
from service.classes.repository import CLASSES
from tests.conftest import bearer


def _four_sessions(db, klass, move_session):
    """SA and SB ended, SC running, SD ahead with check-in already open."""
    template = db[CLASSES].find_one({"_id": ObjectId(klass.id)})["sessions"][1]
    ids = list(klass.session_ids)
    for title in ("数字化转型", "融资与资本市场"):  # the timetable moved to today: added directly
        extra = {**template, "_id": ObjectId(), "title": title}
        db[CLASSES].update_one({"_id": ObjectId(klass.id)}, {"$push": {"sessions": extra}})
        ids.append(str(extra["_id"]))
    sa, sb, sc, sd = ids
    move_session(sa, -300, 90)
    move_session(sb, -180, 90)
    move_session(sc, -60, 90)
    move_session(sd, 40, 60)
    db[CLASSES].update_one({"sessions._id": ObjectId(sd)}, {"$set": {"sessions.$.checkin": {"opens_before_minutes": 60}}})
    klass.session_ids[:] = ids
    return ids


def _put_mark(client, klass, session_id, trainee, status):
    response = client.put(f"/api/v1/sessions/{session_id}/attendance/{trainee.registration_id}",
                          json={"status": status, "reason": "现场核实"}, headers=bearer(klass.supervisor))
    assert response.status_code == 200, response.json


def test_rates_count_check_ins_of_held_sessions_only(client, db, admin_token, make_checkin_class, move_session,
                                                     set_class, class_code, scan):
    klass = make_checkin_class(trainees=2)
    sa, sb, sc, sd = _four_sessions(db, klass, move_session)
    set_class(klass.id)
    keen, absent = klass.trainees
    for session_id in (sa, sb):
        _put_mark(client, klass, session_id, keen, "present")
        _put_mark(client, klass, session_id, absent, "absent")
    _put_mark(client, klass, sc, keen, "late")
    for trainee in klass.trainees:
        assert scan(trainee.token, class_code(klass, 3)).status_code == 200

    for trainee, attended, rate in ((keen, 2, 1.0), (absent, 0, 0.0)):
        mine = client.get(f"/api/v1/classes/{klass.id}/my-attendance", headers=bearer(trainee.token)).json
        assert (mine["sessions_held"], mine["attended"], mine["attendance_rate"]) == (2, attended, rate)
        assert [s["held"] for s in mine["sessions"]] == [True, True, False, False]
        completion = client.get(f"/api/v1/classes/{klass.id}/my-completion", headers=bearer(trainee.token)).json
        assert (completion["sessions_held"], completion["attended_so_far"], completion["attendance_rate_so_far"]) \
            == (2, attended, rate)
        assert 0 <= completion["attendance_rate"] <= 1
    sheet = client.get(f"/api/v1/classes/{klass.id}/attendance-sheet", headers=bearer(klass.supervisor)).json
    rows = {r["name"]: r for r in sheet["trainees"]}
    assert sheet["sessions_held"] == 2
    assert (rows[keen.name]["attended"], rows[keen.name]["attendance_rate"]) == (2, 1.0)
    assert rows[keen.name]["statuses"] == ["present", "present", "late", "present"]
    assert (rows[absent.name]["attended"], rows[absent.name]["attendance_rate"]) == (0, 0.0)
    report = client.get(f"/api/v1/reports/classes/{klass.id}", headers=bearer(admin_token)).json["attendance"]
    assert (report["sessions_held"], report["expected"], report["attended"], report["attendance_rate"]) == (2, 4, 2, 0.5)


def test_closing_before_the_start_is_refused_and_writes_nothing(client, db, checkin_class):
    later = checkin_class.session_ids[1]
    refused = client.post(f"/api/v1/sessions/{later}/close", headers=bearer(checkin_class.supervisor))
    assert refused.status_code == 422 and refused.json["code"] == "SESSION_NOT_STARTED"
    assert db[ATTENDANCE].count_documents({"session_id": ObjectId(later)}) == 0
    assert db[SESSION_CHECKINS].count_documents({"_id": ObjectId(later)}) == 0
    # The running session closes as before.
    assert client.post(f"/api/v1/sessions/{checkin_class.session_id}/close",
                       headers=bearer(checkin_class.supervisor)).status_code == 200


def test_organizer_cancels_a_session_with_a_reason_and_it_counts_nowhere(app, client, db, admin_token, checkin_class,
                                                                          class_code, scan, move_session):
    later = checkin_class.session_ids[1]
    url = f"/api/v1/classes/{checkin_class.id}/sessions/{later}/cancel"
    assert client.post(url, json={}, headers=bearer(admin_token)).status_code == 422
    refused = client.post(url, json={"reason": "授课老师生病"}, headers=bearer(checkin_class.supervisor))
    assert refused.status_code == 403
    cancelled = client.post(url, json={"reason": "授课老师生病"}, headers=bearer(admin_token))
    assert cancelled.status_code == 200, cancelled.json
    assert cancelled.json["status"] == "cancelled" and cancelled.json["cancelled"]["reason"] == "授课老师生病"
    again = client.post(url, json={"reason": "授课老师生病"}, headers=bearer(admin_token))
    assert again.status_code == 409 and again.json["code"] == "SESSION_ALREADY_CANCELLED"
    timetable = client.get(f"/api/v1/classes/{checkin_class.id}/sessions", headers=bearer(admin_token)).json
    assert [s["status"] for s in timetable["sessions"]] == ["scheduled", "cancelled"]
    assert timetable["sessions"][0]["cancelled"] is None
    changes = client.get(f"/api/v1/classes/{checkin_class.id}/changes", headers=bearer(admin_token)).json
    assert changes[-1]["what"]["session_cancelled"]["reason"] == "授课老师生病"

    # Its time comes: no check-in, no closing, nothing counted.
    move_session(later, -10, 60)
    # No class code is shown for it (SESSION_CANCELLED); one shown before the cancelling is refused too.
    with app.app_context():
        code = tokens.issue(tokens.CLASS, ObjectId(later))[0]
    scanned = scan(checkin_class.trainees[0].token, code)
    assert scanned.status_code == 422 and scanned.json["code"] == "SESSION_CANCELLED"
    closed = client.post(f"/api/v1/sessions/{later}/close", headers=bearer(checkin_class.supervisor))
    assert closed.status_code == 422 and closed.json["code"] == "SESSION_CANCELLED"
    assert db[ATTENDANCE].count_documents({"session_id": ObjectId(later)}) == 0
    move_session(checkin_class.session_id, -300, 90)
    move_session(later, -150, 90)
    mine = client.get(f"/api/v1/classes/{checkin_class.id}/my-attendance",
                      headers=bearer(checkin_class.trainees[0].token)).json
    assert [s["status"] for s in mine["sessions"]] == ["not_recorded", "cancelled"]
    assert mine["sessions_held"] == 1
    completion = client.get(f"/api/v1/classes/{checkin_class.id}/my-completion",
                            headers=bearer(checkin_class.trainees[0].token)).json
    assert completion["sessions_total"] == 1 and completion["sessions_held"] == 1
    # A session that already ended took place.
    first = client.post(f"/api/v1/classes/{checkin_class.id}/sessions/{checkin_class.session_id}/cancel",
                        json={"reason": "补录"}, headers=bearer(admin_token))
    assert first.status_code == 422 and first.json["code"] == "SESSION_ALREADY_HELD"


def test_my_attendance_shows_approved_leave_as_on_leave_not_open(client, db, checkin_class):
    trainee = checkin_class.trainees[0]
    db["leave_requests"].insert_one({"class_id": ObjectId(checkin_class.id), "user_id": ObjectId(trainee.user_id),
                                     "state": "approved", "type": "sick",
                                     "claimed_session_ids": [ObjectId(checkin_class.session_id)]})
    mine = client.get(f"/api/v1/classes/{checkin_class.id}/my-attendance", headers=bearer(trainee.token)).json
    assert [s["status"] for s in mine["sessions"]] == ["on_leave", "not_started"]


def test_every_check_in_flag_reaches_the_board(client, checkin_class, class_code, scan, set_class):
    set_class(checkin_class.id, **{"checkin_settings.out_of_range": "flag"})
    no_location = scan(checkin_class.trainees[0].token, class_code(checkin_class), latitude=..., longitude=...)
    assert no_location.status_code == 200 and no_location.json["record"]["flags"] == ["no_location"]
    far = scan(checkin_class.trainees[1].token, class_code(checkin_class), latitude=40.03, longitude=116.3265)
    assert far.json["record"]["flags"] == ["out_of_range"]
    board = client.get(f"/api/v1/sessions/{checkin_class.session_id}/board", headers=bearer(checkin_class.supervisor))
    flags = {(f["kind"], tuple(f["names"])) for f in board.json["flags"]}
    assert flags == {("no_location", (checkin_class.trainees[0].name,)),
                     ("out_of_range", (checkin_class.trainees[1].name,))}
    assert board.json["cancelled"] is False


def test_class_status_follows_the_timetable_and_each_change_is_recorded(app, client, admin_token, make_checkin_class,
                                                                       move_session):
    from service.worker import run_once

    klass = make_checkin_class(trainees=1)
    move_session(klass.session_ids[0], 30)  # nothing has begun yet
    assert run_once(app)["class_statuses"] == 0

    def status():
        return client.get(f"/api/v1/classes/{klass.id}", headers=bearer(admin_token)).json["status"]

    assert status() == "published"
    move_session(klass.session_ids[0], -5)  # the first session begins
    assert run_once(app)["class_statuses"] == 1 and status() == "in_progress"
    assert run_once(app)["class_statuses"] == 0
    move_session(klass.session_ids[0], -200, 90)  # both sessions over: closing, then finished
    move_session(klass.session_ids[1], -100, 90)
    done = run_once(app)
    assert done["closed_sessions"] == 2 and done["class_statuses"] == 1 and status() == "finished"
    changes = client.get(f"/api/v1/classes/{klass.id}/changes", headers=bearer(admin_token)).json
    automatic = [c for c in changes if c["by"] is None]
    assert [c["what"]["status"] for c in automatic] == [{"old": "published", "new": "in_progress"},
                                                        {"old": "in_progress", "new": "finished"}]
    assert all(c["what"]["reason"] == "按课程时间自动变更" for c in automatic)


def test_a_cancelled_last_session_does_not_hold_the_class_open(app, client, admin_token, make_checkin_class,
                                                                move_session):
    from service.worker import run_once

    klass = make_checkin_class(trainees=1)
    cancelled = client.post(f"/api/v1/classes/{klass.id}/sessions/{klass.session_ids[1]}/cancel",
                            json={"reason": "授课老师生病"}, headers=bearer(admin_token))
    assert cancelled.status_code == 200
    move_session(klass.session_ids[0], -200, 90)
    run_once(app)
    assert client.get(f"/api/v1/classes/{klass.id}", headers=bearer(admin_token)).json["status"] == "finished"
