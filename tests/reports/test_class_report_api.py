"""Class report figures against the hand-computed world (see conftest.py), scope, anonymity, Excel."""

import io
import json

import openpyxl
from bson import ObjectId

from tests.conftest import bearer


def report(client, token, world):
    response = client.get(f"/api/v1/reports/classes/{world.class_a}", headers=bearer(token))
    assert response.status_code == 200, response.json
    return response.json


def test_enrolment_attendance_leave_completion(client, admin_token, world):
    """Enrolment: 110000 has r1, r2 confirmed and r4, r5, r6 applied too (r7 is a draft); 440000 r3.
    Attendance: 3 sessions × 3 confirmed = 9 expected; present 4, late 2, absent 1, excused 1 (王强
    has no record for s3) -> 6 / 9. Per session: s1 3/3, s2 2/3, s3 1/3.
    Leave: approved (李娜, sick) + returned early (王强, personal); rejected and withdrawn don't count.
    Completion: one valid certificate, one revoked -> 1 / 3."""
    data = report(client, admin_token, world)
    assert data["class"]["name"] == "第一期 专精特新发展专题班" and data["region_codes"] is None
    assert data["enrolment"]["by_region"] == [
        {"region_code": "110000", "region_name": "北京市", "places": 3, "applied": 5, "admitted": 2, "confirmed": 2},
        {"region_code": "440000", "region_name": "广东省", "places": 2, "applied": 1, "admitted": 1, "confirmed": 1}]
    assert (data["enrolment"]["confirmed"], data["enrolment"]["applied"], data["enrolment"]["places"]) == (3, 6, 5)
    attendance = data["attendance"]
    assert {k: attendance[k] for k in ("sessions_total", "sessions_held", "expected", "present", "late", "absent",
                                       "excused", "attended", "attendance_rate", "late_rate")} == {
        "sessions_total": 3, "sessions_held": 3, "expected": 9, "present": 4, "late": 2, "absent": 1, "excused": 1,
        "attended": 6, "attendance_rate": 0.6667, "late_rate": 0.2222}
    assert [s["attendance_rate"] for s in attendance["sessions"]] == [1.0, 0.6667, 0.3333]
    assert [(s["present"], s["late"], s["absent"], s["excused"]) for s in attendance["sessions"]] == [
        (2, 1, 0, 0), (2, 0, 1, 0), (0, 1, 0, 1)]
    assert data["leave"] == {"requests": 2, "trainees": 2, "excused_records": 1,
                             "by_type": [{"type": "personal", "label": "事假", "requests": 1},
                                         {"type": "sick", "label": "病假", "requests": 1}]}
    assert data["completion"] == {"certificates_issued": 1, "certificates_revoked": 1, "completion_rate": 0.3333}


def test_satisfaction_with_flags(client, admin_token, world):
    """s1: 5, 4, 3 -> 2/3 flagged; s2: 5, 5 -> 1.0; s3 unrated. 张教授 = s1 (s3 unrated) -> flagged.
    Class: (5,5,5,5) and (4,3,4,4): faculty 1/2 flagged, the rest 2/2; overall 7/8 = 0.875 < 0.9."""
    sat = report(client, admin_token, world)["satisfaction"]
    assert [(s["ratings"], s["satisfaction_rate"], s["flagged"]) for s in sat["sessions"]] == [
        (3, 0.6667, True), (2, 1.0, False), (0, None, False)]
    assert [(t["teacher"], t["ratings"], t["satisfaction_rate"], t["flagged"]) for t in sat["teachers"]] == [
        ("张教授", 3, 0.6667, True), ("李教授", 2, 1.0, False)]
    assert [(d["dimension"], d["satisfaction_rate"], d["flagged"]) for d in sat["dimensions"]] == [
        ("course_design", 1.0, False), ("faculty", 0.5, True), ("organisation", 1.0, False), ("effect", 1.0, False)]
    assert (sat["overall_satisfaction_rate"], sat["overall_flagged"]) == (0.875, True)
    assert sorted(c["text"] for c in sat["comments"]) == ["很受启发", "案例偏少"]
    assert sat["suggestions"] == ["增加参访"]


