"""Supervisor at a desk, in headless Chromium: today's sessions, the live board updating itself
when a trainee checks in through the API, a manual mark with its reason, projector link, closing."""

from bson import ObjectId

from tests.console.conftest import assert_no_horizontal_overflow


def test_supervisor_board_follows_check_ins(live_server, new_page, desk_login, make_checkin_class, class_code, scan,
                                            db):
    checkin_class = make_checkin_class()
    page = new_page()
    desk_login(page, checkin_class.supervisor)
    page.goto(live_server + "/console/today")
    page.wait_for_selector("#today-table a:has-text('考勤看板')")
    assert_no_horizontal_overflow(page, "supervisor-today")
    page.locator("#today-table a:has-text('考勤看板')").first.click()
    page.wait_for_url(f"**/console/board/{checkin_class.session_id}")
    page.wait_for_selector("#count-expected:has-text('3')")
    assert page.locator("#count-checked-in").inner_text() == "0"
    assert page.locator("#missing-table tbody tr").count() == 3
    # The supervisor sees the missing trainees' full phone numbers, each a tel: link to call.
    third = checkin_class.trainees[2]
    phone = page.locator(f"#missing-table tr[data-id='{third.registration_id}'] a.mobile")
    assert phone.get_attribute("href") == "tel:" + phone.inner_text() and phone.inner_text().isdigit()

    # A trainee checks in from the phone: the board follows without a reload.
    first = checkin_class.trainees[0]
    assert scan(first.token, class_code(checkin_class)).status_code == 200
    page.wait_for_selector("#count-checked-in:has-text('1')", timeout=10_000)
    assert page.locator("#missing-table tbody tr").count() == 2
    assert_no_horizontal_overflow(page, "supervisor-board")

    # A manual mark needs a reason: refused next to the reason box, then done.
    second = checkin_class.trainees[1]
    row = f"#missing-table tr[data-id='{second.registration_id}']"
    page.click(f"{row} button:has-text('标记')")
    page.wait_for_function(f"() => document.querySelector(\"{row} .field-error\").textContent.length > 0")
    assert "原因" in page.locator(f"{row} .field-error").inner_text()
    page.fill(f"{row} input", "手机无法扫码，现场核实")
    page.click(f"{row} button:has-text('标记')")
    page.wait_for_selector("#count-checked-in:has-text('2')", timeout=10_000)
    record = db.attendance.find_one({"registration_id": {"$exists": True}, "method": "manual"}) or \
        db.attendance.find_one({"method": "manual"})
    assert record is not None and record["status"] == "present"

    page.click("#projector-link")
    page.wait_for_selector("#projector-open[href*='/console/sessions/']")
    assert page.locator("#projector-url").input_value().startswith(live_server + "/console/sessions/")
    assert "有效至" in page.locator("#projector-until").inner_text()
    projector = page.context.new_page()  # the projector page opens from the link and shows the class code
    projector.goto(page.locator("#projector-url").input_value())
    projector.wait_for_selector("#qr svg")
    projector.close()

    # Closing asks first and says what follows; nothing is closed before the confirmation.
    page.click("#close-session")
    page.wait_for_selector("#close-confirm", state="visible")
    assert "记为缺勤" in page.locator("#close-confirm").inner_text()
    assert page.locator("#close-confirm b").nth(1).inner_text() == "1"  # the one still missing
    assert db.attendance.count_documents({"status": "absent"}) == 0
    page.click("#close-confirm-button")
    page.wait_for_selector("text=签到已结束", timeout=10_000)
    page.wait_for_selector("text=已结束签到：记缺勤 1 人")
    assert page.locator("#count-missing").inner_text() == "1"  # the third, now absent
    assert page.locator("#missing-table tbody tr").count() == 0
    # ...but still listed as absent with the phone to call, and no projector link for a closed session.
    absent_row = f"#absent-table tr[data-id='{third.registration_id}']"
    page.wait_for_selector(absent_row)
    assert page.locator(f"{absent_row} a.mobile").get_attribute("href").startswith("tel:1")
    assert "全部到齐" not in page.locator("main").inner_text()
    assert not page.locator("#projector-link").is_visible()
    # The sheet shows regions by name, not by code.
    page.wait_for_selector(f"#sheet-table tr[data-id='{third.registration_id}'] td:nth-child(2):text-is('广东省')")

    # A late mark with its reason after closing, from the absent list: the trainee moves to the late list.
    page.click(f"{absent_row} button:has-text('更正')")
    page.wait_for_function(f"() => document.querySelector(\"{absent_row} .field-error\").textContent.includes('原因')")
    page.fill(f"{absent_row} input", "路上堵车，9:40 到场，现场核实")
    page.click(f"{absent_row} button:has-text('更正')")
    page.wait_for_selector(f"#late-list li[data-id='{third.registration_id}']", timeout=10_000)
    assert page.locator("#absent-table").count() == 0
    assert db.attendance.find_one({"registration_id": ObjectId(third.registration_id)})["status"] == "late"

    # The whole class's column lets the supervisor correct anyone at any time.
    row = f"#sheet-table tr[data-id='{third.registration_id}']"
    page.wait_for_selector(f"{row} .sheet-status:text-is('迟到')")
    page.select_option(f"{row} select", "excused")
    page.fill(f"{row} input", "单位急事，已电话报备")
    page.click(f"{row} button:has-text('更正')")
    page.wait_for_selector(f"{row} .sheet-status:text-is('请假')", timeout=10_000)
    assert db.attendance.find_one({"registration_id": ObjectId(third.registration_id)})["status"] == "excused"
    assert_no_horizontal_overflow(page, "supervisor-board-closed")


def test_today_lists_a_session_running_past_midnight(live_server, new_page, desk_login, make_checkin_class,
                                                      move_session):
    """A session that began on an earlier Beijing day and runs on is on the today page too (it was
    missing from 00:00 Beijing on: the demo's session open now, begun at 23:50, vanished at midnight)."""
    checkin_class = make_checkin_class()
    running, ended = checkin_class.session_ids
    move_session(running, -26 * 60, length_minutes=27 * 60)  # began yesterday or before (Beijing), ends in 1 h
    move_session(ended, -27 * 60, length_minutes=60)  # began and ended on an earlier day
    page = new_page()
    desk_login(page, checkin_class.supervisor)
    page.goto(live_server + "/console/today")
    page.wait_for_selector(f"#today-table tr[data-id='{running}'] a:has-text('考勤看板')")
    assert page.locator(f"#today-table tr[data-id='{ended}']").count() == 0
