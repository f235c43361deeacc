"""Nothing half-written (issue 14 §3): the console's session exchange uses the confirmed request
and stores the session (two writes). If storing the session fails, the request is confirmed again,
so the console's next poll (the same request) gets its session, not CONSOLE_LOGIN_USED."""


from tests.conftest import bearer
from tests.console.conftest import COOKIE
from tests.fixtures.faults import assert_unavailable


def test_a_failed_session_write_leaves_the_request_confirmed(client, db, make_staff, fail_write):
    staff = make_staff("admin")
    created = client.post("/api/v1/auth/console-logins").json
    assert client.post(f"/api/v1/auth/console-logins/{created['id']}/confirm", headers=bearer(staff)).status_code == 200
    exchange = {"path": f"/console/session/{created['id']}", "headers": {"X-Console-Login-Secret": created["poll_secret"]}}
    with fail_write(2):  # 1 using the request, 2 the session
        assert_unavailable(client.post(**exchange))
    assert db.console_logins.find_one({"_id": created["id"]})["status"] == "confirmed"
    assert db.console_sessions.count_documents({}) == 0 and client.get_cookie(COOKIE) is None
    again = client.post(**exchange)
    assert again.status_code == 200 and client.get_cookie(COOKIE) is not None
    assert db.console_sessions.count_documents({}) == 1
