"""Console lists reach every item the API pages (paging controls with the total), the year roster
download, and the confirmations before publishing or cancelling a class — in headless Chromium."""

import io

import openpyxl

from tests.console.conftest import assert_no_horizontal_overflow, upload_registry_file
from tests.factories import create_class, create_programme
from tests.registrations.conftest import apply, make_trainee  # noqa: F401 (fixtures)


def _rows(page, table):
    return page.locator(f"{table} tbody tr").count()


def test_review_queue_pages_through_every_registration(client, live_server, new_page, desk_login, make_staff,
                                                       admin_token, make_trainee, apply, db):  # noqa: F811
    programme = create_programme(client, admin_token)
    klass = create_class(client, admin_token, programme["id"], publish=True,
                         quotas=[{"region_code": "110000", "places": 40}])
    registrations = [apply(make_trainee(serial), klass["id"]) for serial in range(1, 26)]  # 25: two pages of 20

    page = new_page()
    desk_login(page, make_staff("province_staff", region_code="110000"))
    page.goto(live_server + "/console/review")
    page.wait_for_selector("#review-table tbody tr")
    page.select_option("#review-pager .pager-size", "20")
    page.wait_for_selector("#review-count:text-is('共 25 条，第 1–20 条')")
    assert _rows(page, "#review-table") == 20
    assert page.locator("#review-pager .pager-of").inner_text() == "第 1 / 2 页"
    assert page.locator("#review-pager .pager-prev").is_disabled()
    assert_no_horizontal_overflow(page, "province-review-paged")

    page.click("#review-pager .pager-next")
    page.wait_for_selector("#review-count:text-is('共 25 条，第 21–25 条')")
    assert _rows(page, "#review-table") == 5
    assert page.locator("#review-pager .pager-next").is_disabled()
    shown = set(page.locator("#review-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.id)"))
    page.click("#review-pager .pager-first")
    page.wait_for_selector("#review-count:text-is('共 25 条，第 1–20 条')")
    shown |= set(page.locator("#review-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.id)"))
    assert shown == {r["id"] for r in registrations}  # every registration reachable, none twice

    # Deciding the whole last page empties it: the queue falls back to the page that still has items.
    page.click("#review-pager .pager-last")
    page.wait_for_selector("#review-count:text-is('共 25 条，第 21–25 条')")
    page.click("#select-all")
    page.click("#bulk-recommend")
    page.wait_for_selector("#review-ok:has-text('已办理 5 条')")
    page.wait_for_selector("#review-count:text-is('共 20 条')")
    page.wait_for_selector("#review-pager .pager-moves", state="hidden")  # one page: no paging buttons
    assert _rows(page, "#review-table") == 20
    assert db.registrations.count_documents({"state": "recommended"}) == 5

    # Returning without a reason: the refusal is shown next to the reason box, nothing returned.
    page.check("#review-table tbody tr >> nth=0 >> input[type=checkbox]")
    page.click("#bulk-return")
    page.wait_for_function("() => document.querySelector('#review-reason-error').textContent.length > 0")
    assert "原因" in page.locator("#review-reason-error").inner_text()
    assert db.registrations.count_documents({"state": "returned"}) == 0


