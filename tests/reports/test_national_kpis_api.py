"""The all-regions KPI table (notice 243 附件5) for organizers: figures against a hand-computed
world of four regions, consistency with the region-year report, Excel, refusals."""

import io

import openpyxl
import pytest
from bson import ObjectId

from service.core.regions import all_regions
from tests.conftest import bearer
from tests.reports.conftest import CONFIRMED, YEAR, _history, _snapshot

SHANGHAI, JIANGSU = "310000", "320000"


def table(client, token, year=YEAR, suffix=""):
    return client.get(f"/api/v1/reports/years/{year}/regions{suffix}", headers=bearer(token))


@pytest.fixture
def national(db, world):
    """The reports world (北京 110000, 广东 440000) and two more regions:

    上海 310000: 陈晨 confirmed in class A with enterprise G6, a 小巨人 of 上海 valid in 2026 (G7, another
    one, sent nobody); a record for each of s1, s2, s3 (archive complete); a valid certificate; a
    class rating (5, 5, 4, 2): 3 of 4 scores satisfied.
    江苏 320000: 刘洋 submitted to class B, not yet reviewed.
    """
    chen, liu = ObjectId(), ObjectId()
    chen_registration = ObjectId()
    db.registrations.insert_many([
        {"_id": chen_registration, "class_id": world.class_a, "user_id": chen, "year": YEAR, "region_code": SHANGHAI,
         "state": "confirmed", "history": CONFIRMED, "credit_code": "G6", "enterprise_name": "陈晨的企业",
         "snapshot": _snapshot("陈晨", "G6"), "created_at": CONFIRMED[0]["at"], "version": 1},
        {"_id": ObjectId(), "class_id": world.class_b, "user_id": liu, "year": YEAR, "region_code": JIANGSU,
         "state": "submitted", "history": _history((None, "draft"), ("draft", "submitted")), "credit_code": "N9",
         "enterprise_name": "刘洋的企业", "snapshot": _snapshot("刘洋", "N9"), "created_at": CONFIRMED[0]["at"],
         "version": 1},
    ])
    db.attendance.insert_many([{"session_id": sid, "class_id": world.class_a, "user_id": chen,
                                "registration_id": chen_registration, "region_code": SHANGHAI, "status": "present"}
                               for sid in world.sessions])
    db.certificates.insert_one({"number": "LJ202600003", "status": "valid", "class_id": world.class_a,
                                "registration_id": chen_registration, "user_id": chen, "region_code": SHANGHAI,
                                "year": YEAR, "name": "陈晨", "issued_on": "2026-01-01"})
    db.ratings.insert_one({"_id": ObjectId(), "class_id": world.class_a, "year": YEAR, "region_code": SHANGHAI,
                           "kind": "class", "suggestions": "",
                           "scores": {"course_design": 5, "faculty": 5, "organisation": 4, "effect": 2}})
    db.enterprises.insert_many([
        {"credit_code": code, "title": "小巨人", "region_code": SHANGHAI, "name": code, "valid_from": "2025-01-01",
         "valid_until": "2027-12-31"} for code in ("G6", "G7")])
    return world


def _row(data, region_code):
    return next(r for r in data["regions"] if r["region_code"] == region_code)


