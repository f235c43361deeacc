"""The projector page in headless Chromium: the code on screen always validates, counts move.

Runs the app on a real loopback HTTP server and drives Debian's chromium through Playwright.
Skipped (with the reason) where chromium is not installed.
"""

import io
import shutil
import time

import pytest
from bson import ObjectId
from PIL import Image

from service.attendance import tokens
from tests.conftest import bearer

sync_api = pytest.importorskip("playwright.sync_api")
zxingcpp = pytest.importorskip("zxingcpp")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium package is not installed")

ROTATION_SECONDS = 2


@pytest.fixture
def app_config(app_config):
    # Rotate fast so the test sees several codes within seconds.
    return {**app_config, "CHECKIN_CODE_SECONDS": ROTATION_SECONDS}


@pytest.fixture
def browser_page():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        yield page
        browser.close()


def _decode_qr(page):
    """What a phone camera reads from the QR code on screen (decoded from a screenshot)."""
    shot = Image.open(io.BytesIO(page.locator("#qr").screenshot())).convert("RGB")
    [found] = zxingcpp.read_barcodes(shot)
    return found.text


def _text(page, element_id):
    return page.locator(f"#{element_id}").inner_text()


def test_projector_page_shows_valid_rotating_codes_and_live_counts(app, client, live_server, browser_page,
                                                                     checkin_class):
    link = client.post(f"/api/v1/sessions/{checkin_class.session_id}/projector-link",
                       headers=bearer(checkin_class.supervisor)).json
    page = browser_page
    page.goto(live_server + link["url"].removeprefix("http://127.0.0.1:8000"))
    page.wait_for_function("() => document.querySelector('#qr').dataset.code.length > 0", timeout=10_000)
    assert page.locator("#qr svg").count() == 1
    assert _text(page, "expected") == "3" and _text(page, "checked_in") == "0"

    # Sample the screen over three rotations: every code shown validates for this session.
    seen = set()
    deadline = time.monotonic() + 3 * ROTATION_SECONDS + 1
    while time.monotonic() < deadline:
        code = page.locator("#qr").get_attribute("data-code")
        with app.app_context():
            assert tokens.verify(tokens.CLASS, code) == ObjectId(checkin_class.session_id)
        seen.add(code)
        time.sleep(0.25)
    assert len(seen) >= 2, "the code on screen did not rotate"

    # A trainee's phone scans what is on screen: the QR decoded from the page's pixels is the code's
    # URL under the configured prefix, and checking in with that URL as scanned works.
    scanned = _decode_qr(page)
    assert scanned.startswith(app.config["CHECKIN_URL_PREFIX"])
    with app.app_context():
        assert tokens.verify(tokens.CLASS, tokens.from_scan(scanned)) == ObjectId(checkin_class.session_id)
    response = client.post("/api/v1/checkins", json={"code": scanned, "latitude": 40.0004, "longitude": 116.3266},
                           headers=bearer(checkin_class.trainees[0].token))
    assert response.status_code == 200, response.json
    page.wait_for_function("() => document.querySelector('#checked_in').textContent === '1'", timeout=10_000)
    assert _text(page, "missing") == "2"

    client.post(f"/api/v1/sessions/{checkin_class.session_id}/close", headers=bearer(checkin_class.supervisor))
    page.wait_for_function("() => document.body.classList.contains('closed')", timeout=10_000)
    assert _text(page, "status") == "本节课签到已结束"
    # Closing recorded the two who never came as absent: the page says 缺勤 2, not 未到 0.
    page.wait_for_function("() => document.querySelector('#missing_label').textContent === '缺勤'", timeout=10_000)
    assert _text(page, "missing") == "2"


def test_the_class_code_url_in_a_plain_browser_says_to_scan_with_wechat(app, client, live_server, browser_page,
                                                                        checkin_class):
    url = client.get(f"/api/v1/sessions/{checkin_class.session_id}/checkin-code",
                     headers=bearer(checkin_class.supervisor)).json["url"]
    path = url.split("://", 1)[1].split("/", 1)[1]  # the prefix's host is the service's public name
    response = browser_page.goto(f"{live_server}/{path}")
    assert response.status == 200
    assert "微信" in browser_page.locator("h1").inner_text()
    assert "扫一扫" in browser_page.locator("body").inner_text()
