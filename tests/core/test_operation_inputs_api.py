"""Inputs every operation refuses the same way (issue 14 §4), walked over the OpenAPI document:

- a query parameter the operation does not document (`?bogus=1`) is 422 VALIDATION_ERROR naming it,
  before the login check, on every operation (with or without query parameters of its own);
- a PATCH with nothing to change (no body, `{}`) is 422 NO_CHANGES, and the document says
  `minProperties: 1` on every PATCH request schema.
"""

import re

import pytest
from bson import ObjectId

from tests.conftest import bearer
from tests.factories import create_programme

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").json


def _url(path):
    values = {"region_code": "110000", "year": "2026", "number": "LJ2026000001", "login_id": "0" * 32}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), str(ObjectId())), path)


def _operations(spec, methods=METHODS):
    return [(method, path) for path, item in spec["paths"].items() for method in item if method in methods]


def _unknown_parameter_refused(response, name="bogus"):
    return (response.status_code == 422 and response.json["code"] == "VALIDATION_ERROR"
            and response.json["errors"] == {name: ["不允许的字段"]})


@pytest.mark.parametrize("who", ["admin", "nobody"])
def test_every_operation_refuses_an_unknown_query_parameter(client, spec, admin_token, db, who):
    headers = bearer(admin_token) if who == "admin" else {}
    wrong = []
    for method, path in _operations(spec):
        response = client.open(_url(path) + "?bogus=1", method=method.upper(), headers=headers)
        if not _unknown_parameter_refused(response):
            wrong.append((method, path, response.status_code, response.get_data(as_text=True)[:200]))
    assert not wrong, wrong
    assert db.programmes.count_documents({}) == 0 and db.classes.count_documents({}) == 0


def test_every_get_operation_refuses_bogus(client, spec, admin_token):
    gets = _operations(spec, ("get",))
    assert len(gets) > 60
    for _, path in gets:
        response = client.get(_url(path) + "?bogus=1", headers=bearer(admin_token))
        assert _unknown_parameter_refused(response), (path, response.status_code, response.json)


def test_documented_query_parameters_still_work_beside_the_check(client, admin_token):
    create_programme(client, admin_token)
    listed = client.get("/api/v1/programmes?year=2026&page=1&page_size=5", headers=bearer(admin_token))
    assert listed.status_code == 200 and listed.json["page_size"] == 5
    mixed = client.get("/api/v1/programmes?year=2026&colour=red", headers=bearer(admin_token))
    assert _unknown_parameter_refused(mixed, "colour")


def test_an_unknown_parameter_is_refused_before_the_login_check(client):
    assert client.get("/api/v1/me").json["code"] == "UNAUTHORIZED"
    assert _unknown_parameter_refused(client.get("/api/v1/me?bogus=1"))


def test_many_unknown_parameters_are_summarised(client):
    query = "&".join(f"p{i}=1" for i in range(200))
    response = client.get(f"/api/v1/programmes?{query}")
    assert response.status_code == 422 and response.json["code"] == "VALIDATION_ERROR"
    assert list(response.json["errors"]) == ["_unknown"] and "200" in response.json["errors"]["_unknown"][0]


def test_pages_outside_the_api_keep_their_query_strings(client):
    assert client.get("/api/v1/docs?bogus=1").status_code == 200
    assert client.get("/api/v1/openapi.json?bogus=1").status_code == 200


def test_every_patch_schema_says_min_properties(spec):
    patches = _operations(spec, ("patch",))
    assert len(patches) >= 5
    for _, path in patches:
        ref = spec["paths"][path]["patch"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert spec["components"]["schemas"][ref.rsplit("/", 1)[1]]["minProperties"] == 1, path


@pytest.mark.parametrize("data", [None, "", "{}", "null"])
def test_every_patch_without_changes_is_no_changes(client, spec, admin_token, login, data):
    trainee = login("alice")
    for _, path in _operations(spec, ("patch",)):
        response = client.patch(_url(path), data=data, content_type="application/json", headers=bearer(admin_token))
        if response.status_code == 403:  # the trainee's own PATCH (registration)
            response = client.patch(_url(path), data=data, content_type="application/json", headers=bearer(trainee))
        assert response.status_code == 422, (path, response.json)
        assert response.json["code"] == "NO_CHANGES"
        assert response.json["errors"] == {"_schema": ["请至少填写一项要修改的内容"]}
