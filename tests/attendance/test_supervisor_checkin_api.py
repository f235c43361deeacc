"""Supervisors: personal codes, marking from the roster, closing a session, and their scope."""

import datetime as dt
import time

import pytest
from bson import ObjectId

from service.attendance import tokens
from service.attendance.repository import ATTENDANCE, SESSION_CHECKINS
from tests.conftest import bearer


def _personal_code(client, trainee):
    response = client.get(f"/api/v1/registrations/{trainee.registration_id}/checkin-code", headers=bearer(trainee.token))
    assert response.status_code == 200, response.json
    return response.json


def _scan_personal(client, klass, supervisor_token, code, session_index=0):
    return client.post(f"/api/v1/sessions/{klass.session_ids[session_index]}/checkins/personal",
                       json={"code": code, "device_id": "supervisor-phone"}, headers=bearer(supervisor_token))


def _status_of(db, klass, trainee, session_index=0):
    record = db[ATTENDANCE].find_one({"session_id": ObjectId(klass.session_ids[session_index]),
                                      "user_id": ObjectId(trainee.user_id)})
    return record and record["status"]


def test_supervisor_scans_personal_code(client, db, checkin_class):
    trainee = checkin_class.trainees[0]
    personal = _personal_code(client, trainee)
    assert personal["code"].startswith("P") and 0 < personal["refresh_in_seconds"] <= 45
    response = _scan_personal(client, checkin_class, checkin_class.supervisor, personal["code"])
    assert response.status_code == 200, response.json
    assert response.json["result"] == "checked_in" and response.json["trainee_name"] == trainee.name
    assert response.json["record"]["method"] == "personal_code"
    assert _status_of(db, checkin_class, trainee) == "present"
    again = _scan_personal(client, checkin_class, checkin_class.supervisor, personal["code"])
    assert again.json["result"] == "already_checked_in"
    assert db[ATTENDANCE].count_documents({}) == 1


def test_personal_code_of_a_trainee_confirmed_after_the_roster_was_cached(app, client, db, checkin_class):
    late = checkin_class.trainees[2]
    registration = {"_id": ObjectId(late.registration_id)}
    db["registrations"].update_one(registration, {"$set": {"state": "admitted"}})
    with app.app_context():
        from service.attendance import roster

        roster.invalidate()
    first = _scan_personal(client, checkin_class, checkin_class.supervisor,
                           _personal_code(client, checkin_class.trainees[0])["code"])
    assert first.status_code == 200  # roster cached without the late trainee
    db["registrations"].update_one(registration, {"$set": {"state": "confirmed"}})  # no cache reset

    response = _scan_personal(client, checkin_class, checkin_class.supervisor, _personal_code(client, late)["code"])

    assert response.status_code == 200, response.json
    assert response.json["result"] == "checked_in" and response.json["trainee_name"] == late.name
    assert _status_of(db, checkin_class, late) == "present"


def test_personal_code_of_another_class_is_refused(client, db, checkin_class, make_checkin_class):
    other = make_checkin_class(trainees=1, name="第二期")
    code = _personal_code(client, other.trainees[0])["code"]
    response = _scan_personal(client, checkin_class, checkin_class.supervisor, code)
    assert response.status_code == 422 and response.json["code"] == "PERSONAL_CODE_OTHER_CLASS"
    assert db[ATTENDANCE].count_documents({}) == 0


def test_expired_or_forged_personal_code(app, client, db, checkin_class):
    trainee = checkin_class.trainees[0]
    with app.app_context():
        old = tokens.issue(tokens.PERSONAL, ObjectId(trainee.registration_id), now=time.time() - 200)[0]
    assert _scan_personal(client, checkin_class, checkin_class.supervisor, old).json["code"] == "CODE_EXPIRED"
    class_code = client.get(f"/api/v1/sessions/{checkin_class.session_id}/checkin-code",
                            headers=bearer(checkin_class.supervisor)).json["code"]
    # A class code is not a personal code (different prefix and key).
    assert _scan_personal(client, checkin_class, checkin_class.supervisor, class_code).json["code"] == "CODE_INVALID"
    assert db[ATTENDANCE].count_documents({}) == 0


def test_personal_code_only_for_the_owner_and_confirmed(client, db, checkin_class):
    owner, other = checkin_class.trainees[:2]
    response = client.get(f"/api/v1/registrations/{owner.registration_id}/checkin-code", headers=bearer(other.token))
    assert response.status_code == 404
    db["registrations"].update_one({"_id": ObjectId(owner.registration_id)}, {"$set": {"state": "admitted"}})
    response = client.get(f"/api/v1/registrations/{owner.registration_id}/checkin-code", headers=bearer(owner.token))
    assert response.status_code == 403 and response.json["code"] == "NOT_ENROLLED"


