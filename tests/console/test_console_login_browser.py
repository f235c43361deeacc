"""The console's QR login in headless Chromium: login, expiry, single use, trainee refused, logout."""

import datetime as dt


from tests.conftest import bearer
from tests.console.conftest import assert_no_horizontal_overflow


def test_desk_login_then_logout(client, live_server, new_page, desk_login, make_staff, db):
    page = new_page()
    desk_login(page, make_staff("admin", person="desk-admin"))
    assert "组织方" in page.locator("#who").inner_text()
    cookie = [c for c in page.context.cookies() if c["name"] == "lingjun_console"][0]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # invisible to scripts
    assert_no_horizontal_overflow(page, "home-admin")

    page.click("#logout")
    page.wait_for_selector("#login-qr img[src^=data]")
    assert db.console_sessions.count_documents({}) == 0
    page.goto(live_server + "/console/")
    page.wait_for_selector("#login-qr img[src^=data]")  # the QR screen again, no session left


def test_expired_qr_shows_refresh_and_a_new_code_works(client, live_server, new_page, make_staff, db):
    page = new_page()
    with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/console-logins")) as created:
        page.goto(live_server + "/console/")
    first = created.value.json()["id"]
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    db.console_logins.update_one({"_id": first}, {"$set": {"expires_at": past}})
    staff = make_staff("supervisor")
    refused = client.post(f"/api/v1/auth/console-logins/{first}/confirm", headers=bearer(staff))
    assert refused.json["code"] == "CONSOLE_LOGIN_EXPIRED"
    page.wait_for_selector("#login-refresh", state="visible", timeout=10_000)
    assert "过期" in page.locator("#login-status").inner_text()
    assert_no_horizontal_overflow(page, "login-expired")

    with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/console-logins")) as again:
        page.click("#login-refresh")
    second = again.value.json()["id"]
    assert second != first
    # The desk shows the check code the phone shows before confirming.
    shown = client.get(f"/api/v1/auth/console-logins/{second}", headers=bearer(staff)).json["check_code"]
    assert shown == again.value.json()["check_code"]
    page.wait_for_selector("#login-check-code", state="visible")
    assert shown in page.locator("#login-check-code").inner_text()
    client.post(f"/api/v1/auth/console-logins/{second}/confirm", headers=bearer(staff))
    page.wait_for_selector("#logout", timeout=10_000)
    assert "班主任" in page.locator("#who").inner_text()


def test_trainee_cannot_log_the_desk_in_and_a_used_code_stays_used(client, live_server, new_page, login,
                                                                   make_staff, db):
    page = new_page()
    with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/console-logins")) as created:
        page.goto(live_server + "/console/")
    login_id = created.value.json()["id"]
    trainee = client.post(f"/api/v1/auth/console-logins/{login_id}/confirm", headers=bearer(login("trainee-x")))
    assert trainee.status_code == 403 and trainee.json["code"] == "CONSOLE_STAFF_ONLY"
    page.wait_for_timeout(2000)
    assert page.locator("#logout").count() == 0 and db.console_sessions.count_documents({}) == 0

    staff = make_staff("province_staff", region_code="110000")
    client.post(f"/api/v1/auth/console-logins/{login_id}/confirm", headers=bearer(staff))
    page.wait_for_selector("#logout", timeout=10_000)
    again = client.post(f"/api/v1/auth/console-logins/{login_id}/confirm", headers=bearer(staff))
    assert again.json["code"] == "CONSOLE_LOGIN_USED"
    assert db.console_sessions.count_documents({}) == 1


def test_session_ended_in_another_tab_says_so_and_returns_to_the_page(client, live_server, browser, new_page,
                                                                        desk_login, make_staff, db):
    admin = make_staff("admin", person="desk-admin")
    first = new_page()
    desk_login(first, admin)
    second = first.context.new_page()  # a second tab of the same browser: the same cookie
    second.goto(live_server + "/console/programmes")
    second.wait_for_selector("#logout")

    first.click("#logout")
    first.wait_for_selector("#login-qr img[src^=data]")
    assert "会话已结束" not in first.locator("main").inner_text()  # a deliberate logout is no surprise

    # The second tab's next call to the API finds the session gone: the QR screen says why.
    with second.expect_response(lambda r: r.url.endswith("/api/v1/auth/console-logins")) as created:
        # Started, not awaited: the answer sends the tab to the login screen, and an evaluation still
        # waiting for it then fails with "execution context destroyed" (seen under load in CI).
        second.evaluate("() => { Console.api('GET', '/api/v1/programmes').catch(() => {}); }")
    second.wait_for_selector("#session-ended:has-text('会话已结束，请重新登录')")
    assert "next=%2Fconsole%2Fprogrammes" in second.url
    confirmed = client.post(f"/api/v1/auth/console-logins/{created.value.json()['id']}/confirm",
                            headers=bearer(admin))
    assert confirmed.status_code == 200
    second.wait_for_url("**/console/programmes", timeout=10_000)  # back on the page asked for
    second.wait_for_selector("#logout")


def test_wrong_role_sees_no_access_page_with_a_way_back(live_server, new_page, desk_login, make_staff):
    page = new_page()
    desk_login(page, make_staff("supervisor"))
    page.goto(live_server + "/console/programmes")
    page.wait_for_selector("h2:text-is('无权访问')")
    assert_no_horizontal_overflow(page, "forbidden-supervisor")
    page.click("#forbidden-home")
    page.wait_for_selector("a.tile:has-text('今日课程')")
