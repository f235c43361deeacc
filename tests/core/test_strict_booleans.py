"""Strict booleans everywhere (q14 finding 6): a body takes JSON true / false only ("true", 0, 1,
"yes" refused); a query string takes exactly true / false (QueryBoolean). The walk below finds every
Boolean field an operation reads, so a new one cannot slip back to marshmallow's lenient parsing."""

import pytest
from marshmallow import Schema, fields

from schemas.base import QueryBoolean
from tests.conftest import bearer
from tests.factories import create_class, create_programme


def _booleans(schema, path=()):
    schema = schema() if isinstance(schema, type) else schema
    for name, field in schema.fields.items():
        yield from _field_booleans(field, path + (name,))


def _field_booleans(field, path):
    if isinstance(field, fields.Boolean):
        yield path, field
    elif isinstance(field, fields.Nested):
        nested = field.schema
        if isinstance(nested, Schema):
            yield from _booleans(nested, path)
    elif isinstance(field, fields.List):
        yield from _field_booleans(field.inner, path + ("[]",))


def _operation_inputs(app):
    """(endpoint, method, location, schema) of every argument schema of every API operation."""
    for endpoint, view in app.view_functions.items():
        view_class = getattr(view, "view_class", None)
        methods = [getattr(view_class, m, None) for m in ("get", "post", "put", "patch", "delete")] \
            if view_class else [view]
        for method in filter(None, methods):
            for parameter in getattr(method, "_apidoc", {}).get("arguments", {}).get("parameters", []):
                yield endpoint, method.__name__, parameter.get("in"), parameter["schema"]


def test_every_boolean_input_is_strict_for_its_location(app):
    seen = {"query": 0, "body": 0}
    for endpoint, method, location, schema in _operation_inputs(app):
        for path, field in _booleans(schema):
            if field.dump_only:
                continue
            where = (endpoint, method, location, path)
            if location == "query":
                seen["query"] += 1
                assert isinstance(field, QueryBoolean), where
            else:
                seen["body"] += 1
                assert not isinstance(field, QueryBoolean), where
                for loose in ("true", "false", 0, 1, "yes", "1", None if not field.allow_none else "on"):
                    with pytest.raises(Exception):
                        field.deserialize(loose)
                assert field.deserialize(True) is True and field.deserialize(False) is False
    assert seen["query"] >= 3 and seen["body"] >= 10, seen


@pytest.mark.parametrize("value", ["true", "false", 0, 1, "yes"])
def test_string_boolean_in_a_class_patch_is_refused(client, admin_token, db, value):
    programme = create_programme(client, admin_token)
    klass = create_class(client, admin_token, programme["id"])
    before = db.classes.find_one({})
    response = client.patch(f"/api/v1/classes/{klass['id']}",
                            json={"allow_quota_above_capacity": value, "version": klass["version"]},
                            headers=bearer(admin_token))
    assert response.status_code == 422, response.json
    assert response.json["errors"] == {"allow_quota_above_capacity": ["请填写是或否"]}
    assert db.classes.find_one({}) == before


@pytest.mark.parametrize("value, status", [("true", 200), ("false", 200), ("1", 422), ("True", 422), ("yes", 422)])
def test_query_booleans_are_exactly_true_or_false(client, admin_token, value, status):
    response = client.get(f"/api/v1/classes?mine={value}", headers=bearer(admin_token))
    assert response.status_code == status, response.json
    if status == 422:
        assert response.json["errors"] == {"mine": ["请填写是或否"]}
