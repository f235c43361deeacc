"""Nothing half-written (issue 14 §3) for binding and rebinding staff accounts."""

import pytest

from tests.conftest import bearer
from tests.fixtures.faults import assert_unavailable


def _create_staff(client, admin_token, **body):
    response = client.post("/api/v1/staff", json=body, headers=bearer(admin_token))
    assert response.status_code == 201, response.json
    return response.json


# bind: 1 the account (the code is used), 2 the user's tokens read staff accounts, 3 the new token
@pytest.mark.parametrize("write", [2, 3], ids=["tokens", "new-token"])
def test_a_bind_that_failed_after_binding_is_finished_by_sending_it_again(client, admin_token, login, db, fail_write,
                                                                          write):
    created = _create_staff(client, admin_token, name="李四", role="province_staff", region_code="440000")
    token = login("lisi")
    bind = {"path": "/api/v1/auth/bind", "json": {"binding_code": created["binding_code"]}, "headers": bearer(token)}
    with fail_write(write):
        assert_unavailable(client.post(**bind))
    assert db.staff_accounts.find_one({"name": "李四"})["user_id"] is not None  # bound
    again = client.post(**bind)
    assert again.status_code == 200, again.json
    assert again.json["roles"] == ["province_staff", "trainee"]
    assert client.get("/api/v1/me", headers=bearer(again.json["token"])).json["roles"] == ["province_staff", "trainee"]
    intruder = client.post("/api/v1/auth/bind", json={"binding_code": created["binding_code"]},
                           headers=bearer(login("intruder")))
    assert intruder.status_code == 400 and intruder.json["code"] == "BINDING_CODE_INVALID"


def test_a_new_binding_code_whose_unbinding_fails_leaves_the_account_bound(client, admin_token, login, db,
                                                                          fail_write):
    created = _create_staff(client, admin_token, name="王五", role="admin")
    token = login("wangwu")
    assert client.post("/api/v1/auth/bind", json={"binding_code": created["binding_code"]},
                       headers=bearer(token)).status_code == 200
    account_id = created["account"]["id"]
    url = f"/api/v1/staff/{account_id}/binding-code"
    with fail_write(2):  # 1 revoking the person's tokens, 2 the unbinding itself
        assert_unavailable(client.post(url, headers=bearer(admin_token)))
    assert db.staff_accounts.find_one({"name": "王五"})["user_id"] is not None  # still bound (logged out)
    again = client.post(url, headers=bearer(admin_token))
    assert again.status_code == 201 and again.json["account"]["bound"] is False
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401  # old tokens revoked
