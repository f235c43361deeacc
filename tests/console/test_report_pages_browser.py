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


# ---- charts drawn from the API's figures (the hand-computed world of tests/reports/conftest.py) ----

from tests.reports.conftest import world  # noqa: E402,F401 (fixture)

DATASETS = ("id => Chart.getChart(document.getElementById(id)).data.datasets"
            ".map(d => [d.label, d.data.map(v => v === null ? null"
            " : Math.round((typeof v === 'object' ? v.y : v) * 100) / 100)])")
# A threshold line's two ends on its hidden edge axis: from the first bar's left edge to the last's right.
LINE_ENDS = ("id => { const c = Chart.getChart(document.getElementById(id)); const d = c.data.datasets[1];"
             " return [d.data[0].x, d.data[d.data.length - 1].x, c.data.labels.length]; }")
TICKS = "id => Chart.getChart(document.getElementById(id)).scales.x.ticks.length"
LABELS = "id => Chart.getChart(document.getElementById(id)).data.labels"


def _chart(page, canvas_id):
    page.wait_for_function(HAS_CHART, arg=canvas_id)
    return dict(page.evaluate(DATASETS, canvas_id)), page.evaluate(LABELS, canvas_id)


def test_supervisor_class_report_charts_attendance_and_satisfaction_against_90(live_server, new_page, desk_login,
                                                                                make_staff, world):  # noqa: F811
    page = new_page()
    desk_login(page, make_staff("supervisor", class_ids=[world.class_a]))
    page.goto(live_server + "/console/classreport")
    page.wait_for_selector("#class-report")
    page.wait_for_selector("#report-attendance:text-is('66.7%')")
    page.wait_for_selector("#report-satisfaction:text-is('87.5%')")  # 7/8, under the 90% line
    assert "bad" in page.locator("#report-satisfaction").get_attribute("class")

    # Attendance per session: stacked marks and the rate (s1 3/3, s2 2/3, s3 1/3).
    data, labels = _chart(page, "chart-attendance")
    assert labels == ["新发展格局", "数字化转型", "专精特新之路"]
    assert (data["出勤"], data["迟到"], data["缺勤"], data["请假"]) == ([2, 2, 0], [1, 0, 1], [0, 1, 0], [0, 0, 1])
    assert data["出勤率"] == [100, 66.67, 33.33]
    # Satisfaction per session, teacher and dimension, each with the 90% line.
    data, labels = _chart(page, "chart-session-satisfaction")
    assert data["课程满意度"] == [66.67, 100, None] and set(data["90% 目标"]) == {90}
    first, last, bars = page.evaluate(LINE_ENDS, "chart-session-satisfaction")
    assert (first, last) == (-0.5, bars - 0.5)  # the 90% line reaches past the first and last bars
    data, labels = _chart(page, "chart-teachers")
    assert labels == ["张教授", "李教授"] and data["教师满意度"] == [66.67, 100] and set(data["90% 目标"]) == {90}
    # Bars under the 90% line are red, at or above it green.
    colours = page.evaluate("id => Chart.getChart(document.getElementById(id)).data.datasets[0].backgroundColor",
                            "chart-teachers")
    assert colours == page.evaluate("[ConsoleCharts.MISSES, ConsoleCharts.MEETS]")
    data, labels = _chart(page, "chart-dimensions")
    assert data["维度满意度"] == [100, 50, 100, 100] and set(data["90% 目标"]) == {90}
    href = page.locator("#class-report-xlsx").get_attribute("href")
    assert page.request.get(live_server + href).body()[:2] == b"PK"
    assert_no_horizontal_overflow(page, "supervisor-class-report")

    # A class they do not supervise: the API's refusal, in Chinese.
    refused = page.request.get(live_server + f"/api/v1/reports/classes/{world.class_b}")
    assert refused.status == 403 and refused.json()["code"] == "OUT_OF_SCOPE"


def test_province_class_report_counts_their_region_only(live_server, new_page, desk_login, make_staff,
                                                        world):  # noqa: F811
    page = new_page()
    desk_login(page, make_staff("province_staff", region_code="440000"))
    page.goto(live_server + "/console/classreport")
    page.wait_for_selector("#class-report")
    data, _ = _chart(page, "chart-attendance")
    assert (data["出勤"], data["迟到"]) == ([0, 1, 0], [1, 0, 0])  # 王强 alone (广东)
    page.wait_for_selector("text=仅统计本地区学员")


def test_organizer_region_charts_against_thresholds(live_server, new_page, desk_login, admin_token, client,
                                                    world):  # noqa: F811
    from tests.conftest import bearer

    regions = client.get("/api/v1/reports/years/2026/regions", headers=bearer(admin_token)).json["regions"]
    rated = [r for r in regions if r["satisfaction"]["class_ratings"] > 0]
    page = new_page()
    desk_login(page, admin_token)
    page.goto(live_server + "/console/reports")
    page.wait_for_selector("#regions-table tbody tr")
    page.fill("#regions-year", "2026")
    page.dispatch_event("#regions-year", "change")
    page.wait_for_function("() => Chart.getChart(document.getElementById('chart-regions-satisfaction'))"
                           ".data.labels.length > 0")
    data, labels = _chart(page, "chart-regions-satisfaction")
    assert labels == [r["region_name"] for r in rated] and labels
    assert data["服务满意度"] == [round(r["satisfaction"]["rate"] * 100, 2) for r in rated]
    assert set(data["90% 目标"]) == {90}
    data, labels = _chart(page, "chart-regions")
    assert set(data["30% 目标"]) == {30}
    assert page.evaluate(TICKS, "chart-regions") == len(labels)  # every region named, none skipped
    assert_no_horizontal_overflow(page, "organizer-reports-regions")
