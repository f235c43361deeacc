"""One programme year range everywhere (q14 finding 4): 2015-2100 (schemas/base.py
PROGRAMME_YEAR_MIN/MAX) on paths and query strings alike, a 422 field error naming `year` outside
it (never 404, never stored), ASCII digits only; the page limit said plainly."""

import pytest

from tests.conftest import bearer

MESSAGE = {"year": ["年度应在 2015 到 2100 之间"]}
YEAR_PATHS = [
    "/api/v1/years/{}/evaluation", "/api/v1/years/{}/evaluation.xlsx", "/api/v1/years/{}/class-plan",
    "/api/v1/years/{}/class-plan.xlsx", "/api/v1/years/{}/roster.xlsx",
    "/api/v1/regions/110000/years/{}/targets", "/api/v1/regions/110000/years/{}/evaluation",
    "/api/v1/regions/110000/years/{}/class-plan",
    "/api/v1/reports/years/{}/regions", "/api/v1/reports/regions/110000/years/{}",
]
QUERY_YEARS = ["/api/v1/programmes?year={}", "/api/v1/classes?year={}"]


@pytest.mark.parametrize("path", YEAR_PATHS + QUERY_YEARS)
@pytest.mark.parametrize("year", ["2014", "2101", "2500", "3000", "99999999999999999999"])
def test_a_year_outside_the_programme_range_is_the_same_field_error_everywhere(client, admin_token, path, year):
    response = client.get(path.format(year), headers=bearer(admin_token))
    assert response.status_code == 422, (path, response.get_data(as_text=True)[:300])
    assert response.json["code"] == "VALIDATION_ERROR"
    assert response.json["errors"] == MESSAGE


@pytest.mark.parametrize("path", YEAR_PATHS)
@pytest.mark.parametrize("year", ["2015", "2100"])
def test_the_range_ends_are_years(client, admin_token, path, year):
    response = client.get(path.format(year), headers=bearer(admin_token))
    assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])


def test_targets_for_2500_are_refused_and_not_stored(client, admin_token, db):
    response = client.put("/api/v1/regions/110000/years/2500/targets", json={"little_giant_share": 30},
                          headers=bearer(admin_token))
    assert response.status_code == 422 and response.json["errors"] == MESSAGE
    assert all(name not in db.list_collection_names() or db[name].count_documents({"year": 2500}) == 0
               for name in db.list_collection_names())


@pytest.mark.parametrize("year", ["٢٠٢٦", "２０２６", "2026.0", "+2026"])
def test_a_path_year_is_ascii_digits(client, admin_token, year):
    response = client.get(f"/api/v1/years/{year}/evaluation", headers=bearer(admin_token))
    assert response.status_code == 404, response.get_data(as_text=True)[:300]


@pytest.mark.parametrize("year", ["٢٠٢٦", "２０２６"])
def test_a_query_year_is_ascii_digits(client, admin_token, year):
    response = client.get(f"/api/v1/programmes?year={year}", headers=bearer(admin_token))
    assert response.status_code == 422 and response.json["errors"] == {"year": ["请填写整数"]}


def test_the_spec_states_the_year_range_on_every_year_parameter(client):
    spec = client.get("/api/v1/openapi.json").json
    found = 0
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter["name"] == "year":
                    found += 1
                    assert parameter["schema"]["minimum"] == 2015, (path, parameter)
                    assert parameter["schema"]["maximum"] == 2100, (path, parameter)
        for parameter in operations.get("parameters", []):
            if parameter["name"] == "year":
                found += 1
                assert (parameter["schema"]["minimum"], parameter["schema"]["maximum"]) == (2015, 2100), path
    assert found >= len(YEAR_PATHS)


def test_year_path_refusal_comes_before_the_login_check(client):
    response = client.get("/api/v1/years/2500/evaluation")
    assert response.status_code == 422 and response.json["errors"] == MESSAGE


@pytest.mark.parametrize("page", ["9223372036854775807", "99999999999999999999", "10001", "99999"])
def test_a_huge_page_says_the_page_limit(client, admin_token, page):
    response = client.get(f"/api/v1/programmes?page={page}", headers=bearer(admin_token))
    assert response.status_code == 422 and response.json["errors"] == {"page": ["页码不能大于 10000"]}


def test_page_zero_and_text_pages(client, admin_token):
    zero = client.get("/api/v1/programmes?page=0", headers=bearer(admin_token))
    assert zero.json["errors"] == {"page": ["页码不能小于 1"]}
    text = client.get("/api/v1/programmes?page=abc", headers=bearer(admin_token))
    assert text.json["errors"] == {"page": ["请填写整数"]}
    size = client.get("/api/v1/programmes?page_size=101", headers=bearer(admin_token))
    assert size.json["errors"] == {"page_size": ["每页条数不能大于 100"]}


def test_the_spec_states_the_page_limit(client):
    spec = client.get("/api/v1/openapi.json").json
    page = next(p for p in spec["paths"]["/api/v1/programmes"]["get"]["parameters"] if p["name"] == "page")
    assert (page["schema"]["minimum"], page["schema"]["maximum"]) == (1, 10000)
