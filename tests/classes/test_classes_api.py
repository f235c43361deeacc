"""Classes: creation rules, refusals with nothing written, status, change history."""

import datetime as dt

import pytest
from bson import ObjectId

from service.classes.repository import CLASSES
from tests.conftest import bearer
from tests.factories import beijing_today, class_body, create_class, create_programme


@pytest.fixture
def programme(client, admin_token):
    return create_programme(client, admin_token)


def test_create_with_default_deadlines(client, admin_token, programme):
    body = class_body(programme["id"])
    response = client.post("/api/v1/classes", json=body, headers=bearer(admin_token))
    assert response.status_code == 201
    klass = response.json
    assert klass["status"] == "draft"
    start = dt.date.fromisoformat(body["start_date"])
    expected = f"{(start - dt.timedelta(days=7)).isoformat()}T00:00:00+08:00"
    assert klass["registration_deadline"] == expected
    assert klass["confirmation_deadline"] == expected
    assert klass["regions"] == ["110000", "440000"]
    assert {q["region_code"]: q["left"] for q in klass["quotas"]} == {"110000": 10, "440000": 10}
    assert klass["quotas"][0]["region_name"] == "北京市"
    assert klass["checkin_settings"] == {"opens_before_minutes": 30, "late_after_minutes": 10,
                                         "closes_after_end_minutes": 0, "out_of_range": "refuse"}
    assert klass["year"] == programme["year"]


def _refused(client, admin_token, db, body, code, status=422):
    response = client.post("/api/v1/classes", json=body, headers=bearer(admin_token))
    assert response.status_code == status, response.json
    assert response.json["code"] == code
    assert db[CLASSES].count_documents({}) == 0
    return response


def test_end_before_start_refused(client, admin_token, db, programme):
    body = class_body(programme["id"])
    body["end_date"] = (dt.date.fromisoformat(body["start_date"]) - dt.timedelta(days=1)).isoformat()
    assert "end_date" in _refused(client, admin_token, db, body, "CLASS_DATES_INVALID").json["errors"]


def test_deadline_after_start_refused(client, admin_token, db, programme):
    body = class_body(programme["id"])
    body["registration_deadline"] = f"{body['start_date']}T08:00:00+08:00"
    _refused(client, admin_token, db, body, "REGISTRATION_DEADLINE_INVALID")


def test_opening_after_deadline_refused(client, admin_token, db, programme):
    body = class_body(programme["id"])
    body["registration_opens_at"] = f"{body['start_date']}T00:00:00+08:00"
    _refused(client, admin_token, db, body, "REGISTRATION_OPENS_INVALID")


def test_confirmation_before_registration_deadline_refused(client, admin_token, db, programme):
    body = class_body(programme["id"])
    start = dt.date.fromisoformat(body["start_date"])
    body["registration_deadline"] = f"{start - dt.timedelta(days=5)}T00:00:00+08:00"
    body["confirmation_deadline"] = f"{start - dt.timedelta(days=6)}T00:00:00+08:00"
    _refused(client, admin_token, db, body, "CONFIRMATION_DEADLINE_INVALID")


def test_unknown_region_refused(client, admin_token, db, programme):
    body = class_body(programme["id"], quotas=[{"region_code": "123456", "places": 5}])
    _refused(client, admin_token, db, body, "REGION_UNKNOWN")


def test_duplicate_region_refused(client, admin_token, db, programme):
    body = class_body(programme["id"], quotas=[{"region_code": "110000", "places": 5},
                                               {"region_code": "110000", "places": 3}])
    _refused(client, admin_token, db, body, "QUOTA_REGION_DUPLICATE")


def test_quotas_above_capacity_refused_unless_allowed(client, admin_token, db, programme):
    body = class_body(programme["id"], capacity=15)
    _refused(client, admin_token, db, body, "QUOTA_EXCEEDS_CAPACITY")
    body["allow_quota_above_capacity"] = True
    assert client.post("/api/v1/classes", json=body, headers=bearer(admin_token)).status_code == 201


def test_cancelled_programme_refused(client, admin_token, db, programme):
    client.post(f"/api/v1/programmes/{programme['id']}/status", json={"status": "cancelled"},
                headers=bearer(admin_token))
    _refused(client, admin_token, db, class_body(programme["id"]), "PROGRAMME_CANCELLED")


def test_unknown_programme_refused(client, admin_token, db):
    _refused(client, admin_token, db, class_body(str(ObjectId())), "PROGRAMME_NOT_FOUND", status=404)


def test_invalid_fields(client, admin_token, db, programme):
    body = class_body(programme["id"], content_areas=["占卜"], capacity=0)
    body["venue"]["latitude"] = 200
    response = _refused(client, admin_token, db, body, "VALIDATION_ERROR")
    assert set(response.json["errors"]) == {"content_areas", "capacity", "venue"}


def test_only_admins_create(client, db, programme, make_staff):
    token = make_staff("province_staff", region_code="110000")
    response = client.post("/api/v1/classes", json=class_body(programme["id"]), headers=bearer(token))
    assert response.status_code == 403
    assert db[CLASSES].count_documents({}) == 0


# ---- publishing --------------------------------------------------------------------------

