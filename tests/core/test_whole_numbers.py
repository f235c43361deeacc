"""Whole numbers in requests: one field (schemas.base.WholeNumber) refuses decimals and strings
instead of truncating 2.7 to 2 or reading "3" as 3; every request schema uses it."""

import importlib
import pkgutil

import pytest
from marshmallow import ValidationError, fields

import schemas
from schemas.base import BaseSchema, QueryWholeNumber, WholeNumber
from tests.conftest import bearer
from tests.factories import create_class, create_programme, profile_body


def _input_schemas():
    for module in pkgutil.iter_modules(schemas.__path__):
        importlib.import_module(f"schemas.{module.name}")
    seen, pending = set(), list(BaseSchema.__subclasses__())
    while pending:
        cls = pending.pop()
        if cls not in seen:
            seen.add(cls)
            pending.extend(cls.__subclasses__())
    return seen


def _integers(field, name):
    if isinstance(field, fields.List):
        yield from _integers(field.inner, name)
    elif isinstance(field, fields.Nested):
        return  # the nested schema is a BaseSchema of its own and is checked itself
    elif isinstance(field, fields.Integer):
        yield name, field


def test_every_request_integer_is_the_whole_number_field():
    loose = [f"{cls.__module__}.{cls.__name__}.{label}"
             for cls in _input_schemas() for name, field in cls._declared_fields.items()
             for label, integer in _integers(field, name) if not isinstance(integer, WholeNumber)]
    assert loose == []


@pytest.mark.parametrize("value", [2.7, 2.5, 15.9, "3", "2", True, float("nan"), float("inf"), None, [], {}])
def test_decimals_strings_and_booleans_are_refused(value):
    with pytest.raises(ValidationError) as refused:
        WholeNumber(allow_none=False).deserialize(value)
    assert refused.value.messages[0] in ("请填写整数", "此项不能为空")


@pytest.mark.parametrize("value, expected", [(3, 3), (3.0, 3), (0, 0), (-2, -2)])
def test_whole_json_numbers_are_taken(value, expected):
    assert WholeNumber().deserialize(value) == expected


@pytest.mark.parametrize("value", ["2026.5", " 7", "７", "1e3", "", "0x10"])
def test_query_numbers_are_ascii_digits(value):
    with pytest.raises(ValidationError):
        QueryWholeNumber().deserialize(value)
    assert QueryWholeNumber().deserialize("2026") == 2026


def test_targets_refuse_decimal_and_string_counts(client, admin_token):
    for body, field in (({"little_giants": 2.7, "classes": 3}, "little_giants"),
                        ({"little_giants": 2, "classes": "3"}, "classes")):
        answer = client.put("/api/v1/regions/110000/years/2026/targets",
                            json={"little_giant_share": 0.35, "satisfaction": 0.9, "version": 0, **body},
                            headers=bearer(admin_token))
        assert answer.status_code == 422, answer.json
        assert answer.json["errors"][field] == ["请填写整数"]


def test_profile_refuses_decimal_management_years(client, login, db):
    token = login("decimal-years")
    answer = client.put("/api/v1/trainee/profile", json=profile_body(serial=31, management_years=15.9),
                        headers=bearer(token))
    assert answer.status_code == 422
    assert answer.json["errors"]["management_years"] == ["请填写整数"]
    assert db.trainee_profiles.count_documents({}) == 0


def test_quota_refuses_decimal_places(client, admin_token):
    programme = create_programme(client, admin_token)
    class_id = create_class(client, admin_token, programme["id"], publish=True)["id"]
    answer = client.put(f"/api/v1/classes/{class_id}/quotas/120000", json={"places": 2.5},
                        headers=bearer(admin_token))
    assert answer.status_code == 422
    assert answer.json["errors"]["places"] == ["请填写整数"]


def test_list_size_errors_count_items(client, login):
    token = login("many-honours")
    answer = client.put("/api/v1/trainee/profile", json=profile_body(serial=32, honours=[f"荣誉{i}" for i in range(21)]),
                        headers=bearer(token))
    assert answer.status_code == 422
    assert answer.json["errors"]["honours"] == ["最多 20 项"]


def test_full_width_mobile_is_saved_as_digits(client, login, db):
    token = login("full-width-mobile")
    answer = client.put("/api/v1/trainee/profile", json=profile_body(serial=33, mobile="１３９ ００００-１２３４"),
                        headers=bearer(token))
    assert answer.status_code == 200, answer.json
    assert answer.json["mobile"] == "139****1234"
