"""Quota places true to the registrations holding them (issue 14 §3, service/registrations/places.py):
the migration of quotas written before `holders` existed, and the worker's reconciliation of places
left taken or given back by a request whose compensation failed too."""

import threading

import pytest
from bson import ObjectId

from service.classes.repository import CLASSES
from service.registrations import places
from service.registrations.repository import REGISTRATIONS
from tests.conftest import bearer
from tests.fixtures.faults import assert_unavailable


def _quota(db, klass, region_code="110000"):
    return db[CLASSES].find_one({"_id": ObjectId(klass["id"])})["quotas"][region_code]


def _used(db, klass):
    quota = _quota(db, klass)
    return quota["used"], sorted(quota.get("holders") or [])


def _recount(db, klass, region_code="110000"):
    return sorted(r["_id"] for r in db[REGISTRATIONS].find(
        {"class_id": ObjectId(klass["id"]), "region_code": region_code,
         "state": {"$in": ["recommended", "admitted", "waitlisted", "confirmed"]}}))


@pytest.fixture
def recommended(klass, make_trainee, apply, decide, staff_bj):
    """Three registrations of region 110000 recommended (each holds a place)."""
    found = []
    for serial in (1, 2, 3):
        registration = apply(make_trainee(serial), klass["id"])
        decide(staff_bj, registration["id"], "recommend")
        found.append(registration)
    return found


def _in_app(app, function, **kwargs):
    with app.app_context():
        return function(**kwargs)


def test_migration_rebuilds_holders_of_a_quota_written_before_they_existed(app, client, db, klass, recommended,
                                                                           login):
    withdrawn = recommended[2]
    trainee = login("trainee-3")
    assert client.post(f"/api/v1/registrations/{withdrawn['id']}/withdraw",
                       headers=bearer(trainee)).json["state"] == "withdrawn"
    # The shape an older version wrote: a count without names (and a count that drifted: 5, not 2).
    db[CLASSES].update_one({"_id": ObjectId(klass["id"])},
                           {"$unset": {"quotas.110000.holders": ""}, "$set": {"quotas.110000.used": 5}})
    assert _in_app(app, places.migrate) == 1
    assert _used(db, klass) == (2, _recount(db, klass))
    assert len(_recount(db, klass)) == 2
    before = db[CLASSES].find_one({"_id": ObjectId(klass["id"])})
    assert _in_app(app, places.migrate) == 0  # a second run changes nothing
    assert db[CLASSES].find_one({"_id": ObjectId(klass["id"])}) == before
    # Now a registration of the old count gives its place back by name (it could not before:
    # a newer registration's place had created the list without it).
    assert client.post(f"/api/v1/registrations/{recommended[0]['id']}/withdraw",
                       headers=bearer(login("trainee-1"))).status_code == 200
    assert _used(db, klass) == (1, [ObjectId(recommended[1]["id"])])


def test_migration_runs_when_the_service_starts(app_config, db, klass, recommended):
    from service.app import create_app

    db[CLASSES].update_one({"_id": ObjectId(klass["id"])}, {"$unset": {"quotas.110000.holders": ""}})
    create_app(app_config)
    assert _used(db, klass) == (3, _recount(db, klass))


def test_migration_keeps_places_taken_after_an_old_count(app, client, db, klass, recommended, make_trainee, apply,
                                                         decide, staff_bj):
    """A quota of the old shape that a newer version already counted a place in (its list names
    only that one): the migration adds the older holders, and counts each once."""
    db[CLASSES].update_one({"_id": ObjectId(klass["id"])},
                           {"$set": {"quotas.110000.holders": [ObjectId(recommended[2]["id"])]}})
    assert _used(db, klass)[0] == 3
    assert _in_app(app, places.migrate) == 1
    assert _used(db, klass) == (3, _recount(db, klass))


# ---- reconciliation (the worker) ------------------------------------------------------------

def _rejected_still_holding(client, db, klass, registration, staff_bj, fail_write):
    """A recommendation whose registration write and give-back both fail leaves the place taken by
    a submitted registration; the province then rejects it (no place counted on it): taken for nothing."""
    with fail_write(3, times=20):  # 1 notice, 2 the place, 3 the registration, 4.. the give-back
        assert_unavailable(client.post(f"/api/v1/registrations/{registration['id']}/decision",
                                       json={"action": "recommend"}, headers=bearer(staff_bj)))
    rejected = client.post(f"/api/v1/registrations/{registration['id']}/decision",
                           json={"action": "reject", "reason": "不符合报名条件"}, headers=bearer(staff_bj))
    assert rejected.status_code == 200 and rejected.json["state"] == "rejected", rejected.json
    assert ObjectId(registration["id"]) in _used(db, klass)[1]


def test_reconciliation_gives_back_a_place_left_by_a_failed_give_back(app, client, db, klass, make_trainee, apply,
                                                                      staff_bj, fail_write):
    registration = apply(make_trainee(1), klass["id"])
    _rejected_still_holding(client, db, klass, registration, staff_bj, fail_write)
    assert _used(db, klass) == (1, [ObjectId(registration["id"])])
    assert _in_app(app, places.reconcile) == {"released": 1, "taken": 0, "rebuilt": 0}
    assert _used(db, klass) == (0, [])
    assert _in_app(app, places.reconcile) == {"released": 0, "taken": 0, "rebuilt": 0}


def test_reconciliation_puts_back_a_place_a_failed_cancellation_gave_back(app, client, db, klass, recommended,
                                                                          admin_token, fail_write):
    target = recommended[0]
    assert client.post(f"/api/v1/registrations/{target['id']}/decision", json={"action": "admit"},
                       headers=bearer(admin_token)).status_code == 200
    with fail_write(3, times=20):  # 1 notice, 2 the give-back, 3 the registration, 4.. the re-take
        assert_unavailable(client.post(f"/api/v1/registrations/{target['id']}/decision",
                                       json={"action": "cancel", "reason": "企业放弃"}, headers=bearer(admin_token)))
    assert db[REGISTRATIONS].find_one({"_id": ObjectId(target["id"])})["state"] == "admitted"
    assert _used(db, klass)[0] == 2  # the admitted registration counts, its place is free
    assert _in_app(app, places.reconcile) == {"released": 0, "taken": 1, "rebuilt": 0}
    assert _used(db, klass) == (3, _recount(db, klass))
    assert _in_app(app, places.reconcile)["taken"] == 0


def test_two_workers_reconciling_at_once_give_a_place_back_once(app, client, db, klass, make_trainee, apply,
                                                               staff_bj, fail_write):
    registration = apply(make_trainee(1), klass["id"])
    other = apply(make_trainee(2), klass["id"])
    assert client.post(f"/api/v1/registrations/{other['id']}/decision", json={"action": "recommend"},
                       headers=bearer(staff_bj)).status_code == 200
    _rejected_still_holding(client, db, klass, registration, staff_bj, fail_write)
    assert _used(db, klass)[0] == 2
    barrier, results = threading.Barrier(2), []

    def worker():
        barrier.wait()
        results.append(_in_app(app, places.reconcile))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r["released"] for r in results) == 1
    assert _used(db, klass) == (1, [ObjectId(other["id"])])


def test_the_worker_round_reconciles(app, client, db, klass, make_trainee, apply, staff_bj, fail_write):
    from service.worker import run_once

    registration = apply(make_trainee(1), klass["id"])
    _rejected_still_holding(client, db, klass, registration, staff_bj, fail_write)
    assert run_once(app)["quota_places"]["released"] == 1
    assert _used(db, klass) == (0, [])
