"""Staff changes take effect at once in every process: two app instances on one database stand for
two workers (each keeps its own caches). Trainee tokens keep the IDENTITY_CACHE_SECONDS bound."""

import concurrent.futures

import pytest

from service import create_app
from service.auth import signed
from service.auth.repository import TOKENS
from tests.conftest import bearer


@pytest.fixture
def other(app_config):
    """Another worker: its own app instance, caches and changed-token set, on the same database."""
    app = create_app({**app_config, "ENSURE_INDEXES_ON_START": False})
    return app, app.test_client()


def _bind(client, admin_token, login, person, **account):
    created = client.post("/api/v1/staff", json={"name": person, **account}, headers=bearer(admin_token))
    assert created.status_code == 201, created.json
    old = login(person)
    bound = client.post("/api/v1/auth/bind", json={"binding_code": created.json["binding_code"]}, headers=bearer(old))
    assert bound.status_code == 200, bound.json
    return created.json["account"]["id"], old, bound.json


def test_binding_answers_a_token_with_the_staff_roles_in_every_process(client, other, admin_token, login):
    _, other_client = other
    _, old, bound = _bind(client, admin_token, login, "new-admin", role="admin")
    assert bound["roles"] == ["admin", "trainee"] and bound["token_type"] == "Bearer" and bound["expires_at"]
    assert bound["token"] != old
    # The other worker, asked at once and in parallel, sees the staff role on the new token.
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: other_client.get("/api/v1/staff", headers=bearer(bound["token"])),
                                range(6)))
    assert [a.status_code for a in answers] == [200] * 6
    assert other_client.get("/api/v1/me", headers=bearer(bound["token"])).json["roles"] == ["admin", "trainee"]


def _warm(other_client, token):
    """The other worker has served this token (its caches hold whatever they keep)."""
    assert other_client.get("/api/v1/staff", headers=bearer(token)).status_code == 200


def test_a_deactivated_staff_token_is_refused_by_the_next_request_anywhere(client, other, admin_token, login, db):
    _, other_client = other
    account_id, old, bound = _bind(client, admin_token, login, "leaving-admin", role="admin")
    _warm(other_client, bound["token"])
    _warm(other_client, old)
    assert client.patch(f"/api/v1/staff/{account_id}", json={"active": False},
                        headers=bearer(admin_token)).status_code == 200
    for token in (bound["token"], old):
        refused = other_client.get("/api/v1/staff", headers=bearer(token))
        assert refused.status_code == 401 and refused.json["code"] == "TOKEN_INVALID"
    assert db[TOKENS].count_documents({"revoked_at": {"$exists": True}}) >= 2
    # Logging in again gives a token with what remains: a trainee.
    assert client.post("/api/v1/auth/wx-login", json={"code": "leaving-admin.again"}).json["user"]["roles"] == \
        ["trainee"]


def test_an_unbound_staff_token_is_refused_by_the_next_request_anywhere(client, other, admin_token, login):
    _, other_client = other
    account_id, _, bound = _bind(client, admin_token, login, "lost-phone", role="province_staff",
                                 region_code="440000")
    assert other_client.get("/api/v1/registrations", headers=bearer(bound["token"])).status_code == 200
    assert client.post(f"/api/v1/staff/{account_id}/binding-code", headers=bearer(admin_token)).status_code == 201
    assert other_client.get("/api/v1/registrations", headers=bearer(bound["token"])).status_code == 401


def test_a_logged_out_staff_token_is_refused_by_the_next_request_anywhere(client, other, admin_token, login):
    _, other_client = other
    _, _, bound = _bind(client, admin_token, login, "logout-admin", role="admin")
    _warm(other_client, bound["token"])
    assert client.post("/api/v1/auth/logout", headers=bearer(bound["token"])).status_code == 204
    assert other_client.get("/api/v1/staff", headers=bearer(bound["token"])).status_code == 401


def test_a_scope_change_is_seen_by_the_next_request_anywhere(client, other, admin_token, login, db):
    _, other_client = other
    account_id, _, bound = _bind(client, admin_token, login, "moving-staff", role="province_staff",
                                 region_code="440000")
    assert other_client.get("/api/v1/me", headers=bearer(bound["token"])).json["region_codes"] == ["440000"]
    assert client.patch(f"/api/v1/staff/{account_id}", json={"region_code": "110000"},
                        headers=bearer(admin_token)).status_code == 200
    assert other_client.get("/api/v1/me", headers=bearer(bound["token"])).json["region_codes"] == ["110000"]


def test_a_trainee_logout_elsewhere_is_seen_within_the_cache_delay_and_costs_no_read(client, other, login,
                                                                                    db_reads):
    other_app, other_client = other
    token = login("plain-trainee")
    assert other_client.get("/api/v1/me", headers=bearer(token)).status_code == 200  # reads the changed set once
    db_reads.clear()
    assert other_client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    assert TOKENS not in {name for name, _op, _query in db_reads.entries}  # (/me itself reads the profile)
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 204
    # The documented bound: the other worker still accepts it until it re-reads the changed tokens...
    assert other_client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    signed.state_for(other_app).next_read = 0.0  # ...which it does every IDENTITY_CACHE_SECONDS
    assert other_client.get("/api/v1/me", headers=bearer(token)).status_code == 401
