"""Quotas: atomic floor at the places counted; a concurrent burst never exceeds the quota."""

import io
import threading

import openpyxl
import pytest
from bson import ObjectId

from service.classes import repository
from service.classes.repository import CLASSES
from tests.conftest import bearer
from tests.factories import create_class, create_programme


@pytest.fixture
def klass(client, admin_token):
    programme = create_programme(client, admin_token)
    return create_class(client, admin_token, programme["id"], publish=True)


def _count_places(app, klass, region_code, n, registration_ids=None):
    """Take a place for each of n registrations; returns how many were taken."""
    with app.app_context():
        return sum(repository.take_quota_place(class_id=ObjectId(klass["id"]), region_code=region_code,
                                               registration_id=registration_id) == repository.TAKEN
                   for registration_id in registration_ids or [ObjectId() for _ in range(n)])


def test_set_and_add_quota(client, admin_token, klass, db):
    response = client.put(f"/api/v1/classes/{klass['id']}/quotas/330200", json={"places": 5},
                          headers=bearer(admin_token))
    assert response.status_code == 200
    assert {q["region_code"]: q["places"] for q in response.json["quotas"]} == \
        {"110000": 10, "330200": 5, "440000": 10}
    assert response.json["total_places"] == 25
    changes = db[CLASSES].find_one({"_id": ObjectId(klass["id"])})["changes"]
    assert changes[-1]["what"] == {"quota.330200": {"old": None, "new": 5}}


def test_lowering_below_used_is_refused(app, client, admin_token, klass, db):
    assert _count_places(app, klass, "110000", 6) == 6
    url = f"/api/v1/classes/{klass['id']}/quotas/110000"
    refused = client.put(url, json={"places": 5}, headers=bearer(admin_token))
    assert refused.status_code == 422
    assert refused.json["code"] == "QUOTA_BELOW_USED"
    quota = db[CLASSES].find_one({"_id": ObjectId(klass["id"])})["quotas"]["110000"]
    assert (quota["places"], quota["used"], len(quota["holders"])) == (10, 6, 6)
    lowered = client.put(url, json={"places": 6}, headers=bearer(admin_token))
    assert lowered.status_code == 200
    row = next(q for q in lowered.json["quotas"] if q["region_code"] == "110000")
    assert row == {"region_code": "110000", "region_name": "北京市", "places": 6, "used": 6, "left": 0}


def test_quota_above_capacity_refused(client, admin_token, klass, db):
    response = client.put(f"/api/v1/classes/{klass['id']}/quotas/440000", json={"places": 71},
                          headers=bearer(admin_token))
    assert response.json["code"] == "QUOTA_EXCEEDS_CAPACITY"
    assert db[CLASSES].find_one({"_id": ObjectId(klass["id"])})["quotas"]["440000"]["places"] == 10


def test_unknown_region_refused(client, admin_token, klass):
    response = client.put(f"/api/v1/classes/{klass['id']}/quotas/999999", json={"places": 1},
                          headers=bearer(admin_token))
    assert response.json["code"] == "REGION_UNKNOWN"


def test_concurrent_places_never_exceed_the_quota(app, klass, db):
    taken = []

    def worker():
        taken.append(_count_places(app, klass, "440000", 1))

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(taken) == 10
    assert db[CLASSES].find_one({"_id": ObjectId(klass["id"])})["quotas"]["440000"]["used"] == 10


def test_quota_race_with_lowering(app, client, admin_token, klass, db):
    """Lowering and counting at once: the stored used never exceeds the stored places."""
    url = f"/api/v1/classes/{klass['id']}/quotas/440000"

    def lower():
        for places in (9, 8, 7, 6, 5):
            with app.test_client() as c:
                c.put(url, json={"places": places}, headers=bearer(admin_token))

    counter = threading.Thread(target=lambda: _count_places(app, klass, "440000", 10))
    lowerer = threading.Thread(target=lower)
    counter.start(), lowerer.start()
    counter.join(), lowerer.join()
    quota = db[CLASSES].find_one({"_id": ObjectId(klass["id"])})["quotas"]["440000"]
    assert quota["used"] <= quota["places"]


def test_places_are_released(app, klass, db):
    first, second = ObjectId(), ObjectId()
    _count_places(app, klass, "110000", 2, [first, second])
    place = {"class_id": ObjectId(klass["id"]), "region_code": "110000"}
    with app.app_context():
        assert repository.release_quota_place(**place, registration_id=first)
        assert not repository.release_quota_place(**place, registration_id=first)  # given back already
        assert repository.release_quota_place(**place, registration_id=second)
        assert not repository.release_quota_place(**place, registration_id=ObjectId())
    quota = db[CLASSES].find_one({"_id": ObjectId(klass["id"])})["quotas"]["110000"]
    assert quota["used"] == 0 and quota["holders"] == []


def test_a_place_is_counted_once_per_registration(app, klass, db):
    """A request that took a place and then failed can be sent again: the place is not counted twice."""
    registration_id = ObjectId()
    place = {"class_id": ObjectId(klass["id"]), "region_code": "110000", "registration_id": registration_id}
    with app.app_context():
        assert repository.take_quota_place(**place) == repository.TAKEN
        assert repository.take_quota_place(**place) == repository.HELD_ALREADY
    quota = db[CLASSES].find_one({"_id": ObjectId(klass["id"])})["quotas"]["110000"]
    assert quota["used"] == 1 and quota["holders"] == [registration_id]


def test_quota_excel(app, client, admin_token, klass):
    _count_places(app, klass, "440000", 3)
    response = client.get(f"/api/v1/classes/{klass['id']}/quotas.xlsx", headers=bearer(admin_token))
    rows = list(openpyxl.load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0] == ("地区代码", "地区", "名额", "已占用", "剩余")
    assert rows[1:] == [("110000", "北京市", 10, 0, 10), ("440000", "广东省", 10, 3, 7), (None, "合计", 20, 3, 17)]