def test_organizer_lists_and_pickers_reach_every_class(client, live_server, new_page, desk_login, make_staff,
                                                       admin_token, db):
    programme = create_programme(client, admin_token)
    for number in range(1, 106):  # 105 classes: more than one API page (page_size at most 100)
        create_class(client, admin_token, programme["id"], name=f"第{number}期 专精特新发展专题班")

    page = new_page()
    desk_login(page, make_staff("admin"))
    page.goto(live_server + "/console/classes")
    page.wait_for_selector("#class-pager .pager-text:text-is('共 105 条，第 1–50 条')")
    assert _rows(page, "#class-list") == 50
    page.click("#class-pager .pager-last")
    page.wait_for_selector("#class-pager .pager-text:text-is('共 105 条，第 101–105 条')")
    assert _rows(page, "#class-list") == 5
    assert page.locator("#class-pager .pager-of").inner_text() == "第 3 / 3 页"
    page.select_option("#class-pager .pager-size", "100")
    page.wait_for_selector("#class-pager .pager-text:text-is('共 105 条，第 1–100 条')")
    assert _rows(page, "#class-list") == 100
    assert_no_horizontal_overflow(page, "organizer-classes-paged")

    # Filters are the API's: the published ones, then another year (none).
    for klass in db.classes.find({}, {"_id": 1}).sort("_id", 1).limit(3):
        db.classes.update_one({"_id": klass["_id"]}, {"$set": {"status": "published"}})
    page.select_option("#class-filter-status", "published")
    page.wait_for_selector("#class-pager .pager-text:text-is('共 3 条')")
    assert _rows(page, "#class-list") == 3
    page.fill("#class-filter-year", "2019")
    page.dispatch_event("#class-filter-year", "change")
    page.wait_for_selector("#class-pager .pager-text:text-is('共 0 条')")
    page.fill("#class-filter-year", "")
    page.dispatch_event("#class-filter-year", "change")
    page.select_option("#class-filter-status", "")
    page.wait_for_selector("#class-pager .pager-text:text-is('共 105 条，第 1–100 条')")

    # A class picker offers every class, past the API's first page of 100.
    page.goto(live_server + "/console/admissions")
    page.wait_for_function("() => document.querySelectorAll('#admissions-class option').length === 105")
    names = page.locator("#admissions-class option").all_inner_texts()
    assert any(name.startswith("第105期") for name in names) and any(name.startswith("第1期") for name in names)


