"""Every main console page on the demo's data speaks Chinese: no raw enum value (in_progress, submitted,
lecture, ...) and no bare region code where a region name belongs; the review page opens on the class
with registrations waiting; the leave inbox shows the class and the decided comment as text; today's
sessions say whether check-in is open or closed."""

import re

import pytest

from service import demo
from tests.console.conftest import assert_no_horizontal_overflow

RAW_VALUES = (
    "draft published in_progress finished cancelled archived submitted recommended admitted returned withdrawn "
    "confirmed approved rejected returned_early queued running done failed present late absent excused "
    "lecture site_visit discussion sick personal official national regional topical little_giant valid revoked "
    "shared_device out_of_range no_location offline").split()
RAW = re.compile(r"(?<![A-Za-z_])(" + "|".join(RAW_VALUES) + r")(?![A-Za-z_])")
REGION_CODE = re.compile(r"(?<!\d)[1-8]\d0000(?!\d)")


def _words_of(page, path, ready):
    page.goto(path)
    page.wait_for_selector(ready, state="attached", timeout=20_000)
    page.wait_for_timeout(800)  # the page's later reads (counts, boards) have answered
    text = page.locator("main").inner_text()
    return RAW.findall(text), REGION_CODE.findall(text), text


@pytest.fixture
def demo_data(app):
    with app.app_context():
        demo.seed()
        return {"running": demo.running_class(), "session": demo.open_session()}


def test_main_pages_show_no_raw_values(live_server, new_page, desk_login, login, demo_data):
    running, session = demo_data["running"], demo_data["session"]
    pages = {
        "demo-admin": [("/console/programmes", "#programme-table tbody tr"), ("/console/classes", "#class-list tbody tr"),
                       (f"/console/classes/{running['_id']}", "#class-status"),
                       ("/console/admissions", "#admissions-table"), ("/console/certificates", "#completion-table tbody tr"),
                       ("/console/registry", "#import-history"), ("/console/reports", "main h2")],
        "demo-staff-bj": [("/console/", "a.tile"), ("/console/review", "#review-class option"),
                          ("/console/leave", "#leave-table"), ("/console/kpis", "main h2")],
        "demo-supervisor": [("/console/today", "#today-table tbody tr"), (f"/console/board/{session['_id']}", "#sheet-table tbody tr")],
    }
    for person, paths in pages.items():
        page = new_page()
        desk_login(page, login(person))
        for path, ready in paths:
            raw, codes, _ = _words_of(page, live_server + path, ready)
            assert raw == [], f"{person} {path}: raw values {raw}"
            assert codes == [], f"{person} {path}: region codes {codes}"


def test_review_opens_on_the_class_with_work_and_today_says_open_or_closed(live_server, new_page, desk_login, login,
                                                                          demo_data, db):
    page = new_page()
    desk_login(page, login("demo-staff-bj"))
    page.goto(live_server + "/console/review")
    page.wait_for_selector("#review-table tbody tr", timeout=20_000)
    chosen = page.eval_on_selector("#review-class", "s => s.options[s.selectedIndex].textContent")
    assert chosen.startswith("第3期") and "待审" in chosen  # the class with Beijing submissions waiting
    assert_no_horizontal_overflow(page, "province-review-demo")

    # The leave inbox: class and sessions shown; a decided request's comment is text, not an input.
    page.goto(live_server + "/console/leave")
    page.wait_for_selector("#leave-table tbody tr", timeout=20_000)
    waiting = page.locator("#leave-table tbody tr").first
    leave_id = waiting.get_attribute("data-id")
    assert "期" in waiting.locator(".leave-class").inner_text() and "节课" in waiting.locator(".leave-class").inner_text()
    before = waiting.locator(".leave-taken").inner_text()
    waiting.locator("input").fill("同意，请课后补看录像")
    waiting.locator("button:has-text('批准')").click()
    page.wait_for_selector(f"#leave-table tr[data-id='{leave_id}']", state="detached")
    page.select_option("#leave-filter", "all")
    decided = page.locator(f"#leave-table tr[data-id='{leave_id}']")
    decided.locator(".leave-state:text-is('已批准')").wait_for()
    assert decided.locator("input").count() == 0
    assert decided.locator(".decision-comment").inner_text() == "同意，请课后补看录像"
    assert decided.locator(".leave-taken").inner_text() == before  # approving it does not count it
    assert_no_horizontal_overflow(page, "province-leave-all-demo")

    page = new_page()
    desk_login(page, login("demo-supervisor"))
    page.goto(live_server + "/console/today")
    row = f"#today-table tr[data-id='{demo_data['session']['_id']}']"
    page.wait_for_selector(f"{row} .checkin-state:text-is('签到中')", timeout=20_000)
    page.click(f"{row} a:has-text('考勤看板')")
    page.click("#close-session")
    page.click("#close-confirm-button")
    page.wait_for_selector("text=已结束签到")
    page.goto(live_server + "/console/today")
    page.wait_for_selector(f"{row} .checkin-state:text-is('签到已结束')", timeout=20_000)
