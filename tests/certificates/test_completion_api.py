"""Completion rule, explanations with figures, and the low-attendance warning."""

import pytest
from bson import ObjectId

from tests.conftest import bearer


def completion(client, token, klass):
    response = client.get(f"/api/v1/classes/{klass.id}/completion", headers=bearer(token))
    assert response.status_code == 200, response.json
    return {row["name"]: row for row in response.json["rows"]}, response.json


def test_default_rule(client, admin_token, finished_class):
    response = client.get(f"/api/v1/classes/{finished_class.id}/completion-rule", headers=bearer(admin_token))
    assert response.status_code == 200
    assert {k: response.json[k] for k in ("min_attendance_rate", "max_excused_share", "require_class_rating")} == {
        "min_attendance_rate": 0.8, "max_excused_share": 0.1, "require_class_rating": True}
    assert response.json["customised"] == []


def test_each_trainee_with_the_conditions_failed_and_figures(client, admin_token, finished_class):
    rows, data = completion(client, admin_token, finished_class)
    assert data["class_finished"] is True and data["trainees"] == 3 and data["eligible"] == 1
    first, second, third = (rows[t.name] for t in finished_class.trainees)
    assert first["eligible"] is True and first["failed"] == []
    assert (first["attendance_rate"], first["present"], first["class_rated"]) == (1.0, 2, True)
    assert second["eligible"] is False
    assert second["failed"] == [{"condition": "attendance_rate", "actual": 0.5, "required": 0.8,
                                 "message": "出勤率 50%（1/2 节），低于要求的 80%"}]
    assert [f["condition"] for f in third["failed"]] == ["attendance_rate", "excused_share", "class_rating"]
    assert third["failed"][1]["message"] == "请假课时占比 50%（2.0/4.0 课时），超过允许的 10%"
    assert (third["late"], third["excused"], third["excused_class_hours"], third["excused_share"]) == (1, 1, 2.0, 0.5)
    assert third["failed"][2]["message"] == "尚未提交班级满意度评价"


def test_organizer_changes_the_rule(client, db, admin_token, finished_class):
    url = f"/api/v1/classes/{finished_class.id}/completion-rule"
    changed = client.put(url, json={"min_attendance_rate": 0.5, "require_class_rating": False},
                         headers=bearer(admin_token))
    assert changed.status_code == 200, changed.json
    assert changed.json["min_attendance_rate"] == 0.5 and changed.json["max_excused_share"] == 0.1
    assert changed.json["customised"] == ["min_attendance_rate", "require_class_rating"]
    rows, data = completion(client, admin_token, finished_class)
    assert data["eligible"] == 2
    assert [f["condition"] for f in rows[finished_class.trainees[2].name]["failed"]] == ["excused_share"]
    change = db.classes.find_one({"_id": ObjectId(finished_class.id)})["changes"][-1]
    assert "completion_rule" in change["what"]


def test_rule_values_are_validated_and_only_organizers_change_them(client, db, admin_token, finished_class):
    url = f"/api/v1/classes/{finished_class.id}/completion-rule"
    bad = client.put(url, json={"min_attendance_rate": 1.5}, headers=bearer(admin_token))
    assert bad.status_code == 422 and bad.json["code"] == "VALIDATION_ERROR"
    refused = client.put(url, json={"min_attendance_rate": 0.5}, headers=bearer(finished_class.supervisor))
    assert refused.status_code == 403 and refused.json["code"] == "ROLE_REQUIRED"
    assert "completion_rule" not in db.classes.find_one({"_id": ObjectId(finished_class.id)})


def test_trainee_sees_own_completion(client, finished_class, login):
    trainee = finished_class.trainees[1]
    response = client.get(f"/api/v1/classes/{finished_class.id}/my-completion", headers=bearer(trainee.token))
    assert response.status_code == 200, response.json
    assert response.json["eligible"] is False and response.json["attendance_rate"] == 0.5
    assert response.json["registration_id"] == trainee.registration_id
    outsider = client.get(f"/api/v1/classes/{finished_class.id}/my-completion", headers=bearer(login("nobody")))
    assert outsider.status_code == 404 and outsider.json["code"] == "REGISTRATION_NOT_FOUND"


def test_scope_of_completion(client, make_staff, make_checkin_class, finished_class):
    region_staff = make_staff("province_staff", region_code="440000")
    rows, _ = completion(client, region_staff, finished_class)
    assert list(rows) == [finished_class.trainees[2].name]
    other = make_checkin_class(trainees=1, name="第二期")
    response = client.get(f"/api/v1/classes/{finished_class.id}/completion", headers=bearer(other.supervisor))
    assert response.status_code == 403 and response.json["code"] == "OUT_OF_SCOPE"
    rows, _ = completion(client, finished_class.supervisor, finished_class)
    assert len(rows) == 3


@pytest.fixture
def class_under_way(make_checkin_class, move_session, mark):
    """Session 0 over (trainee 0 present, trainee 1 absent, trainee 2 no record); session 1 to come."""
    klass = make_checkin_class()
    move_session(klass.session_ids[0], -300, 90)
    mark(klass, 0, 0, "present")
    mark(klass, 1, 0, "absent")
    return klass


def test_low_attendance_warning_once_per_class(app, db, class_under_way):
    from service.classes import service as classes
    from service.completion import service

    klass = class_under_way
    with app.app_context():
        class_doc = classes.get_or_raise(class_id=ObjectId(klass.id))
        warned = service.warn_low_attendance(class_doc=class_doc)
    assert {str(u) for u in warned} == {klass.trainees[1].user_id, klass.trainees[2].user_id}
    messages = list(db.outbox.find({"template": "attendance_warning"}))
    trainee_messages = {str(m["user_id"]) for m in messages if m["dedupe_key"].endswith(":trainee")}
    assert trainee_messages == {klass.trainees[1].user_id, klass.trainees[2].user_id}
    staff_messages = [m for m in messages if ":staff:" in m["dedupe_key"]]
    assert len(staff_messages) == 2  # one province staff member each for 110000 and 440000
    assert messages[0]["data"]["thing2"]["value"].startswith("出勤率0%")
    with app.app_context():
        assert service.warn_low_attendance(class_doc=class_doc) == []
        assert service.warn_due() == 0
    assert db.outbox.count_documents({"template": "attendance_warning"}) == len(messages)


def test_no_warning_when_no_session_is_left(app, db, finished_class):
    from service.completion import service

    with app.app_context():
        assert service.warn_due() == 0
    assert db.outbox.count_documents({"template": "attendance_warning"}) == 0


def test_warning_job_finds_classes_under_way(app, db, class_under_way):
    from service.completion import service

    with app.app_context():
        assert service.warn_due() == 2
    assert db.completion_warnings.count_documents({}) == 2
