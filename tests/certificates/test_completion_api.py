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


def test_rule_change_on_a_stale_class_is_refused(client, db, admin_token, finished_class, monkeypatch):
    from service.classes import service as classes

    real = classes.get_or_raise

    def read_then_someone_edits(*, class_id):
        class_doc = real(class_id=class_id)
        # Another organizer saves the class between our read and our write.
        db.classes.update_one({"_id": class_id}, {"$inc": {"version": 1}, "$set": {"institution": "北京大学"}})
        return class_doc

    monkeypatch.setattr(classes, "get_or_raise", read_then_someone_edits)
    response = client.put(f"/api/v1/classes/{finished_class.id}/completion-rule", json={"min_attendance_rate": 0.5},
                          headers=bearer(admin_token))
    assert response.status_code == 409 and response.json["code"] == "CLASS_VERSION_CONFLICT"
    saved = db.classes.find_one({"_id": ObjectId(finished_class.id)})
    assert "completion_rule" not in saved and saved["institution"] == "北京大学"
    assert not any("completion_rule" in change["what"] for change in saved.get("changes", []))


RULE = {"min_attendance_rate": 0.5}


@pytest.mark.parametrize("class_id", [str(ObjectId()), "not-an-id"])
@pytest.mark.parametrize("method, path, body", [
    ("get", "completion-rule", None), ("put", "completion-rule", RULE), ("get", "completion", None),
    ("get", "completion.xlsx", None), ("get", "my-completion", None), ("get", "certificates", None),
    ("post", "certificates", {})])
def test_unknown_class_is_404_on_completion_and_certificate_routes(client, db, admin_token, class_id, method,
                                                                    path, body):
    response = getattr(client, method)(f"/api/v1/classes/{class_id}/{path}", json=body,
                                       headers=bearer(admin_token))
    # A malformed id matches no route (service.core.ids): a plain 404; a well-formed one names the class.
    assert response.status_code == 404
    assert response.json["code"] == ("NOT_FOUND" if class_id == "not-an-id" else "CLASS_NOT_FOUND")
    assert db.certificates.count_documents({}) == 0 and db.certificate_counters.count_documents({}) == 0


def test_completion_list_as_excel(client, admin_token, finished_class):
    import io

    import openpyxl

    response = client.get(f"/api/v1/classes/{finished_class.id}/completion.xlsx", headers=bearer(admin_token))
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["结业名单", "结业条件"]
    header, *rows = list(workbook["结业名单"].iter_rows(values_only=True))
    assert header[:7] == ("序号", "姓名", "地区代码", "地区", "是否符合结业条件", "未达条件", "说明")
    assert header[7:] == ("课程节数", "已上节数", "出勤节数", "按时签到", "迟到", "缺勤", "请假", "出勤率", "目前出勤率",
                          "请假课时", "请假课时占比", "已提交班级评价", "已颁发结业证书", "已发出勤预警")
    by_name = {row[1]: dict(zip(header, row)) for row in rows}
    first, second, third = (by_name[t.name] for t in finished_class.trainees)
    assert [r[0] for r in rows] == [1, 2, 3]
    assert (first["是否符合结业条件"], first["未达条件"], first["出勤率"], first["已提交班级评价"]) == (
        "符合", None, "100.0%", "是")
    assert (second["是否符合结业条件"], second["未达条件"], second["说明"]) == (
        "不符合", "出勤率", "出勤率 50%（1/2 节），低于要求的 80%")
    assert (second["出勤节数"], second["按时签到"], second["缺勤"], second["出勤率"]) == (1, 1, 1, "50.0%")
    assert third["未达条件"] == "出勤率、请假课时占比、班级满意度评价"
    assert third["说明"].split("；")[1] == "请假课时占比 50%（2.0/4.0 课时），超过允许的 10%"
    assert (third["地区代码"], third["迟到"], third["请假"], third["请假课时"], third["请假课时占比"]) == (
        "440000", 1, 1, 2, "50.0%")
    summary = dict(workbook["结业条件"].iter_rows(values_only=True))
    assert (summary["最低出勤率"], summary["请假课时占比上限"], summary["须提交班级满意度评价"]) == ("80.0%", "10.0%", "是")
    assert (summary["确认参训人数"], summary["符合结业条件人数"], summary["已颁发结业证书"]) == (3, 1, 0)


def test_completion_excel_has_the_json_access_rules(client, login, make_staff, make_checkin_class, finished_class):
    import io

    import openpyxl

    url = f"/api/v1/classes/{finished_class.id}/completion.xlsx"

    def names(token):
        response = client.get(url, headers=bearer(token))
        assert response.status_code == 200, response.json
        return [row[1] for row in list(openpyxl.load_workbook(io.BytesIO(response.data)).active.values)[1:]]

    assert names(make_staff("province_staff", region_code="440000")) == [finished_class.trainees[2].name]
    assert len(names(finished_class.supervisor)) == 3
    other = make_checkin_class(trainees=1, name="第二期")
    refused = client.get(url, headers=bearer(other.supervisor))
    assert refused.status_code == 403 and refused.json["code"] == "OUT_OF_SCOPE"
    trainee = client.get(url, headers=bearer(finished_class.trainees[0].token))
    assert trainee.status_code == 403 and trainee.json["code"] == "ROLE_REQUIRED"
    assert client.get(url).status_code == 401


def test_my_completion_reads_only_my_documents(client, db, db_reads, admin_token, finished_class):
    client.post(f"/api/v1/classes/{finished_class.id}/certificates", json={}, headers=bearer(admin_token))
    rows = {row["registration_id"]: row for row in client.get(f"/api/v1/classes/{finished_class.id}/completion",
                                                              headers=bearer(admin_token)).json["rows"]}
    for trainee in finished_class.trainees:
        db_reads.clear()
        mine = client.get(f"/api/v1/classes/{finished_class.id}/my-completion", headers=bearer(trainee.token))
        assert mine.status_code == 200, mine.json
        row = rows[trainee.registration_id]
        assert {k: v for k, v in mine.json.items() if k not in ("class_id", "rule", "class_finished")} == {
            k: v for k, v in row.items() if k not in ("name", "region_code", "low_attendance_warned")}
        user_id = ObjectId(trainee.user_id)
        for name in ("registrations", "attendance", "rating_receipts"):
            assert [query.get("user_id") for _, query in db_reads.of(name)] == [user_id], name
        assert [query["registration_id"] for _, query in db_reads.of("certificates")] == [
            ObjectId(trainee.registration_id)]
        assert db_reads.of("completion_warnings") == []
    assert rows[finished_class.trainees[0].registration_id]["certificate_issued"] is True