def test_rows_of_the_regions(client, admin_token, national):
    """北京 and 广东 as in test_region_kpis_api. 上海: class A held, 1 trainee, 1 certificate, 小巨人 G6 of
    G6, G7 -> 1/2, reviewed 1/1, archive complete 1/1, satisfaction 3/4. 江苏: nothing but 1 pending."""
    response = table(client, admin_token)
    assert response.status_code == 200, response.json
    data = response.json
    assert data["year"] == YEAR
    beijing = _row(data, "110000")
    assert (beijing["region_name"], beijing["classes_held"], beijing["classes_with_trainees"],
            beijing["trainees_trained"], beijing["trainees_completed"]) == ("北京市", 1, 2, 3, 1)
    assert beijing["little_giants"] == {"trained": 2, "in_registry": 3, "share": 0.6667, "threshold": 0.3, "meets": True}
    assert beijing["review"] == {"reviewed": 4, "to_review": 5, "pending": 1, "share": 0.8}
    assert beijing["archives"] == {"trainees": 3, "complete": 2, "share": 0.6667}
    assert beijing["satisfaction"] == {"class_ratings": 1, "rate": 1.0, "threshold": 0.9, "meets": True}

    guangdong = _row(data, "440000")
    assert (guangdong["classes_held"], guangdong["classes_with_trainees"], guangdong["trainees_trained"],
            guangdong["trainees_completed"]) == (1, 1, 1, 0)
    assert guangdong["little_giants"]["share"] == 1.0 and guangdong["review"]["share"] == 1.0
    assert guangdong["archives"] == {"trainees": 1, "complete": 0, "share": 0.0}  # no record for s3
    assert guangdong["satisfaction"]["rate"] == 0.75 and guangdong["satisfaction"]["meets"] is False

    shanghai = _row(data, SHANGHAI)
    assert (shanghai["region_name"], shanghai["classes_held"], shanghai["trainees_trained"],
            shanghai["trainees_completed"]) == ("上海市", 1, 1, 1)
    assert shanghai["little_giants"] == {"trained": 1, "in_registry": 2, "share": 0.5, "threshold": 0.3, "meets": True}
    assert shanghai["archives"] == {"trainees": 1, "complete": 1, "share": 1.0}
    assert shanghai["satisfaction"] == {"class_ratings": 1, "rate": 0.75, "threshold": 0.9, "meets": False}

    jiangsu = _row(data, JIANGSU)
    assert (jiangsu["classes_held"], jiangsu["classes_with_trainees"], jiangsu["trainees_trained"]) == (0, 0, 0)
    assert jiangsu["review"] == {"reviewed": 0, "to_review": 1, "pending": 1, "share": 0.0}
    assert jiangsu["archives"]["share"] is None and jiangsu["satisfaction"]["rate"] is None


def test_every_region_has_a_row_in_code_order(client, admin_token, national):
    data = table(client, admin_token).json
    assert [r["region_code"] for r in data["regions"]] == sorted(all_regions())
    quiet = _row(data, "650000")  # 新疆维吾尔自治区: nothing this year
    assert quiet["region_name"] == "新疆维吾尔自治区"
    assert (quiet["classes_held"], quiet["trainees_trained"], quiet["little_giants"]["in_registry"],
            quiet["review"]["to_review"], quiet["satisfaction"]["class_ratings"]) == (0, 0, 0, 0, 0)
    assert quiet["little_giants"]["meets"] is False and quiet["archives"]["share"] is None


def test_national_total(client, admin_token, national):
    """Classes counted once: A held (trainees of three regions), B not held -> 1 held of 2.
    Trainees 3+1+1 = 5, certificates 1+0+1 = 2, 小巨人 (2+1+1)/(3+1+2) = 4/6, review (4+1+1)/(5+1+1+1) = 6/8,
    archives (2+0+1)/5, satisfaction (4+3+3)/(3×4) scores = 10/12."""
    total = table(client, admin_token).json["national"]
    assert (total["region_code"], total["region_name"]) == (None, "全国")
    assert (total["classes_held"], total["classes_with_trainees"], total["trainees_trained"],
            total["trainees_completed"]) == (1, 2, 5, 2)
    assert total["little_giants"] == {"trained": 4, "in_registry": 6, "share": 0.6667, "threshold": 0.3, "meets": True}
    assert total["review"] == {"reviewed": 6, "to_review": 8, "pending": 2, "share": 0.75}
    assert total["archives"] == {"trainees": 5, "complete": 3, "share": 0.6}
    assert total["satisfaction"] == {"class_ratings": 3, "rate": 0.8333, "threshold": 0.9, "meets": False}


