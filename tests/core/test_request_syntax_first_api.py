"""Body syntax is read before anything else (q14 findings 1, 14, 15): malformed JSON, nesting,
huge numbers, a BOM, duplicate keys are 400 BAD_REQUEST before the login and role checks, on every
JSON endpoint; one answer for a body that is not an object; one message for too-deep nesting."""

import pytest

from tests.conftest import bearer
from tests.factories import create_programme

BAD_BODIES = {
    "malformed": b"{bad",
    "deep40": b'{"a": ' + b"[" * 40 + b"]" * 40 + b"}",
    "number40": b'{"a": 1' + b"0" * 40 + b"}",
    "bom": b'\xef\xbb\xbf{"a": 1}',
    "duplicate_keys": b'{"a": 1, "a": 2}',
    "fraction_lost": b'{"a": 20.00000000000000000001}',
}

# (method, path) of JSON endpoints, each behind a login or a role check.
JSON_ENDPOINTS = [
    ("POST", "/api/v1/programmes"),
    ("POST", "/api/v1/checkins"),
    ("POST", "/api/v1/leave-requests"),
    ("PUT", "/api/v1/trainee/profile"),
    ("POST", "/api/v1/staff"),
    ("PATCH", "/api/v1/classes/ffffffffffffffffffffffff"),
]


def _bad_request(response):
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.json["code"] == "BAD_REQUEST"
    assert response.json["errors"] == {}
    return response.json


@pytest.mark.parametrize("method, path", JSON_ENDPOINTS)
@pytest.mark.parametrize("kind", sorted(BAD_BODIES))
def test_syntax_is_refused_before_the_login_check(client, method, path, kind):
    response = client.open(path, method=method, data=BAD_BODIES[kind], content_type="application/json")
    _bad_request(response)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}], ids=["no-token", "bad-token"])
def test_syntax_is_refused_before_the_token_is_read(client, headers):
    response = client.post("/api/v1/programmes", data=b"{bad", content_type="application/json", headers=headers)
    _bad_request(response)


def test_syntax_is_refused_before_the_role_check(client, login):
    token = login("alice")  # a trainee: ROLE_REQUIRED for a well-formed body
    response = client.post("/api/v1/programmes", data=b"{bad", content_type="application/json",
                           headers=bearer(token))
    _bad_request(response)
    well_formed = client.post("/api/v1/programmes", json={"name": "x"}, headers=bearer(token))
    assert well_formed.status_code == 403 and well_formed.json["code"] == "ROLE_REQUIRED"


