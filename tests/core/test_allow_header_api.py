"""`Allow` tells the truth (issue 14 §4): for every path of the OpenAPI document, an OPTIONS answer
and a 405 answer list exactly the methods the document gives that path (plus HEAD beside GET and
OPTIONS, which Flask answers itself). Ids in URLs are 24 hex digits (service.core.ids), so a fixed
name such as `/registrations/mine` is never also read as `/registrations/<id>`."""

import re

import pytest
from bson import ObjectId

from tests.conftest import bearer

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@pytest.fixture(scope="module")
def spec_paths():
    from service import create_app

    app = create_app({"MONGODB_URI": "mongodb://127.0.0.1:9/not-used", "ENSURE_INDEXES_ON_START": False,
                      "TESTING": True})
    spec = app.test_client().get("/api/v1/openapi.json").json
    return {path: {method.upper() for method in operations if method.upper() in METHODS}
            for path, operations in spec["paths"].items()}


def _url(path):
    values = {"region_code": "110000", "year": "2026", "number": "LJ2026000001", "login_id": "0" * 32}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), str(ObjectId())), path)


def _allowed(response):
    return {method.strip() for method in response.headers.get("Allow", "").split(",") if method.strip()}


def _expected(methods):
    return methods | {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())


def test_options_and_405_list_exactly_the_documented_methods(client, spec_paths):
    wrong = []
    for path, methods in spec_paths.items():
        url = _url(path)
        options = client.options(url)
        if options.status_code != 200 or _allowed(options) != _expected(methods):
            wrong.append(("OPTIONS", path, options.status_code, sorted(_allowed(options))))
        for method in sorted(set(METHODS) - methods):
            answer = client.open(url, method=method)
            if (answer.status_code != 405 or _allowed(answer) != _expected(methods)
                    or answer.json["code"] != "METHOD_NOT_ALLOWED"):
                wrong.append((method, path, answer.status_code, sorted(_allowed(answer))))
    assert not wrong, wrong


def test_patch_on_mine_is_405_with_only_get(client, login):
    response = client.patch("/api/v1/registrations/mine", json={"remark": "x"}, headers=bearer(login("alice")))
    assert response.status_code == 405, response.json
    assert response.json["code"] == "METHOD_NOT_ALLOWED"
    assert _allowed(response) == {"GET", "HEAD", "OPTIONS"}
    assert _allowed(client.options("/api/v1/registrations/mine")) == {"GET", "HEAD", "OPTIONS"}


@pytest.mark.parametrize("url", ["/api/v1/registrations/not-an-id", "/api/v1/registrations/65a1b2c3d4e5f6071829",
                                 "/api/v1/classes/xyz/sessions", "/api/v1/leave-requests/%E4%B8%AD",
                                 "/api/v1/certificates/zzzzzzzzzzzzzzzzzzzzzzzz.png"])
def test_a_malformed_id_is_a_plain_404_in_the_error_shape(client, admin_token, url):
    response = client.get(url, headers=bearer(admin_token))
    assert response.status_code == 404
    assert response.json["code"] == "NOT_FOUND"
    assert response.json["errors"] == {} and response.json["request_id"]


def test_a_well_formed_unknown_id_is_the_features_404(client, admin_token):
    response = client.get(f"/api/v1/registrations/{ObjectId()}", headers=bearer(admin_token))
    assert response.status_code == 404 and response.json["code"] == "REGISTRATION_NOT_FOUND"


def test_id_parameters_are_documented_as_24_hex(spec_paths):
    from service import create_app

    app = create_app({"MONGODB_URI": "mongodb://127.0.0.1:9/not-used", "ENSURE_INDEXES_ON_START": False,
                      "TESTING": True})
    spec = app.test_client().get("/api/v1/openapi.json").json
    ids = [parameter for item in spec["paths"].values() for parameter in item.get("parameters", [])
           if parameter["name"].endswith("_id")]
    # Console login requests are capabilities: 128 random bits (service.console_login), not ObjectIds.
    random = [p for p in ids if p["name"] == "login_id"]
    assert random and all(p["schema"]["pattern"] == "^[0-9a-f]{32}$" for p in random), random
    assert ids and all(p["schema"]["pattern"] == "^[0-9a-fA-F]{24}$" for p in ids if p not in random), ids
