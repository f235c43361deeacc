"""/api/v1/docs in headless Chromium: Swagger UI renders the operations from the service's own
assets, offline (every request to another origin is refused), under the page's CSP.

Skipped (with the reason) where chromium is not installed.
"""

import shutil

import pytest

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium package is not installed")


def test_docs_render_offline_under_the_csp(live_server):
    outside, csp_violations = [], []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"])
        try:
            page = browser.new_page()

            def only_this_service(route):
                if route.request.url.startswith(live_server):
                    return route.continue_()
                outside.append(route.request.url)
                return route.abort()

            page.route("**/*", only_this_service)
            page.on("console", lambda message: csp_violations.append(message.text)
                    if "Content Security Policy" in message.text else None)
            page.goto(f"{live_server}/api/v1/docs")
            page.wait_for_selector(".opblock-summary-path", timeout=20_000)
            paths = page.locator(".opblock-summary-path").all_inner_texts()
        finally:
            browser.close()
    assert any("/api/v1/auth/wx-login" in path.replace("\u200b", "") for path in paths)
    assert outside == []
    assert csp_violations == []
