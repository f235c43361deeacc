"""Dates and times in the one form the messages and the spec promise (q14 finding 14): YYYY-MM-DD,
and RFC 3339 date-times (lowercase t / z too); ISO 8601's basic and week forms are refused."""

import pytest
from marshmallow import fields

import schemas.base  # noqa: F401 - patches Date / DateTime
from tests.conftest import bearer


@pytest.mark.parametrize("text", ["20260101", "2026-W48-2", "2026-001", "2026-1-1", " 2026-01-01", "2026-01-01\n"])
def test_a_date_is_yyyy_mm_dd_only(text):
    with pytest.raises(Exception) as refused:
        fields.Date().deserialize(text)
    assert "YYYY-MM-DD" in str(refused.value)


def test_a_date_in_the_promised_form_passes():
    assert fields.Date().deserialize("2026-01-01").isoformat() == "2026-01-01"


@pytest.mark.parametrize("text", ["2026-W48-2T08:00", "20261124T0830", "2026-11-24T0830", "2026-11-24T08:30+0800"])
def test_a_time_in_another_iso_form_is_refused(text):
    with pytest.raises(Exception):
        fields.DateTime().deserialize(text)


@pytest.mark.parametrize("text", ["2026-11-24T08:30", "2026-11-24T08:30:00Z", "2026-11-24t08:30:00z",
                                  "2026-11-24T08:30:00.123+08:00", "2026-11-24 08:30:00"])
def test_rfc3339_times_pass_lowercase_too(text):
    assert fields.DateTime().deserialize(text).hour in (8,)


def test_registry_valid_on_in_basic_form_is_refused(client, admin_token):
    response = client.get("/api/v1/registry/enterprises?valid_on=20260101", headers=bearer(admin_token))
    assert response.status_code == 422 and response.json["errors"] == {"valid_on": ["日期格式不正确，请使用 YYYY-MM-DD"]}