def test_trainee_cannot_scan_personal_codes(client, checkin_class):
    code = _personal_code(client, checkin_class.trainees[0])["code"]
    response = _scan_personal(client, checkin_class, checkin_class.trainees[1].token, code)
    assert response.status_code == 403


def test_supervisor_of_class_a_is_refused_on_class_b(client, db, checkin_class, make_checkin_class):
    class_b = make_checkin_class(trainees=1, name="第二期")
    supervisor_a = checkin_class.supervisor
    session_b = class_b.session_id
    trainee_b = class_b.trainees[0]
    code_b = _personal_code(client, trainee_b)["code"]
    attempts = [
        client.get(f"/api/v1/sessions/{session_b}/checkin-code", headers=bearer(supervisor_a)),
        client.get(f"/api/v1/sessions/{session_b}/checkin-code.png", headers=bearer(supervisor_a)),
        client.post(f"/api/v1/sessions/{session_b}/projector-link", headers=bearer(supervisor_a)),
        client.get(f"/api/v1/sessions/{session_b}/board", headers=bearer(supervisor_a)),
        client.post(f"/api/v1/sessions/{session_b}/close", headers=bearer(supervisor_a)),
        client.put(f"/api/v1/sessions/{session_b}/attendance/{trainee_b.registration_id}",
                   json={"status": "present", "reason": "现场核实"}, headers=bearer(supervisor_a)),
        _scan_personal(client, class_b, supervisor_a, code_b),
        client.get(f"/api/v1/classes/{class_b.id}/attendance-sheet", headers=bearer(supervisor_a)),
    ]
    assert [(r.status_code, r.json["code"]) for r in attempts] == [(403, "OUT_OF_SCOPE")] * len(attempts)
    assert db[ATTENDANCE].count_documents({}) == 0
    assert db[SESSION_CHECKINS].count_documents({}) == 0


def test_mark_from_roster_keeps_every_change(client, db, checkin_class):
    trainee = checkin_class.trainees[0]
    url = f"/api/v1/sessions/{checkin_class.session_id}/attendance/{trainee.registration_id}"
    first = client.put(url, json={"status": "present", "reason": "手机无法扫码，现场核实"},
                       headers=bearer(checkin_class.supervisor))
    assert first.status_code == 200, first.json
    assert first.json["result"] == "marked" and first.json["record"]["method"] == "manual"
    second = client.put(url, json={"status": "late", "reason": "核对签到表，实为迟到"},
                        headers=bearer(checkin_class.supervisor))
    history = second.json["record"]["history"]
    assert [(h["from"], h["to"], h["reason"]) for h in history] == [
        (None, "present", "手机无法扫码，现场核实"), ("present", "late", "核对签到表，实为迟到")]
    me = client.get("/api/v1/me", headers=bearer(checkin_class.supervisor)).json
    assert {h["by"] for h in history} == {me["id"]}
    assert db[ATTENDANCE].count_documents({}) == 1 and _status_of(db, checkin_class, trainee) == "late"


def test_mark_refusals(client, db, checkin_class, make_checkin_class):
    url = f"/api/v1/sessions/{checkin_class.session_id}/attendance"
    other = make_checkin_class(trainees=1, name="第二期")
    no_reason = client.put(f"{url}/{checkin_class.trainees[0].registration_id}", json={"status": "present"},
                           headers=bearer(checkin_class.supervisor))
    assert no_reason.status_code == 422 and "reason" in no_reason.json["errors"]
    bad_status = client.put(f"{url}/{checkin_class.trainees[0].registration_id}",
                            json={"status": "sleeping", "reason": "现场核实"}, headers=bearer(checkin_class.supervisor))
    assert bad_status.status_code == 422
    foreign = client.put(f"{url}/{other.trainees[0].registration_id}", json={"status": "present", "reason": "现场核实"},
                         headers=bearer(checkin_class.supervisor))
    assert foreign.status_code == 404 and foreign.json["code"] == "REGISTRATION_NOT_FOUND"
    unknown_session = client.put(f"/api/v1/sessions/{ObjectId()}/attendance/{checkin_class.trainees[0].registration_id}",
                                 json={"status": "present", "reason": "现场核实"},
                                 headers=bearer(checkin_class.supervisor))
    assert unknown_session.status_code == 404 and unknown_session.json["code"] == "SESSION_NOT_FOUND"
    assert db[ATTENDANCE].count_documents({}) == 0


def _approve_leave(db, klass, trainee, session_index=0):
    # The leave feature writes approved leave like this; check-in only reads it.
    db["leave_requests"].insert_one({"class_id": ObjectId(klass.id), "user_id": ObjectId(trainee.user_id),
                                     "state": "approved", "type": "sick", "claimed_session_ids": [ObjectId(klass.session_ids[session_index])]})


