"""The class plan of 附1-2 per region and year (organizers: all regions), JSON and Excel."""

import datetime as dt
import io

import openpyxl

from tests.conftest import bearer
from tests.evaluation.conftest import YEAR


def _period(class_doc):
    start, end = (dt.date.fromisoformat(class_doc[k]) for k in ("start_date", "end_date"))
    if start.year == end.year == YEAR:
        return f"{start.month}月{start.day}日—{end.month}月{end.day}日"
    return f"{start.year}年{start.month}月{start.day}日—{end.year}年{end.month}月{end.day}日"


def test_beijing_plan(client, make_staff, db, world):
    """Beijing has places in P1 (3), P2 (2) and the draft P3 (not announced: left out); P2 has two confirmed
    Beijing trainees (and one from Guangdong, not counted here)."""
    staff = make_staff("province_staff", region_code="110000")
    response = client.get(f"/api/v1/regions/110000/years/{YEAR}/class-plan", headers=bearer(staff))
    assert response.status_code == 200, response.json
    data = response.json
    assert data["title"] == f"（{YEAR}）年度专精特新“小巨人”培训班次计划" and data["region_name"] == "北京市"
    p2, p1 = db.classes.find_one({"_id": world.p2}), db.classes.find_one({"_id": world.p1})
    assert [(c["number"], c["class_name"], c["period"], c["places"], c["confirmed"]) for c in data["classes"]] == [
        (1, "第二期 数字化专题班", _period(p2), 2, 2), (2, "第一期 综合班", _period(p1), 3, 0)]
    assert data["classes"][0]["content_areas"] == ["经营管理", "专精特新发展"]
    assert data["classes"][0]["institution"] == "清华大学经济管理学院"


def test_all_regions_for_organizers(client, admin_token, world):
    """P2: 2 + 4 places, 3 confirmed; P1: 3 places; P4: 5 places (Guangdong)."""
    data = client.get(f"/api/v1/years/{YEAR}/class-plan", headers=bearer(admin_token)).json
    assert data["region_code"] is None and data["region_name"] == "全部地区"
    assert [(c["class_name"], c["places"], c["confirmed"]) for c in data["classes"]] == [
        ("第二期 数字化专题班", 6, 3), ("第一期 综合班", 3, 0), ("广东专场", 5, 0)]


def test_excel_layout(client, admin_token, db, world):
    response = client.get(f"/api/v1/regions/110000/years/{YEAR}/class-plan.xlsx", headers=bearer(admin_token))
    assert response.status_code == 200
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    assert f"filename=class-plan-110000-{YEAR}.xlsx;" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data))["培训班次计划"]
    assert sheet["A1"].value == "附1-2"
    assert sheet["A2"].value == f"（{YEAR}）年度专精特新“小巨人”培训班次计划"
    assert [c.value for c in sheet[4]][:6] == ["序号", "时间", "班级名称", "培训内容", "培训机构", "学员数(人)"]
    assert (sheet["F5"].value, sheet["G5"].value) == ("名额", "确认参训")
    assert {"F4:G4", "A4:A5", "A2:G2"} <= {str(r) for r in sheet.merged_cells.ranges}
    p2 = db.classes.find_one({"_id": world.p2})
    assert [c.value for c in sheet[6]] == [1, _period(p2), "第二期 数字化专题班", "经营管理、专精特新发展",
                                           "清华大学经济管理学院", 2, 2]
    assert [c.value for c in sheet[7]][2:] == ["第一期 综合班", "科学理论、形势政策、经营管理、专精特新发展",
                                               "清华大学经济管理学院", 3, 0]
    assert sheet["E9"].value == "单位(盖章)"


def test_scope(client, make_staff, world):
    beijing = make_staff("province_staff", region_code="110000")
    for path in (f"/api/v1/regions/440000/years/{YEAR}/class-plan",
                 f"/api/v1/regions/440000/years/{YEAR}/class-plan.xlsx"):
        refused = client.get(path, headers=bearer(beijing))
        assert refused.status_code == 403 and refused.json["code"] == "OUT_OF_SCOPE"
    for path in (f"/api/v1/years/{YEAR}/class-plan", f"/api/v1/years/{YEAR}/class-plan.xlsx"):
        refused = client.get(path, headers=bearer(beijing))
        assert refused.status_code == 403 and refused.json["code"] == "ROLE_REQUIRED"
    supervisor = make_staff("supervisor", class_ids=[world.p2])
    refused = client.get(f"/api/v1/regions/110000/years/{YEAR}/class-plan", headers=bearer(supervisor))
    assert refused.status_code == 403 and refused.json["code"] == "ROLE_REQUIRED"


def test_period_names_the_years_of_a_class_outside_the_programme_year():
    from service.evaluation.service import period

    assert period("2026-03-02", "2026-03-05", 2026) == "3月2日—3月5日"
    assert period("2026-12-28", "2027-01-03", 2026) == "2026年12月28日—2027年1月3日"
    assert period("2027-01-05", "2027-01-08", 2026) == "2027年1月5日—2027年1月8日"
