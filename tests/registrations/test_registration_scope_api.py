"""Province staff only their region; supervisors cannot decide; trainees only their own."""

import io

import openpyxl
from bson import ObjectId

from service.registrations.repository import REGISTRATIONS
from tests.conftest import bearer
from tests.factories import profile_body


def test_other_region_cannot_read_decide_or_export(client, db, klass, make_trainee, apply, staff_gd, decide):
    rid = apply(make_trainee(30), klass["id"])["id"]
    assert client.get(f"/api/v1/registrations/{rid}", headers=bearer(staff_gd)).json["code"] == "REGISTRATION_NOT_FOUND"
    listing = client.get("/api/v1/registrations", headers=bearer(staff_gd)).json
    assert listing["total"] == 0
    refused_list = client.get("/api/v1/registrations?region_code=110000", headers=bearer(staff_gd))
    assert refused_list.status_code == 403
    refused = decide(staff_gd, rid, "recommend", expect=403)
    assert refused["code"] == "OUT_OF_SCOPE"
    assert db[REGISTRATIONS].find_one({"_id": ObjectId(rid)})["state"] == "submitted"
    export = client.get(f"/api/v1/classes/{klass['id']}/roster.xlsx?region_code=110000", headers=bearer(staff_gd))
    assert export.status_code == 403


def test_own_region_sees_checks(client, klass, make_trainee, apply, staff_bj):
    rid = apply(make_trainee(31), klass["id"])["id"]
    listing = client.get(f"/api/v1/registrations?class_id={klass['id']}&state=submitted",
                         headers=bearer(staff_bj)).json
    assert listing["total"] == 1
    checks = listing["items"][0]["checks"]
    assert checks == {"credit_code_valid": True, "little_giant_required": False, "little_giant_valid": False,
                      "little_giant_valid_until": None, "other_active_registrations_of_enterprise": 0,
                      "prior_training": False, "quota_places": 10, "quota_left": 10}
    assert client.get(f"/api/v1/registrations/{rid}", headers=bearer(staff_bj)).json["checks"]["quota_left"] == 10


def test_supervisor_cannot_decide(client, db, klass, make_trainee, apply, make_staff, decide):
    rid = apply(make_trainee(32), klass["id"])["id"]
    supervisor = make_staff("supervisor", class_ids=[ObjectId(klass["id"])])
    assert decide(supervisor, rid, "recommend", expect=403)["code"] == "ROLE_REQUIRED"
    assert db[REGISTRATIONS].find_one({"_id": ObjectId(rid)})["state"] == "submitted"


def test_province_staff_cannot_admit(db, klass, make_trainee, apply, staff_bj, decide):
    rid = apply(make_trainee(33), klass["id"])["id"]
    decide(staff_bj, rid, "recommend")
    assert decide(staff_bj, rid, "admit", expect=403)["code"] == "ROLE_REQUIRED"
    assert db[REGISTRATIONS].find_one({"_id": ObjectId(rid)})["state"] == "recommended"


def test_trainee_sees_only_own(client, klass, make_trainee, apply):
    rid = apply(make_trainee(34), klass["id"])["id"]
    other = make_trainee(35)
    assert client.get(f"/api/v1/registrations/{rid}", headers=bearer(other)).status_code == 404
    assert client.post(f"/api/v1/registrations/{rid}/withdraw", json={}, headers=bearer(other)).status_code == 404
    assert client.get("/api/v1/registrations", headers=bearer(other)).status_code == 403


def test_bulk_decisions(client, klass, make_trainee, apply, staff_bj, staff_gd):
    mine = [apply(make_trainee(40 + n), klass["id"])["id"] for n in range(3)]
    theirs = apply(make_trainee(43, region_code="440000"), klass["id"])["id"]
    response = client.post("/api/v1/registrations/decisions",
                           json={"registration_ids": mine + [theirs], "action": "recommend"},
                           headers=bearer(staff_bj)).json
    assert response["succeeded"] == 3 and response["failed"] == 1
    assert response["results"][-1]["code"] == "OUT_OF_SCOPE"


def test_roster_export_masks_ids(client, klass, make_trainee, apply, staff_bj, admin_token, decide):
    rid = apply(make_trainee(50), klass["id"])["id"]
    decide(staff_bj, rid, "recommend")
    full_id = profile_body(serial=50)["id_number"]
    response = client.get(f"/api/v1/classes/{klass['id']}/roster.xlsx", headers=bearer(staff_bj))
    rows = list(openpyxl.load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0][:6] == ("序号", "姓名", "性别", "民族", "政治面貌", "身份证号码")
    assert rows[1][5] == full_id[:6] + "********" + full_id[-4:]
    assert rows[1][11] == "北京市"
    refused = client.get(f"/api/v1/classes/{klass['id']}/roster.xlsx?for_certificates=true", headers=bearer(staff_bj))
    assert refused.status_code == 403
    admin = client.get(f"/api/v1/classes/{klass['id']}/roster.xlsx?for_certificates=true", headers=bearer(admin_token))
    rows = list(openpyxl.load_workbook(io.BytesIO(admin.data)).active.iter_rows(values_only=True))
    assert rows[1][5] == full_id
