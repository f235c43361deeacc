"""Fixtures for registration tests: a published class, trainees with profiles, staff."""

import pytest

from tests.conftest import bearer
from tests.factories import create_class, create_programme, profile_body


@pytest.fixture
def programme(client, admin_token):
    return create_programme(client, admin_token)


@pytest.fixture
def klass(client, admin_token, programme):
    return create_class(client, admin_token, programme["id"], publish=True)


@pytest.fixture
def make_trainee(client, login):
    """make_trainee(serial, region_code="110000", **profile overrides) -> token with a complete profile."""

    def factory(serial, region_code="110000", **overrides):
        token = login(f"trainee-{serial}")
        body = profile_body(serial=serial, region_code=region_code, **overrides)
        response = client.put("/api/v1/trainee/profile", json=body, headers=bearer(token))
        assert response.status_code == 200, response.json
        return token

    return factory


@pytest.fixture
def apply(client):
    """apply(token, class_id, submit=True) -> registration JSON."""

    def do_apply(token, class_id, submit=True):
        created = client.post("/api/v1/registrations", json={"class_id": class_id}, headers=bearer(token))
        assert created.status_code == 201, created.json
        if not submit:
            return created.json
        submitted = client.post(f"/api/v1/registrations/{created.json['id']}/submit", headers=bearer(token))
        assert submitted.status_code == 200, submitted.json
        return submitted.json

    return do_apply


@pytest.fixture
def staff_bj(make_staff):
    return make_staff("province_staff", region_code="110000")


@pytest.fixture
def staff_gd(make_staff):
    return make_staff("province_staff", region_code="440000")


@pytest.fixture
def decide(client):
    def do_decide(token, registration_id, action, reason=None, expect=200):
        body = {"action": action}
        if reason:
            body["reason"] = reason
        response = client.post(f"/api/v1/registrations/{registration_id}/decision", json=body, headers=bearer(token))
        assert response.status_code == expect, response.json
        return response.json

    return do_decide
