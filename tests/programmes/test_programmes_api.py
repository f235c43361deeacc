"""Programme years: organizers create and publish; others read published ones only."""

import pytest

from service.programmes.repository import PROGRAMMES
from tests.conftest import bearer
from tests.factories import create_programme, programme_body


def test_admin_creates_a_draft(client, admin_token):
    response = client.post("/api/v1/programmes", json=programme_body(), headers=bearer(admin_token))
    assert response.status_code == 201
    assert response.json["status"] == "draft"
    assert response.json["one_enterprise_per_year"] is True
    assert response.json["require_little_giant"] is False


def test_little_giant_programme_always_requires_the_title(client, admin_token):
    body = programme_body(kind="little_giant", require_little_giant=False)
    response = client.post("/api/v1/programmes", json=body, headers=bearer(admin_token))
    assert response.json["require_little_giant"] is True


@pytest.mark.parametrize("role", [None, "province_staff", "supervisor"])
def test_only_admins_create(client, db, login, make_staff, role):
    token = make_staff(role, region_code="110000" if role == "province_staff" else None) if role else login("t")
    response = client.post("/api/v1/programmes", json=programme_body(), headers=bearer(token))
    assert response.status_code == 403
    assert db[PROGRAMMES].count_documents({}) == 0


@pytest.mark.parametrize("change, field", [({"year": 1999}, "year"), ({"kind": "secret"}, "kind"),
                                           ({"name": ""}, "name")])
def test_invalid_fields(client, admin_token, db, change, field):
    response = client.post("/api/v1/programmes", json=programme_body(**change), headers=bearer(admin_token))
    assert response.status_code == 422
    assert field in response.json["errors"]
    assert db[PROGRAMMES].count_documents({}) == 0


def test_drafts_are_hidden_from_trainees(client, admin_token, login):
    draft = create_programme(client, admin_token, publish=False)
    published = create_programme(client, admin_token, name="2026年小巨人企业培训", kind="little_giant")
    trainee = login("reader")
    listing = client.get("/api/v1/programmes", headers=bearer(trainee)).json
    assert [p["id"] for p in listing["items"]] == [published["id"]]
    assert client.get(f"/api/v1/programmes/{draft['id']}", headers=bearer(trainee)).status_code == 404
    assert client.get(f"/api/v1/programmes/{draft['id']}", headers=bearer(admin_token)).status_code == 200
    assert client.get("/api/v1/programmes", headers=bearer(admin_token)).json["total"] == 2


def test_status_transitions(client, admin_token):
    programme = create_programme(client, admin_token)
    url = f"/api/v1/programmes/{programme['id']}/status"
    cancelled = client.post(url, json={"status": "cancelled", "reason": "计划调整"}, headers=bearer(admin_token))
    assert cancelled.json["status"] == "cancelled"
    again = client.post(url, json={"status": "published"}, headers=bearer(admin_token))
    assert again.status_code == 422
    assert again.json["code"] == "PROGRAMME_STATUS_INVALID"
    edit = client.patch(f"/api/v1/programmes/{programme['id']}", json={"name": "新名称"},
                        headers=bearer(admin_token))
    assert edit.json["code"] == "PROGRAMME_CANCELLED"


def test_update_switches(client, admin_token):
    programme = create_programme(client, admin_token, publish=False)
    response = client.patch(f"/api/v1/programmes/{programme['id']}",
                            json={"exclude_prior_trainees": True, "one_enterprise_per_year": False},
                            headers=bearer(admin_token))
    assert response.json["exclude_prior_trainees"] is True
    assert response.json["one_enterprise_per_year"] is False
