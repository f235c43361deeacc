"""Rating sessions and classes: windows, who may rate, one rating each, changing, pending list."""

import datetime as dt

import pytest
from bson import ObjectId

from tests.conftest import bearer


def rate_session(client, trainee, session_id, stars=5, comment=""):
    return client.post(f"/api/v1/sessions/{session_id}/rating", json={"stars": stars, "comment": comment},
                       headers=bearer(trainee.token))


def rate_class(client, trainee, class_id, scores=(5, 5, 5, 5), suggestions=""):
    body = dict(zip(("course_design", "faculty", "organisation", "effect"), scores), suggestions=suggestions)
    return client.post(f"/api/v1/classes/{class_id}/rating", json=body, headers=bearer(trainee.token))


def nothing_written(db):
    assert db.ratings.count_documents({}) == 0
    assert db.rating_receipts.count_documents({}) == 0


def test_attended_trainee_rates_a_session_after_it_ends(client, db, ended_class, mark):
    klass = ended_class()
    mark(klass, 0, 0, "late")
    response = rate_session(client, klass.trainees[0], klass.session_ids[0], stars=4, comment="案例很实用")
    assert response.status_code == 201, response.json
    assert response.json["stars"] == 4 and response.json["comment"] == "案例很实用"
    assert response.json["kind"] == "session" and response.json["session_id"] == klass.session_ids[0]
    assert response.json["changeable_until"].endswith("+08:00")
    mine = client.get(f"/api/v1/sessions/{klass.session_ids[0]}/rating", headers=bearer(klass.trainees[0].token))
    assert mine.status_code == 200 and mine.json["stars"] == 4


def test_session_not_over_yet_is_refused(client, db, make_checkin_class, mark):
    klass = make_checkin_class()  # session 0 started 5 minutes ago
    mark(klass, 0, 0, "present")
    response = rate_session(client, klass.trainees[0], klass.session_ids[0])
    assert response.status_code == 422 and response.json["code"] == "RATING_NOT_OPEN"
    assert response.json["opens_at"].endswith("+08:00")
    nothing_written(db)


def test_ratings_close_days_after_the_class_ends(client, db, app, ended_class, mark, set_class):
    klass = ended_class()
    mark(klass, 0, 0, "present")
    last_day = dt.date.today() - dt.timedelta(days=app.config["RATING_CLOSE_DAYS"] + 2)
    set_class(klass.id, end_date=last_day.isoformat())
    response = rate_session(client, klass.trainees[0], klass.session_ids[0])
    assert response.status_code == 422 and response.json["code"] == "RATING_CLOSED"
    nothing_written(db)


def test_only_attended_trainees_rate_a_session(client, db, ended_class, mark):
    klass = ended_class()
    mark(klass, 0, 0, "absent")
    mark(klass, 1, 0, "excused")
    for index in (0, 1, 2):  # absent, excused, no record
        response = rate_session(client, klass.trainees[index], klass.session_ids[0])
        assert response.status_code == 403 and response.json["code"] == "RATING_NOT_ELIGIBLE"
    nothing_written(db)


def test_a_second_rating_is_refused_and_the_first_kept(client, db, ended_class, mark):
    klass = ended_class()
    mark(klass, 0, 0, "present")
    assert rate_session(client, klass.trainees[0], klass.session_ids[0], stars=5).status_code == 201
    again = rate_session(client, klass.trainees[0], klass.session_ids[0], stars=1)
    assert again.status_code == 409 and again.json["code"] == "ALREADY_RATED"
    assert db.ratings.count_documents({}) == 1 and db.rating_receipts.count_documents({}) == 1
    assert db.ratings.find_one()["stars"] == 5


def test_a_rating_can_be_changed_while_open(client, db, ended_class, mark):
    klass = ended_class()
    mark(klass, 0, 0, "present")
    trainee = klass.trainees[0]
    url = f"/api/v1/sessions/{klass.session_ids[0]}/rating"
    missing = client.put(url, json={"stars": 3}, headers=bearer(trainee.token))
    assert missing.status_code == 404 and missing.json["code"] == "RATING_NOT_FOUND"
    nothing_written(db)
    assert rate_session(client, trainee, klass.session_ids[0], stars=5).status_code == 201
    changed = client.put(url, json={"stars": 3, "comment": "节奏偏快"}, headers=bearer(trainee.token))
    assert changed.status_code == 200 and changed.json["stars"] == 3
    assert db.ratings.count_documents({}) == 1 and db.ratings.find_one()["comment"] == "节奏偏快"
    assert client.get(url, headers=bearer(trainee.token)).json["stars"] == 3


