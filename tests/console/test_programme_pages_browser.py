"""Organizer creates and edits programme years at a desk, in headless Chromium: the API's refusals
show in Chinese next to the field, the year stays as created, a 小巨人 programme always limits
registration to 小巨人 enterprises (the API's rule, not the page's)."""

from tests.console.conftest import assert_no_horizontal_overflow


def test_organizer_creates_and_edits_a_programme_year(live_server, new_page, desk_login, make_staff, db):
    page = new_page()
    desk_login(page, make_staff("admin"))
    page.goto(live_server + "/console/programmes")
    page.wait_for_selector("#programme-form-title:has-text('新建培训项目')")

    # Refused: a one-character name, a year out of range — next to each field, nothing stored.
    page.fill("#programme-year", "1999")
    page.fill("#programme-name", "班")
    page.click("#programme-save")
    page.wait_for_function("() => document.querySelector('#programme-name-error').textContent.length > 0")
    assert "2" in page.locator("#programme-name-error").inner_text()
    assert page.locator("#programme-error").inner_text()
    assert db.programmes.count_documents({}) == 0

    page.fill("#programme-year", "2026")
    page.fill("#programme-name", "2026年中小企业经营管理领军人才培训")
    page.check("#programme-exclude-prior")
    page.click("#programme-save")
    page.wait_for_selector("#programme-table td:has-text('2026年中小企业经营管理领军人才培训')")
    stored = db.programmes.find_one()
    assert (stored["year"], stored["kind"], stored["exclude_prior_trainees"]) == (2026, "national", True)
    row = f"#programme-table tr[data-id='{stored['_id']}']"
    page.wait_for_selector(f"{row}:has-text('往期学员不得报名')")

    # Edit: the year is fixed; name, type, topic and rules change through PATCH.
    page.click(f"{row} .edit-programme")
    page.wait_for_selector("#programme-form-title:has-text('修改培训项目')")
    assert page.locator("#programme-year").is_disabled()
    assert page.input_value("#programme-name") == "2026年中小企业经营管理领军人才培训"
    page.fill("#programme-name", " ")
    page.click("#programme-save")
    page.wait_for_function("() => document.querySelector('#programme-name-error').textContent.length > 0")
    assert "空格" in page.locator("#programme-name-error").inner_text()
    assert db.programmes.find_one()["name"] == "2026年中小企业经营管理领军人才培训"

    page.fill("#programme-name", "2026年专精特新“小巨人”企业经营管理人才培训")
    page.select_option("#programme-kind", "little_giant")
    page.fill("#programme-topic", "专精特新")
    page.uncheck("#programme-exclude-prior")
    page.click("#programme-save")
    page.wait_for_selector("#programme-ok:has-text('已保存')")
    page.wait_for_selector(f"{row}:has-text('小巨人专题班')")
    page.wait_for_selector(f"{row}:has-text('限小巨人企业')")  # the API set it for a 小巨人 programme
    assert page.locator("#programme-little-giant").is_checked()  # and the form shows what was stored
    stored = db.programmes.find_one()
    assert (stored["year"], stored["name"], stored["kind"], stored["topic"]) == (
        2026, "2026年专精特新“小巨人”企业经营管理人才培训", "little_giant", "专精特新")
    assert stored["require_little_giant"] is True and stored["exclude_prior_trainees"] is False
    assert_no_horizontal_overflow(page, "organizer-programme-edit")

    # Published, it can still be edited; back to creating a new one.
    page.click(f"{row} button:has-text('发布')")
    page.wait_for_selector(f"{row} td:has-text('已发布')")
    page.click("#programme-edit-stop")
    page.wait_for_selector("#programme-form-title:has-text('新建培训项目')")
    assert page.input_value("#programme-name") == "" and not page.locator("#programme-year").is_disabled()
