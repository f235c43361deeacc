"""Every refusal of the registration rules, with its own code, and nothing written."""

import datetime as dt

import pytest
from bson import ObjectId

from service.classes.repository import CLASSES
from service.registrations.repository import REGISTRATIONS
from tests.conftest import bearer
from tests.factories import create_class, create_programme, profile_body


def _submit(client, token, rid):
    return client.post(f"/api/v1/registrations/{rid}/submit", headers=bearer(token))


def _state(db, rid):
    return db[REGISTRATIONS].find_one({"_id": ObjectId(rid)})["state"]


def test_deadline_passed(client, db, klass, make_trainee, apply):
    trainee = make_trainee(10)
    draft = apply(trainee, klass["id"], submit=False)
    db[CLASSES].update_one({"_id": ObjectId(klass["id"])}, {"$set": {
        "registration_deadline": dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)}})
    response = _submit(client, trainee, draft["id"])
    assert response.status_code == 422
    assert response.json["code"] == "DEADLINE_PASSED"
    assert _state(db, draft["id"]) == "draft"


def test_registration_not_open_yet(client, db, klass, make_trainee, apply):
    trainee = make_trainee(11)
    draft = apply(trainee, klass["id"], submit=False)
    db[CLASSES].update_one({"_id": ObjectId(klass["id"])}, {"$set": {
        "registration_opens_at": dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)}})
    assert _submit(client, trainee, draft["id"]).json["code"] == "REGISTRATION_NOT_OPEN"
    assert _state(db, draft["id"]) == "draft"


def test_profile_incomplete(client, db, klass, login, apply):
    trainee = login("no-profile")
    draft = apply(trainee, klass["id"], submit=False)
    response = _submit(client, trainee, draft["id"])
    assert response.json["code"] == "PROFILE_INCOMPLETE"
    assert "身份证号码" in response.json["message"]
    assert _state(db, draft["id"]) == "draft"


def test_region_without_quota(client, db, klass, make_trainee, apply):
    trainee = make_trainee(12, region_code="330000")
    draft = apply(trainee, klass["id"], submit=False)
    assert _submit(client, trainee, draft["id"]).json["code"] == "REGION_NO_QUOTA"
    assert _state(db, draft["id"]) == "draft"


def test_class_not_open(client, db, admin_token, programme, make_trainee):
    cancelled = create_class(client, admin_token, programme["id"], publish=True)
    assert client.post(f"/api/v1/classes/{cancelled['id']}/status", json={"status": "cancelled", "reason": "场地调整"},
                       headers=bearer(admin_token)).status_code == 200
    trainee = make_trainee(13)
    response = client.post("/api/v1/registrations", json={"class_id": cancelled["id"]}, headers=bearer(trainee))
    assert response.json["code"] == "CLASS_NOT_OPEN"
    # A draft is not even there for a trainee: the answer of an id that names no class (no oracle).
    draft_class = create_class(client, admin_token, programme["id"])
    for class_id in (draft_class["id"], "6b0000000000000000000000"):
        response = client.post("/api/v1/registrations", json={"class_id": class_id}, headers=bearer(trainee))
        assert (response.status_code, response.json["code"]) == (404, "CLASS_NOT_FOUND")
    assert db[REGISTRATIONS].count_documents({}) == 0


def test_one_registration_per_trainee_per_class(client, db, klass, make_trainee, apply):
    trainee = make_trainee(14)
    apply(trainee, klass["id"], submit=False)
    response = client.post("/api/v1/registrations", json={"class_id": klass["id"]}, headers=bearer(trainee))
    assert response.status_code == 409
    assert response.json["code"] == "TRAINEE_ALREADY_REGISTERED"
    assert db[REGISTRATIONS].count_documents({}) == 1