def test_stars_outside_one_to_five_are_refused(client, db, ended_class, mark):
    klass = ended_class()
    mark(klass, 0, 0, "present")
    for stars in (0, 6):
        response = rate_session(client, klass.trainees[0], klass.session_ids[0], stars=stars)
        assert response.status_code == 422 and response.json["code"] == "VALIDATION_ERROR"
    nothing_written(db)


def test_unknown_session_is_404(client, ended_class):
    klass = ended_class()
    response = rate_session(client, klass.trainees[0], str(ObjectId()))
    assert response.status_code == 404 and response.json["code"] == "SESSION_NOT_FOUND"


def test_confirmed_trainee_rates_the_class_after_the_last_session(client, db, ended_class):
    klass = ended_class()
    response = rate_class(client, klass.trainees[0], klass.id, scores=(5, 4, 3, 5), suggestions="希望增加企业参访")
    assert response.status_code == 201, response.json
    assert response.json["scores"] == {"course_design": 5, "faculty": 4, "organisation": 3, "effect": 5}
    assert response.json["suggestions"] == "希望增加企业参访"
    again = rate_class(client, klass.trainees[0], klass.id)
    assert again.status_code == 409 and again.json["code"] == "ALREADY_RATED"
    changed = client.put(f"/api/v1/classes/{klass.id}/rating",
                         json={"course_design": 4, "faculty": 4, "organisation": 4, "effect": 4},
                         headers=bearer(klass.trainees[0].token))
    assert changed.status_code == 200 and changed.json["scores"]["organisation"] == 4
    assert db.ratings.count_documents({"kind": "class"}) == 1


def test_class_rating_waits_for_the_last_session(client, db, make_checkin_class):
    klass = make_checkin_class()  # the second session is later today
    response = rate_class(client, klass.trainees[0], klass.id)
    assert response.status_code == 422 and response.json["code"] == "RATING_NOT_OPEN"
    nothing_written(db)


def test_only_confirmed_trainees_rate_the_class(client, db, ended_class, login):
    klass = ended_class()
    outsider = login("not-a-trainee")
    response = client.post(f"/api/v1/classes/{klass.id}/rating",
                           json={"course_design": 5, "faculty": 5, "organisation": 5, "effect": 5},
                           headers=bearer(outsider))
    assert response.status_code == 403 and response.json["code"] == "NOT_ENROLLED"
    nothing_written(db)


def test_pending_lists_what_is_left_to_rate(client, ended_class, mark):
    klass = ended_class()
    mark(klass, 0, 0, "present")
    mark(klass, 0, 1, "absent")
    trainee = klass.trainees[0]
    pending = client.get("/api/v1/ratings/pending", headers=bearer(trainee.token))
    assert pending.status_code == 200
    assert [(i["kind"], i["session_id"]) for i in pending.json["items"]] == [
        ("session", klass.session_ids[0]), ("class", None)]
    assert pending.json["count"] == 2
    rate_session(client, trainee, klass.session_ids[0])
    rate_class(client, trainee, klass.id)
    assert client.get("/api/v1/ratings/pending", headers=bearer(trainee.token)).json == {"count": 0, "items": []}


def close_ratings(app, set_class, klass):
    """Move the class's last day back so that its ratings closed yesterday."""
    last_day = dt.date.today() - dt.timedelta(days=app.config["RATING_CLOSE_DAYS"] + 2)
    set_class(klass.id, end_date=last_day.isoformat())