def test_closing_marks_absent_and_excused(client, db, checkin_class, class_code, scan):
    present, on_leave, missing = checkin_class.trainees
    assert scan(present.token, class_code(checkin_class)).status_code == 200
    _approve_leave(db, checkin_class, on_leave)
    response = client.post(f"/api/v1/sessions/{checkin_class.session_id}/close", headers=bearer(checkin_class.supervisor))
    assert response.status_code == 200, response.json
    assert (response.json["marked"], response.json["absent"], response.json["excused"]) == (2, 1, 1)
    assert [_status_of(db, checkin_class, t) for t in checkin_class.trainees] == ["present", "excused", "absent"]
    assert _status_of(db, checkin_class, present, session_index=1) is None  # the other session is untouched

    again = client.post(f"/api/v1/sessions/{checkin_class.session_id}/close", headers=bearer(checkin_class.supervisor))
    assert again.status_code == 409 and again.json["code"] == "SESSION_ALREADY_CLOSED"
    late_scan = scan(missing.token, class_code(checkin_class))
    assert late_scan.status_code == 422 and late_scan.json["code"] == "CHECKIN_CLOSED"
    repeat = scan(present.token, class_code(checkin_class))
    assert repeat.status_code == 200 and repeat.json["result"] == "already_checked_in"
    assert db[ATTENDANCE].count_documents({"session_id": ObjectId(checkin_class.session_id)}) == 3


def test_supervisor_corrects_an_absence_after_closing(client, db, checkin_class):
    client.post(f"/api/v1/sessions/{checkin_class.session_id}/close", headers=bearer(checkin_class.supervisor))
    trainee = checkin_class.trainees[0]
    response = client.put(f"/api/v1/sessions/{checkin_class.session_id}/attendance/{trainee.registration_id}",
                          json={"status": "present", "reason": "纸质签到表核实已到"}, headers=bearer(checkin_class.supervisor))
    assert [(h["from"], h["to"]) for h in response.json["record"]["history"]] == [(None, "absent"), ("absent", "present")]


def test_sessions_close_by_themselves_at_the_end(app, db, checkin_class, class_code, scan, move_session):
    assert scan(checkin_class.trainees[0].token, class_code(checkin_class)).status_code == 200
    move_session(checkin_class.session_id, -120, length_minutes=60)
    from service.worker import run_once

    first = run_once(app)
    assert first["closed_sessions"] == 1
    # The two absent trainees fall below the attendance rule with a session still to come.
    assert first["attendance_warnings"] == 2
    assert db["outbox"].count_documents({"template": "attendance_warning",
                                         "user_id": ObjectId(checkin_class.trainees[1].user_id)}) == 1
    again = run_once(app)  # closing and warning twice change nothing
    assert again["closed_sessions"] == 0 and again["attendance_warnings"] == 0
    assert [_status_of(db, checkin_class, t) for t in checkin_class.trainees] == ["present", "absent", "absent"]
    assert _status_of(db, checkin_class, checkin_class.trainees[0], session_index=1) is None
    state = db[SESSION_CHECKINS].find_one({"_id": ObjectId(checkin_class.session_id)})
    assert state["closed_at"] <= dt.datetime.now(dt.timezone.utc) and state.get("closed_by") is None


@pytest.mark.parametrize("role", ["province_staff", "trainee"])
def test_only_supervisors_close_and_mark(client, make_staff, checkin_class, role):
    token = make_staff("province_staff", region_code="110000") if role == "province_staff" \
        else checkin_class.trainees[0].token
    assert client.post(f"/api/v1/sessions/{checkin_class.session_id}/close", headers=bearer(token)).status_code == 403
    marked = client.put(f"/api/v1/sessions/{checkin_class.session_id}/attendance/{checkin_class.trainees[0].registration_id}",
                        json={"status": "present", "reason": "现场核实"}, headers=bearer(token))
    assert marked.status_code == 403


def test_scan_does_not_overwrite_an_excused_mark(client, db, checkin_class, class_code, scan):
    trainee = checkin_class.trainees[0]
    marked = client.put(f"/api/v1/sessions/{checkin_class.session_id}/attendance/{trainee.registration_id}",
                        json={"status": "excused", "reason": "电话请假，已报备"}, headers=bearer(checkin_class.supervisor))
    assert marked.status_code == 200
    refused = scan(trainee.token, class_code(checkin_class))
    assert refused.status_code == 409 and refused.json["code"] == "ALREADY_MARKED"
    assert refused.json["status"] == "excused"
    personal = client.get(f"/api/v1/registrations/{trainee.registration_id}/checkin-code",
                          headers=bearer(trainee.token)).json["code"]
    by_supervisor = _scan_personal(client, checkin_class, checkin_class.supervisor, personal)
    assert by_supervisor.status_code == 409 and by_supervisor.json["code"] == "ALREADY_MARKED"
    assert _status_of(db, checkin_class, trainee) == "excused" and db[ATTENDANCE].count_documents({}) == 1
