"""Sessions: inside the class dates, never overlapping, with check-in windows and class hours."""

import datetime as dt
import io

import openpyxl
import pytest
from bson import ObjectId

from service.classes.repository import CLASSES
from tests.conftest import bearer
from tests.factories import create_class, create_programme, session_body


@pytest.fixture
def klass(client, admin_token):
    programme = create_programme(client, admin_token)
    return create_class(client, admin_token, programme["id"])


def _add(client, admin_token, klass, **kwargs):
    return client.post(f"/api/v1/classes/{klass['id']}/sessions", json=session_body(klass["start_date"], **kwargs),
                       headers=bearer(admin_token))


def _session_count(db, klass):
    return len(db[CLASSES].find_one({"_id": ObjectId(klass["id"])})["sessions"])


def test_session_with_default_checkin_window(client, admin_token, klass):
    response = _add(client, admin_token, klass, start="09:00", end="11:15")
    assert response.status_code == 201
    session = response.json
    day = klass["start_date"]
    assert session["starts_at"] == f"{day}T09:00:00+08:00"
    assert session["checkin_opens_at"] == f"{day}T08:30:00+08:00"
    assert session["late_after"] == f"{day}T09:10:00+08:00"
    assert session["checkin_closes_at"] == f"{day}T11:15:00+08:00"
    assert session["class_hours"] == 3.0  # 135 minutes of 45
    assert session["date"] == day


def test_session_and_class_overrides(client, admin_token, klass):
    client.patch(f"/api/v1/classes/{klass['id']}", json={"checkin_settings": {"late_after_minutes": 5}},
                 headers=bearer(admin_token))
    session = _add(client, admin_token, klass, checkin={"opens_before_minutes": 60}).json
    day = klass["start_date"]
    assert session["checkin_opens_at"] == f"{day}T08:00:00+08:00"
    assert session["late_after"] == f"{day}T09:05:00+08:00"


def test_session_outside_class_dates_refused(client, admin_token, db, klass):
    response = _add(client, admin_token, klass, day=-1)
    assert response.status_code == 422
    assert response.json["code"] == "SESSION_OUTSIDE_CLASS_DATES"
    assert _add(client, admin_token, klass, day=4).json["code"] == "SESSION_OUTSIDE_CLASS_DATES"
    assert _session_count(db, klass) == 0


def test_session_ending_before_start_refused(client, admin_token, db, klass):
    response = _add(client, admin_token, klass, start="11:00", end="09:00")
    assert response.json["code"] == "SESSION_TIMES_INVALID"
    assert _session_count(db, klass) == 0


def test_overlapping_sessions_refused(client, admin_token, db, klass):
    assert _add(client, admin_token, klass, start="09:00", end="11:30").status_code == 201
    response = _add(client, admin_token, klass, start="11:00", end="12:00", title="企业数字化转型")
    assert response.status_code == 422
    assert response.json["code"] == "SESSION_OVERLAP"
    assert _session_count(db, klass) == 1
    # Back to back is fine.
    assert _add(client, admin_token, klass, start="11:30", end="12:00").status_code == 201


def test_update_into_overlap_refused_and_delete(client, admin_token, db, klass):
    first = _add(client, admin_token, klass, start="09:00", end="10:00").json
    second = _add(client, admin_token, klass, start="14:00", end="16:00", title="现场教学", kind="site_visit").json
    day = klass["start_date"]
    response = client.patch(f"/api/v1/classes/{klass['id']}/sessions/{second['id']}",
                            json={"starts_at": f"{day}T09:30:00+08:00"}, headers=bearer(admin_token))
    assert response.json["code"] == "SESSION_OVERLAP"
    stored = db[CLASSES].find_one({"_id": ObjectId(klass["id"])})["sessions"]
    assert stored[1]["starts_at"].hour == 6  # 14:00 Beijing is 06:00 UTC: unchanged
    assert client.delete(f"/api/v1/classes/{klass['id']}/sessions/{first['id']}",
                         headers=bearer(admin_token)).status_code == 204
    assert _session_count(db, klass) == 1
    missing = client.delete(f"/api/v1/classes/{klass['id']}/sessions/{first['id']}", headers=bearer(admin_token))
    assert missing.json["code"] == "SESSION_NOT_FOUND"


def test_class_dates_cannot_leave_sessions_outside(client, admin_token, klass):
    _add(client, admin_token, klass, day=3)
    shorter = (dt.date.fromisoformat(klass["start_date"]) + dt.timedelta(days=1)).isoformat()
    response = client.patch(f"/api/v1/classes/{klass['id']}", json={"end_date": shorter}, headers=bearer(admin_token))
    assert response.json["code"] == "SESSION_OUTSIDE_CLASS_DATES"


def test_class_hours_add_up(client, admin_token, klass):
    for day in range(4):
        _add(client, admin_token, klass, day=day, start="09:00", end="12:00")
        _add(client, admin_token, klass, day=day, start="14:00", end="17:00")
    timetable = client.get(f"/api/v1/classes/{klass['id']}/sessions", headers=bearer(admin_token)).json
    assert len(timetable["sessions"]) == 8
    assert timetable["class_hours"] == 32.0  # 8 × 180 min / 45
    starts = [s["starts_at"] for s in timetable["sessions"]]
    assert starts == sorted(starts)


def test_sessions_only_by_admins(client, klass, make_staff, db):
    staff = make_staff("supervisor")
    response = client.post(f"/api/v1/classes/{klass['id']}/sessions", json=session_body(klass["start_date"]),
                           headers=bearer(staff))
    assert response.status_code == 404  # a draft: not even its existence is told (403 once published)
    assert _session_count(db, klass) == 0


def test_timetable_excel(client, admin_token, klass):
    _add(client, admin_token, klass, start="09:00", end="11:15")
    _add(client, admin_token, klass, day=1, start="14:00", end="17:00", title="企业参观", kind="site_visit",
         teacher="", content_area="专精特新发展")
    response = client.get(f"/api/v1/classes/{klass['id']}/timetable.xlsx", headers=bearer(admin_token))
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("日期", "开始", "结束", "课程", "授课人", "内容模块", "形式", "地点", "学时")
    assert rows[1][:4] == (klass["start_date"], "09:00", "11:15", "新发展格局下的企业战略")
    assert rows[2][6] == "现场教学"
    assert rows[2][8] == 4
