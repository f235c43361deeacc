"""Staff accounts: admin only, validated scope, nothing written on refusal."""

import pytest

from service.staff.repository import STAFF
from tests.conftest import bearer


@pytest.mark.parametrize("role", [None, "province_staff", "supervisor"])
def test_only_admins_manage_staff(client, login, make_staff, db, role):
    token = make_staff(role, region_code="110000" if role == "province_staff" else None) if role \
        else login("plain-trainee")
    before = db[STAFF].count_documents({})
    response = client.post("/api/v1/staff", json={"name": "x", "role": "admin"}, headers=bearer(token))
    assert response.status_code == 403
    assert response.json["code"] == "ROLE_REQUIRED"
    assert db[STAFF].count_documents({}) == before
    assert client.get("/api/v1/staff", headers=bearer(token)).status_code == 403


def test_staff_endpoints_need_login(client):
    assert client.get("/api/v1/staff").status_code == 401


@pytest.mark.parametrize("body, code, field", [
    ({"name": "a", "role": "province_staff"}, "REGION_REQUIRED", "region_code"),
    ({"name": "a", "role": "province_staff", "region_code": "999999"}, "REGION_UNKNOWN", "region_code"),
    ({"name": "a", "role": "admin", "region_code": "110000"}, "REGION_NOT_APPLICABLE", "region_code"),
    ({"name": "a", "role": "admin", "class_ids": ["6b03e22bcdf499af03a9eb08"]},
     "CLASSES_NOT_APPLICABLE", "class_ids"),
])
def test_scope_is_validated(client, admin_token, db, body, code, field):
    before = db[STAFF].count_documents({})
    response = client.post("/api/v1/staff", json=body, headers=bearer(admin_token))
    assert response.status_code == 422
    assert response.json["code"] == code
    assert field in response.json["errors"]
    assert db[STAFF].count_documents({}) == before


@pytest.mark.parametrize("body, field", [
    ({"name": "a", "role": "king"}, "role"),
    ({"name": "", "role": "admin"}, "name"),
    ({"name": "a", "role": "supervisor", "class_ids": ["nope"]}, "class_ids"),
])
def test_bad_input_is_a_field_error(client, admin_token, body, field):
    response = client.post("/api/v1/staff", json=body, headers=bearer(admin_token))
    assert response.status_code == 422
    assert response.json["code"] == "VALIDATION_ERROR"
    assert field in response.json["errors"]


def test_list_and_get(client, admin_token):
    created = client.post("/api/v1/staff", json={"name": "周九", "role": "province_staff",
                                                 "region_code": "370200"},
                          headers=bearer(admin_token)).json
    listing = client.get("/api/v1/staff?role=province_staff&region_code=370200",
                         headers=bearer(admin_token)).json
    assert listing["total"] == 1
    assert listing["items"][0]["name"] == "周九"
    assert "binding" not in listing["items"][0]
    one = client.get(f"/api/v1/staff/{created['account']['id']}", headers=bearer(admin_token))
    assert one.json["region_code"] == "370200"
    assert client.get("/api/v1/staff/not-an-id", headers=bearer(admin_token)).status_code == 404
    assert client.get("/api/v1/staff/6b03e22bcdf499af03a9eb08",
                      headers=bearer(admin_token)).json["code"] == "STAFF_NOT_FOUND"


def test_page_size_is_capped(client, admin_token):
    response = client.get("/api/v1/staff?page_size=1000", headers=bearer(admin_token))
    assert response.status_code == 422
    assert "page_size" in response.json["errors"]


def test_supervisor_with_a_class_that_does_not_exist_is_refused(client, admin_token, db):
    """q14 finding 7: a dangling class id was stored (201)."""
    from tests.factories import create_class, create_programme

    klass = create_class(client, admin_token, create_programme(client, admin_token)["id"])
    before = db[STAFF].count_documents({})
    response = client.post("/api/v1/staff", json={"name": "甲乙", "role": "supervisor",
                                                 "class_ids": [klass["id"], "ffffffffffffffffffffffff"]},
                           headers=bearer(admin_token))
    assert response.status_code == 422, response.json
    assert response.json["code"] == "VALIDATION_ERROR"
    assert response.json["errors"] == {"class_ids": {"1": ["班级不存在"]}}
    assert db[STAFF].count_documents({}) == before
    ok = client.post("/api/v1/staff", json={"name": "甲乙", "role": "supervisor", "class_ids": [klass["id"]]},
                     headers=bearer(admin_token))
    assert ok.status_code == 201 and ok.json["account"]["class_ids"] == [klass["id"]]


def test_patching_a_supervisor_with_a_class_that_does_not_exist_is_refused(client, admin_token, db):
    created = client.post("/api/v1/staff", json={"name": "甲乙", "role": "supervisor"},
                          headers=bearer(admin_token)).json["account"]
    before = db[STAFF].find_one({})
    response = client.patch(f"/api/v1/staff/{created['id']}", json={"class_ids": ["ffffffffffffffffffffffff"]},
                            headers=bearer(admin_token))
    assert response.status_code == 422 and response.json["errors"] == {"class_ids": {"0": ["班级不存在"]}}
    assert db[STAFF].find_one({}) == before
