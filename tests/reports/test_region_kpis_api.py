"""Region-year KPIs (notice 243 附件5) against the hand-computed world, scope, Excel."""

import io

import openpyxl

from tests.conftest import bearer
from tests.reports.conftest import YEAR


def kpis(client, token, region="110000", year=YEAR):
    return client.get(f"/api/v1/reports/regions/{region}/years/{year}", headers=bearer(token))


def test_kpis_of_beijing(client, admin_token, world):
    """Classes: A held (B's only session is to come) -> 1 of 2 with trainees. Trained: 张伟, 李娜, 周杰.
    小巨人 of 110000 valid in 2026: G1, G3, G5 (G4 expired 2025; N1 is another title); trained G1, G3 -> 2/3.
    Review: reviewed r1, r2, r5, r8; pending r4; r6 withdrawn before review and r7 draft don't count -> 4/5.
    Archives: 周杰 lacks a position (profile) -> 2/3. Satisfaction: one class rating, all 5 -> 1.0."""
    response = kpis(client, admin_token)
    assert response.status_code == 200, response.json
    data = response.json
    assert (data["region_name"], data["year"]) == ("北京市", YEAR)
    assert (data["classes_held"], data["classes_with_trainees"], data["trainees_trained"],
            data["trainees_completed"]) == (1, 2, 3, 1)
    assert data["little_giants"] == {"trained": 2, "in_registry": 3, "share": 0.6667, "threshold": 0.3, "meets": True}
    assert data["review"] == {"reviewed": 4, "to_review": 5, "pending": 1, "share": 0.8}
    archives = data["archives"]
    assert (archives["trainees"], archives["complete"], archives["share"]) == (3, 2, 0.6667)
    assert [(i["name"], i["missing"]) for i in archives["incomplete"]] == [("周杰", ["profile"])]
    assert data["satisfaction"] == {"class_ratings": 1, "rate": 1.0, "threshold": 0.9, "meets": True}


def test_kpis_of_guangdong(client, admin_token, world):
    """王强: G2 trained of G2 -> 1/1; s3 is over but not closed, and 王强 has no record for it -> archive
    incomplete; class rating (4,3,4,4) -> 3/4."""
    data = kpis(client, admin_token, region="440000").json
    assert data["little_giants"]["share"] == 1.0 and data["review"]["share"] == 1.0
    assert [(i["name"], i["missing"]) for i in data["archives"]["incomplete"]] == [("王强", ["attendance"])]
    assert data["satisfaction"] == {"class_ratings": 1, "rate": 0.75, "threshold": 0.9, "meets": False}


def test_another_year_has_its_own_figures(client, admin_token, world):
    data = kpis(client, admin_token, year=YEAR - 1).json
    assert (data["trainees_trained"], data["classes_held"]) == (1, 0)  # class C has no sessions
    assert data["little_giants"]["in_registry"] == 2  # G1 and G4 were valid in 2025
    assert data["satisfaction"]["rate"] is None and data["satisfaction"]["meets"] is False


def test_closed_sessions_count_as_recorded(client, admin_token, db, world):
    """Once s3 is closed every confirmed trainee has a record for it (closing writes them)."""
    import datetime as dt

    db.session_checkins.insert_one({"_id": world.sessions[2], "class_id": world.class_a,
                                    "closed_at": dt.datetime.now(dt.timezone.utc), "closed_by": None})
    db.attendance.insert_one({"session_id": world.sessions[2], "class_id": world.class_a,
                              "user_id": world.users["王强"], "registration_id": world.registrations["r3"],
                              "region_code": "440000", "status": "absent"})
    data = kpis(client, admin_token, region="440000").json
    assert data["archives"]["share"] == 1.0 and data["archives"]["incomplete"] == []


def test_scope(client, make_staff, world):
    beijing = make_staff("province_staff", region_code="110000")
    assert kpis(client, beijing).status_code == 200
    other = kpis(client, beijing, region="440000")
    assert other.status_code == 403 and other.json["code"] == "OUT_OF_SCOPE"
    supervisor = make_staff("supervisor", class_ids=[world.class_a])
    refused = kpis(client, supervisor)
    assert refused.status_code == 403 and refused.json["code"] == "ROLE_REQUIRED"
    unknown = kpis(client, make_staff("admin"), region="999999")
    assert unknown.status_code == 404 and unknown.json["code"] == "REGION_NOT_FOUND"


def test_excel(client, admin_token, world):
    response = client.get(f"/api/v1/reports/regions/110000/years/{YEAR}.xlsx", headers=bearer(admin_token))
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    rows = {r[0]: r[1:] for r in workbook["绩效指标"].iter_rows(values_only=True)}
    assert rows["指标"] == ("数值", "目标", "是否达标")
    assert rows["“小巨人”企业参训比例"] == ("66.7%", "30.0%", "是")
    assert rows["资格审核比例"] == ("80.0%", "100.0%", "否")
    assert rows["服务满意度"] == ("100.0%", "90.0%", "是")
    assert list(workbook["档案待完善"].iter_rows(values_only=True))[1] == ("周杰", "第二期 数字化赋能专题班", "学员信息")