def test_one_enterprise_per_programme_year(client, db, admin_token, programme, klass, make_trainee, apply):
    other_class = create_class(client, admin_token, programme["id"], publish=True, name="第二期")
    boss = make_trainee(15)
    deputy_body = profile_body(serial=16)
    deputy_body["enterprise"] = profile_body(serial=15)["enterprise"]  # same enterprise, another person
    deputy = make_trainee(16, enterprise=deputy_body["enterprise"])
    first = apply(boss, klass["id"])
    draft = apply(deputy, other_class["id"], submit=False)
    refused = _submit(client, deputy, draft["id"])
    assert refused.status_code == 409
    assert refused.json["code"] == "ENTERPRISE_ALREADY_REGISTERED"
    assert _state(db, draft["id"]) == "draft"
    # A withdrawn registration no longer blocks the enterprise.
    client.post(f"/api/v1/registrations/{first['id']}/withdraw", json={}, headers=bearer(boss))
    assert _submit(client, deputy, draft["id"]).json["state"] == "submitted"


def test_other_programme_is_not_blocked(client, admin_token, klass, make_trainee, apply):
    trainee = make_trainee(17)
    apply(trainee, klass["id"])
    other_programme = create_programme(client, admin_token, name="2026年小巨人企业专项培训")
    other_class = create_class(client, admin_token, other_programme["id"], publish=True)
    assert apply(trainee, other_class["id"])["state"] == "submitted"


def test_little_giant_required(client, db, admin_token, make_trainee, apply):
    programme = create_programme(client, admin_token, kind="little_giant", name="2026年小巨人企业培训")
    klass = create_class(client, admin_token, programme["id"], publish=True)
    trainee = make_trainee(18)
    credit = profile_body(serial=18)["enterprise"]["credit_code"]
    draft = apply(trainee, klass["id"], submit=False)
    assert _submit(client, trainee, draft["id"]).json["code"] == "NOT_LITTLE_GIANT"
    # Expired before the class starts: still refused.
    db["enterprises"].insert_one({"credit_code": credit, "title": "小巨人", "region_code": "110000",
                                  "valid_from": "2020-01-01", "valid_until": klass["start_date"][:4] + "-01-01"})
    if klass["start_date"] > klass["start_date"][:4] + "-01-01":
        assert _submit(client, trainee, draft["id"]).json["code"] == "NOT_LITTLE_GIANT"
    db["enterprises"].update_one({"credit_code": credit}, {"$set": {"valid_until": "2099-12-31"}})
    assert _submit(client, trainee, draft["id"]).json["state"] == "submitted"


def test_prior_trainee_refused(client, db, admin_token, make_trainee, apply):
    programme = create_programme(client, admin_token, exclude_prior_trainees=True, name="重庆市专精特新领军人才班")
    klass = create_class(client, admin_token, programme["id"], publish=True)
    trainee = make_trainee(19)
    draft = apply(trainee, klass["id"], submit=False)
    profile = db["trainee_profiles"].find_one({"_id": db["users"].find_one({"openid": "oFAKE-trainee-19"})["_id"]})
    db[REGISTRATIONS].insert_one({"id_number_hash": profile["id_number_hash"], "completed": True,
                                  "state": "confirmed", "class_id": ObjectId(), "user_id": ObjectId()})
    response = _submit(client, trainee, draft["id"])
    assert response.json["code"] == "PRIOR_TRAINEE"
    assert _state(db, draft["id"]) == "draft"


def test_quota_full(client, db, admin_token, programme, make_trainee, apply, staff_bj, decide):
    klass = create_class(client, admin_token, programme["id"], publish=True,
                         quotas=[{"region_code": "110000", "places": 1}])
    first = apply(make_trainee(20), klass["id"])
    second = apply(make_trainee(21), klass["id"])
    decide(staff_bj, first["id"], "recommend")
    refused = decide(staff_bj, second["id"], "recommend", expect=422)
    assert refused["code"] == "QUOTA_FULL"
    assert _state(db, second["id"]) == "submitted"
    assert db[CLASSES].find_one({"_id": ObjectId(klass["id"])})["quotas"]["110000"]["used"] == 1
    # Rejecting the first frees the place.
    decide(admin_token, first["id"], "reject", reason="不符合条件")
    assert db[CLASSES].find_one({"_id": ObjectId(klass["id"])})["quotas"]["110000"]["used"] == 0
    assert decide(staff_bj, second["id"], "recommend")["state"] == "recommended"


