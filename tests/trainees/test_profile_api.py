"""Trainee profile: the form's rules, Chinese field errors, personal data encrypted at rest."""

import pytest

from service.trainees.repository import PROFILES
from tests.conftest import bearer
from tests.factories import credit_code, id_number, profile_body


@pytest.fixture
def trainee(login):
    return login("trainee-profile")


def test_fill_profile_masks_personal_data(client, trainee, db):
    body = profile_body()
    response = client.put("/api/v1/trainee/profile", json=body, headers=bearer(trainee))
    assert response.status_code == 200, response.json
    profile = response.json
    assert profile["id_number"] == body["id_number"][:6] + "********" + body["id_number"][-4:]
    assert profile["mobile"] == body["mobile"][:3] + "****" + body["mobile"][-4:]
    assert profile["birth_date"] == "1970-01-01"
    assert profile["complete"] is True
    assert profile["enterprise"]["region_name"] == "北京市"
    assert body["id_number"] not in response.get_data(as_text=True)
    assert client.get("/api/v1/trainee/profile", headers=bearer(trainee)).json["id_number"] == profile["id_number"]


def test_raw_document_holds_no_plaintext(client, trainee, db):
    body = profile_body()
    client.put("/api/v1/trainee/profile", json=body, headers=bearer(trainee))
    raw = str(db[PROFILES].find_one())
    assert body["id_number"] not in raw
    assert body["mobile"] not in raw
    assert body["id_number"][6:14] not in raw.replace("1970-01-01", "")  # nor the birth-date digits


@pytest.mark.parametrize("change, field, message", [
    ({"id_number": "110105197001010010"}, "id_number", "校验位"),
    ({"id_number": "12345"}, "id_number", "18位"),
    ({"gender": "female"}, "gender", "不一致"),
    ({"mobile": "1234567"}, "mobile", "11位"),
    ({"ethnicity": "火星族"}, "ethnicity", "民族"),
    ({"political_status": "党员"}, "political_status", "政治面貌"),
    ({"management_years": -1}, "management_years", "大于或等于"),
    ({"email": "not-mail"}, "email", "邮箱"),
])
def test_field_errors_in_chinese(client, trainee, db, change, field, message):
    response = client.put("/api/v1/trainee/profile", json=profile_body(**change), headers=bearer(trainee))
    assert response.status_code == 422
    assert response.json["code"] == "VALIDATION_ERROR"
    assert message in " ".join(response.json["errors"][field])
    assert db[PROFILES].count_documents({}) == 0


def test_enterprise_errors(client, trainee, db):
    body = profile_body()
    body["enterprise"]["credit_code"] = credit_code(1)[:-1] + ("0" if credit_code(1)[-1] != "0" else "1")
    body["enterprise"]["region_code"] = "999999"
    body["enterprise"]["titles"] = ["世界500强"]
    response = client.put("/api/v1/trainee/profile", json=body, headers=bearer(trainee))
    errors = response.json["errors"]["enterprise"]
    assert "校验位" in errors["credit_code"][0]
    assert errors["region_code"] == ["地区代码不存在"]
    assert "titles" in errors
    assert db[PROFILES].count_documents({}) == 0


def test_id_number_bound_to_one_account(client, login, trainee, db):
    body = profile_body()
    client.put("/api/v1/trainee/profile", json=body, headers=bearer(trainee))
    other = login("someone-else")
    response = client.put("/api/v1/trainee/profile", json=body, headers=bearer(other))
    assert response.status_code == 409
    assert response.json["code"] == "ID_NUMBER_IN_USE"
    assert db[PROFILES].count_documents({}) == 1


def test_no_profile_yet(client, trainee):
    response = client.get("/api/v1/trainee/profile", headers=bearer(trainee))
    assert response.status_code == 404
    assert response.json["code"] == "PROFILE_NOT_FOUND"


def test_phone_from_wechat_and_kept_on_save(client, trainee, db, fake_wechat):
    response = client.post("/api/v1/trainee/profile/phone", json={"code": "phone-13912345678"},
                           headers=bearer(trainee))
    # No form yet: the number is stored and the profile says what is still missing.
    assert response.status_code == 200
    assert response.json["mobile"] == "139****5678"
    assert response.json["complete"] is False
    assert "身份证号码" in response.json["missing"]
    body = profile_body(mobile=None)
    saved = client.put("/api/v1/trainee/profile", json=body, headers=bearer(trainee)).json
    assert saved["mobile"] == "139****5678"
    assert saved["mobile_source"] == "wechat"
    assert "13912345678" not in str(db[PROFILES].find_one())


def test_phone_exchange_is_limited_per_day(client, trainee, fake_wechat, db):
    client.put("/api/v1/trainee/profile", json=profile_body(), headers=bearer(trainee))
    before = fake_wechat.phone_exchanges
    for n in range(5):
        ok = client.post("/api/v1/trainee/profile/phone", json={"code": f"phone-1390000000{n}"},
                         headers=bearer(trainee))
        assert ok.status_code == 200
    refused = client.post("/api/v1/trainee/profile/phone", json={"code": "phone-13900000009"},
                          headers=bearer(trainee))
    assert refused.status_code == 429
    assert refused.json["code"] == "TOO_MANY_REQUESTS"
    assert 0 < int(refused.headers["Retry-After"]) <= 24 * 3600 + 1  # Flask-Limiter rounds up
    assert fake_wechat.phone_exchanges == before + 5  # the sixth never reached WeChat
    assert client.get("/api/v1/trainee/profile", headers=bearer(trainee)).json["mobile"] == "139****0004"


def test_invalid_phone_code(client, trainee):
    client.put("/api/v1/trainee/profile", json=profile_body(), headers=bearer(trainee))
    response = client.post("/api/v1/trainee/profile/phone", json={"code": "invalid-x"}, headers=bearer(trainee))
    assert response.status_code == 400
    assert response.json["code"] == "WX_PHONE_CODE_INVALID"


def test_reference_lists(client, trainee):
    lists = client.get("/api/v1/reference-lists", headers=bearer(trainee)).json
    assert len(lists["ethnic_groups"]) == 56
    assert lists["ethnic_groups"][0] == "汉族"
    assert "中共党员" in lists["political_statuses"] and "群众" in lists["political_statuses"]
    assert len(lists["regions"]) == 37


def test_profile_needs_login(client):
    assert client.put("/api/v1/trainee/profile", json=profile_body()).status_code == 401


def test_id_number_helper_is_valid():
    from stdnum.cn import ric

    assert ric.validate(id_number(sequence=7, male=False))
