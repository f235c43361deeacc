"""wx-login, /me, logout: the login flow a mini-program runs."""

import datetime as dt
import logging

from service.auth.repository import LOGIN_CODES, TOKENS
from service.core.auth import hash_token
from service.users.repository import USERS, WECHAT_SESSIONS
from tests.conftest import bearer


def test_login_creates_user_and_returns_token(client, db):
    response = client.post("/api/v1/auth/wx-login", json={"code": "alice.1"})
    assert response.status_code == 200
    body = response.json
    assert body["token_type"] == "Bearer"
    assert body["user"]["roles"] == ["trainee"]
    assert body["expires_at"].endswith("+08:00")
    user = db[USERS].find_one({"openid": "oFAKE-alice"})
    assert user["unionid"] == "uFAKE-alice"
    assert body["user"]["id"] == str(user["_id"])
    # Only the hash of the token is stored.
    assert db[TOKENS].find_one({"_id": body["token"]}) is None
    assert db[TOKENS].find_one({"_id": hash_token(body["token"])})["user_id"] == user["_id"]


def test_session_key_stays_on_the_server(client, db, caplog):
    caplog.set_level(logging.DEBUG)
    response = client.post("/api/v1/auth/wx-login", json={"code": "bob.1"})
    user = db[USERS].find_one({"openid": "oFAKE-bob"})
    session_key = db[WECHAT_SESSIONS].find_one({"_id": user["_id"]})["session_key"]
    assert session_key
    assert session_key not in response.get_data(as_text=True)
    me = client.get("/api/v1/me", headers=bearer(response.json["token"]))
    assert session_key not in me.get_data(as_text=True)
    assert "session_key" not in user
    assert session_key not in caplog.text


def test_second_login_reuses_the_user_and_keeps_unionid(client, db):
    first = client.post("/api/v1/auth/wx-login", json={"code": "carol.1"}).json
    second = client.post("/api/v1/auth/wx-login", json={"code": "carol.2"}).json
    assert first["user"]["id"] == second["user"]["id"]
    assert first["token"] != second["token"]
    assert db[USERS].count_documents({"openid": "oFAKE-carol"}) == 1


def test_login_without_unionid(client, db):
    response = client.post("/api/v1/auth/wx-login", json={"code": "nounion-dan.1"})
    assert response.status_code == 200
    assert response.json["user"]["has_unionid"] is False
    assert "unionid" not in db[USERS].find_one({"openid": "oFAKE-nounion-dan"})


def _assert_nothing_written(db):
    assert db[USERS].count_documents({}) == 0
    assert db[TOKENS].count_documents({}) == 0
    assert db[WECHAT_SESSIONS].count_documents({}) == 0


def test_invalid_code_is_refused_and_nothing_written(client, db):
    response = client.post("/api/v1/auth/wx-login", json={"code": "invalid-123"})
    assert response.status_code == 400
    assert response.json["code"] == "WX_CODE_INVALID"
    _assert_nothing_written(db)


def test_reused_code_is_refused(client, db):
    assert client.post("/api/v1/auth/wx-login", json={"code": "erin.once"}).status_code == 200
    db[USERS].delete_many({})
    db[TOKENS].delete_many({})
    db[WECHAT_SESSIONS].delete_many({})
    db[LOGIN_CODES].delete_many({})  # not a retry of a login made here (see test_login_retry_api.py)
    response = client.post("/api/v1/auth/wx-login", json={"code": "erin.once"})
    assert response.status_code == 400
    assert response.json["code"] == "WX_CODE_USED"
    _assert_nothing_written(db)


def test_wechat_busy_answers_503_and_writes_nothing(client, db):
    response = client.post("/api/v1/auth/wx-login", json={"code": "busy-1"})
    assert response.status_code == 503
    assert response.json["code"] == "WECHAT_UNAVAILABLE"
    _assert_nothing_written(db)


def test_wechat_rate_limited_answers_503(client, db):
    response = client.post("/api/v1/auth/wx-login", json={"code": "ratelimit-1"})
    assert response.status_code == 503
    assert response.json["code"] == "WECHAT_RATE_LIMITED"
    _assert_nothing_written(db)


def test_wechat_unreachable_answers_503_and_writes_nothing(app_config, db):
    from service import create_app

    import socket
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    app = create_app({**app_config, "WECHAT_API_BASE": f"http://127.0.0.1:{closed_port}/",
                      "WECHAT_TIMEOUT_SECONDS": 2})
    response = app.test_client().post("/api/v1/auth/wx-login", json={"code": "frank.1"})
    assert response.status_code == 503
    assert response.json["code"] == "WECHAT_UNAVAILABLE"
    _assert_nothing_written(db)


def test_me_requires_a_token(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json["code"] == "UNAUTHORIZED"
    assert response.json["message"]
    assert response.json["request_id"]


def test_unknown_token_is_refused(client):
    response = client.get("/api/v1/me", headers=bearer("not-a-real-token"))
    assert response.status_code == 401
    assert response.json["code"] == "TOKEN_INVALID"


def test_expired_token_is_refused(client, db, login, monkeypatch):
    token = login("gina")
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    expires_at = db[TOKENS].find_one({"_id": hash_token(token)})["expires_at"]
    later = expires_at.replace(tzinfo=dt.timezone.utc) + dt.timedelta(seconds=1)
    monkeypatch.setattr("service.auth.signed.utcnow", lambda: later)
    monkeypatch.setattr("service.auth.repository.utcnow", lambda: later)
    monkeypatch.setattr("service.core.identity_cache.utcnow", lambda: later)
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json["code"] == "TOKEN_INVALID"


def test_tokens_expire_through_a_ttl_index(db, app):
    ttl = [i for i in db[TOKENS].index_information().values() if "expireAfterSeconds" in i]
    assert ttl and ttl[0]["key"] == [("expires_at", 1)]


def test_logout_revokes_the_token(client, db, login):
    token = login("hank")
    other = login("hank")
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert db[TOKENS].find_one({"_id": hash_token(token)})["revoked_at"] is not None
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 401
    # Only that token: the same person's other device stays logged in.
    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 200


def test_unknown_fields_are_refused(client, db):
    response = client.post("/api/v1/auth/wx-login", json={"code": "ivy.1", "roles": ["admin"]})
    assert response.status_code == 422
    assert response.json["code"] == "VALIDATION_ERROR"
    assert "roles" in response.json["errors"]
    _assert_nothing_written(db)
