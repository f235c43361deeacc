"""Trainee tokens are checked on their signature; logout and staff binding still take effect."""

from service.auth import repository as tokens
from service.auth import signed
from service.auth.repository import TOKENS
from service.core import identity_cache
from service.core.auth import hash_token
from tests.conftest import bearer


def _another_process_reads_changes_now(app):
    """What another process sees once its IDENTITY_CACHE_SECONDS have passed."""
    with app.app_context():
        identity_cache.forget_all()
    signed.state_for(app).next_read = 0.0


def test_a_trainee_request_reads_no_token(client, login, db_reads):
    first, token = login("olga"), login("oscar")
    assert client.get("/api/v1/me", headers=bearer(first)).status_code == 200  # reads the changed tokens
    db_reads.entries.clear()
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 200
    assert response.json["roles"] == ["trainee"]
    assert TOKENS not in {name for name, _op, _query in db_reads.entries}


def test_a_forged_or_altered_token_is_refused(client, login):
    token = login("pete")
    other = login("quinn")
    user_id, expiry, kind, rand, signature = token.split(".")
    altered = [
        ".".join([other.split(".")[0], expiry, kind, rand, signature]),  # someone else's user id
        ".".join([user_id, str(int(expiry) + 86400), kind, rand, signature]),  # a later expiry
        ".".join([user_id, expiry, kind, rand, "A" * len(signature)]),  # a made-up signature
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        token[:-2] + "é",  # not even ASCII
    ]
    for forged in altered:
        response = client.get("/api/v1/me", headers=bearer(forged))
        assert response.status_code == 401, forged
        assert response.json["code"] == "TOKEN_INVALID"


def test_a_logout_in_this_process_refuses_the_token_at_once(client, login):
    token = login("rosa")
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_a_logout_in_another_process_is_seen_after_the_cache_delay(app, client, login):
    token = login("sam")
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    with app.app_context():
        tokens.revoke(hash_token(token))  # another process: this one was not told
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    _another_process_reads_changes_now(app)
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json["code"] == "TOKEN_INVALID"


def test_a_new_process_knows_the_logouts_made_before_it_started(app, client, login):
    token = login("tina")
    with app.app_context():
        tokens.revoke(hash_token(token))
    app.extensions.pop("identity_cache", None)
    app.extensions.pop("changed_tokens", None)  # a process that has just started
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_a_trainee_token_carries_staff_roles_once_its_user_binds_an_account(app, client, admin_token, login):
    token = login("uma")
    created = client.post("/api/v1/staff", json={"role": "province_staff", "region_code": "110000", "name": "乌玛"},
                          headers=bearer(admin_token))
    assert created.status_code == 201, created.json
    assert client.get("/api/v1/me", headers=bearer(token)).json["roles"] == ["trainee"]
    bound = client.post("/api/v1/auth/bind", json={"binding_code": created.json["binding_code"]},
                        headers=bearer(token))
    assert bound.status_code == 200, bound.json
    assert "province_staff" in client.get("/api/v1/me", headers=bearer(token)).json["roles"]
    # Another process learns it from the changed tokens.
    _another_process_reads_changes_now(app)
    app.extensions.pop("changed_tokens", None)
    assert "province_staff" in client.get("/api/v1/me", headers=bearer(token)).json["roles"]


def test_the_changed_tokens_are_read_through_their_index_and_all_found(app, client, login, db):
    """Every process reads the changed tokens every IDENTITY_CACHE_SECONDS: through the partial
    index `changed` (a scan of every token stalled the whole embedded server), and still every
    changed token, none of the others."""
    import datetime as dt

    from service.core.db import utcnow

    kept, gone = login("tilda"), login("ulrich")
    for name in ("vera", "walt", "xena"):
        login(name)
    assert client.post("/api/v1/auth/logout", headers=bearer(gone)).status_code == 204
    with app.app_context():
        since = utcnow() - dt.timedelta(minutes=1)
        found = {doc["_id"] for doc in tokens.changed_since(since)}
        plan = tokens.changed_since(since).explain()["queryPlanner"]["winningPlan"]
    assert found == {hash_token(gone)}
    assert hash_token(kept) not in found
    assert "COLLSCAN" not in str(plan) and "changed" in str(plan)
