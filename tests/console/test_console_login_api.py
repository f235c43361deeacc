"""Console login by QR: one-time request (2 minutes), confirmed by staff in the mini-program,
exchanged once by the console that asked for a session cookie held in MongoDB."""

import datetime as dt

import pytest
from bson import ObjectId

from service import create_app
from tests.conftest import bearer
from tests.console.conftest import COOKIE


def _create(client):
    response = client.post("/api/v1/auth/console-logins")
    assert response.status_code == 201, response.json
    return response.json


def _exchange(client, created, secret=None):
    return client.post(f"/console/session/{created['id']}",
                       headers={"X-Console-Login-Secret": secret or created["poll_secret"]})


def test_qr_login_flow_gives_the_console_the_same_identity_as_the_bearer_token(app, client, db, make_staff):
    staff = make_staff("province_staff", region_code="110000")
    created = _create(client)
    assert created["qr_text"] == f"lingjun-console-login:{created['id']}" and "<svg" in created["qr_svg"]
    expires = dt.datetime.fromisoformat(created["expires_at"])
    assert dt.timedelta(seconds=100) < expires - dt.datetime.now(dt.timezone.utc) <= dt.timedelta(seconds=120)

    assert _exchange(client, created).status_code == 202  # nobody confirmed yet
    assert client.get_cookie(COOKIE) is None

    shown = client.get(f"/api/v1/auth/console-logins/{created['id']}", headers=bearer(staff))
    assert shown.status_code == 200 and shown.json["status"] == "pending"
    confirmed = client.post(f"/api/v1/auth/console-logins/{created['id']}/confirm", headers=bearer(staff))
    assert confirmed.status_code == 200 and confirmed.json["status"] == "confirmed"

    response = _exchange(client, created)
    assert response.status_code == 200
    set_cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie and "Path=/" in set_cookie
    assert "Secure" not in set_cookie  # development over plain http; production below
    assert db.console_sessions.count_documents({}) == 1
    stored = db.console_sessions.find_one()
    assert stored["_id"] != client.get_cookie(COOKIE).value  # only the hash is stored

    by_cookie = client.get("/api/v1/me")
    by_bearer = client.get("/api/v1/me", headers=bearer(staff))
    assert by_cookie.status_code == 200 and by_cookie.json == by_bearer.json
    assert by_cookie.json["roles"] == ["province_staff", "trainee"]


def test_a_login_request_is_single_use(client, make_staff):
    staff = make_staff("admin")
    created = _create(client)
    client.post(f"/api/v1/auth/console-logins/{created['id']}/confirm", headers=bearer(staff))
    again = client.post(f"/api/v1/auth/console-logins/{created['id']}/confirm", headers=bearer(staff))
    assert again.status_code == 409 and again.json["code"] == "CONSOLE_LOGIN_USED"
    assert _exchange(client, created).status_code == 200
    other = client.application.test_client()
    second = _exchange(other, created)
    assert second.status_code == 409 and second.json["code"] == "CONSOLE_LOGIN_USED"
    assert other.get_cookie(COOKIE) is None


def test_an_expired_request_cannot_be_confirmed_or_exchanged(client, db, make_staff):
    staff = make_staff("admin")
    created = _create(client)
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    db.console_logins.update_one({"_id": created["id"]}, {"$set": {"expires_at": past}})
    refused = client.post(f"/api/v1/auth/console-logins/{created['id']}/confirm", headers=bearer(staff))
    assert refused.status_code == 410 and refused.json["code"] == "CONSOLE_LOGIN_EXPIRED"
    assert "过期" in refused.json["message"]
    assert db.console_logins.find_one({"_id": created["id"]})["status"] == "pending"

    # Confirmed in time, collected too late: still no session.
    created = _create(client)
    client.post(f"/api/v1/auth/console-logins/{created['id']}/confirm", headers=bearer(staff))
    db.console_logins.update_one({"_id": created["id"]}, {"$set": {"expires_at": past}})
    late = _exchange(client, created)
    assert late.status_code == 410 and late.json["code"] == "CONSOLE_LOGIN_EXPIRED"
    assert db.console_sessions.count_documents({}) == 0


def test_a_trainee_cannot_confirm_a_console_login(client, db, login):
    trainee = login("just-a-trainee")
    created = _create(client)
    for response in (client.get(f"/api/v1/auth/console-logins/{created['id']}", headers=bearer(trainee)),
                     client.post(f"/api/v1/auth/console-logins/{created['id']}/confirm", headers=bearer(trainee))):
        assert response.status_code == 403 and response.json["code"] == "CONSOLE_STAFF_ONLY"
    assert db.console_logins.find_one({"_id": created["id"]})["status"] == "pending"
    assert _exchange(client, created).status_code == 202