def test_organizer_downloads_the_year_roster(client, live_server, new_page, desk_login, make_staff, admin_token,
                                             make_trainee, apply, db):  # noqa: F811
    programme = create_programme(client, admin_token)
    klass = create_class(client, admin_token, programme["id"], publish=True,
                         quotas=[{"region_code": "110000", "places": 5}])
    registration = apply(make_trainee(1), klass["id"])
    staff = make_staff("province_staff", region_code="110000")
    from tests.conftest import bearer
    decided = client.post(f"/api/v1/registrations/{registration['id']}/decision", json={"action": "recommend"},
                          headers=bearer(staff))
    assert decided.status_code == 200, decided.json

    page = new_page()
    desk_login(page, make_staff("admin"))
    page.goto(live_server + "/console/programmes")
    link = f"#programme-table tr[data-id='{programme['id']}'] a.year-roster"
    page.wait_for_selector(link)
    with page.expect_download() as download:
        page.click(link)
    assert download.value.suggested_filename.endswith("年度花名册（全部地区）.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(open(download.value.path(), "rb").read()), read_only=True)
    rows = list(book["花名册"].iter_rows(values_only=True))
    header = rows[0]
    assert "身份证号码" in header and "培训班" in header
    assert len(rows) == 2 and klass["name"] in rows[1]

    # The reports page offers the same download for its year.
    page.goto(live_server + "/console/reports")
    page.wait_for_selector("#year-roster-xlsx")
    with page.expect_download() as again:
        page.click("#year-roster-xlsx")
    assert again.value.suggested_filename == download.value.suggested_filename


def test_cancelling_a_class_asks_first_and_says_what_follows(client, live_server, new_page, desk_login, make_staff,
                                                             admin_token, db):
    programme = create_programme(client, admin_token)
    klass = create_class(client, admin_token, programme["id"], publish=True,
                         quotas=[{"region_code": "110000", "places": 5}])
    page = new_page()
    desk_login(page, make_staff("admin"))
    page.goto(live_server + f"/console/classes/{klass['id']}")
    page.wait_for_selector("#class-status:has-text('已发布')")
    page.click("#class-cancel")
    confirmation = page.locator("#class-cancel-confirm")
    confirmation.wait_for(state="visible")
    text = confirmation.inner_text()
    assert "不能恢复" in text and "不再接受报名" in text and "不会自动通知" in text, text
    assert "占用名额 0 人" in text
    assert_no_horizontal_overflow(page, "organizer-class-cancel-confirm")

    page.click("#class-cancel-confirm-button")  # no reason: refused next to the reason box
    page.wait_for_function("() => document.querySelector('#cancel-class-reason-error').textContent.length > 0")
    assert db.classes.find_one()["status"] == "published"

    page.fill("#cancel-reason", "场地无法使用，本期停办")
    page.click("#class-cancel-confirm-button")
    page.wait_for_selector("#class-status:has-text('已取消')")
    page.wait_for_selector("#class-cancel-confirm", state="hidden")
    page.wait_for_selector("text=班次已取消（不能恢复）")
    assert page.locator("#class-cancel").is_hidden() and page.locator("#class-publish").is_hidden()
    assert db.classes.find_one()["status"] == "cancelled"


def test_registry_history_reopens_a_report_shown_a_hundred_faults_at_a_time(live_server, new_page, desk_login,
                                                                             make_staff, db, tmp_path, app):
    from service.registry.service import run_next_import
    from tests.registry.helpers import good_row, xlsx_bytes

    page = new_page()
    desk_login(page, make_staff("admin"))
    rows = [good_row(1)] + [good_row(serial, region="999999") for serial in range(2, 152)]  # 150 faulty rows
    path = tmp_path / "名单.xlsx"
    path.write_bytes(xlsx_bytes(rows))
    upload_registry_file(page, live_server, db, path)
    with app.app_context():
        assert run_next_import() is not None
    page.wait_for_selector("#registry-report", timeout=20_000)
    assert page.locator("#bad-rows tbody tr").count() == 100
    assert page.locator("#bad-rows-count").inner_text() == "共 150 处问题，已显示 100 处"
    page.click("#bad-rows-more")
    page.wait_for_selector("#bad-rows-count:text-is('共 150 处问题，已显示 150 处')")
    assert page.locator("#bad-rows tbody tr").count() == 150
    assert page.locator("#bad-rows-more").is_hidden()

    # Later, from the history: the same report again.
    page.reload()
    row = f"#import-history tr[data-id='{db.registry_imports.find_one()['_id']}']"
    page.wait_for_selector(f"{row} .import-state:text-is('完成')")
    assert page.locator("#registry-report").count() == 0
    page.click(f"{row} button:has-text('查看报告')")
    page.wait_for_selector("#registry-report")
    assert page.locator("#report-rejected").inner_text() == "150"
    assert page.locator("#bad-rows tbody tr").count() == 100
    assert_no_horizontal_overflow(page, "organizer-registry-history")


def test_class_page_shows_quota_refusals_on_their_row_and_the_change_log(client, live_server, new_page, desk_login,
                                                                         make_staff, admin_token, make_trainee,
                                                                         apply, db):  # noqa: F811
    from tests.conftest import bearer

    programme = create_programme(client, admin_token)
    klass = create_class(client, admin_token, programme["id"], publish=True,
                         quotas=[{"region_code": "110000", "places": 2}, {"region_code": "440000", "places": 3}])
    registration = apply(make_trainee(1), klass["id"])
    decided = client.post(f"/api/v1/registrations/{registration['id']}/decision", json={"action": "recommend"},
                          headers=bearer(make_staff("province_staff", region_code="110000")))
    assert decided.status_code == 200, decided.json

    page = new_page()
    desk_login(page, make_staff("admin"))
    page.goto(live_server + f"/console/classes/{klass['id']}")
    row = "#quota-table tr[data-region='110000']"
    page.wait_for_selector(row)
    page.fill(f"{row} input", "0")  # below the one place already used
    page.click(f"{row} button:has-text('保存')")
    page.wait_for_function(f"() => document.querySelector(\"{row} .quota-row-error\").textContent.length > 0")
    assert "1" in page.locator(f"{row} .quota-row-error").inner_text()
    assert page.locator("#quota-table tr[data-region='440000'] .quota-row-error").inner_text() == ""
    assert db.classes.find_one()["quotas"]["110000"]["places"] == 2

    # The change log (recorded from publication on), in Beijing time.
    page.click("#class-changes summary")
    page.wait_for_selector("#class-changes td:has-text('状态：草稿 → 已发布')")
    assert_no_horizontal_overflow(page, "organizer-class-changes")