def test_province_staff_get_their_region_only(client, make_staff, world):
    """110000 only: 2 confirmed × 3 = 6 expected; present 3, late 1, absent 1, excused 1 -> 4/6.
    Leave: 李娜's sick leave. Ratings: s1 (5, 4) -> 1.0; class (5,5,5,5). No comments.
    Certificates: both are 110000 trainees -> 1 valid of 2 confirmed."""
    data = report(client, make_staff("province_staff", region_code="110000"), world)
    assert data["region_codes"] == ["110000"]
    assert [r["region_code"] for r in data["enrolment"]["by_region"]] == ["110000"]
    assert data["enrolment"]["places"] == 3
    attendance = data["attendance"]
    assert (attendance["expected"], attendance["present"], attendance["late"], attendance["attended"],
            attendance["attendance_rate"]) == (6, 3, 1, 4, 0.6667)
    assert (data["leave"]["requests"], data["leave"]["trainees"]) == (1, 1)
    sat = data["satisfaction"]
    assert sat["sessions"][0]["satisfaction_rate"] == 1.0 and sat["overall_satisfaction_rate"] == 1.0
    assert sat["comments"] is None and sat["suggestions"] is None
    assert data["completion"] == {"certificates_issued": 1, "certificates_revoked": 1, "completion_rate": 0.5}


def test_supervisors_only_their_classes(client, make_staff, world):
    own = make_staff("supervisor", class_ids=[world.class_a])
    assert report(client, own, world)["region_codes"] is None
    other = make_staff("supervisor", class_ids=[world.class_b])
    response = client.get(f"/api/v1/reports/classes/{world.class_a}", headers=bearer(other))
    assert response.status_code == 403 and response.json["code"] == "OUT_OF_SCOPE"
    elsewhere = make_staff("province_staff", region_code="320000")
    assert client.get(f"/api/v1/reports/classes/{world.class_a}", headers=bearer(elsewhere)).status_code == 403
    trainee = client.get(f"/api/v1/reports/classes/{world.class_a}", headers=bearer(world.trainee_token))
    assert trainee.status_code == 403 and trainee.json["code"] == "ROLE_REQUIRED"
    missing = client.get(f"/api/v1/reports/classes/{ObjectId()}", headers=bearer(own))
    assert missing.status_code == 404 and missing.json["code"] == "CLASS_NOT_FOUND"


def _cells(data):
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return {sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)] for sheet in workbook}


def test_excel_has_chinese_headers_and_the_same_figures(client, admin_token, world):
    response = client.get(f"/api/v1/reports/classes/{world.class_a}.xlsx", headers=bearer(admin_token))
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheets = _cells(response.data)
    assert list(sheets) == ["概况", "报名情况", "考勤", "请假", "满意度-课程", "满意度-教师", "满意度-维度", "意见建议"]
    summary = dict(sheets["概况"][1:])
    assert summary["出勤率"] == "66.7%" and summary["总体满意度"] == "87.5%" and summary["已颁发结业证书"] == 1
    assert sheets["考勤"][0] == ["课程", "授课教师", "上课时间", "已上课", "应到", "出勤", "迟到", "缺勤", "请假", "出勤率"]
    assert sheets["满意度-维度"][2] == ["师资力量", 2, 4, "50.0%", "是"]


def test_no_rater_name_or_id_in_the_report_or_its_export(client, admin_token, world, db):
    identifiers = set(world.users) | {str(u) for u in world.users.values()} | {str(r) for r in world.registrations.values()}
    text = json.dumps(report(client, admin_token, world), ensure_ascii=False)
    assert not [value for value in identifiers if value in text]
    workbook = client.get(f"/api/v1/reports/classes/{world.class_a}.xlsx", headers=bearer(admin_token)).data
    cells = json.dumps(_cells(workbook), ensure_ascii=False, default=str)
    assert "很受启发" in cells  # comments are there, their writers are not
    assert not [value for value in identifiers if value in cells]
