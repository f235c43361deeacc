"""Empty optional text (q14 finding 11): on input `null` and "" both mean empty; a field that is
stored as text answers "" when empty, a field the guide lists as nullable keeps null. The OpenAPI
document says nullable wherever null is accepted."""

import pytest

from schemas.classes import SessionInputSchema, SessionUpdateSchema
from schemas.ratings import ClassRatingInputSchema, SessionRatingInputSchema
from schemas.registrations import RegistrationCreateSchema
from schemas.text import Text
from tests.conftest import bearer
from tests.factories import create_class, create_programme, session_body


@pytest.mark.parametrize("schema, field", [
    (SessionRatingInputSchema, "comment"), (ClassRatingInputSchema, "suggestions"),
    (SessionUpdateSchema, "location"), (SessionUpdateSchema, "teacher"), (RegistrationCreateSchema, "note"),
])
def test_null_in_optional_text_is_empty_text(schema, field):
    text = schema().fields[field]
    assert isinstance(text, Text) and text.none_is_empty
    assert text.deserialize(None) == ""
    assert text.deserialize("") == ""


def test_required_and_minimum_text_still_refuse_null():
    for field in (Text(max_length=10, required=True), Text(max_length=10, min_length=1)):
        with pytest.raises(Exception):
            field.deserialize(None)


def test_a_nullable_text_keeps_null():
    assert Text(max_length=10, allow_none=True, load_default=None).deserialize(None) is None


def test_session_location_null_answers_empty_text(client, admin_token):
    programme = create_programme(client, admin_token)
    klass = create_class(client, admin_token, programme["id"])
    response = client.post(f"/api/v1/classes/{klass['id']}/sessions",
                           json=session_body(klass["start_date"], location=None, teacher=None),
                           headers=bearer(admin_token))
    assert response.status_code == 201, response.json
    assert response.json["location"] == "" and response.json["teacher"] == ""


def test_the_spec_says_nullable_where_null_is_accepted(client):
    spec = client.get("/api/v1/openapi.json").json
    schemas = spec["components"]["schemas"]
    session_input = next(v for k, v in schemas.items() if k.startswith("SessionInput"))
    assert session_input["properties"]["location"].get("nullable") is True
