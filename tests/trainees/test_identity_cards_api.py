"""The profile form accepts every card sharing the 18-character format and refuses with the reason."""

import pytest

from service.trainees.repository import PROFILES
from tests.conftest import bearer
from tests.factories import credit_code, profile_body


@pytest.fixture
def trainee(login):
    return login("trainee-identity")


@pytest.mark.parametrize("number, gender, kind, birth_date", [
    ("320102196803150310", "male", "resident_id", "1968-03-15"),
    ("44030419780315013x", "male", "resident_id", "1978-03-15"),
    ("510104198206200153", "male", "resident_id", "1982-06-20"),
    ("810000197505050111", "male", "residence_permit", "1975-05-05"),
    ("830000197007070156", "male", "residence_permit", "1970-07-07"),
])
def test_issue_numbers_are_accepted_and_the_card_kind_recorded(client, trainee, db, number, gender, kind, birth_date):
    response = client.put("/api/v1/trainee/profile", json=profile_body(id_number=number, gender=gender),
                          headers=bearer(trainee))
    assert response.status_code == 200, response.json
    assert (response.json["id_card_kind"], response.json["birth_date"]) == (kind, birth_date)
    assert response.json["id_number"] == number[:6].upper() + "********" + number[-4:].upper()
    stored = db[PROFILES].find_one()
    assert stored["id_card_kind"] == kind


@pytest.mark.parametrize("number, message", [
    ("110105203001151234", "身份证号码中的出生日期“20300115”不在 1900 年至今天之间"),
    ("110105189912311579", "身份证号码中的出生日期“18991231”不在 1900 年至今天之间"),
    ("320102196803150311", "身份证号码校验位不正确（最后一位与前17位不符），请核对每一位数字"),
    ("3201021968031503", "身份证号码应为18位（现为16位）"),
])
def test_impossible_numbers_are_refused_with_their_reason(client, trainee, db, number, message):
    response = client.put("/api/v1/trainee/profile", json=profile_body(id_number=number), headers=bearer(trainee))
    assert response.status_code == 422
    assert response.json["errors"]["id_number"] == [message]
    assert db[PROFILES].count_documents({}) == 0


def test_credit_code_full_width_is_stored_half_width_and_excluded_letters_are_named(client, trainee, db):
    code = credit_code(3)
    body = profile_body()
    body["enterprise"]["credit_code"] = "".join(chr(ord(c) + 0xFEE0) for c in code)
    response = client.put("/api/v1/trainee/profile", json=body, headers=bearer(trainee))
    assert response.status_code == 200, response.json
    assert response.json["enterprise"]["credit_code"] == code

    body["enterprise"]["credit_code"] = code[:10] + "O" + code[11:]
    response = client.put("/api/v1/trainee/profile", json=body, headers=bearer(trainee))
    assert response.status_code == 422
    assert "不使用字母 O" in response.json["errors"]["enterprise"]["credit_code"][0]
