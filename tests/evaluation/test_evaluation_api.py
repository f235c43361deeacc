"""附件5 self-evaluation of the training rows against the hand-computed world (see conftest), scope, Excel."""

import io

import openpyxl

from tests.conftest import bearer
from tests.evaluation.conftest import YEAR

TARGETS = {"little_giant_share": 0.35, "little_giants": 3, "classes": 1, "satisfaction": 0.9}


def set_targets(client, token, region="110000", **changes):
    response = client.put(f"/api/v1/regions/{region}/years/{YEAR}/targets",
                          json={**TARGETS, "version": 0, **changes}, headers=bearer(token))
    assert response.status_code == 200, response.json


def evaluation(client, token, region="110000"):
    return client.get(f"/api/v1/regions/{region}/years/{YEAR}/evaluation", headers=bearer(token))


def test_beijing_scored_row_by_row(client, admin_token, world):
    """share 2/5 = 40% ≥ 35% and > 30% -> 5; 小巨人 trained 2 < 3 -> 0; P2 lacks 科学理论 and 形势政策 -> 0;
    classes held 1 (P2; P1 not started) ≥ 1 -> 5; r3 not reviewed and 李娜's archive lacks her position -> 0;
    satisfaction 18/20 = 90% exactly with a 90% target -> 3. Total 13 of 30."""
    set_targets(client, admin_token)
    response = evaluation(client, admin_token)
    assert response.status_code == 200, response.json
    data = response.json
    rows = {r["key"]: r for r in data["rows"]}
    assert [r["key"] for r in data["rows"]] == ["little_giant_share", "little_giants", "course_content", "classes",
                                                "trainee_management", "satisfaction"]
    assert {k: r["points"] for k, r in rows.items()} == {
        "little_giant_share": 5, "little_giants": 0, "course_content": 0, "classes": 5, "trainee_management": 0,
        "satisfaction": 3}
    assert (rows["little_giant_share"]["actual"], rows["little_giant_share"]["target"]) == (0.4, 0.35)
    assert rows["little_giant_share"]["actual_text"] == "40%（2/5家）"
    assert rows["little_giants"]["rule"] == "实际完成值2个低于目标值3个，得零分（第(2)项）"
    assert rows["classes"]["actual"] == 1 and rows["classes"]["target_text"] == "1个"
    # counts are integers on the wire (1, not 1.0); shares stay fractions
    assert all(type(rows[key][side]) is int for key in ("little_giants", "classes") for side in ("actual", "target"))
    assert b'"actual": 1.0' not in response.data.replace(b'":', b'": ')
    assert rows["trainee_management"]["actual_text"] == "资格审核3/4份；培训档案1/2人"
    assert rows["satisfaction"]["actual_text"] == "90%（18/20项评分满意）"
    assert "不高于90%" in rows["satisfaction"]["rule"]
    assert all(r["content"] == "企业培训" and r["base_points"] == 5 and r["standard"] for r in data["rows"])
    assert data["total"] == {"base_points": 30, "points": 13, "complete": True}
    missing = data["missing"]
    assert [(g["class_name"], g["missing_areas"]) for g in missing["classes_without_required_content"]] == [
        ("第二期 数字化专题班", ["科学理论", "形势政策"])]
    assert missing["classes_without_required_content"][0]["reason"] == (
        "培训内容未列明科学理论、形势政策；课表中没有科学理论、形势政策课程")
    assert [(r["name"], r["class_name"], r["registration_id"]) for r in missing["unreviewed_registrations"]] == [
        ("王强", "第一期 综合班", str(world.registrations["r3"]))]
    assert [(a["name"], a["missing"]) for a in missing["incomplete_archives"]] == [("李娜", ["profile"])]
    assert data["targets"]["version"] == 1 and data["targets"]["classes"] == 1


def test_targets_decide_the_band(client, admin_token, db, world):
    """With a 95% satisfaction target, 90% is below target but ≥ 90% -> 3 by rule (2); a 45% share target
    is above 40% -> 2; 2 小巨人 meet a target of 2 -> 5. Reviewing r3 and completing 李娜's profile
    gives trainee management its 5."""
    set_targets(client, admin_token, satisfaction=0.95, little_giant_share=0.45, little_giants=2)
    db.registrations.update_one({"_id": world.registrations["r3"]}, {
        "$set": {"state": "recommended"},
        "$push": {"history": {"at": None, "by": None, "from": "submitted", "to": "recommended", "reason": None}}})
    db.registrations.update_one({"_id": world.registrations["r2"]}, {"$set": {"snapshot.position": "总经理"}})
    data = evaluation(client, admin_token).json
    rows = {r["key"]: r for r in data["rows"]}
    assert (rows["satisfaction"]["points"], rows["little_giant_share"]["points"], rows["little_giants"]["points"],
            rows["trainee_management"]["points"]) == (3, 2, 5, 5)
    assert "低于目标值95%，但高于或等于90%，得3分" in rows["satisfaction"]["rule"]
    assert data["missing"]["unreviewed_registrations"] == [] and data["missing"]["incomplete_archives"] == []


def test_without_targets_the_rows_needing_one_are_not_scored(client, admin_token, world):
    """广东: share 1/1 and satisfaction 4/4 exceed the floors but have no target -> null; P2 and P4 are its
    classes, P2 lacks the content -> 0; r5 reviewed and archived -> 5."""
    data = evaluation(client, admin_token, region="440000").json
    points = {r["key"]: r["points"] for r in data["rows"]}
    assert points == {"little_giant_share": None, "little_giants": None, "course_content": 0, "classes": None,
                      "trainee_management": 5, "satisfaction": None}
    assert data["total"] == {"base_points": 30, "points": 5, "complete": False}
    assert data["targets"]["version"] == 0 and data["targets"]["history"] == []


