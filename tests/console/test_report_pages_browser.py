"""Reports at a desk, in headless Chromium: the organizer's class report and all-regions table with
charts, the province's KPI page against the 30% / 90% thresholds (notice 243 附件5)."""

from tests.console.conftest import assert_no_horizontal_overflow

HAS_CHART = "id => !!window.Chart && !!window.Chart.getChart(document.getElementById(id))"


def test_organizer_reports_show_charts_and_excel_links(live_server, new_page, desk_login, make_checkin_class,
                                                       class_code, scan, admin_token):
    klass = make_checkin_class()
    assert scan(klass.trainees[0].token, class_code(klass)).status_code == 200
    page = new_page()
    desk_login(page, admin_token)
    page.goto(live_server + "/console/reports")
    page.wait_for_selector("#class-report")
    page.wait_for_selector("#regions-table tbody tr")
    for chart in ("chart-attendance", "chart-session-satisfaction", "chart-teachers", "chart-dimensions",
                  "chart-regions"):
        page.wait_for_function(HAS_CHART, arg=chart)
    assert page.locator("#regions-table tbody tr").count() == 37  # every region, as the API answers
    href = page.locator("#class-report-xlsx").get_attribute("href")
    download = page.request.get(live_server + href)
    assert download.status == 200 and download.body()[:2] == b"PK"  # the Excel, through the console session
    assert_no_horizontal_overflow(page, "organizer-reports")


def test_province_kpi_page_against_thresholds(live_server, new_page, desk_login, make_staff):
    page = new_page()
    desk_login(page, make_staff("province_staff", region_code="110000"))
    page.goto(live_server + "/console/kpis")
    page.wait_for_selector("#kpi-little-giants")
    assert "30%" in page.locator("body").inner_text() and "90%" in page.locator("body").inner_text()
    for chart in ("chart-little-giants", "chart-satisfaction", "chart-kpis"):
        page.wait_for_function(HAS_CHART, arg=chart)
    assert_no_horizontal_overflow(page, "province-kpis")

    # The organizer's page is not theirs, nor the organizer's API answer behind it.
    assert page.request.get(live_server + "/console/reports").status == 403
    refused = page.request.get(live_server + "/api/v1/reports/years/2026/regions")
    assert refused.status == 403 and refused.json()["code"] == "ROLE_REQUIRED"