def test_confirmation_closed(client, db, klass, make_trainee, apply, staff_bj, admin_token, decide):
    trainee = make_trainee(22)
    rid = apply(trainee, klass["id"])["id"]
    decide(staff_bj, rid, "recommend")
    decide(admin_token, rid, "admit")
    db[CLASSES].update_one({"_id": ObjectId(klass["id"])}, {"$set": {
        "confirmation_deadline": dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)}})
    response = client.post(f"/api/v1/registrations/{rid}/confirm", headers=bearer(trainee))
    assert response.json["code"] == "CONFIRMATION_CLOSED"
    assert _state(db, rid) == "admitted"


def test_withdraw_rules(client, db, klass, make_trainee, apply, staff_bj, admin_token, decide):
    trainee = make_trainee(23)
    rid = apply(trainee, klass["id"])["id"]
    decide(staff_bj, rid, "recommend")
    decide(admin_token, rid, "admit")
    refused = client.post(f"/api/v1/registrations/{rid}/withdraw", json={}, headers=bearer(trainee))
    assert refused.json["code"] == "WITHDRAWAL_NEEDS_APPROVAL"
    assert decide(admin_token, rid, "approve_withdrawal", expect=422)["code"] == "WITHDRAWAL_NOT_REQUESTED"


def test_withdrawal_after_admission_offers_place_to_waitlist(client, db, admin_token, programme, make_trainee,
                                                            apply, staff_bj, decide):
    klass = create_class(client, admin_token, programme["id"], publish=True,
                         quotas=[{"region_code": "110000", "places": 2}])
    admitted_trainee = make_trainee(24)
    admitted = apply(admitted_trainee, klass["id"])["id"]
    waiting = apply(make_trainee(25), klass["id"])["id"]
    for rid in (admitted, waiting):
        decide(staff_bj, rid, "recommend")
    decide(admin_token, admitted, "admit")
    decide(admin_token, waiting, "waitlist")
    request = client.post(f"/api/v1/registrations/{admitted}/withdrawal-request", json={"reason": "企业突发事务"},
                          headers=bearer(admitted_trainee))
    assert request.json["withdrawal_request"]["reason"] == "企业突发事务"
    again = client.post(f"/api/v1/registrations/{admitted}/withdrawal-request", json={"reason": "再次"},
                        headers=bearer(admitted_trainee))
    assert again.json["code"] == "WITHDRAWAL_ALREADY_REQUESTED"
    withdrawn = decide(admin_token, admitted, "approve_withdrawal")
    assert withdrawn["state"] == "withdrawn"
    assert _state(db, waiting) == "admitted"
    assert db[CLASSES].find_one({"_id": ObjectId(klass["id"])})["quotas"]["110000"]["used"] == 1
    waiting_doc = db[REGISTRATIONS].find_one({"_id": ObjectId(waiting)})
    assert waiting_doc["history"][-1]["reason"] == "递补录取"


@pytest.mark.parametrize("action", ["admit", "waitlist"])
def test_organizer_actions_need_recommendation(klass, make_trainee, apply, admin_token, decide, action):
    rid = apply(make_trainee(26), klass["id"])["id"]
    assert decide(admin_token, rid, action, expect=422)["code"] == "REGISTRATION_STATE_INVALID"


def test_cancel_needs_reason_and_frees_place(db, klass, make_trainee, apply, staff_bj, admin_token, decide):
    rid = apply(make_trainee(27), klass["id"])["id"]
    decide(staff_bj, rid, "recommend")
    assert decide(admin_token, rid, "cancel", expect=422)["code"] == "REASON_REQUIRED"
    assert decide(admin_token, rid, "cancel", reason="班次调整")["state"] == "cancelled"
    assert db[CLASSES].find_one({"_id": ObjectId(klass["id"])})["quotas"]["110000"]["used"] == 0
