"""Organizer at a desk, in headless Chromium: creates, fills and publishes a class (refusals shown
in Chinese next to the field), then imports a registry file and reads the row report."""

import datetime as dt

from tests.console.conftest import assert_no_horizontal_overflow, upload_registry_file
from tests.registry.helpers import good_row, xlsx_bytes

BEIJING_TODAY = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=8)).date()


def test_organizer_creates_fills_and_publishes_a_class(live_server, new_page, desk_login, make_staff, db):
    make_staff("supervisor", person="王老师")
    page = new_page()
    desk_login(page, make_staff("admin"))

    # A programme year, published.
    page.goto(live_server + "/console/programmes")
    page.fill("#programme-name", "2026年中小企业经营管理领军人才培训")
    page.click("#programme-save")
    page.wait_for_selector("text=2026年中小企业经营管理领军人才培训")
    page.click("button:has-text('发布')")
    page.wait_for_selector("td:has-text('已发布')")
    assert_no_horizontal_overflow(page, "organizer-programmes")

    # A class: a wrong latitude is refused next to the field, then corrected.
    start = BEIJING_TODAY + dt.timedelta(days=30)
    page.goto(live_server + "/console/classes")
    page.wait_for_selector("#class-programme option", state="attached")
    page.fill("#class-name", "第一期 专精特新发展专题班")
    page.fill("#class-institution", "清华大学经济管理学院")
    page.fill("#class-start", start.isoformat())
    page.fill("#class-end", (start + dt.timedelta(days=3)).isoformat())
    page.fill("#venue-name", "清华大学舜德楼")
    page.fill("#venue-address", "北京市海淀区清华大学")
    page.fill("#venue-latitude", "140.5")
    page.fill("#venue-longitude", "116.3265")
    page.click("#class-create")
    page.wait_for_function("() => document.querySelector('#class-create-error').textContent.length > 0")
    latitude_error = page.locator("#venue-coordinates-error").inner_text()
    assert latitude_error, "the latitude refusal is shown next to the coordinates"
    print("latitude refusal:", latitude_error, "|", page.locator("#class-create-error").inner_text())
    assert db.classes.count_documents({}) == 0
    assert_no_horizontal_overflow(page, "organizer-classes")

    # A capacity of 0 is refused under 容量 (not under a date), and cleared once fixed.
    capacity = page.input_value("#class-capacity")
    page.fill("#class-capacity", "0")
    page.click("#class-create")
    page.wait_for_function("() => document.querySelector('#class-capacity-error').textContent.length > 0")
    assert page.locator("#class-start-error").inner_text() == "" and page.locator("#class-end-error").inner_text() == ""
    page.fill("#class-capacity", capacity)

    page.fill("#venue-latitude", "40.0003")
    page.click("#class-create")
    page.wait_for_url("**/console/classes/*")
    page.wait_for_selector("#class-status:has-text('草稿')")

    # Publishing asks first, saying what follows; without quotas it is refused with the API's Chinese message.
    page.click("#class-publish")
    page.wait_for_selector("#publish-confirm", state="visible")
    assert "不能退回草稿" in page.locator("#publish-confirm").inner_text()
    assert db.classes.find_one()["status"] == "draft"  # nothing sent before the confirmation
    page.click("#class-publish-confirm")
    page.wait_for_function("() => document.querySelector('#status-error').textContent.length > 0")
    assert "名额" in page.locator("#status-error").inner_text()

    # Quotas, a session, the supervisor.
    # Regions are picked by name; a refusal is shown beside the field it concerns, once.
    page.select_option("#quota-region", label="北京市")
    page.fill("#quota-places", "30")
    page.click("#quota-add")
    page.wait_for_selector("#quota-table td:has-text('北京市')")
    page.wait_for_function("() => document.querySelector('#status-error').textContent === ''")  # answered
    page.select_option("#quota-region", label="广东省")
    page.fill("#quota-places", "-3")
    page.click("#quota-add")
    page.wait_for_function("() => document.querySelector('#quota-places-error').textContent.length > 0")
    assert page.locator("#quota-region-error").inner_text() == ""
    page.select_option("#quota-region", label="广东省")
    page.fill("#quota-places", "90")  # above the capacity of 80 with Beijing's 30
    page.click("#quota-add")
    page.wait_for_function("() => document.querySelector('#quota-places-error').textContent.includes('容量')")
    assert page.locator("#quota-error").inner_text() == ""  # once, beside the field
    page.fill("#quota-places", "10")
    page.click("#quota-add")
    page.wait_for_selector("#quota-table td:has-text('广东省')")
    assert page.locator("#quota-places-error").inner_text() == ""  # cleared once fixed

    page.fill("#session-title", "新发展格局下的企业战略")
    page.fill("#session-teacher", "张教授")
    page.fill("#session-date", start.isoformat())
    page.fill("#session-start", "09:00")
    page.fill("#session-end", "11:30")
    page.click("#session-add")
    page.wait_for_selector("#timetable td:has-text('新发展格局下的企业战略')")
    assert page.locator("#timetable-hours").inner_text() == "3.3"
    assert "08:30" in page.locator("#timetable tbody").inner_text()  # check-in opens 30 min before (Beijing)

    # An overlapping session is refused next to the timetable form.
    page.fill("#session-title", "重叠的课程")
    page.fill("#session-teacher", "李教授")
    page.fill("#session-start", "10:00")
    page.fill("#session-end", "12:00")
    page.click("#session-add")
    page.wait_for_function("() => document.querySelector('#session-starts-error').textContent.includes('重叠')")
    assert page.locator("#session-error").inner_text() == ""  # not a second time beside the button
    page.fill("#session-start", "12:00")
    page.fill("#session-end", "11:00")
    page.click("#session-add")
    page.wait_for_function("() => document.querySelector('#session-ends-error').textContent.includes('结束时间')")
    assert page.locator("#session-starts-error").inner_text() == ""
    assert page.locator("main").inner_text().count("结束时间必须晚于开始时间") == 1
    page.fill("#session-title", "")

    page.check("text=王老师")
    page.click("#supervisors-save")
    page.wait_for_function("() => document.body.innerText.includes('已保存')")

    page.click("#class-publish-confirm")
    page.wait_for_selector("#class-status:has-text('已发布')")
    page.wait_for_selector("#publish-confirm", state="hidden")
    stored = db.classes.find_one()
    assert stored["status"] == "published" and stored["capacity"] == 80
    assert db.staff_accounts.find_one({"name": "王老师"})["class_ids"] == [stored["_id"]]
    assert_no_horizontal_overflow(page, "organizer-class")