def test_the_request_id_alone_gets_no_session(client, db, make_staff):
    staff = make_staff("admin")
    created = _create(client)
    client.post(f"/api/v1/auth/console-logins/{created['id']}/confirm", headers=bearer(staff))
    stolen = _exchange(client, created, secret="guessed-secret")
    assert stolen.status_code == 404 and stolen.json["code"] == "CONSOLE_LOGIN_NOT_FOUND"
    assert db.console_sessions.count_documents({}) == 0
    assert _exchange(client, created).status_code == 200  # the console that asked still can


@pytest.mark.parametrize("login_id", ["not-an-id", str(ObjectId()), "0" * 32, "A" * 32])
def test_unknown_requests_are_404(client, make_staff, login_id):
    staff = make_staff("admin")
    well_formed = login_id == "0" * 32  # anything else matches no route: a plain 404
    for response in (client.post(f"/api/v1/auth/console-logins/{login_id}/confirm", headers=bearer(staff)),
                     client.get(f"/api/v1/auth/console-logins/{login_id}", headers=bearer(staff))):
        assert response.status_code == 404
        assert response.json["code"] == ("CONSOLE_LOGIN_NOT_FOUND" if well_formed else "NOT_FOUND")


def test_request_ids_cannot_be_guessed_from_one_another(client, make_staff):
    """Finding: ObjectIds of one worker share a prefix and count up by one, so any staff member could
    confirm the request next to their own (logging the victim's desk in as themselves)."""
    ids = [_create(client)["id"] for _ in range(40)]
    assert len(set(ids)) == len(ids)
    assert all(len(login_id) == 32 and int(login_id, 16) >= 0 for login_id in ids)  # 128 bits
    prefixes = {login_id[:6] for login_id in ids}
    assert len(prefixes) == len(ids)  # no shared process/time prefix
    numbers = [int(login_id, 16) for login_id in ids]
    assert len({b - a for a, b in zip(numbers, numbers[1:])}) == len(numbers) - 1  # no counter step
    # Each of the 128 bit positions varies across the ids (a fixed field would stay constant).
    assert all(len({(n >> bit) & 1 for n in numbers}) == 2 for bit in range(128))

    staff = make_staff("admin")
    own = int(ids[-1], 16)
    for neighbour in (own + 1, own - 1, own + 2):
        guessed = f"{neighbour:032x}"
        response = client.post(f"/api/v1/auth/console-logins/{guessed}/confirm", headers=bearer(staff))
        assert response.status_code == 404 and response.json["code"] == "CONSOLE_LOGIN_NOT_FOUND"


def test_the_confirm_page_gets_the_check_code_the_desk_shows(client, make_staff):
    staff = make_staff("admin")
    codes = set()
    for _ in range(5):
        created = _create(client)
        assert len(created["check_code"]) == 4 and created["check_code"].isdigit()
        shown = client.get(f"/api/v1/auth/console-logins/{created['id']}", headers=bearer(staff)).json
        assert shown["check_code"] == created["check_code"]
        codes.add(created["check_code"])
    assert len(codes) > 1  # drawn afresh for each request


def test_a_request_someone_confirmed_shows_nothing_to_other_staff(client, make_staff):
    first, second = make_staff("admin"), make_staff("supervisor")
    created = client.post("/api/v1/auth/console-logins", headers={"User-Agent": "Desk-Browser/1.0"}).json
    client.post(f"/api/v1/auth/console-logins/{created['id']}/confirm", headers=bearer(first))
    mine = client.get(f"/api/v1/auth/console-logins/{created['id']}", headers=bearer(first))
    assert mine.status_code == 200 and mine.json["user_agent"] == "Desk-Browser/1.0"
    other = client.get(f"/api/v1/auth/console-logins/{created['id']}", headers=bearer(second))
    assert other.status_code == 409 and other.json["code"] == "CONSOLE_LOGIN_USED"
    assert "Desk-Browser" not in other.get_data(as_text=True)


def test_bad_exchanges_get_nothing(client):
    response = client.post("/console/session/not-an-id", headers={"X-Console-Login-Secret": "x"})
    assert response.status_code == 404 and response.json["code"] == "CONSOLE_LOGIN_NOT_FOUND"
    created = _create(client)
    no_secret = client.post(f"/console/session/{created['id']}")
    assert no_secret.status_code == 404 and client.get_cookie(COOKIE) is None


