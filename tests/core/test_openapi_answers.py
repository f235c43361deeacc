"""Answers carry every field of their schema (null when empty), and the OpenAPI document says so."""

from schemas.base import BaseSchema
from tests.conftest import bearer


def test_every_answer_schema_requires_all_its_fields(app):
    api = app.extensions["api"]
    components = api.spec.to_dict()["components"]["schemas"]
    answer_schemas = {name: key[0] for key, name in api.ma_plugin.converter.refs.items()
                      if not issubclass(key[0], BaseSchema) and name != "Error"}
    assert len(answer_schemas) > 50
    for name in answer_schemas:
        definition = components[name]
        properties = set(definition.get("properties") or ())
        assert set(definition.get("required") or ()) == properties, (name, sorted(properties))


def test_error_schema_requires_the_four_fields_and_allows_documented_extras(app):
    error = app.extensions["api"].spec.to_dict()["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "message", "errors", "request_id"]
    assert {"opens_at", "distance_m", "status", "state", "leave_request_id", "required_columns"} <= set(
        error["properties"])


def test_phone_only_profile_answers_every_field_with_nulls(client, login):
    token = login("newcomer")
    response = client.post("/api/v1/trainee/profile/phone", json={"code": "phone-13912345678"},
                           headers=bearer(token))
    assert response.status_code == 200, response.json
    answer = response.json
    assert answer["enterprise"] is None and answer["name"] is None and answer["education"] is None
    assert answer["mobile"] is not None
    spec = client.get("/api/v1/openapi.json").json
    assert set(answer) == set(spec["components"]["schemas"]["Profile"]["properties"])


def test_unknown_certificate_answers_nulls(client):
    answer = client.get("/api/v1/certificates/verify/NOPE-1?code=X").json
    assert answer["status"] == "unknown"
    assert answer["name_masked"] is None and answer["revoked_on"] is None and answer["issued_on"] is None