def test_rows_equal_the_region_reports(client, admin_token, national):
    """One computation serves both: each row is the region-year report without the names."""
    data = table(client, admin_token).json
    for code in ("110000", "440000", SHANGHAI, JIANGSU):
        single = client.get(f"/api/v1/reports/regions/{code}/years/{YEAR}", headers=bearer(admin_token)).json
        # The count (query filters) and the list of names (per-registration flags) agree.
        archives = single["archives"]
        assert archives["complete"] == archives["trainees"] - len(archives["incomplete"]), code
        del single["year"], single["generated_at"], single["archives"]["incomplete"]
        assert _row(data, code) == single


def test_another_year(client, admin_token, national):
    data = table(client, admin_token, year=YEAR - 1).json
    assert _row(data, "110000")["trainees_trained"] == 1 and _row(data, "110000")["classes_held"] == 0
    assert _row(data, SHANGHAI)["little_giants"] == {"trained": 0, "in_registry": 2, "share": 0.0, "threshold": 0.3,
                                                     "meets": False}
    assert data["national"]["trainees_trained"] == 1 and data["national"]["review"]["to_review"] == 1


def test_reads_do_not_grow_with_the_regions(client, admin_token, national, db_reads):
    """Grouped by region in the database: a few reads for 37 regions, not a report per region. The
    registry alone is read a region at a time (service.registry.repository.little_giant_codes_by_region:
    one read of every region held the embedded server's lock for seconds), each read one region's
    小巨人 through the region_title_credit_code index."""
    db_reads.clear()
    assert table(client, admin_token).status_code == 200
    registry_reads = db_reads.of("enterprises")
    report_reads = [e for e in db_reads.entries if e[0] not in ("users", "auth_tokens", "staff_accounts", "enterprises")]
    assert len(db_reads.of("registrations")) <= 3, db_reads.of("registrations")
    assert len(report_reads) < len(all_regions()) // 2, report_reads
    assert len(registry_reads) <= len(all_regions())
    assert all(query["region_code"] in all_regions() and query["title"] == "小巨人" for _, query in registry_reads)


def test_excel(client, admin_token, national):
    response = table(client, admin_token, suffix=".xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    rows = list(workbook["各地区绩效指标"].iter_rows(values_only=True))
    assert rows[0] == ("地区代码", "地区", "举办（参训）班次数", "有学员参训的班次数", "培训学员人数", "结业学员人数",
                       "参训“小巨人”企业数", "名录内“小巨人”企业数", "“小巨人”企业参训比例", "“小巨人”比例达标（≥30.0%）",
                       "已审核报名数", "应审核报名数", "资格审核比例", "培训档案完整人数", "培训学员档案数", "培训档案完整比例",
                       "班级满意度评价数", "服务满意度", "满意度达标（≥90.0%）")
    assert len(rows) == 1 + len(all_regions()) + 1
    by_code = {r[0]: r for r in rows[1:]}
    assert by_code["110000"] == ("110000", "北京市", 1, 2, 3, 1, 2, 3, "66.7%", "是", 4, 5, "80.0%", 2, 3, "66.7%",
                                 1, "100.0%", "是")
    assert by_code[JIANGSU] == (JIANGSU, "江苏省", 0, 0, 0, 0, 0, 0, None, "否", 0, 1, "0.0%", 0, 0, None, 0, None, "否")
    assert rows[-1] == (None, "全国", 1, 2, 5, 2, 4, 6, "66.7%", "是", 6, 8, "75.0%", 3, 5, "60.0%", 3, "83.3%", "否")


@pytest.mark.parametrize("suffix", ["", ".xlsx"])
def test_organizers_only(client, make_staff, login, national, suffix):
    for token in (make_staff("province_staff", region_code="110000"),
                  make_staff("supervisor", class_ids=[national.class_a]), login("report-trainee-other")):
        refused = table(client, token, suffix=suffix)
        assert refused.status_code == 403 and refused.json["code"] == "ROLE_REQUIRED"
    anonymous = client.get(f"/api/v1/reports/years/{YEAR}/regions{suffix}")
    assert anonymous.status_code == 401 and anonymous.json["code"] == "UNAUTHORIZED"