def test_little_giant_class_needs_theory_and_policy(client, admin_token, db):
    programme = create_programme(client, admin_token, kind="little_giant", name="2026年小巨人企业培训")
    klass = create_class(client, admin_token, programme["id"], content_areas=["经营管理", "形势政策"])
    response = client.post(f"/api/v1/classes/{klass['id']}/status", json={"status": "published"},
                           headers=bearer(admin_token))
    assert response.status_code == 422
    assert response.json["code"] == "CONTENT_AREAS_REQUIRED"
    assert "科学理论" in response.json["message"]
    assert db[CLASSES].find_one({"_id": ObjectId(klass["id"])})["status"] == "draft"
    client.patch(f"/api/v1/classes/{klass['id']}", json={"content_areas": ["科学理论", "形势政策", "经营管理"]},
                 headers=bearer(admin_token))
    published = client.post(f"/api/v1/classes/{klass['id']}/status", json={"status": "published"},
                            headers=bearer(admin_token))
    assert published.json["status"] == "published"


def test_national_class_publishes_without_theory(client, admin_token, programme):
    klass = create_class(client, admin_token, programme["id"], content_areas=["经营管理"])
    response = client.post(f"/api/v1/classes/{klass['id']}/status", json={"status": "published"},
                           headers=bearer(admin_token))
    assert response.status_code == 200


def test_publish_needs_published_programme_and_quotas(client, admin_token):
    draft_programme = create_programme(client, admin_token, publish=False)
    klass = create_class(client, admin_token, draft_programme["id"])
    response = client.post(f"/api/v1/classes/{klass['id']}/status", json={"status": "published"},
                           headers=bearer(admin_token))
    assert response.json["code"] == "PROGRAMME_NOT_PUBLISHED"
    programme = create_programme(client, admin_token)
    no_quotas = create_class(client, admin_token, programme["id"], quotas=[])
    response = client.post(f"/api/v1/classes/{no_quotas['id']}/status", json={"status": "published"},
                           headers=bearer(admin_token))
    assert response.json["code"] == "QUOTAS_MISSING"


def test_status_flow_and_cancel_reason(client, admin_token, programme):
    klass = create_class(client, admin_token, programme["id"], publish=True)
    url = f"/api/v1/classes/{klass['id']}/status"
    skip = client.post(url, json={"status": "archived"}, headers=bearer(admin_token))
    assert skip.json["code"] == "CLASS_STATUS_INVALID"
    no_reason = client.post(url, json={"status": "cancelled"}, headers=bearer(admin_token))
    assert no_reason.json["code"] == "REASON_REQUIRED"
    for status in ("in_progress", "finished", "archived"):
        assert client.post(url, json={"status": status}, headers=bearer(admin_token)).json["status"] == status
    edit = client.patch(f"/api/v1/classes/{klass['id']}", json={"name": "改名"}, headers=bearer(admin_token))
    assert edit.json["code"] == "CLASS_NOT_EDITABLE"


# ---- changes of a published class --------------------------------------------------------

def test_changes_of_a_published_class_are_recorded(client, admin_token, programme):
    klass = create_class(client, admin_token, programme["id"])
    client.patch(f"/api/v1/classes/{klass['id']}", json={"name": "草稿改名"}, headers=bearer(admin_token))
    client.post(f"/api/v1/classes/{klass['id']}/status", json={"status": "published"}, headers=bearer(admin_token))
    client.patch(f"/api/v1/classes/{klass['id']}", json={"capacity": 90}, headers=bearer(admin_token))
    changes = client.get(f"/api/v1/classes/{klass['id']}/changes", headers=bearer(admin_token)).json
    assert [list(c["what"]) for c in changes] == [["status"], ["capacity"]]
    assert changes[1]["what"]["capacity"] == {"old": 80, "new": 90}
    me = client.get("/api/v1/me", headers=bearer(admin_token)).json
    assert changes[1]["by"] == me["id"]
    assert changes[1]["at"].endswith("+08:00")


def test_stale_version_is_a_conflict(client, admin_token, db, programme):
    klass = create_class(client, admin_token, programme["id"])
    client.patch(f"/api/v1/classes/{klass['id']}", json={"name": "第一次修改"}, headers=bearer(admin_token))
    stale = client.patch(f"/api/v1/classes/{klass['id']}", json={"name": "第二次修改", "version": klass["version"]},
                         headers=bearer(admin_token))
    assert stale.status_code == 409
    assert stale.json["code"] == "CLASS_VERSION_CONFLICT"
    assert db[CLASSES].find_one({"_id": ObjectId(klass["id"])})["name"] == "第一次修改"


def test_dates_locked_once_registrations_exist(client, admin_token, db, programme):
    klass = create_class(client, admin_token, programme["id"], publish=True)
    db["registrations"].insert_one({"class_id": ObjectId(klass["id"]), "state": "submitted"})
    new_start = (dt.date.fromisoformat(klass["start_date"]) + dt.timedelta(days=7)).isoformat()
    new_end = (dt.date.fromisoformat(klass["end_date"]) + dt.timedelta(days=7)).isoformat()
    body = {"start_date": new_start, "end_date": new_end}
    refused = client.patch(f"/api/v1/classes/{klass['id']}", json=body, headers=bearer(admin_token))
    assert refused.status_code == 422
    assert refused.json["code"] == "CLASS_DATES_LOCKED"
    assert db[CLASSES].find_one({"_id": ObjectId(klass["id"])})["start_date"] == klass["start_date"]
    moved = client.patch(f"/api/v1/classes/{klass['id']}", json={**body, "allow_date_change_with_registrations": True},
                         headers=bearer(admin_token))
    assert moved.status_code == 200
    assert moved.json["start_date"] == new_start


def test_moving_dates_before_the_deadline_is_refused(client, admin_token, programme):
    klass = create_class(client, admin_token, programme["id"])
    soon = (beijing_today() + dt.timedelta(days=2)).isoformat()
    response = client.patch(f"/api/v1/classes/{klass['id']}", json={"start_date": soon, "end_date": soon},
                            headers=bearer(admin_token))
    assert response.json["code"] == "REGISTRATION_DEADLINE_INVALID"