def test_a_rating_cannot_be_changed_after_ratings_close(client, db, app, ended_class, mark, set_class):
    klass = ended_class()
    mark(klass, 0, 0, "present")
    trainee = klass.trainees[0]
    assert rate_session(client, trainee, klass.session_ids[0], stars=5, comment="很好").status_code == 201
    assert rate_class(client, trainee, klass.id, scores=(5, 5, 5, 5)).status_code == 201
    receipts_before = sorted((r["target"], r["updated_at"]) for r in db.rating_receipts.find())
    close_ratings(app, set_class, klass)
    session_change = client.put(f"/api/v1/sessions/{klass.session_ids[0]}/rating", json={"stars": 1},
                                headers=bearer(trainee.token))
    assert session_change.status_code == 422 and session_change.json["code"] == "RATING_CLOSED"
    class_change = client.put(f"/api/v1/classes/{klass.id}/rating",
                              json={"course_design": 1, "faculty": 1, "organisation": 1, "effect": 1},
                              headers=bearer(trainee.token))
    assert class_change.status_code == 422 and class_change.json["code"] == "RATING_CLOSED"
    session_rating = db.ratings.find_one({"kind": "session"})
    assert (session_rating["stars"], session_rating["comment"]) == (5, "很好")
    assert db.ratings.find_one({"kind": "class"})["scores"] == {"course_design": 5, "faculty": 5,
                                                                "organisation": 5, "effect": 5}
    assert sorted((r["target"], r["updated_at"]) for r in db.rating_receipts.find()) == receipts_before


def test_class_rating_closes_days_after_the_class_ends(client, db, app, ended_class, set_class):
    klass = ended_class()
    close_ratings(app, set_class, klass)
    response = rate_class(client, klass.trainees[0], klass.id)
    assert response.status_code == 422 and response.json["code"] == "RATING_CLOSED"
    nothing_written(db)


def test_reading_a_rating_not_given_is_404(client, ended_class, mark):
    klass = ended_class()
    mark(klass, 0, 0, "present")
    rater, other = klass.trainees[0], klass.trainees[1]
    assert rate_session(client, rater, klass.session_ids[0]).status_code == 201
    assert rate_class(client, rater, klass.id).status_code == 201
    for url in (f"/api/v1/sessions/{klass.session_ids[0]}/rating", f"/api/v1/classes/{klass.id}/rating"):
        # Another trainee's rating is not theirs to read: they have none of their own.
        response = client.get(url, headers=bearer(other.token))
        assert response.status_code == 404 and response.json["code"] == "RATING_NOT_FOUND"
        assert client.get(url, headers=bearer(rater.token)).status_code == 200


CLASS_RATING_BODY = {"course_design": 5, "faculty": 5, "organisation": 5, "effect": 5}


@pytest.mark.parametrize("class_id", [str(ObjectId()), "not-an-id"])
@pytest.mark.parametrize("method, path, body", [
    ("get", "rating", None), ("post", "rating", CLASS_RATING_BODY), ("put", "rating", CLASS_RATING_BODY),
    ("get", "satisfaction", None)])
def test_unknown_class_is_404_on_rating_routes(client, db, admin_token, class_id, method, path, body):
    response = getattr(client, method)(f"/api/v1/classes/{class_id}/{path}", json=body,
                                       headers=bearer(admin_token))
    # A malformed id matches no route (service.core.ids): a plain 404; a well-formed one names the class.
    assert response.status_code == 404
    assert response.json["code"] == ("NOT_FOUND" if class_id == "not-an-id" else "CLASS_NOT_FOUND")
    nothing_written(db)


def test_pending_reads_a_bounded_number_of_times(client, db, db_reads, ended_class, mark):
    """Two classes cost the same queries as one: no query per class."""
    first, second = ended_class(trainees=1, name="第一期"), ended_class(trainees=1, name="第二期")
    trainee = first.trainees[0]
    mark(first, 0, 0, "present")
    # The same trainee also confirmed in the second class (written directly: one class a year via the API).
    registration = db.registrations.find_one({"_id": ObjectId(trainee.registration_id)})
    db.registrations.insert_one({**registration, "_id": ObjectId(), "class_id": ObjectId(second.id),
                                 "enterprise_key": None})
    db.attendance.insert_one({"session_id": ObjectId(second.session_ids[1]), "class_id": ObjectId(second.id),
                              "user_id": ObjectId(trainee.user_id), "registration_id": registration["_id"],
                              "region_code": registration["region_code"], "status": "late"})
    db_reads.clear()
    pending = client.get("/api/v1/ratings/pending", headers=bearer(trainee.token))
    assert pending.status_code == 200, pending.json
    assert sorted((i["kind"], i["session_id"]) for i in pending.json["items"]) == sorted([
        ("session", first.session_ids[0]), ("class", None), ("session", second.session_ids[1]), ("class", None)])
    for name in ("registrations", "classes", "attendance", "rating_receipts"):
        assert len(db_reads.of(name)) == 1, (name, db_reads.of(name))
