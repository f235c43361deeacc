"""Province staff at a desk, in headless Chromium: recommend within the quota (the gauge moves,
the over-quota refusal shows on its row), return with a reason, approve a leave request."""

from tests.conftest import bearer
from tests.console.conftest import assert_no_horizontal_overflow
from tests.factories import create_class, create_programme
from tests.leave.conftest import beijing, leave_body, leave_class  # noqa: F401 (fixture)
from tests.registrations.conftest import apply, make_trainee  # noqa: F401 (fixtures)


def test_province_staff_recommend_within_the_quota(client, live_server, new_page, desk_login, make_staff,
                                                   admin_token, make_trainee, apply, db):
    programme = create_programme(client, admin_token)
    klass = create_class(client, admin_token, programme["id"], publish=True,
                         quotas=[{"region_code": "110000", "places": 2}, {"region_code": "440000", "places": 5}])
    registrations = [apply(make_trainee(serial), klass["id"]) for serial in (1, 2, 3)]
    apply(make_trainee(9, region_code="440000"), klass["id"])  # another region's: never shown here

    page = new_page()
    desk_login(page, make_staff("province_staff", region_code="110000"))
    page.goto(live_server + "/console/review")
    page.wait_for_selector("#review-table tbody tr")
    assert page.locator("#review-table tbody tr").count() == 3
    assert page.locator("#quota-text").inner_text() == "已用 0 / 名额 2，剩余 2"
    assert page.locator("#quota-gauge").get_attribute("value") == "0"  # a gauge at 0, not an indeterminate bar
    assert "********" in page.locator("#review-table tbody").inner_text()  # ID numbers masked
    assert_no_horizontal_overflow(page, "province-review")

    first_two = [r["id"] for r in registrations[:2]]
    for registration_id in first_two:
        page.check(f"tr[data-id='{registration_id}'] input[type=checkbox]")
    page.click("#bulk-recommend")
    page.wait_for_selector("#quota-text:has-text('已用 2 / 名额 2，剩余 0')")
    assert page.locator("#quota-gauge").get_attribute("value") == "2"
    assert page.locator("#review-table tbody tr").count() == 1  # the submitted one left

    # Over the quota: refused on its row with the API's Chinese message, nothing taken.
    last = registrations[2]["id"]
    page.check(f"tr[data-id='{last}'] input[type=checkbox]")
    page.click("#bulk-recommend")
    page.wait_for_function(f"() => document.querySelector(\"tr[data-id='{last}'] .row-error\").textContent.length > 0")
    assert "名额已满" in page.locator(f"tr[data-id='{last}'] .row-error").inner_text()
    assert db.registrations.find_one({"state": "submitted"}) is not None

    # Return it with a reason instead.
    page.fill("#review-reason", "请补充营业执照扫描件")
    page.click("#bulk-return")
    page.wait_for_selector("#review-ok:has-text('已办理 1 条')")
    states = sorted(r["state"] for r in db.registrations.find({"region_code": "110000"}, {"state": 1}))
    assert states == ["recommended", "recommended", "returned"]


def test_province_staff_approve_a_leave_request(client, live_server, new_page, desk_login, make_staff,
                                               leave_class, db):  # noqa: F811
    trainee = leave_class.trainees[0]
    starts, ends = leave_class.sessions[2][1], leave_class.sessions[2][2]
    asked = client.post("/api/v1/leave-requests", json=leave_body(leave_class, starts, ends),
                        headers=bearer(trainee.token))
    assert asked.status_code == 201, asked.json

    page = new_page()
    desk_login(page, make_staff("province_staff", region_code="110000"))
    page.goto(live_server + "/console/leave")
    row = f"tr[data-id='{asked.json['id']}']"
    page.wait_for_selector(row)
    assert "发烧就医" in page.locator(row).inner_text()
    assert_no_horizontal_overflow(page, "province-leave")

    page.click(f"{row} button:has-text('驳回')")  # no comment: refused next to the comment box
    page.wait_for_function(f"() => document.querySelector(\"{row} .field-error\").textContent.length > 0")
    assert page.locator(f"{row} .field-error").inner_text() == "请填写意见"  # once, not "不批准时请填写意见：请填写意见"
    page.click(f"{row} button:has-text('批准')")
    page.wait_for_selector(row, state="detached")
    assert db.leave_requests.find_one()["state"] == "approved"