def test_organizer_imports_a_registry_file_and_reads_the_row_report(live_server, new_page, desk_login, make_staff,
                                                                    db, tmp_path, app):
    from service.registry.service import run_next_import

    live_app = app
    page = new_page()
    desk_login(page, make_staff("admin"))
    rows = [good_row(1), good_row(2), good_row(3, region="999999")]
    path = tmp_path / "第六批小巨人名单.xlsx"
    path.write_bytes(xlsx_bytes(rows))
    # The upload answers with a queued import; the worker (here: this test) runs it, the page polls.
    upload_registry_file(page, live_server, db, path)
    page.wait_for_selector("#registry-phase:has-text('排队等待导入')", timeout=20_000)
    assert page.locator("#registry-progress").get_attribute("value") == "0"  # not a full bar while queued
    page.wait_for_selector("#import-history .import-state:text-is('排队')")
    with live_app.app_context():
        assert run_next_import() is not None
    page.wait_for_selector("#registry-report", timeout=20_000)
    assert page.locator("#report-total").inner_text() == "3"
    assert page.locator("#report-inserted").inner_text() == "2"
    assert page.locator("#report-rejected").inner_text() == "1"
    assert "999999" in page.locator("#bad-rows").inner_text()
    assert page.locator("#registry-progress").get_attribute("value") == "100"
    assert db.enterprises.count_documents({}) == 2
    assert_no_horizontal_overflow(page, "organizer-registry")


def test_registry_history_states_failures_and_retry(live_server, new_page, desk_login, make_staff, db, tmp_path, app):
    from service.registry.service import run_next_import

    page = new_page()
    desk_login(page, make_staff("admin"))
    garbage = tmp_path / "名单.xlsx"
    garbage.write_bytes(b"hello")  # not a spreadsheet, named like one
    upload_registry_file(page, live_server, db, garbage)
    with app.app_context():
        run_next_import()
    page.wait_for_function("() => document.querySelector('#registry-error').textContent.length > 0", timeout=20_000)
    doc = db.registry_imports.find_one()
    row = f"#import-history tr[data-id='{doc['_id']}']"
    page.wait_for_selector(f"{row} .import-state:text-is('失败')")
    assert page.locator(f"{row} .import-failure").inner_text() == doc["error"]["message"]
    assert page.locator(f"{row} td:nth-child(4)").inner_text() == "—"  # no 0/0/0/0 as if it were a result
    assert page.locator(f"{row} .retry-import").is_hidden()  # the same file would fail the same way

    # An import cut short by a stopped worker can be run again: from the history, back to the queue.
    db.registry_imports.update_one({"_id": doc["_id"]}, {"$set": {
        "error": {"code": "REGISTRY_IMPORT_INTERRUPTED", "message": "导入中断（后台任务停止），已写入的企业保留，可重新导入"}}})
    page.reload()
    page.wait_for_selector(f"{row} .retry-import", state="visible")
    page.click(f"{row} .retry-import")
    page.wait_for_selector("#registry-phase:has-text('排队等待导入')")
    assert page.locator("#registry-progress").get_attribute("value") == "0"
    assert db.registry_imports.find_one()["state"] == "queued"

    # A row clicked anywhere reopens what that import came to (here: its failure again).
    page.reload()
    page.wait_for_selector(f"{row} .import-state:text-is('排队')")
    page.click(f"{row} td:nth-child(2)")
    page.wait_for_selector("#registry-phase:has-text('排队等待导入')")
    assert_no_horizontal_overflow(page, "organizer-registry-failed")
