"""Trainee archive (培训档案): registrations with history, attendance, leave, ratings count, certificates."""

import io
import json

import openpyxl
from bson import ObjectId

from tests.conftest import bearer


def archive(client, token, world, key="r1"):
    return client.get(f"/api/v1/reports/archives/{world.registrations[key]}", headers=bearer(token))


def test_archive_of_a_trainee_across_years(client, db, admin_token, world):
    response = archive(client, admin_token, world)
    assert response.status_code == 200, response.json
    data = response.json
    assert data["name"] == "张伟" and data["id_number"] == "110105********0011" and data["credit_code"] == "G1"
    by_class = {e["class_name"]: e for e in data["registrations"]}
    assert set(by_class) == {"第一期 专精特新发展专题班", "2025年 领军人才培训班"}
    entry = by_class["第一期 专精特新发展专题班"]
    assert entry["state"] == "confirmed" and entry["state_label"] == "已确认参训" and entry["completed"] is True
    assert [(h["from"], h["to"]) for h in entry["history"]][-1] == ("admitted", "confirmed")
    attendance = entry["attendance"]
    assert (attendance["present"], attendance["late"], attendance["absent"], attendance["excused"]) == (2, 1, 0, 0)
    assert [(s["title"], s["status"]) for s in attendance["sessions"]] == [
        ("新发展格局", "present"), ("数字化转型", "present"), ("专精特新之路", "late")]
    assert [(item["type_label"], item["state_label"]) for item in entry["leave"]] == [("事假", "未批准")]
    assert entry["ratings_given"] == {"sessions": 2, "class": 1}
    issued_on = db.certificates.find_one({"number": "LJ202600001"})["issued_on"]
    assert entry["certificates"] == [{"number": "LJ202600001", "issued_on": issued_on,
                                      "status": "valid", "revoke_reason": None}]


def test_ratings_appear_as_counts_only(client, admin_token, world):
    text = json.dumps(archive(client, admin_token, world).json, ensure_ascii=False)
    assert "很受启发" not in text and "stars" not in text and "scores" not in text


def test_scope(client, make_staff, world):
    assert archive(client, world.trainee_token, world).status_code == 200  # the trainee's own
    beijing = archive(client, make_staff("province_staff", region_code="110000"), world)
    assert beijing.status_code == 200 and len(beijing.json["registrations"]) == 2
    guangdong = archive(client, make_staff("province_staff", region_code="440000"), world)
    assert guangdong.status_code == 404 and guangdong.json["code"] == "REGISTRATION_NOT_FOUND"
    supervisor = archive(client, make_staff("supervisor", class_ids=[world.class_a]), world)
    assert supervisor.status_code == 200
    assert [e["class_name"] for e in supervisor.json["registrations"]] == ["第一期 专精特新发展专题班"]
    assert archive(client, make_staff("supervisor", class_ids=[world.class_b]), world).status_code == 404
    other_trainee = archive(client, world.trainee_token, world, key="r3")
    assert other_trainee.status_code == 404
    unknown = client.get(f"/api/v1/reports/archives/{ObjectId()}", headers=bearer(world.trainee_token))
    assert unknown.status_code == 404


def test_excel(client, db, admin_token, world):
    response = client.get(f"/api/v1/reports/archives/{world.registrations['r1']}.xlsx", headers=bearer(admin_token))
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert f"filename=archive-{world.registrations['r1']}.xlsx;" in disposition
    assert "filename*=UTF-8''%E5%BC%A0%E4%BC%9F-" in disposition  # 张伟-培训档案.xlsx
    history = list(openpyxl.load_workbook(io.BytesIO(response.data))["状态记录"].iter_rows(min_row=2, values_only=True))
    states = {cell for row in history for cell in row[2:4] if cell}
    # registration states as staff read them elsewhere (state_label), never the stored English names
    assert ("已录取，待确认参训", "已确认参训") in {(row[2], row[3]) for row in history}
    assert states and not any(state.isascii() for state in states)
    entry = response_json = client.get(f"/api/v1/reports/archives/{world.registrations['r1']}",
                                       headers=bearer(admin_token)).json["registrations"][0]
    assert all(h["to_label"] and not h["to_label"].isascii() for h in entry["history"]), response_json
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["学员信息", "报名记录", "状态记录", "考勤", "请假", "结业证书"]
    assert list(workbook["考勤"].iter_rows(values_only=True))[0] == ("班级", "课程", "上课时间", "考勤")
    certificates = list(workbook["结业证书"].iter_rows(values_only=True))
    issued_on = db.certificates.find_one({"number": "LJ202600001"})["issued_on"]
    assert certificates[1][1:4] == ("LJ202600001", issued_on, "有效")
