"""Satisfaction figures against a hand-computed fixture, flags, scope, and anonymity of raters."""

import json

import pytest
from bson import ObjectId

from service.classes.repository import CLASSES
from tests.conftest import bearer

# (session 0 stars, session 1 stars, class scores, comment on session 1, suggestions) per trainee
RATINGS = [
    (5, 5, (5, 5, 4, 5), "李教授讲得很好", "希望增加企业参访"),
    (4, 3, (4, 3, 4, 5), "", ""),
    (5, 2, (5, 4, 2, 5), "内容太理论", "住宿安排可改进"),
]


@pytest.fixture
def rated_class(client, db, ended_class, mark):
    klass = ended_class()
    db[CLASSES].update_one({"sessions._id": ObjectId(klass.session_ids[1])},
                           {"$set": {"sessions.$.teacher": "李教授"}})
    for index, (s0, s1, scores, comment, suggestions) in enumerate(RATINGS):
        trainee = klass.trainees[index]
        for session_index, stars, text in ((0, s0, ""), (1, s1, comment)):
            mark(klass, index, session_index, "present")
            response = client.post(f"/api/v1/sessions/{klass.session_ids[session_index]}/rating",
                                   json={"stars": stars, "comment": text}, headers=bearer(trainee.token))
            assert response.status_code == 201, response.json
        body = dict(zip(("course_design", "faculty", "organisation", "effect"), scores), suggestions=suggestions)
        assert client.post(f"/api/v1/classes/{klass.id}/rating", json=body,
                           headers=bearer(trainee.token)).status_code == 201
    return klass


def test_figures_and_flags(client, admin_token, rated_class):
    response = client.get(f"/api/v1/classes/{rated_class.id}/satisfaction", headers=bearer(admin_token))
    assert response.status_code == 200, response.json
    data = response.json
    assert data["threshold"] == 0.9
    s0, s1 = data["sessions"]
    assert (s0["ratings"], s0["average"], s0["satisfaction_rate"], s0["flagged"]) == (3, 4.67, 1.0, False)
    assert (s1["ratings"], s1["average"], s1["satisfaction_rate"], s1["flagged"]) == (3, 3.33, 0.3333, True)
    teachers = {t["teacher"]: (t["satisfaction_rate"], t["flagged"]) for t in data["teachers"]}
    assert teachers == {"张教授": (1.0, False), "李教授": (0.3333, True)}
    dims = {d["dimension"]: (d["label"], d["satisfaction_rate"], d["flagged"]) for d in data["dimensions"]}
    assert dims == {"course_design": ("课程设置", 1.0, False), "faculty": ("师资力量", 0.6667, True),
                    "organisation": ("组织管理", 0.6667, True), "effect": ("实际效果", 1.0, False)}
    assert data["class_ratings"] == 3 and data["session_ratings"] == 6
    assert data["session_satisfaction_rate"] == 0.6667
    assert data["overall_satisfaction_rate"] == 0.8333 and data["overall_flagged"] is True
    assert sorted(c["text"] for c in data["comments"]) == ["内容太理论", "李教授讲得很好"]
    assert {c["session_title"] for c in data["comments"]} == {"新发展格局下的企业战略"}
    assert sorted(data["suggestions"]) == ["住宿安排可改进", "希望增加企业参访"]


def test_province_staff_see_their_region_without_comments(client, make_staff, rated_class):
    token = make_staff("province_staff", region_code="440000")  # trainee 2 only
    data = client.get(f"/api/v1/classes/{rated_class.id}/satisfaction", headers=bearer(token)).json
    assert [s["satisfaction_rate"] for s in data["sessions"]] == [1.0, 0.0]
    assert data["class_ratings"] == 1
    assert data["comments"] is None and data["suggestions"] is None


def test_other_staff_are_refused(client, make_staff, make_checkin_class, rated_class):
    other = make_checkin_class(trainees=1, name="第二期")
    response = client.get(f"/api/v1/classes/{rated_class.id}/satisfaction", headers=bearer(other.supervisor))
    assert response.status_code == 403 and response.json["code"] == "OUT_OF_SCOPE"
    outsider_region = make_staff("province_staff", region_code="320000")
    response = client.get(f"/api/v1/classes/{rated_class.id}/satisfaction", headers=bearer(outsider_region))
    assert response.status_code == 403
    trainee = client.get(f"/api/v1/classes/{rated_class.id}/satisfaction", headers=bearer(rated_class.trainees[0].token))
    assert trainee.status_code == 403 and trainee.json["code"] == "ROLE_REQUIRED"


def rater_identifiers(db, klass):
    """Everything that names or identifies a rater."""
    values = set()
    for trainee in klass.trainees:
        values.update({trainee.name, trainee.user_id, trainee.registration_id})
        registration = db.registrations.find_one({"_id": ObjectId(trainee.registration_id)})
        values.update({registration["snapshot"]["id_number_masked"], registration["snapshot"]["mobile_masked"]})
    return values


def test_no_rater_identity_in_the_report_or_the_stored_ratings(client, db, admin_token, rated_class):
    identifiers = rater_identifiers(db, rated_class)
    text = json.dumps(client.get(f"/api/v1/classes/{rated_class.id}/satisfaction", headers=bearer(admin_token)).json,
                      ensure_ascii=False)
    assert not [value for value in identifiers if value in text]
    # What was rated carries no rater: no user, registration, name or time.
    for rating in db.ratings.find():
        assert set(rating) <= {"_id", "kind", "class_id", "session_id", "teacher", "year", "region_code", "stars",
                               "comment", "scores", "suggestions"}
        assert not [v for v in identifiers if v in json.dumps(rating, default=str, ensure_ascii=False)]
    # Who rated does not name the rating in clear.
    rating_ids = {str(r["_id"]) for r in db.ratings.find()}
    for receipt in db.rating_receipts.find():
        assert not [rid for rid in rating_ids if rid in json.dumps(receipt, default=str)]


def test_rating_ids_are_random_not_time_based(db, rated_class):
    """An ObjectId's first bytes are its creation time; a rating's must not tell when it was made."""
    now = ObjectId().generation_time
    assert all(abs((r["_id"].generation_time - now).days) > 1 for r in db.ratings.find())


def test_unique_index_refuses_a_duplicate_receipt(app, db, rated_class):
    from service.ratings import repository

    receipt = db.rating_receipts.find_one({"kind": "session"})
    duplicate = {k: v for k, v in receipt.items() if k != "_id"}
    with app.app_context(), pytest.raises(repository.AlreadyRated):
        repository.insert_receipt(duplicate)