def test_a_well_formed_body_without_a_token_still_needs_a_login(client):
    response = client.post("/api/v1/programmes", json={"name": "x"})
    assert response.status_code == 401 and response.json["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize("depth", [17, 40, 1000])
def test_too_deep_has_one_message_at_every_depth(client, depth):
    body = b'{"code": ' + b"[" * depth + b"]" * depth + b"}"
    answer = _bad_request(client.post("/api/v1/auth/wx-login", data=body, content_type="application/json"))
    assert answer["message"] == "请求内容嵌套太深"


def test_duplicate_keys_are_refused_not_last_wins(client):
    response = client.post("/api/v1/auth/wx-login", data=b'{"code": "alice.d1", "code": "bob.d1"}',
                           content_type="application/json")
    _bad_request(response)


def test_a_fraction_too_small_for_a_float_is_not_taken_as_a_whole_number(client, admin_token):
    programme = create_programme(client, admin_token, publish=False)
    response = client.patch(f"/api/v1/programmes/{programme['id']}",
                            data=b'{"year": 2026.00000000000000000001}', content_type="application/json",
                            headers=bearer(admin_token))
    _bad_request(response)
    ordinary = client.patch(f"/api/v1/programmes/{programme['id']}", data=b'{"name": "\\u9886\\u519b2026", "x": 0.5}',
                            content_type="application/json", headers=bearer(admin_token))
    assert ordinary.status_code == 422 and ordinary.json["errors"] == {"x": ["不允许的字段"]}


@pytest.mark.parametrize("charset", ["latin-1", "iso-8859-1", "gbk"])
def test_a_charset_other_than_utf8_is_415(client, charset):
    response = client.post("/api/v1/auth/wx-login", data=b'{"code": "alice.c1"}',
                           content_type=f"application/json; charset={charset}")
    assert response.status_code == 415 and response.json["code"] == "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.parametrize("number, charset", list(enumerate(["utf-8", "UTF-8", "utf8"])))
def test_utf8_charset_spellings_pass(client, number, charset):
    response = client.post("/api/v1/auth/wx-login", data=b'{"code": "alice.cs%d"}' % number,
                           content_type=f"application/json; charset={charset}")
    assert response.status_code == 200, response.json


@pytest.mark.parametrize("body", [b"[]", b"[1]", b'"text"', b"3"])
def test_a_body_that_is_not_an_object_has_one_answer_with_or_without_a_body_schema(client, admin_token, body):
    programme = create_programme(client, admin_token, publish=False)
    bodyless = client.post("/api/v1/auth/logout", data=body, content_type="application/json",
                           headers=bearer(admin_token))
    patch = client.patch(f"/api/v1/programmes/{programme['id']}", data=body, content_type="application/json",
                         headers=bearer(admin_token))
    for response in (bodyless, patch):
        assert response.status_code == 422, response.json
        assert response.json["code"] == "VALIDATION_ERROR"
        assert list(response.json["errors"]) == ["_schema"]


UPLOADS = ["/api/v1/trainee/attachments", "/api/v1/registry/imports"]


@pytest.mark.parametrize("path", UPLOADS)
@pytest.mark.parametrize("size", [10, 1_000, 1_000_000])
def test_a_multipart_body_without_a_delimiter_is_400_not_413(client, admin_token, path, size):
    response = client.post(path, data=b"x" * size, content_type="multipart/form-data; boundary=x",
                           headers=bearer(admin_token))
    answer = _bad_request(response)
    assert "multipart" in answer["message"]


@pytest.mark.parametrize("path", UPLOADS)
def test_a_broken_multipart_body_is_400_before_the_login_check(client, path):
    response = client.post(path, data=b"x" * 1_000_000, content_type="multipart/form-data; boundary=x")
    _bad_request(response)


def test_a_chunked_upload_over_its_limit_stays_413(client, login):
    import io

    token = login("alice")
    stream = io.BytesIO(b"--x\r\n" + b"x" * (6 * 1024 * 1024))
    response = client.post("/api/v1/trainee/attachments", input_stream=stream,
                           content_type="multipart/form-data; boundary=x",
                           headers={"Transfer-Encoding": "chunked", **bearer(token)},
                           environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413, response.json


@pytest.mark.parametrize("body", [b"--x\r\nno headers\r\n\r\ndata", b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\nunfinished"])
def test_a_multipart_body_cut_short_is_400(client, admin_token, body):
    response = client.post("/api/v1/registry/imports", data=body, content_type="multipart/form-data; boundary=x",
                           headers=bearer(admin_token))
    _bad_request(response)


def test_a_multipart_without_a_boundary_is_400(client, admin_token):
    response = client.post("/api/v1/registry/imports", data=b"abc", content_type="multipart/form-data",
                           headers=bearer(admin_token))
    _bad_request(response)


def test_a_broken_chunked_upload_under_its_limit_is_400(client, admin_token):
    import io

    stream = io.BytesIO(b"--x\r\n" + b"x" * 1_000_000)  # no blank line after the part's headers
    response = client.post("/api/v1/registry/imports", input_stream=stream,
                           content_type="multipart/form-data; boundary=x",
                           headers={"Transfer-Encoding": "chunked", **bearer(admin_token)},
                           environ_overrides={"wsgi.input_terminated": True})
    _bad_request(response)


@pytest.mark.parametrize("query", ["page=1&page=2", "page=1&page=1", "year=2026&year=2027&page=1"])
def test_a_query_parameter_given_twice_is_refused(client, admin_token, query):
    response = client.get(f"/api/v1/programmes?{query}", headers=bearer(admin_token))
    assert response.status_code == 422 and response.json["code"] == "VALIDATION_ERROR"
    repeated = {name for name in ("page", "year") if query.count(name + "=") > 1}
    assert response.json["errors"] == {name: ["此参数只能填写一次"] for name in repeated}


def test_a_query_parameter_given_twice_is_refused_before_the_login_check(client):
    response = client.get("/api/v1/programmes?page=1&page=2")
    assert response.status_code == 422 and response.json["errors"] == {"page": ["此参数只能填写一次"]}
