"""Binding a WeChat identity to a staff account with a one-time code."""

import datetime as dt

from service.staff.repository import STAFF
from tests.conftest import bearer


def _create_staff(client, admin_token, **body):
    response = client.post("/api/v1/staff", json=body, headers=bearer(admin_token))
    assert response.status_code == 201, response.json
    return response.json


def test_binding_grants_the_staff_role(client, admin_token, login):
    created = _create_staff(client, admin_token, name="李四", role="province_staff", region_code="440000")
    assert created["account"]["bound"] is False
    token = login("lisi")
    response = client.post("/api/v1/auth/bind", json={"binding_code": created["binding_code"]},
                           headers=bearer(token))
    assert response.status_code == 200
    assert response.json["roles"] == ["province_staff", "trainee"]
    assert response.json["region_codes"] == ["440000"]
    assert client.get("/api/v1/me", headers=bearer(token)).json["roles"] == ["province_staff", "trainee"]


def test_binding_code_is_single_use(client, admin_token, login, db):
    created = _create_staff(client, admin_token, name="王五", role="admin")
    first = login("wangwu")
    assert client.post("/api/v1/auth/bind", json={"binding_code": created["binding_code"]},
                       headers=bearer(first)).status_code == 200
    intruder = login("intruder")
    response = client.post("/api/v1/auth/bind", json={"binding_code": created["binding_code"]},
                           headers=bearer(intruder))
    assert response.status_code == 400
    assert response.json["code"] == "BINDING_CODE_INVALID"
    assert client.get("/api/v1/me", headers=bearer(intruder)).json["roles"] == ["trainee"]


def test_expired_binding_code_is_refused(client, admin_token, login, db):
    created = _create_staff(client, admin_token, name="赵六", role="admin")
    db[STAFF].update_one({"name": "赵六"}, {"$set": {
        "binding.expires_at": dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)}})
    token = login("zhaoliu")
    response = client.post("/api/v1/auth/bind", json={"binding_code": created["binding_code"]},
                           headers=bearer(token))
    assert response.status_code == 400
    assert response.json["code"] == "BINDING_CODE_INVALID"
    assert db[STAFF].find_one({"name": "赵六"})["user_id"] is None


def test_binding_code_is_stored_hashed(client, admin_token, db):
    created = _create_staff(client, admin_token, name="钱七", role="admin")
    raw = str(db[STAFF].find_one({"name": "钱七"}))
    assert created["binding_code"] not in raw


def test_reissued_code_replaces_the_old_one(client, admin_token, login):
    created = _create_staff(client, admin_token, name="孙八", role="supervisor")
    account_id = created["account"]["id"]
    reissued = client.post(f"/api/v1/staff/{account_id}/binding-code", headers=bearer(admin_token)).json
    token = login("sunba")
    old = client.post("/api/v1/auth/bind", json={"binding_code": created["binding_code"]},
                      headers=bearer(token))
    assert old.json["code"] == "BINDING_CODE_INVALID"
    new = client.post("/api/v1/auth/bind", json={"binding_code": reissued["binding_code"]},
                      headers=bearer(token))
    assert new.status_code == 200 and "supervisor" in new.json["roles"]


def test_deactivated_account_loses_its_role(client, admin_token, make_staff, db):
    token = make_staff("admin", person="old-admin")
    account = db[STAFF].find_one({"name": "old-admin"})
    response = client.patch(f"/api/v1/staff/{account['_id']}", json={"active": False},
                            headers=bearer(admin_token))
    assert response.status_code == 200
    refused = client.get("/api/v1/staff", headers=bearer(token))
    assert refused.status_code == 401 and refused.json["code"] == "TOKEN_INVALID"
