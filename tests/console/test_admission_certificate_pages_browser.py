"""Organizer's admissions and certificates at a desk, in headless Chromium."""

from tests.certificates.conftest import finished_class, rate_class  # noqa: F401 (fixtures)
from tests.conftest import bearer
from tests.console.conftest import assert_no_horizontal_overflow
from tests.factories import create_class, create_programme
from tests.registrations.conftest import apply, make_trainee  # noqa: F401 (fixtures)


def test_organizer_admits_recommended_trainees(client, live_server, new_page, desk_login, admin_token, make_staff,
                                               make_trainee, apply, db):  # noqa: F811
    programme = create_programme(client, admin_token)
    klass = create_class(client, admin_token, programme["id"], publish=True)
    staff = make_staff("province_staff", region_code="110000")
    registrations = [apply(make_trainee(serial), klass["id"]) for serial in (1, 2)]
    decided = client.post("/api/v1/registrations/decisions", headers=bearer(staff),
                          json={"registration_ids": [r["id"] for r in registrations], "action": "recommend"})
    assert decided.json["succeeded"] == 2

    page = new_page()
    desk_login(page, admin_token)
    page.goto(live_server + "/console/admissions")
    page.wait_for_selector("#admissions-table tbody tr")
    assert_no_horizontal_overflow(page, "organizer-admissions")
    page.wait_for_selector(f"tr[data-id='{registrations[0]['id']}'] td:text-is('北京市')")  # region by name
    # Not admitting needs a reason: refused next to the reason box, nothing changed.
    page.check(f"tr[data-id='{registrations[1]['id']}'] input")
    page.click("button:has-text('不予录取')")
    page.wait_for_function("() => document.querySelector('#admissions-reason-error').textContent.length > 0")
    assert sorted(r["state"] for r in db.registrations.find()) == ["recommended", "recommended"]
    page.uncheck(f"tr[data-id='{registrations[1]['id']}'] input")
    page.check(f"tr[data-id='{registrations[0]['id']}'] input")
    page.click("#bulk-admit")
    page.wait_for_selector("#admissions-ok:has-text('已办理 1 条')")
    assert sorted(r["state"] for r in db.registrations.find()) == ["admitted", "recommended"]
    assert page.locator("#admissions-reason-error").inner_text() == ""


def test_organizer_issues_and_revokes_certificates(live_server, new_page, desk_login, admin_token, finished_class,
                                                   db):  # noqa: F811
    page = new_page()
    desk_login(page, admin_token)
    page.goto(live_server + "/console/certificates")
    page.wait_for_selector("#completion-table tbody tr")
    assert "出勤率" in page.locator("#completion-table").inner_text()
    page.click("#issue-certificates")
    page.wait_for_selector("#certificates-ok:has-text('新发证书 1 张')")
    page.wait_for_selector("#certificates-table tbody tr")
    assert_no_horizontal_overflow(page, "organizer-certificates")

    row = "#certificates-table tbody tr"
    page.click(f"{row} button:has-text('撤销')")  # no reason: refused next to the reason box
    page.wait_for_function("() => document.querySelector('#certificates-table .field-error').textContent.length > 0")
    assert db.certificates.find_one()["status"] == "valid"
    page.fill(f"{row} input", "出勤记录有误，经核实未达结业要求")
    page.click(f"{row} button:has-text('撤销')")
    page.wait_for_selector(f"{row} td:has-text('已撤销')")
    assert db.certificates.find_one()["status"] == "revoked"

    # Issuing to every eligible trainee again leaves the revoked one out and says so.
    page.click("#issue-certificates")
    page.wait_for_selector("#certificates-ok:has-text('证书已被撤销，未重新发证')")
    assert "新发证书 0 张" in page.locator("#certificates-ok").inner_text()
    assert db.certificates.count_documents({}) == 1
    # Re-issuing is a deliberate act on that row, after a confirmation.
    page.click(f"{row} button.reissue")
    page.wait_for_selector(f"{row} .confirm-inline", state="visible")
    assert db.certificates.count_documents({}) == 1
    page.click(f"{row} .reissue-confirm")
    page.wait_for_selector("#certificates-ok:has-text('已为')")
    assert db.certificates.count_documents({"status": "valid"}) == 1
    page.wait_for_function("() => document.querySelectorAll('#certificates-table tbody tr').length === 2")
    # The revoked row's button goes once the list holds the new valid certificate (the table's rows
    # and their buttons are redrawn in separate steps: wait for it rather than read at once).
    page.wait_for_function("() => ![...document.querySelectorAll('#certificates-table button.reissue')]"
                           ".some((b) => b.offsetParent !== null)", timeout=10_000)
    assert page.locator("#certificates-table button.reissue:visible").count() == 0


def test_certificate_refusal_shows_in_chinese(client, live_server, new_page, desk_login, admin_token, db):
    programme = create_programme(client, admin_token)
    create_class(client, admin_token, programme["id"], publish=True)
    page = new_page()
    desk_login(page, admin_token)
    page.goto(live_server + "/console/certificates")
    page.wait_for_selector("#completion-table")
    page.click("#issue-certificates")
    page.wait_for_selector("#certificates-error:has-text('班级课程尚未全部结束')")
    page.wait_for_timeout(500)  # the class read after the refusal does not wipe it
    assert "班级课程尚未全部结束" in page.locator("#certificates-error").inner_text()
    assert db.certificates.count_documents({}) == 0
