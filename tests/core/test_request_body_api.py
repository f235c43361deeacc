"""Reading the request (issue 14 §1): JSON only where JSON is expected, bounded size, depth,
numbers and error answers, lone surrogates refused — before any login check."""

import json

import pytest

from tests.conftest import bearer
from tests.factories import create_programme

LOGIN = "/api/v1/auth/wx-login"


def _shape(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.is_json
    assert response.json["code"] == code
    assert isinstance(response.json["errors"], dict)
    return response.json


def test_malformed_json_is_400_bad_request_with_a_field_map(client):
    response = client.post(LOGIN, data="{bad json", content_type="application/json")
    body = _shape(response, 400, "BAD_REQUEST")
    assert body["errors"] == {}
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])


def test_invalid_utf8_is_400(client):
    response = client.post(LOGIN, data=b'{"code": "\xff\xfe"}', content_type="application/json")
    _shape(response, 400, "BAD_REQUEST")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/xml", "multipart/form-data; boundary=x"])
def test_non_json_content_type_on_a_json_endpoint_is_415(client, content_type):
    response = client.post(LOGIN, data='{"code": "alice.1"}', content_type=content_type)
    _shape(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_json_charset_parameter_is_accepted(client):
    response = client.post(LOGIN, data='{"code": "alice.rb1"}', content_type="application/json; charset=utf-8")
    assert response.status_code == 200


def test_empty_json_body_is_missing_fields_not_a_crash(client):
    response = client.post(LOGIN, data="", content_type="application/json")
    assert _shape(response, 422, "VALIDATION_ERROR")["errors"] == {"code": ["此项为必填项"]}


def test_upload_endpoint_wants_multipart(client, login):
    token = login("alice")
    response = client.post("/api/v1/trainee/attachments", json={"kind": "photo"}, headers=bearer(token))
    _shape(response, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize("depth", [1000, 17])
def test_deep_nesting_is_400_without_a_token(client, depth):
    body = "[" * depth + "]" * depth
    response = client.post(LOGIN, data='{"code": %s}' % body, content_type="application/json")
    _shape(response, 400, "BAD_REQUEST")


def test_nesting_within_the_limit_is_read(client):
    body = "[" * 10 + "]" * 10
    response = client.post(LOGIN, data='{"code": %s}' % body, content_type="application/json")
    assert _shape(response, 422, "VALIDATION_ERROR")["errors"] == {"code": ["请填写文字"]}


@pytest.mark.parametrize("number", ["9" * 5000, "1" + "0" * 40, "1e99999", "1." + "5" * 60, "NaN", "-Infinity"])
def test_huge_or_non_json_numbers_are_400(client, number):
    response = client.post(LOGIN, data='{"code": %s}' % number, content_type="application/json")
    _shape(response, 400, "BAD_REQUEST")


def test_lone_surrogate_is_422_naming_the_field(client):
    response = client.post(LOGIN, data='{"code": "\\ud800"}', content_type="application/json")
    assert _shape(response, 422, "VALIDATION_ERROR")["errors"] == {"code": ["含有无法识别的字符（不成对的代理项），请删除后重新输入"]}


def test_lone_surrogate_deep_in_a_profile_names_its_path(client, login):
    token = login("alice")
    body = '{"name": "张三", "education": [{"school": "北京\\udc80大学"}]}'
    response = client.put("/api/v1/trainee/profile", data=body, content_type="application/json",
                          headers=bearer(token))
    assert _shape(response, 422, "VALIDATION_ERROR")["errors"] == {
        "education": {"0": {"school": ["含有无法识别的字符（不成对的代理项），请删除后重新输入"]}}}


def test_lone_surrogate_in_a_key_is_422(client):
    response = client.post(LOGIN, data='{"\\ud800": 1}', content_type="application/json")
    body = _shape(response, 422, "VALIDATION_ERROR")
    assert json.dumps(body["errors"], ensure_ascii=False).encode("utf-8")  # answer is valid UTF-8


@pytest.mark.parametrize("path", ["/api/v1/staff", "/api/v1/programmes"])
def test_lone_surrogate_in_names_for_staff_and_programmes_is_422(client, admin_token, path):
    body = '{"name": "\\ud83d", "role": "admin", "year": 2026}'
    response = client.post(path, data=body, content_type="application/json", headers=bearer(admin_token))
    assert _shape(response, 422, "VALIDATION_ERROR")["errors"] == {"name": ["含有无法识别的字符（不成对的代理项），请删除后重新输入"]}


def test_a_paired_surrogate_escape_is_an_ordinary_character(client):
    response = client.post(LOGIN, data='{"code": "\\ud83d\\ude00.1"}', content_type="application/json")
    assert response.status_code == 200  # 😀 is a valid person name for the fake WeChat


def test_body_over_the_default_limit_is_413_before_login(client):
    response = client.post("/api/v1/programmes", data=b"{" + b" " * 70_000 + b"}", content_type="application/json")
    _shape(response, 413, "PAYLOAD_TOO_LARGE")


def test_chunked_body_over_the_limit_is_413(client):
    import io

    stream = io.BytesIO(b'{"code": "' + b"a" * (13 * 1024 * 1024) + b'"}')
    response = client.post(LOGIN, input_stream=stream, content_type="application/json",
                           headers={"Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    _shape(response, 413, "PAYLOAD_TOO_LARGE")


def test_many_unknown_fields_give_a_bounded_answer(client):
    body = {f"k{i}": 1 for i in range(5000)} | {"code": "x"}
    response = client.post(LOGIN, json=body)
    answer = _shape(response, 422, "VALIDATION_ERROR")
    assert len(response.get_data()) < 2000
    assert answer["errors"] == {"_unknown": ["不允许的字段：k0、k1、k10、k100、k1000 等 5000 个"]}


def test_a_few_unknown_fields_are_named(client):
    response = client.post(LOGIN, json={"code": "x", "state": "admitted"})
    assert _shape(response, 422, "VALIDATION_ERROR")["errors"] == {"state": ["不允许的字段"]}


def test_a_long_list_of_bad_items_gives_at_most_50_entries(client, login):
    token = login("alice")
    response = client.put("/api/v1/trainee/profile", json={"honours": [1] * 10000}, headers=bearer(token))
    answer = _shape(response, 422, "VALIDATION_ERROR")
    assert len(response.get_data()) < 8000

    def leaves(node):
        return sum(leaves(v) for v in node.values()) if isinstance(node, dict) else 1

    assert leaves(answer["errors"]) <= 51
    assert answer["errors"]["_truncated"][0].startswith("另有")


def test_endpoint_without_a_body_refuses_fields(client, login, admin_token):
    token = login("alice")
    response = client.post("/api/v1/auth/logout", json={"everywhere": True}, headers=bearer(token))
    assert _shape(response, 422, "VALIDATION_ERROR")["errors"] == {"everywhere": ["不允许的字段"]}


@pytest.mark.parametrize("data", ["", "{}", "null"])
def test_endpoint_without_a_body_takes_an_empty_one(client, login, data):
    token = login("alice")
    response = client.post("/api/v1/auth/logout", data=data, content_type="application/json",
                           headers=bearer(token))
    assert response.status_code in (200, 204), response.json


def test_submit_with_a_state_field_is_refused_and_nothing_changes(client, admin_token, db):
    programme = create_programme(client, admin_token)
    response = client.post(f"/api/v1/programmes/{programme['id']}/status", json={"status": "published",
                                                                                "state": "x"},
                           headers=bearer(admin_token))
    assert _shape(response, 422, "VALIDATION_ERROR")["errors"] == {"state": ["不允许的字段"]}


@pytest.mark.parametrize("data", [None, "{}"])
def test_patch_without_changes_is_refused_and_changes_nothing(client, admin_token, db, data):
    programme = create_programme(client, admin_token, publish=False)
    before = db.programmes.find_one({})
    response = client.patch(f"/api/v1/programmes/{programme['id']}", data=data, content_type="application/json",
                            headers=bearer(admin_token))
    assert _shape(response, 422, "NO_CHANGES")["errors"] == {"_schema": ["请至少填写一项要修改的内容"]}
    assert db.programmes.find_one({}) == before


@pytest.mark.parametrize("value", [0, 1, "yes", "1"])
def test_zero_and_one_are_not_booleans(client, admin_token, value):
    programme = create_programme(client, admin_token, publish=False)
    response = client.patch(f"/api/v1/programmes/{programme['id']}", json={"require_little_giant": value},
                            headers=bearer(admin_token))
    assert _shape(response, 422, "VALIDATION_ERROR")["errors"] == {"require_little_giant": ["请填写是或否"]}
    ok = client.patch(f"/api/v1/programmes/{programme['id']}", json={"require_little_giant": True},
                      headers=bearer(admin_token))
    assert ok.status_code == 200 and ok.json["require_little_giant"] is True
