"""Races settled by the database: quota counter and the one-enterprise index."""

import threading

from bson import ObjectId

from service.classes.repository import CLASSES
from service.registrations.repository import REGISTRATIONS
from tests.conftest import bearer
from tests.factories import create_class, profile_body


def _run_together(functions):
    barrier = threading.Barrier(len(functions))
    results = [None] * len(functions)

    def run(index, fn):
        barrier.wait()
        results[index] = fn()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(functions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_fifty_recommendations_against_ten_places(app, client, db, admin_token, programme, make_trainee, apply,
                                                 staff_bj):
    klass = create_class(client, admin_token, programme["id"], publish=True, capacity=100,
                         quotas=[{"region_code": "110000", "places": 10}])
    ids = [apply(make_trainee(100 + n), klass["id"])["id"] for n in range(50)]

    def recommend(rid):
        def call():
            with app.test_client() as c:
                return c.post(f"/api/v1/registrations/{rid}/decision", json={"action": "recommend"},
                              headers=bearer(staff_bj)).status_code
        return call

    statuses = _run_together([recommend(rid) for rid in ids])
    assert statuses.count(200) == 10
    assert statuses.count(422) == 40
    assert db[REGISTRATIONS].count_documents({"state": "recommended", "counted": True}) == 10
    assert db[CLASSES].find_one({"_id": ObjectId(klass["id"])})["quotas"]["110000"]["used"] == 10


def test_two_people_of_one_enterprise_racing(app, client, db, klass, make_trainee, apply):
    enterprise = profile_body(serial=200)["enterprise"]
    tokens = [make_trainee(200), make_trainee(201, enterprise=enterprise)]
    drafts = [apply(token, klass["id"], submit=False)["id"] for token in tokens]

    def submit(token, rid):
        def call():
            with app.test_client() as c:
                return c.post(f"/api/v1/registrations/{rid}/submit", headers=bearer(token)).json
        return call

    results = _run_together([submit(t, r) for t, r in zip(tokens, drafts)])
    states = sorted(r.get("state") or r["code"] for r in results)
    assert states == ["ENTERPRISE_ALREADY_REGISTERED", "submitted"]
    assert db[REGISTRATIONS].count_documents({"state": "submitted"}) == 1


def test_two_decisions_racing_on_one_registration(app, db, klass, make_trainee, apply, staff_bj, make_staff):
    other_staff = make_staff("province_staff", region_code="110000")
    rid = apply(make_trainee(210), klass["id"])["id"]

    def act(token, action, reason=None):
        def call():
            with app.test_client() as c:
                body = {"action": action, **({"reason": reason} if reason else {})}
                return c.post(f"/api/v1/registrations/{rid}/decision", json=body, headers=bearer(token)).status_code
        return call

    statuses = _run_together([act(staff_bj, "recommend"), act(other_staff, "reject", "不符合")] * 5)
    assert statuses.count(200) == 1
    doc = db[REGISTRATIONS].find_one({"_id": ObjectId(rid)})
    assert len(doc["history"]) == 3  # draft, submitted, one decision
    used = db[CLASSES].find_one({"_id": ObjectId(klass["id"])})["quotas"]["110000"]["used"]
    assert used == (1 if doc["state"] == "recommended" else 0)
