"""The organizer's staff accounts page in headless Chromium: a paged list reaching every account,
creation refused next to the field then the one-time binding code, deactivation after a confirmation."""

from tests.console.conftest import assert_no_horizontal_overflow


def test_organizer_manages_staff_accounts(app, live_server, new_page, desk_login, make_staff, db):
    from service.staff import service as staff_service

    admin = make_staff("admin")
    with app.app_context():
        for number in range(1, 25):  # 24 + the organizer: two pages of 20
            staff_service.create(name=f"班主任{number:02d}", role="supervisor", region_code=None, class_ids=[])

    page = new_page()
    desk_login(page, admin)
    page.goto(live_server + "/console/staff")
    page.wait_for_selector("#staff-pager .pager-text:text-is('共 25 条，第 1–20 条')")
    assert page.locator("#staff-table tbody tr").count() == 20
    page.click("#staff-pager .pager-next")
    page.wait_for_selector("#staff-pager .pager-text:text-is('共 25 条，第 21–25 条')")
    assert page.locator("#staff-table tbody tr").count() == 5
    page.select_option("#staff-filter-role", "admin")
    page.wait_for_selector("#staff-pager .pager-text:text-is('共 1 条')")
    page.select_option("#staff-filter-role", "")
    page.wait_for_selector("#staff-pager .pager-text:text-is('共 25 条，第 1–20 条')")

    # Province staff without a region: refused next to the region picker, nothing created.
    page.fill("#staff-name", "李四")
    page.select_option("#staff-role", "province_staff")
    page.click("#staff-create")
    page.wait_for_function("() => document.querySelector('#staff-region-error').textContent.length > 0")
    assert db.staff_accounts.count_documents({"name": "李四"}) == 0
    page.select_option("#staff-region", "440000")
    page.click("#staff-create")
    page.wait_for_selector("#binding-code-box")
    code = page.locator("#binding-code").inner_text()
    assert len(code) == 10 and code.isalnum()
    stored = db.staff_accounts.find_one({"name": "李四"})
    assert stored["role"] == "province_staff" and stored["region_code"] == "440000" and stored["active"]
    page.wait_for_selector("#staff-pager .pager-text:has-text('共 26 条')")
    assert_no_horizontal_overflow(page, "organizer-staff")

    # Deactivating asks first and says what it does.
    page.select_option("#staff-filter-region", "440000")
    row = f"#staff-table tr[data-id='{stored['_id']}']"
    page.wait_for_selector(row)
    page.click(f"{row} .deactivate")
    assert "立即不能" in page.locator(f"{row} .confirm-inline").inner_text()
    assert db.staff_accounts.find_one({"_id": stored["_id"]})["active"]
    page.click(f"{row} .confirm-deactivate")
    page.wait_for_selector(f"{row} td:text-is('已停用')")
    assert not db.staff_accounts.find_one({"_id": stored["_id"]})["active"]
