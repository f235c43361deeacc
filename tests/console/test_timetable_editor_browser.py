"""Organizer edits the timetable in place, in headless Chromium: a session's title, times and
check-in window change on its row, the class-hours total adds up (a cancelled session counts
nowhere), and the API's refusals show in Chinese next to the field they concern."""

from tests.conftest import bearer
from tests.console.conftest import assert_no_horizontal_overflow
from tests.factories import create_class, create_programme


def _add_session(client, admin_token, klass, title, day, start, end):
    response = client.post(f"/api/v1/classes/{klass['id']}/sessions", headers=bearer(admin_token), json={
        "title": title, "teacher": "张教授", "starts_at": f"{day}T{start}:00+08:00", "ends_at": f"{day}T{end}:00+08:00"})
    assert response.status_code == 201, response.json
    return response.json


def test_organizer_edits_and_cancels_sessions_in_place(client, live_server, new_page, desk_login, make_staff,
                                                       admin_token, db):
    programme = create_programme(client, admin_token)
    klass = create_class(client, admin_token, programme["id"], publish=True)
    day = klass["start_date"]
    morning = _add_session(client, admin_token, klass, "新发展格局下的企业战略", day, "09:00", "11:15")  # 135 min = 3.0
    afternoon = _add_session(client, admin_token, klass, "数字化转型案例", day, "14:00", "15:30")  # 90 min = 2.0

    page = new_page()
    desk_login(page, make_staff("admin"))
    page.goto(live_server + f"/console/classes/{klass['id']}")
    page.wait_for_selector(f"#timetable tr[data-id='{morning['id']}']")
    page.wait_for_selector("#timetable-hours:text-is('5')")
    assert page.locator("#timetable-hours").inner_text() == "5"

    # Edit the morning session in place: the hours preview and the new total follow the typing.
    row = f"#timetable tr[data-id='{morning['id']}']"
    page.click(f"{row} .edit-session")
    page.wait_for_selector("#edit-session-title")
    assert page.input_value("#edit-session-start") == "09:00" and page.input_value("#edit-opens-before") == "30"
    page.fill("#edit-session-end", "12:00")  # 180 min = 4.0
    page.wait_for_selector("#edit-preview-hours:has-text('4')")
    assert page.locator("#edit-preview-total").inner_text() == "修改后合计 6 课时"
    assert_no_horizontal_overflow(page, "organizer-timetable-editing")

    # Refusals of the API, next to their fields: overlapping the afternoon, a window over 240 minutes.
    page.fill("#edit-session-end", "14:30")
    page.click("#edit-session-save")
    page.wait_for_function("() => document.querySelector('#edit-starts-error').textContent.length > 0")
    # Said once, beside the start time, in the rule's words (which session it clashes with).
    assert "重叠" in page.locator("#edit-starts-error").inner_text() and "“" in page.locator("#edit-starts-error").inner_text()
    assert page.locator("#edit-session-error").inner_text() == ""
    page.fill("#edit-session-end", "12:00")
    page.fill("#edit-opens-before", "300")
    closes_default = page.input_value("#edit-closes-after")
    page.fill("#edit-closes-after", "-5")  # a negative whole number: the range refusal, not "请填写整数"
    page.click("#edit-session-save")
    page.wait_for_function("() => document.querySelector('#edit-opens-error').textContent.length > 0")
    assert page.locator("#edit-starts-error").inner_text() == ""  # the fixed overlap's refusal is gone
    closes_error = page.locator("tr.panel-row label:has(#edit-closes-after) .field-error").inner_text()
    assert "0" in closes_error and "240" in closes_error and "整数" not in closes_error
    page.fill("#edit-closes-after", closes_default)
    stored = db.classes.find_one()["sessions"][0]
    assert stored["title"] == "新发展格局下的企业战略" and not stored.get("checkin")  # nothing written

    page.fill("#edit-opens-before", "45")
    page.fill("#edit-session-title", "新发展格局下的企业战略（上）")
    page.click("#edit-session-save")
    page.wait_for_selector(f"{row} .session-title:has-text('（上）')")
    page.wait_for_selector("#timetable-hours:text-is('6')")
    page.wait_for_selector(f"{row} td:text-is('08:15')")
    assert page.locator("#timetable-hours").inner_text() == "6"
    assert page.locator(f"{row} .session-hours").inner_text() == "4"
    assert "08:15" in page.locator(row).inner_text()  # check-in opens 45 min before 09:00 (Beijing)
    assert_no_horizontal_overflow(page, "organizer-timetable-edit")
    stored = db.classes.find_one()["sessions"][0]
    assert stored["checkin"] == {"opens_before_minutes": 45}
    assert (stored["ends_at"] - stored["starts_at"]).total_seconds() == 3 * 3600

    # Cancel the afternoon: a reason is required (refused next to the box), then it counts nowhere.
    row = f"#timetable tr[data-id='{afternoon['id']}']"
    page.click(f"{row} .cancel-session")
    # The confirmation says what cancelling does (as the API does it) and that it cannot be undone.
    effects = page.locator("#cancel-session-effects").inner_text()
    assert "不再接受签到" in effects and "减少 2 课时" in effects and "不能恢复" in effects, effects
    page.fill("#cancel-session-reason", "病")
    page.click("#cancel-session-confirm")
    page.wait_for_function("() => document.querySelector('#cancel-reason-error').textContent.length > 0")
    assert "2" in page.locator("#cancel-reason-error").inner_text()
    assert not db.classes.find_one()["sessions"][1].get("cancelled")
    page.fill("#cancel-session-reason", "授课老师生病，改期另行通知")
    page.click("#cancel-session-confirm")
    page.wait_for_selector(f"{row}.cancelled")
    # Alpine applies each binding in its own effect: wait for the note and the hidden buttons too.
    page.wait_for_selector(f"{row} .cancel-note:has-text('已取消')", state="visible")
    page.wait_for_selector(f"{row} .edit-session", state="hidden")
    page.wait_for_selector("#timetable-hours:text-is('4')")
    assert "已取消：授课老师生病" in page.locator(row).inner_text()
    assert page.locator("#timetable-hours").inner_text() == "4"
    assert page.locator(f"{row} .session-hours").inner_text() == "0（原 2）"
    assert page.locator("#timetable-sum-check").inner_text() == ""  # the rows add up to the API's total
    assert page.locator(f"{row} .edit-session").is_hidden()
    assert db.classes.find_one()["sessions"][1]["cancelled"]["reason"] == "授课老师生病，改期另行通知"

    # Minutes per class hour (学时): 45 -> 60 makes the 180-minute session 3 class hours.
    page.fill("#edit-minutes-per-hour", "90")
    page.click("form:has(#edit-minutes-per-hour) button[type=submit]")
    page.wait_for_function("() => document.querySelector('#basics-hours-error').textContent.length > 0")
    page.fill("#edit-minutes-per-hour", "60")
    page.click("form:has(#edit-minutes-per-hour) button[type=submit]")
    page.wait_for_selector("#timetable-hours:text-is('3')")
    assert page.locator(f"#timetable tr[data-id='{morning['id']}'] .session-hours").inner_text() == "3"
