"""Nothing half-written (issue 14 §3): a registration decision writes up to three documents (the
trainee's held notice in the outbox, a place in the class's quota, the registration). When the
database fails on any write after the first, the answer is 503 DATABASE_UNAVAILABLE, what the
request wrote before is taken back (the quota and the outbox are as before), and sending the same
request again succeeds once, with one place counted and one notice.

Writes after the registration's own (the report version bump, releasing the held notice) are best
effort: their failure is logged and the answer is the decision (tests below)."""

import pytest
from bson import ObjectId

from service.classes.repository import CLASSES
from service.outbox.repository import OUTBOX
from service.registrations.repository import REGISTRATIONS
from tests.conftest import bearer
from tests.fixtures.faults import assert_unavailable


def _state(db, klass):
    """What a decision may change: registrations, the class's quota (holders as a set), the outbox."""
    class_doc = db[CLASSES].find_one({"_id": ObjectId(klass["id"])})
    quotas = {code: (q["places"], q["used"], sorted(q.get("holders") or [])) for code, q in class_doc["quotas"].items()}
    return {"registrations": list(db[REGISTRATIONS].find({}, sort=[("_id", 1)])), "quotas": quotas,
            "version": class_doc["version"], "outbox": list(db[OUTBOX].find({}, sort=[("_id", 1)]))}


def _decision(client, token, registration_id, action, reason=None):
    body = {"action": action, **({"reason": reason} if reason else {})}
    return client.post(f"/api/v1/registrations/{registration_id}/decision", json=body, headers=bearer(token))


@pytest.fixture
def submitted(klass, make_trainee, apply):
    return apply(make_trainee(1), klass["id"])


@pytest.fixture
def admitted(client, submitted, staff_bj, admin_token):
    assert _decision(client, staff_bj, submitted["id"], "recommend").status_code == 200
    assert _decision(client, admin_token, submitted["id"], "admit").status_code == 200
    return submitted


def _used(db, klass, region_code="110000"):
    quota = db[CLASSES].find_one({"_id": ObjectId(klass["id"])})["quotas"][region_code]
    return quota["used"], quota.get("holders") or []


# recommend: 1 held notice (outbox), 2 the place (classes), 3 the registration
@pytest.mark.parametrize("write", [1, 2, 3], ids=["notice", "quota-place", "registration"])
def test_recommend_fails_whole_and_a_retry_counts_one_place(client, db, klass, submitted, staff_bj, fail_write,
                                                             write):
    before = _state(db, klass)
    with fail_write(write):
        response = _decision(client, staff_bj, submitted["id"], "recommend")
    assert_unavailable(response)
    assert _state(db, klass) == before
    again = _decision(client, staff_bj, submitted["id"], "recommend")
    assert again.status_code == 200, again.json
    assert again.json["state"] == "recommended" and again.json["counted"] is True
    assert _used(db, klass) == (1, [ObjectId(submitted["id"])])
    assert db[OUTBOX].count_documents({"template": "registration_decision"}) == 1


def test_a_place_left_by_a_failed_recommendation_is_not_counted_twice(client, db, klass, submitted, staff_bj,
                                                                      fail_write):
    """Even when giving the place back fails too (a longer outage), the retry finds the place held
    by this registration and counts it once."""
    with fail_write(3, times=20):
        assert_unavailable(_decision(client, staff_bj, submitted["id"], "recommend"))
    assert _used(db, klass) == (1, [ObjectId(submitted["id"])])  # the place is still held
    assert db[REGISTRATIONS].find_one({"_id": ObjectId(submitted["id"])})["state"] == "submitted"
    again = _decision(client, staff_bj, submitted["id"], "recommend")
    assert again.status_code == 200, again.json
    assert _used(db, klass) == (1, [ObjectId(submitted["id"])])


# admit: 1 held notice, 2 the registration
@pytest.mark.parametrize("write", [1, 2], ids=["notice", "registration"])
def test_admit_fails_whole(client, db, klass, submitted, staff_bj, admin_token, fail_write, write):
    assert _decision(client, staff_bj, submitted["id"], "recommend").status_code == 200
    before = _state(db, klass)
    with fail_write(write):
        assert_unavailable(_decision(client, admin_token, submitted["id"], "admit"))
    assert _state(db, klass) == before
    assert _decision(client, admin_token, submitted["id"], "admit").json["state"] == "admitted"
    assert db[OUTBOX].count_documents({"template": "registration_decision"}) == 2  # recommend, admit


# cancel an admitted registration: 1 held notice, 2 the place given back, 3 the registration
@pytest.mark.parametrize("write", [2, 3], ids=["quota-place", "registration"])
def test_cancel_fails_whole_and_a_retry_gives_the_place_back_once(client, db, klass, admitted, admin_token,
                                                                   fail_write, write):
    before = _state(db, klass)
    with fail_write(write):
        assert_unavailable(_decision(client, admin_token, admitted["id"], "cancel", reason="企业放弃"))
    assert _state(db, klass) == before
    assert _used(db, klass) == (1, [ObjectId(admitted["id"])])
    again = _decision(client, admin_token, admitted["id"], "cancel", reason="企业放弃")
    assert again.status_code == 200 and again.json["state"] == "cancelled"
    assert _used(db, klass) == (0, [])


# the trainee withdraws a recommended registration: 1 the place given back, 2 the registration
@pytest.mark.parametrize("write", [1, 2], ids=["quota-place", "registration"])
def test_withdraw_fails_whole(client, db, klass, submitted, staff_bj, fail_write, write, login):
    assert _decision(client, staff_bj, submitted["id"], "recommend").status_code == 200
    trainee = login("trainee-1")
    before = _state(db, klass)
    with fail_write(write):
        assert_unavailable(client.post(f"/api/v1/registrations/{submitted['id']}/withdraw", headers=bearer(trainee)))
    assert _state(db, klass) == before
    again = client.post(f"/api/v1/registrations/{submitted['id']}/withdraw", headers=bearer(trainee))
    assert again.status_code == 200 and again.json["state"] == "withdrawn"
    assert _used(db, klass) == (0, [])


def test_after_the_registration_is_written_a_failing_bump_or_release_still_answers_the_decision(
        client, db, klass, submitted, staff_bj, fail_write):
    """Write 4 is the report version bump, write 5 releasing the held notice: both best effort."""
    with fail_write(4, times=4):
        response = _decision(client, staff_bj, submitted["id"], "recommend")
    assert response.status_code == 200, response.json
    assert _used(db, klass) == (1, [ObjectId(submitted["id"])])
    assert db[OUTBOX].count_documents({"template": "registration_decision"}) == 1  # held: goes out after its hold