def test_writes_through_the_cookie_need_the_csrf_token(client, db, make_staff, console_login):
    admin = make_staff("admin")
    _, csrf = console_login(admin)
    body = {"name": "2026 领军人才培训", "year": 2026, "kind": "national"}
    refused = client.post("/api/v1/programmes", json=body)
    assert refused.status_code == 403 and refused.json["code"] == "CSRF_TOKEN_INVALID"
    refused = client.post("/api/v1/programmes", json=body, headers={"X-CSRF-Token": "wrong"})
    assert refused.status_code == 403
    assert db.programmes.count_documents({}) == 0
    created = client.post("/api/v1/programmes", json=body, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201, created.json


def test_rules_are_the_apis_a_supervisor_console_cannot_do_admin_work(client, make_staff, console_login):
    supervisor = make_staff("supervisor")
    _, csrf = console_login(supervisor)
    response = client.post("/api/v1/programmes", json={"name": "x", "year": 2026}, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 403 and response.json["code"] == "ROLE_REQUIRED"
    assert client.get("/console/programmes").status_code == 403  # a console page saying 无权访问


def test_logout_ends_the_session_at_once(client, db, make_staff, console_login):
    admin = make_staff("admin")
    cookie, csrf = console_login(admin)
    assert client.post("/console/logout").status_code == 403  # no CSRF token: not even logout
    response = client.post("/console/logout", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    assert db.console_sessions.count_documents({}) == 0
    client.set_cookie(COOKIE, cookie)  # a copy of the cookie kept somewhere
    after = client.get("/api/v1/me")
    assert after.status_code == 401 and after.json["code"] == "CONSOLE_SESSION_ENDED"
    assert client.get("/console/").status_code == 200 and "扫码登录" in client.get("/console/").get_data(as_text=True)


def test_sessions_are_shared_by_processes_and_end_everywhere(app_config, client, make_staff, console_login):
    admin = make_staff("admin")
    cookie, csrf = console_login(admin)
    other_process = create_app(app_config).test_client()
    other_process.set_cookie(COOKIE, cookie)
    assert other_process.get("/api/v1/me").status_code == 200
    assert other_process.post("/console/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_deactivated_staff_lose_the_console_at_once(client, db, make_staff, console_login):
    staff = make_staff("province_staff", region_code="440000")
    admin = make_staff("admin")
    console_login(staff)
    assert client.get("/api/v1/me").status_code == 200
    account = db.staff_accounts.find_one({"role": "province_staff"})
    patched = client.patch(f"/api/v1/staff/{account['_id']}", json={"active": False}, headers=bearer(admin))
    assert patched.status_code == 200, patched.json
    refused = client.get("/api/v1/me")
    assert refused.status_code == 401 and refused.json["code"] == "CONSOLE_SESSION_ENDED"
    assert db.console_sessions.count_documents({}) == 0


def test_idle_sessions_expire_after_eight_hours(app, client, db, make_staff, console_login):
    assert app.config["CONSOLE_IDLE_HOURS"] == 8
    console_login(make_staff("admin"))
    stored = db.console_sessions.find_one()
    assert dt.timedelta(hours=7, minutes=59) < stored["expires_at"] - stored["last_seen_at"] <= dt.timedelta(hours=8)
    idle = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=8, seconds=1)
    db.console_sessions.update_one({}, {"$set": {"last_seen_at": idle, "expires_at": idle + dt.timedelta(hours=8)}})
    response = client.get("/api/v1/me")
    assert response.status_code == 401 and response.json["code"] == "CONSOLE_SESSION_ENDED"


def test_use_slides_the_idle_expiry(client, db, make_staff, console_login):
    console_login(make_staff("admin"))
    earlier = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)
    db.console_sessions.update_one({}, {"$set": {"last_seen_at": earlier, "expires_at": earlier + dt.timedelta(hours=8)}})
    assert client.get("/api/v1/me").status_code == 200
    stored = db.console_sessions.find_one()
    assert stored["expires_at"] > dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=7, minutes=59)


def test_a_bearer_token_wins_over_a_console_cookie(client, make_staff, login, console_login):
    console_login(make_staff("admin"))
    trainee = login("someone-else")
    me = client.get("/api/v1/me", headers=bearer(trainee))
    assert me.status_code == 200 and me.json["roles"] == ["trainee"]


def test_secure_cookie_in_production(app, client, make_staff):
    app.config["APP_ENV"] = "production"
    staff = make_staff("admin")
    created = _create(client)
    client.post(f"/api/v1/auth/console-logins/{created['id']}/confirm", headers=bearer(staff))
    assert "Secure" in _exchange(client, created).headers["Set-Cookie"]


def test_console_pages_carry_a_strict_content_security_policy(client, make_staff, console_login):
    page = client.get("/console/")
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self' 'nonce-" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "cdn" not in page.get_data(as_text=True).lower()
    assert "<script>" not in page.get_data(as_text=True)  # no inline script without the nonce
    assert page.headers["X-Frame-Options"] == "DENY"


def test_login_requests_are_rate_limited_per_address(app, client, db):
    app.config["RATELIMIT_CONSOLE_LOGINS"] = "2 per minute"
    assert [client.post("/api/v1/auth/console-logins").status_code for _ in range(3)] == [201, 201, 429]
    assert db.console_logins.count_documents({}) == 2
