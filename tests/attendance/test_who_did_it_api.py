"""Issue 16 §5: `by` in history entries and decisions comes with a display name (staff account
name, 学员本人, 系统); /me shows the name of the staff account the user is bound to."""

from bson import ObjectId

from tests.conftest import bearer


def test_me_shows_the_bound_staff_accounts_name(client, admin_token, login):
    created = client.post("/api/v1/staff", json={"name": "陈静", "role": "supervisor"}, headers=bearer(admin_token))
    assert created.status_code == 201, created.json
    token = login("chenjing")
    assert client.get("/api/v1/me", headers=bearer(token)).json["name"] is None
    bound = client.post("/api/v1/auth/bind", json={"binding_code": created.json["binding_code"]}, headers=bearer(token))
    assert bound.status_code == 200 and bound.json["name"] == "陈静"
    assert client.get("/api/v1/me", headers=bearer(token)).json["name"] == "陈静"


def test_attendance_history_says_who_by_name(client, make_staff, checkin_class, class_code, scan):
    supervisor = make_staff("supervisor", class_ids=[ObjectId(checkin_class.id)], person="刘洋")
    trainee = checkin_class.trainees[0]
    assert scan(trainee.token, class_code(checkin_class)).status_code == 200
    marked = client.put(f"/api/v1/sessions/{checkin_class.session_id}/attendance/{trainee.registration_id}",
                        json={"status": "late", "reason": "签到时间核实为迟到"}, headers=bearer(supervisor))
    assert marked.status_code == 200, marked.json
    assert [(h["by_name"], h["to"]) for h in marked.json["record"]["history"]] == [("学员本人", "present"),
                                                                                   ("刘洋", "late")]


def test_automatic_changes_are_by_the_system(app, client, admin_token, make_checkin_class, move_session):
    from service.worker import run_once

    klass = make_checkin_class(trainees=1)
    run_once(app)  # the first session began 5 minutes ago: in progress
    changes = client.get(f"/api/v1/classes/{klass.id}/changes", headers=bearer(admin_token)).json
    assert changes[-1]["by"] is None and changes[-1]["by_name"] == "系统"
    assert changes[0]["by_name"] not in ("系统", "学员本人", "其他用户")  # the organizer's account name
    cancelled = client.post(f"/api/v1/classes/{klass.id}/sessions/{klass.session_ids[1]}/cancel",
                            json={"reason": "授课老师生病"}, headers=bearer(admin_token)).json
    assert cancelled["cancelled"]["by_name"] == changes[0]["by_name"]


def test_registration_decisions_name_the_staff_and_the_trainee(client, checkin_class):
    trainee = checkin_class.trainees[0]
    shown = client.get(f"/api/v1/registrations/{trainee.registration_id}", headers=bearer(trainee.token)).json
    by_state = {h["to"]: h["by_name"] for h in shown["history"]}
    assert by_state["submitted"] == "学员本人" and by_state["confirmed"] == "学员本人"
    # The decisions were made by the staff accounts make_staff created (named staff-xxxxxxxx).
    assert by_state["recommended"].startswith("staff-") and by_state["admitted"].startswith("staff-")