def test_province_staff_filter_the_queue_and_open_the_trainees_files(client, live_server, new_page, desk_login,
                                                                     make_staff, admin_token, make_trainee, db):
    import io

    from tests.factories import credit_code, profile_body
    from tests.trainees.test_attachments_api import png_bytes

    programme = create_programme(client, admin_token)
    klass = create_class(client, admin_token, programme["id"], publish=True,
                         quotas=[{"region_code": "110000", "places": 5}])
    zhang = make_trainee(1, name="张伟")
    licence = client.post("/api/v1/trainee/attachments", headers=bearer(zhang), content_type="multipart/form-data",
                          data={"kind": "business_licence", "file": (io.BytesIO(png_bytes()), "营业执照.png")}).json
    rid = client.post("/api/v1/registrations", json={"class_id": klass["id"], "attachment_ids": [licence["id"]]},
                      headers=bearer(zhang)).json["id"]
    assert client.post(f"/api/v1/registrations/{rid}/submit", headers=bearer(zhang)).status_code == 200
    for serial, name in ((2, "李娜"), (3, "欧阳·娜娜")):
        token = make_trainee(serial, name=name)
        other = client.post("/api/v1/registrations", json={"class_id": klass["id"]}, headers=bearer(token)).json
        assert client.post(f"/api/v1/registrations/{other['id']}/submit", headers=bearer(token)).status_code == 200
    db.enterprises.insert_one({"credit_code": credit_code(1), "title": "小巨人", "region_code": "110000",
                               "valid_from": "2020-01-01", "valid_until": "2099-12-31"})

    page = new_page()
    desk_login(page, make_staff("province_staff", region_code="110000"))
    page.goto(live_server + "/console/review")
    rows = "#review-table tbody tr"
    page.wait_for_function(f"() => document.querySelectorAll('{rows}').length === 3")
    page.wait_for_selector("#review-count:text-is('共 3 条')")

    page.fill("#filter-name", "娜")
    page.click("#filter-apply")
    page.wait_for_function(f"() => document.querySelectorAll('{rows}').length === 2")
    page.fill("#filter-name", "欧阳•娜娜")  # another dot: found as stored
    page.click("#filter-apply")
    page.wait_for_function(f"() => document.querySelectorAll('{rows}').length === 1 && "
                           f"document.querySelector('{rows}').textContent.includes('欧阳·娜娜')")

    page.fill("#filter-name", "张" * 31)  # the API's refusal next to the field
    page.click("#filter-apply")
    page.wait_for_function("() => document.querySelector('#filter-name-error').textContent.length > 0")
    assert "30" in page.locator("#filter-name-error").inner_text()
    page.wait_for_function(f"() => document.querySelectorAll('{rows}').length === 0")

    page.fill("#filter-name", "")
    page.fill("#filter-enterprise", profile_body(2)["enterprise"]["name"])
    page.click("#filter-apply")
    page.wait_for_function(f"() => document.querySelectorAll('{rows}').length === 1 && "
                           f"document.querySelector('{rows}').textContent.includes('李娜')")
    page.fill("#filter-enterprise", "")
    page.select_option("#filter-little-giant", "true")
    page.wait_for_function(f"() => document.querySelectorAll('{rows}').length === 1 && "
                           f"document.querySelector('{rows}').dataset.id === '{rid}'")
    page.wait_for_function(f"() => document.querySelector(\"tr[data-id='{rid}']\").innerText.split('是').length > 2")

    # The trainee's snapshot and files.
    page.click(f"tr[data-id='{rid}'] .open-detail")
    page.wait_for_selector("#registration-detail #detail-name:has-text('张伟')")
    page.wait_for_selector("#detail-files li:has-text('营业执照')")
    page.wait_for_selector("#registration-detail:has-text('有效至 2099-12-31')")
    detail = page.locator("#registration-detail").inner_text()
    assert "北京精工科技有限公司1" in detail and "清华大学" in detail and "有效至 2099-12-31" in detail
    assert "********" in detail  # ID number still masked
    link = page.locator("#detail-files li:has-text('营业执照') a").first
    href = link.get_attribute("href")
    assert href == f"/api/v1/attachments/{licence['id']}"
    download = page.request.get(live_server + href)  # the console session's cookie, as a click sends it
    assert download.status == 200 and download.body()[:4] == b"\x89PNG"
    assert_no_horizontal_overflow(page, "province-review-detail")

    # Bulk return without a reason: refused on the row, in Chinese; nothing moved.
    page.check(f"tr[data-id='{rid}'] input[type=checkbox]")
    page.click("#bulk-return")
    page.wait_for_function(f"() => document.querySelector(\"tr[data-id='{rid}'] .row-error\").textContent.length > 0")
    assert db.registrations.count_documents({"state": "submitted"}) == 3
