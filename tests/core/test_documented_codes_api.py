"""Error codes the guide documents are the ones the service answers (issue 14 §4)."""

import io

import pytest
from bson import ObjectId

from tests.conftest import bearer


@pytest.fixture
def checkin_class(make_checkin_class):
    return make_checkin_class(trainees=1, regions=("110000",))


def test_more_than_100_registrations_at_once_is_bulk_too_large(client, admin_token):
    ids = [str(ObjectId()) for _ in range(101)]
    response = client.post("/api/v1/registrations/decisions", json={"registration_ids": ids, "action": "admit"},
                           headers=bearer(admin_token))
    assert response.status_code == 422
    assert response.json["code"] == "BULK_TOO_LARGE"
    assert response.json["errors"] == {"registration_ids": ["一次最多处理 100 条"]}


def test_unknown_decision_action_is_a_field_error(client, admin_token):
    response = client.post(f"/api/v1/registrations/{ObjectId()}/decision", json={"action": "promote"},
                           headers=bearer(admin_token))
    assert response.status_code == 422
    assert response.json["code"] == "VALIDATION_ERROR"
    assert list(response.json["errors"]) == ["action"]


def test_check_in_to_an_unknown_session_is_session_not_found(client, db, checkin_class, class_code):
    code = class_code(checkin_class)
    response = client.post(f"/api/v1/sessions/{ObjectId()}/checkins", json={"code": code},
                           headers=bearer(checkin_class.trainees[0].token))
    assert response.status_code == 404
    assert response.json["code"] == "SESSION_NOT_FOUND"
    assert db.attendance.count_documents({}) == 0


def test_check_in_to_another_known_session_is_code_other_session(client, checkin_class, class_code):
    code = class_code(checkin_class)
    response = client.post(f"/api/v1/sessions/{checkin_class.session_ids[1]}/checkins", json={"code": code},
                           headers=bearer(checkin_class.trainees[0].token))
    assert response.status_code == 422
    assert response.json["code"] == "CODE_OTHER_SESSION"


def test_class_code_refusals_match_the_guide(client, checkin_class, make_staff, admin_token):
    from tests.factories import create_class, create_programme

    url = f"/api/v1/sessions/{checkin_class.session_id}/checkin-code"
    trainee = client.get(url, headers=bearer(checkin_class.trainees[0].token))
    assert (trainee.status_code, trainee.json["code"]) == (403, "ROLE_REQUIRED")
    other_class = create_class(client, admin_token, create_programme(client, admin_token)["id"])
    other_supervisor = make_staff("supervisor", class_ids=[other_class["id"]])
    outsider = client.get(url, headers=bearer(other_supervisor))
    assert (outsider.status_code, outsider.json["code"]) == (403, "OUT_OF_SCOPE")


def test_empty_attachment_is_attachment_empty(client, login, db):
    token = login("alice")
    response = client.post("/api/v1/trainee/attachments", headers=bearer(token), content_type="multipart/form-data",
                           data={"kind": "photo", "file": (io.BytesIO(b""), "photo.jpg")})
    assert response.status_code == 422
    assert response.json["code"] == "ATTACHMENT_EMPTY"


def test_mobile_from_outside_the_mainland_is_refused(client, login, db):
    token = login("alice")
    response = client.post("/api/v1/trainee/profile/phone", json={"code": "phone-852-61234567"},
                           headers=bearer(token))
    assert response.status_code == 422
    assert response.json["code"] == "MOBILE_NOT_MAINLAND"


def test_other_wechat_login_refusal_is_wx_login_failed(client):
    response = client.post("/api/v1/auth/wx-login", json={"code": "riskyuser.1"})
    assert response.status_code == 400
    assert response.json["code"] == "WX_LOGIN_FAILED"


def test_csv_in_an_unknown_encoding_is_registry_file_encoding(client, admin_token, db):
    data = b"credit_code,name\n\xff\xfe\xff,x\n"  # neither UTF-8 nor GB18030, no NUL byte
    response = client.post("/api/v1/registry/imports", headers=bearer(admin_token),
                           content_type="multipart/form-data", data={"file": (io.BytesIO(data), "名录.csv")})
    assert response.status_code == 422, response.json
    assert response.json["code"] == "REGISTRY_FILE_ENCODING"


@pytest.mark.parametrize("method, path", [("POST", "/api/v1/staff"), ("PATCH", "/api/v1/staff/{id}")])
def test_unknown_staff_role_is_a_validation_error_naming_role(client, admin_token, db, method, path):
    """q14 finding 8: no ROLE_UNKNOWN code (removed from the guide); the role is an enum."""
    created = client.post("/api/v1/staff", json={"name": "某人", "role": "admin"}, headers=bearer(admin_token)).json
    before = list(db.staff_accounts.find({})) if "staff_accounts" in db.list_collection_names() else None
    response = client.open(path.format(id=created["account"]["id"]), method=method,
                           json={"name": "某人", "role": "bogus"}, headers=bearer(admin_token))
    assert response.status_code == 422 and response.json["code"] == "VALIDATION_ERROR"
    assert list(response.json["errors"]) == ["role"]
    if before is not None:
        assert list(db.staff_accounts.find({})) == before


def test_unknown_staff_role_from_other_callers_is_refused_too(app):
    from service.core.errors import RuleViolation
    from service.staff import service as staff_service

    with app.app_context(), pytest.raises(RuleViolation) as refused:
        staff_service.create(name="某人", role="mayor")
    assert refused.value.code == "VALIDATION_ERROR" and refused.value.errors == {"role": ["角色不存在"]}