def test_scope(client, make_staff, world):
    beijing = make_staff("province_staff", region_code="110000")
    assert evaluation(client, beijing).status_code == 200
    for path in (f"/api/v1/regions/440000/years/{YEAR}/evaluation",
                 f"/api/v1/regions/440000/years/{YEAR}/evaluation.xlsx"):
        refused = client.get(path, headers=bearer(beijing))
        assert refused.status_code == 403 and refused.json["code"] == "OUT_OF_SCOPE"
    for path in (f"/api/v1/years/{YEAR}/evaluation", f"/api/v1/years/{YEAR}/evaluation.xlsx"):
        refused = client.get(path, headers=bearer(beijing))
        assert refused.status_code == 403 and refused.json["code"] == "ROLE_REQUIRED"
    supervisor = make_staff("supervisor", class_ids=[world.p2])
    assert evaluation(client, supervisor).json["code"] == "ROLE_REQUIRED"


def test_all_regions_for_organizers(client, admin_token, world):
    set_targets(client, admin_token)
    data = client.get(f"/api/v1/years/{YEAR}/evaluation", headers=bearer(admin_token)).json
    by_code = {r["region_code"]: r for r in data["regions"]}
    assert len(by_code) == 37
    assert by_code["110000"]["total"] == {"base_points": 30, "points": 13, "complete": True}
    assert by_code["110000"]["targets_set"] and not by_code["440000"]["targets_set"]
    assert [r["points"] for r in by_code["440000"]["rows"]] == [None, None, 0, None, 5, None]
    assert by_code["120000"]["total"]["points"] == 0  # 天津: nothing planned, nothing scored
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(f"/api/v1/years/{YEAR}/evaluation.xlsx",
                                                            headers=bearer(admin_token)).data))
    rows = list(workbook["各地区得分"].iter_rows(values_only=True))
    assert rows[0][:3] == ("地区代码", "地区", "已设定绩效目标") and rows[0][-2:] == ("得分合计", "全部指标已评分")
    beijing = next(r for r in rows if r[0] == "110000")
    assert beijing[2:] == ("是", 5, 0, 0, 5, 0, 3, 13, "是")


def test_excel_in_the_tables_layout(client, make_staff, admin_token, world):
    set_targets(client, admin_token)
    staff = make_staff("province_staff", region_code="110000")
    response = client.get(f"/api/v1/regions/110000/years/{YEAR}/evaluation.xlsx", headers=bearer(staff))
    assert response.status_code == 200
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["绩效自评", "待完善事项"]
    sheet = workbook["绩效自评"]
    assert sheet["A1"].value == "赋能工作绩效目标考核表（企业培训）"
    assert sheet["A2"].value.startswith(f"地区：北京市（110000）　年度：{YEAR}　绩效目标第1版（")
    assert [c.value for c in sheet[3]] == ["评价内容", "评价指标", "基准分值", "绩效目标", "实际完成值", "评分标准",
                                           "得分", "得分说明"]
    assert (sheet["B4"].value, sheet["C4"].value, sheet["G4"].value) == ("合计（企业培训）", 30, 13)
    assert sheet["A5"].value == "企业培训" and "A5:A10" in {str(r) for r in sheet.merged_cells.ranges}
    table = [[c.value for c in row] for row in sheet.iter_rows(min_row=5, max_row=10)]
    assert [(r[1], r[2], r[3], r[4], r[6]) for r in table] == [
        ("本批次“小巨人”企业培训占本地“小巨人”企业总数比例", 5, "35%", "40%（2/5家）", 5),
        ("本批次培训“小巨人”企业数量(个)", 5, "3个", "2个", 0),
        ("课程内容", 5, "每期均含科学理论和形势政策", "1/2个班次包含科学理论和形势政策", 0),
        ("培训班数(个)", 5, "1个", "1个", 5),
        ("培训学员管理", 5, "全部审核、全部建档", "资格审核3/4份；培训档案1/2人", 0),
        ("服务满意度", 5, "90%", "90%（18/20项评分满意）", 3)]
    assert table[0][5].startswith("(1)实际完成值大于等于目标值，且大于30%的，得满分")
    assert table[0][7].startswith("实际完成值40%大于等于目标值35%")
    missing = [r for r in workbook["待完善事项"].iter_rows(values_only=True)]
    assert missing[0] == ("类别", "班级", "姓名", "缺少 / 说明", "时间")
    assert [(r[0], r[1], r[2]) for r in missing[1:]] == [("课程内容", "第二期 数字化专题班", None),
                                                        ("报名未审核", "第一期 综合班", "王强"),
                                                        ("培训档案不完整", "第二期 数字化专题班", "李娜")]


def test_a_year_out_of_range_is_a_field_error(client, admin_token):
    for path in ("/api/v1/regions/110000/years/99999999999999999999/evaluation",
                 "/api/v1/regions/110000/years/1999/targets", "/api/v1/years/3000/class-plan"):
        response = client.get(path, headers=bearer(admin_token))
        assert response.status_code == 422 and response.json["errors"] == {"year": ["年度应在 2015 到 2100 之间"]}, path
