"""Console fixtures: open a console session the way a desk does (QR request, confirmation in
the mini-program with the staff member's bearer token, exchange by the waiting console)."""

import pytest

from tests.conftest import bearer

COOKIE = "lingjun_console"


@pytest.fixture
def console_login(client):
    """console_login(staff_token, client=None) -> (session cookie value, csrf token) on that client."""

    def do(staff_token, on_client=None):
        on_client = on_client or client
        created = on_client.post("/api/v1/auth/console-logins").json
        confirmed = client.post(f"/api/v1/auth/console-logins/{created['id']}/confirm", headers=bearer(staff_token))
        assert confirmed.status_code == 200, confirmed.json
        response = on_client.post(f"/console/session/{created['id']}",
                                  headers={"X-Console-Login-Secret": created["poll_secret"]})
        assert response.status_code == 200, response.json
        cookie = on_client.get_cookie(COOKIE)
        page = on_client.get("/console/")
        csrf = page.get_data(as_text=True).split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        return cookie.value, csrf

    return do


# ---- headless Chromium against the app on a loopback server (as tests/attendance's projector test) ----

import shutil  # noqa: E402


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
VIEWPORT = {"width": 1366, "height": 768}


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if CHROMIUM is None:
        pytest.skip("Debian's chromium package is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking"])
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """new_page() -> a fresh page (own cookies) at 1366×768 that fails the test on any console error
    (a script refused by the Content-Security-Policy shows up here)."""
    contexts, errors = [], []

    def make():
        context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai")
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield make
    for context in contexts:
        context.close()
    unexpected = [e for e in errors if "401" not in e and "403" not in e and "409" not in e and "410" not in e
                  and "422" not in e]
    assert not unexpected, unexpected


@pytest.fixture
def desk_login(client, live_server):
    """desk_login(page, staff_token): log the page in through the QR screen, as a person at a desk
    does, confirming in place of the phone with the staff member's bearer token."""

    def do(page, staff_token):
        with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/console-logins")) as created:
            page.goto(live_server + "/console/")
        login_id = created.value.json()["id"]
        page.wait_for_selector("#login-qr img[src^=data]")
        confirmed = client.post(f"/api/v1/auth/console-logins/{login_id}/confirm", headers=bearer(staff_token))
        assert confirmed.status_code == 200, confirmed.json
        page.wait_for_selector("#logout", timeout=10_000)
        return login_id

    return do


def assert_no_horizontal_overflow(page, name, tmp_path_factory=None):
    """Screenshot the page at 1366×768 and check nothing sticks out sideways."""
    import pathlib

    folder = pathlib.Path(__file__).parent.parent.parent / "var" / "console-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{name}: horizontal overflow {widths}"


def upload_registry_file(page, live_server, db, path):
    """Upload `path` from the registry page and return once the API has queued its import (the
    test then runs the worker's step itself)."""
    import time

    page.goto(live_server + "/console/registry")
    page.set_input_files("#registry-file", str(path))
    page.click("#registry-upload")
    deadline = time.monotonic() + 20
    while db.registry_imports.count_documents({}) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
