"""Nothing half-written (issue 14 §3), endpoints whose writes are idempotent or invisible until
the last one: with a fault on a later write the answer is 503, what is visible is unchanged, and
the same request sent again succeeds without a duplicate. (Registrations, leave, closing a
session, console sessions, certificates and binding have their own tests beside their features.)"""

import uuid

import pytest

from tests.conftest import bearer
from tests.factories import create_class, create_programme
from tests.fixtures.faults import assert_unavailable
from tests.trainees.test_attachments_api import png_bytes, upload


# wx-login: 1 the user (upsert by openid), 2 the WeChat session key (upsert), 3 the token
@pytest.mark.parametrize("write", [2, 3], ids=["session-key", "token"])
def test_login_fault_then_retry_makes_one_user(client, db, fail_write, write):
    person = f"faulty-login-{write}-{uuid.uuid4().hex[:6]}"
    with fail_write(write):
        assert_unavailable(client.post("/api/v1/auth/wx-login", json={"code": f"{person}.1"}))
    # WeChat codes are single-use: the mini-program calls wx.login() again and sends the new one.
    again = client.post("/api/v1/auth/wx-login", json={"code": f"{person}.2"})
    assert again.status_code == 200, again.json
    assert db.users.count_documents({}) == 1
    assert client.get("/api/v1/me", headers=bearer(again.json["token"])).status_code == 200


# deactivating a staff account: 1 the account, 2 revoking its person's tokens
def test_deactivation_whose_revocation_fails_is_finished_by_sending_it_again(client, admin_token, make_staff, db,
                                                                             fail_write):
    staff = make_staff("province_staff", region_code="110000", person="deactivate-me")
    account_id = str(db.staff_accounts.find_one({"name": "deactivate-me"})["_id"])
    url = f"/api/v1/staff/{account_id}"
    with fail_write(2):
        assert_unavailable(client.patch(url, json={"active": False}, headers=bearer(admin_token)))
    again = client.patch(url, json={"active": False}, headers=bearer(admin_token))
    assert again.status_code == 200 and again.json["active"] is False
    assert client.get("/api/v1/me", headers=bearer(staff)).status_code == 401


# assigning supervisors: 1 add the class to the accounts, 2 remove it from the others, 3 the class
@pytest.mark.parametrize("write", [2, 3], ids=["other-accounts", "class"])
def test_supervisors_fault_then_retry_assigns_once(client, admin_token, make_staff, db, fail_write, write):
    programme = create_programme(client, admin_token)
    klass = create_class(client, admin_token, programme["id"])
    make_staff("supervisor", person="sup-a")
    account_id = db.staff_accounts.find_one({"name": "sup-a"})["_id"]
    url = f"/api/v1/classes/{klass['id']}/supervisors"
    with fail_write(write):
        assert_unavailable(client.put(url, json={"staff_ids": [str(account_id)]}, headers=bearer(admin_token)))
    again = client.put(url, json={"staff_ids": [str(account_id)]}, headers=bearer(admin_token))
    assert again.status_code == 200, again.json
    assert [str(c) for c in db.staff_accounts.find_one({"_id": account_id})["class_ids"]] == [klass["id"]]


# an upload: 1 the rate-limit counter, 2 the file's chunks, 3 the file entry (what makes it visible)
def test_upload_fault_leaves_no_visible_file_and_a_retry_stores_one(client, login, fail_write):
    token = login("attach-owner")
    with fail_write(3):
        assert_unavailable(upload(client, token, png_bytes()))
    assert client.get("/api/v1/trainee/attachments", headers=bearer(token)).json == []
    again = upload(client, token, png_bytes())
    assert again.status_code == 201, again.json
    assert len(client.get("/api/v1/trainee/attachments", headers=bearer(token)).json) == 1
