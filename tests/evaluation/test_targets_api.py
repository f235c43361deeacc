"""Performance targets (绩效目标): versioned, with history; the region's staff and organizers only."""

from tests.conftest import bearer
from tests.evaluation.conftest import YEAR

URL = f"/api/v1/regions/110000/years/{YEAR}/targets"
BODY = {"little_giant_share": 0.35, "little_giants": 3, "classes": 1, "satisfaction": 0.9}


def test_unset_targets_read_as_nulls(client, admin_token):
    data = client.get(URL, headers=bearer(admin_token)).json
    assert data == {"region_code": "110000", "region_name": "北京市", "year": YEAR, "little_giant_share": None,
                    "little_giants": None, "classes": None, "satisfaction": None, "version": 0,
                    "updated_by": None, "updated_by_name": None, "updated_at": None, "history": []}


def test_set_then_change_keeps_history(client, make_staff, admin_token, db):
    staff = make_staff("province_staff", region_code="110000", person="北京市工信厅-王芳")
    first = client.put(URL, json={**BODY, "version": 0}, headers=bearer(staff))
    assert first.status_code == 200, first.json
    assert (first.json["version"], first.json["little_giants"], first.json["satisfaction"]) == (1, 3, 0.9)
    staff_id = client.get("/api/v1/me", headers=bearer(staff)).json["id"]
    assert first.json["updated_by"] == staff_id and first.json["updated_at"].endswith("+08:00")
    assert first.json["updated_by_name"] == "北京市工信厅-王芳"
    second = client.put(URL, json={**BODY, "classes": 4, "version": 1}, headers=bearer(admin_token))
    assert second.status_code == 200, second.json
    data = client.get(URL, headers=bearer(staff)).json
    assert (data["version"], data["classes"]) == (2, 4)
    assert [(h["version"], h["classes"], h["by"], h["by_name"]) for h in data["history"]] == [
        (1, 1, staff_id, "北京市工信厅-王芳"),
        (2, 4, client.get("/api/v1/me", headers=bearer(admin_token)).json["id"], data["updated_by_name"])]
    assert data["updated_by_name"] != "北京市工信厅-王芳"
    assert db.performance_targets.count_documents({}) == 1


def test_stale_version_is_refused_and_nothing_written(client, admin_token, db):
    assert client.put(URL, json={**BODY, "version": 0}, headers=bearer(admin_token)).status_code == 200
    for version in (0, 2):  # a second first-time setting; a version nobody read
        stale = client.put(URL, json={**BODY, "classes": 9, "version": version}, headers=bearer(admin_token))
        assert stale.status_code == 409 and stale.json["code"] == "TARGETS_CHANGED", stale.json
    doc = db.performance_targets.find_one()
    assert (doc["version"], doc["classes"], len(doc["history"])) == (1, 1, 1)


def test_input_is_validated(client, admin_token, db):
    for bad, field in (({**BODY, "little_giant_share": 35}, "little_giant_share"),
                       ({**BODY, "satisfaction": 0.12345}, "satisfaction"),
                       ({**BODY, "classes": -1}, "classes"),
                       ({k: v for k, v in BODY.items() if k != "little_giants"}, "little_giants"),
                       ({**BODY, "note": "x"}, "note")):
        response = client.put(URL, json={"version": 0, **bad}, headers=bearer(admin_token))
        assert response.status_code == 422 and field in response.json["errors"], response.json
    assert db.performance_targets.count_documents({}) == 0


def test_scope(client, make_staff, db):
    guangdong = make_staff("province_staff", region_code="440000")
    for response in (client.get(URL, headers=bearer(guangdong)),
                     client.put(URL, json={**BODY, "version": 0}, headers=bearer(guangdong))):
        assert response.status_code == 403 and response.json["code"] == "OUT_OF_SCOPE"
    supervisor = make_staff("supervisor")
    refused = client.put(URL, json={**BODY, "version": 0}, headers=bearer(supervisor))
    assert refused.status_code == 403 and refused.json["code"] == "ROLE_REQUIRED"
    unknown = client.get(f"/api/v1/regions/999999/years/{YEAR}/targets", headers=bearer(make_staff("admin")))
    assert unknown.status_code == 404 and unknown.json["code"] == "REGION_NOT_FOUND"
    assert db.performance_targets.count_documents({}) == 0


def _run_together(functions):
    import threading

    barrier = threading.Barrier(len(functions))
    results = [None] * len(functions)

    def run(index, fn):
        barrier.wait()
        results[index] = fn()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_writers_of_one_version_one_wins(app, client, admin_token, db):
    """Eight writers set the targets from version 0, then eight more from version 1: the unique index and
    the version in the filter let exactly one of each round through, and history has one entry per win."""

    def put(version, classes):
        def call():
            with app.test_client() as c:
                return c.put(URL, json={**BODY, "classes": classes, "version": version},
                             headers=bearer(admin_token)).status_code
        return call

    for version in (0, 1):
        statuses = _run_together([put(version, n) for n in range(8)])
        assert sorted(statuses) == [200] + [409] * 7
    doc = db.performance_targets.find_one()
    assert doc["version"] == 2 and [h["version"] for h in doc["history"]] == [1, 2]
    assert doc["classes"] == doc["history"][-1]["classes"]
