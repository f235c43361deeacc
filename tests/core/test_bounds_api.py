"""Values on their way to MongoDB (issue 14 §2): every number and date the API takes is bounded,
code comparisons cannot raise; each refusal is a 422 field error, never a 500."""

import datetime as dt

import pytest

from tests.conftest import bearer
from tests.factories import class_body, create_class, create_programme, session_body

HUGE = "9223372036854775807"
LISTS = ["/api/v1/programmes", "/api/v1/classes", "/api/v1/staff", "/api/v1/registry/imports",
         "/api/v1/registry/enterprises", "/api/v1/registrations", "/api/v1/leave-requests"]


def _field_error(response, field):
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.json["code"] == "VALIDATION_ERROR"
    assert response.json["errors"][field]
    return response.json["errors"][field]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("page", [HUGE, "99999999999999999999", "10001"])
def test_huge_page_on_every_list_is_a_field_error(client, admin_token, path, page):
    _field_error(client.get(f"{path}?page={page}", headers=bearer(admin_token)), "page")


@pytest.mark.parametrize("path", LISTS)
def test_last_allowed_page_is_an_empty_page(client, admin_token, path):
    response = client.get(f"{path}?page=10000", headers=bearer(admin_token))
    assert response.status_code == 200, response.json
    assert response.json["items"] == []


@pytest.mark.parametrize("path", ["/api/v1/programmes", "/api/v1/classes"])
@pytest.mark.parametrize("year", ["99999999999999999999", "2014", "2101", "-1"])
def test_year_filter_outside_the_programme_range(client, admin_token, path, year):
    _field_error(client.get(f"{path}?year={year}", headers=bearer(admin_token)), "year")


@pytest.mark.parametrize("path", ["/api/v1/reports/years/{}/regions", "/api/v1/reports/years/{}/regions.xlsx",
                                  "/api/v1/reports/regions/110000/years/{}",
                                  "/api/v1/reports/regions/110000/years/{}.xlsx"])
@pytest.mark.parametrize("year", ["99999999999999999999", "9223372036854775808", "1900"])
def test_report_year_in_the_path_is_bounded(client, admin_token, path, year):
    _field_error(client.get(path.format(year), headers=bearer(admin_token)), "year")


def test_integers_beyond_javascript_safe_range_are_refused(client, admin_token):
    programme = create_programme(client, admin_token, publish=False)
    response = client.post("/api/v1/classes", json=class_body(programme["id"], capacity=2 ** 63),
                           headers=bearer(admin_token))
    assert _field_error(response, "capacity") == ["数字太大"]


@pytest.mark.parametrize("starts_at", ["0001-01-01T00:00:00", "9999-12-31T20:00:00-12:00",
                                       "1800-06-01T09:00:00+08:00", "1901-01-01T00:00:00"])
def test_leave_preview_with_far_times_is_a_field_error(client, login, admin_token, starts_at):
    token = login("alice")
    # A published class: an id naming no class (or a draft) is 404 CLASS_NOT_FOUND before any field check.
    klass = create_class(client, admin_token, create_programme(client, admin_token)["id"], publish=True)
    response = client.post("/api/v1/leave-requests/preview", headers=bearer(token),
                           json={"class_id": klass["id"], "starts_at": starts_at, "ends_at": "2026-01-01T00:00:00"})
    assert _field_error(response, "starts_at") == ["时间应在 1901 年到 2100 年之间"]


def test_class_with_year_one_start_date_is_a_field_error(client, admin_token):
    programme = create_programme(client, admin_token, publish=False)
    response = client.post("/api/v1/classes", json=class_body(programme["id"], start_date="0001-01-01"),
                           headers=bearer(admin_token))
    _field_error(response, "start_date")


def test_class_dates_stay_near_the_programme_year(client, admin_token, db):
    programme = create_programme(client, admin_token, publish=False)
    year = programme["year"]
    for start, end in ((f"{year + 3}-03-01", f"{year + 3}-03-04"), (f"{year - 2}-12-01", f"{year - 2}-12-04")):
        response = client.post("/api/v1/classes", json=class_body(programme["id"], start_date=start, end_date=end),
                               headers=bearer(admin_token))
        assert response.status_code == 422, response.json
        assert response.json["code"] == "CLASS_DATES_INVALID"
        assert "start_date" in response.json["errors"]
    assert db.classes.count_documents({}) == 0
    late = client.post("/api/v1/classes", json=class_body(programme["id"], start_date=f"{year + 1}-01-10",
                                                          end_date=f"{year + 1}-01-13"), headers=bearer(admin_token))
    assert late.status_code == 201, late.json  # a cycle may run into the next year


def test_a_session_in_1800_is_refused_not_shown_in_local_mean_time(client, admin_token, db):
    programme = create_programme(client, admin_token)
    klass = create_class(client, admin_token, programme["id"])
    body = session_body(klass["start_date"], starts_at="1800-06-01T09:00:00", ends_at="1800-06-01T11:00:00")
    response = client.post(f"/api/v1/classes/{klass['id']}/sessions", json=body, headers=bearer(admin_token))
    _field_error(response, "starts_at")
    from bson import ObjectId

    assert db.classes.find_one({"_id": ObjectId(klass["id"])})["sessions"] == []


@pytest.mark.parametrize("code", ["é", "ÉÉÉÉÉÉÉÉ", "１２３４ＡＢＣＤ", "%F0%9F%98%80"])
def test_certificate_verification_with_non_ascii_code_is_unknown(client, code):
    response = client.get(f"/api/v1/certificates/verify/JY2026-0001?code={code}")
    assert response.status_code == 200
    assert response.json["status"] == "unknown"


@pytest.mark.parametrize("code", ["C" + "é" * 30, "C" + "AAAAAAAAAAAAAAAA" + "000000" + "éééééééé", "C😀" * 10])
def test_class_code_with_non_ascii_characters_is_invalid_not_a_crash(client, login, code):
    token = login("alice")
    response = client.post("/api/v1/checkins", json={"code": code}, headers=bearer(token))
    assert response.status_code in (403, 422), response.json
    assert response.json["code"] in ("CODE_INVALID", "NOT_ENROLLED")


def test_date_bounds_keep_real_dates(client, admin_token):
    today = dt.date.today()
    programme = create_programme(client, admin_token, publish=False)
    response = client.post("/api/v1/classes", json=class_body(programme["id"], start_date=today.isoformat(),
                                                              end_date=today.isoformat()),
                           headers=bearer(admin_token))
    assert response.status_code == 201, response.json
