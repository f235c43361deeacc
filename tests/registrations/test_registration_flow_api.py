"""The trainee's registration from profile to admission notice, and the history it leaves."""

import io

from bson import ObjectId
from PIL import Image

from service.classes.repository import CLASSES
from service.outbox.repository import OUTBOX
from service.registrations.repository import REGISTRATIONS
from tests.conftest import bearer


def test_full_flow(client, db, klass, make_trainee, apply, staff_bj, admin_token, decide):
    trainee = make_trainee(1)
    registration = apply(trainee, klass["id"])
    assert registration["state"] == "submitted"
    assert registration["region_code"] == "110000"
    rid = registration["id"]

    recommended = decide(staff_bj, rid, "recommend")
    assert recommended["state"] == "recommended" and recommended["counted"] is True
    assert db[CLASSES].find_one({"_id": ObjectId(klass["id"])})["quotas"]["110000"]["used"] == 1

    assert decide(admin_token, rid, "admit")["state"] == "admitted"
    confirmed = client.post(f"/api/v1/registrations/{rid}/confirm", headers=bearer(trainee)).json
    assert confirmed["state"] == "confirmed"
    assert [(h["from"], h["to"]) for h in confirmed["history"]] == [
        (None, "draft"), ("draft", "submitted"), ("submitted", "recommended"), ("recommended", "admitted"),
        ("admitted", "confirmed")]
    me = client.get("/api/v1/me", headers=bearer(staff_bj)).json
    assert confirmed["history"][2]["by"] == me["id"]

    notice = client.get(f"/api/v1/registrations/{rid}/admission-notice", headers=bearer(trainee)).json
    assert notice["trainee_name"] == "张伟"
    assert notice["class_name"] == klass["name"]
    assert notice["venue"]["name"] == "清华大学舜德楼"
    assert len(notice["checkin_reference"]) == 10
    png = client.get(f"/api/v1/registrations/{rid}/admission-notice.png", headers=bearer(trainee))
    assert png.mimetype == "image/png"
    assert Image.open(io.BytesIO(png.data)).size == (750, 1100)

    # The trainee was told about each staff decision.
    templates = [m["template"] for m in db[OUTBOX].find({"user_id": db[REGISTRATIONS].find_one()["user_id"]})]
    assert templates == ["registration_decision", "registration_decision"]


def test_notice_only_when_confirmed(client, klass, make_trainee, apply):
    trainee = make_trainee(2)
    registration = apply(trainee, klass["id"])
    response = client.get(f"/api/v1/registrations/{registration['id']}/admission-notice", headers=bearer(trainee))
    assert response.status_code == 422
    assert response.json["code"] == "NOTICE_NOT_AVAILABLE"


def test_return_edit_and_resubmit(client, klass, make_trainee, apply, staff_bj, decide):
    trainee = make_trainee(3)
    rid = apply(trainee, klass["id"])["id"]
    locked = client.patch(f"/api/v1/registrations/{rid}", json={"note": "改"}, headers=bearer(trainee))
    assert locked.json["code"] == "REGISTRATION_LOCKED"
    assert decide(staff_bj, rid, "return", expect=422)["code"] == "REASON_REQUIRED"
    returned = decide(staff_bj, rid, "return", reason="请补充营业执照")
    assert returned["state"] == "returned"
    assert returned["history"][-1]["reason"] == "请补充营业执照"
    edited = client.patch(f"/api/v1/registrations/{rid}", json={"note": "已补充"}, headers=bearer(trainee))
    assert edited.status_code == 200
    resubmitted = client.post(f"/api/v1/registrations/{rid}/submit", headers=bearer(trainee)).json
    assert resubmitted["state"] == "submitted"


def test_raw_registration_has_no_plaintext_personal_data(client, db, klass, make_trainee, apply):
    from tests.factories import profile_body

    trainee = make_trainee(4)
    apply(trainee, klass["id"])
    raw = str(db[REGISTRATIONS].find_one())
    body = profile_body(serial=4)
    assert body["id_number"] not in raw
    assert body["mobile"] not in raw


def test_responses_mask_personal_data(client, klass, make_trainee, apply, staff_bj):
    from tests.factories import profile_body

    trainee = make_trainee(5)
    rid = apply(trainee, klass["id"])["id"]
    body = profile_body(serial=5)
    for token in (trainee, staff_bj):
        text = client.get(f"/api/v1/registrations/{rid}", headers=bearer(token)).get_data(as_text=True)
        assert body["id_number"] not in text and body["mobile"] not in text
        assert body["id_number"][:6] + "********" in text


def test_my_registrations(client, klass, make_trainee, apply):
    trainee = make_trainee(6)
    apply(trainee, klass["id"], submit=False)
    mine = client.get("/api/v1/registrations/mine", headers=bearer(trainee)).json
    assert [r["state"] for r in mine] == ["draft"]
    assert mine[0]["state_label"] == "草稿"
