"""The all-regions table's read model (service.reports.summaries): after every kind of write the
features make, the table read through it equals a full recount, and only changed regions are
counted again."""

import datetime as dt

from bson import ObjectId

from service.completion import repository as completion_repository
from service.ratings import repository as ratings_repository
from service.registrations import repository as registrations_repository
from service.registry import repository as registry_repository
from service.reports import service, summaries
from tests.conftest import bearer
from tests.reports.conftest import CONFIRMED, YEAR, _history, _snapshot
from tests.reports.test_national_kpis_api import JIANGSU, SHANGHAI, national  # noqa: F401 (fixture)


def _table(app):
    with app.app_context():
        cached, fresh = service.national_kpis(year=YEAR), service.national_kpis(year=YEAR, recount=True)
    for one in (cached, fresh):
        del one["generated_at"]
    differ = [(a, b) for a, b in zip(cached["regions"], fresh["regions"]) if a != b]
    assert not differ, differ
    return cached, fresh


def _row(data, code):
    return next(r for r in data["regions"] if r["region_code"] == code)


def test_equal_to_a_recount_after_each_kind_of_write(app, national):  # noqa: F811
    cached, fresh = _table(app)
    assert cached == fresh
    with app.app_context():
        # A new registration (江苏) and its move to confirmed.
        doc = registrations_repository.insert({
            "_id": ObjectId(), "class_id": national.class_a, "user_id": ObjectId(), "year": YEAR,
            "region_code": JIANGSU, "state": "admitted", "history": CONFIRMED[:4], "credit_code": "J1",
            "enterprise_name": "江苏企业", "snapshot": _snapshot("周杰", "J1"), "version": 1})
    cached, fresh = _table(app)
    assert cached == fresh and _row(cached, JIANGSU)["review"]["to_review"] == 2
    with app.app_context():
        registrations_repository.move(registration=doc, update={
            "$set": {"state": "confirmed", "history": CONFIRMED}})
    cached, fresh = _table(app)
    assert cached == fresh and _row(cached, JIANGSU)["trainees_trained"] == 1
    with app.app_context():
        certificate = completion_repository.insert({
            "_id": ObjectId(), "number": "LJ202600009", "status": "valid", "class_id": national.class_a,
            "registration_id": doc["_id"], "user_id": doc["user_id"], "region_code": JIANGSU, "year": YEAR,
            "name": "周杰", "issued_on": "2026-01-02"})
    cached, fresh = _table(app)
    assert cached == fresh and _row(cached, JIANGSU)["trainees_completed"] == 1
    with app.app_context():
        completion_repository.revoke(certificate_id=certificate["_id"], by=None, reason="错发")
    cached, fresh = _table(app)
    assert cached == fresh and _row(cached, JIANGSU)["trainees_completed"] == 0
    with app.app_context():
        rating = ratings_repository.insert_rating({
            "_id": ObjectId(), "class_id": national.class_a, "year": YEAR, "region_code": JIANGSU, "kind": "class",
            "suggestions": "", "scores": {"course_design": 5, "faculty": 5, "organisation": 5, "effect": 5}})
    cached, fresh = _table(app)
    assert cached == fresh and _row(cached, JIANGSU)["satisfaction"]["rate"] == 1.0
    with app.app_context():
        ratings_repository.replace_rating(rating["_id"], {
            "scores": {"course_design": 1, "faculty": 1, "organisation": 5, "effect": 5}})
    cached, fresh = _table(app)
    assert cached == fresh and _row(cached, JIANGSU)["satisfaction"]["rate"] == 0.5
    with app.app_context():
        now = dt.datetime.now(dt.timezone.utc)
        # J1 becomes a 小巨人 of 江苏, and G7 moves from 上海 to 江苏 (its old region changes too).
        registry_repository.save_entries(new=[
            {"credit_code": "J1", "title": "小巨人", "name": "J1", "region_code": JIANGSU, "batch": None,
             "valid_from": "2025-01-01", "valid_until": "2027-12-31"}], changed=[
            {"credit_code": "G7", "title": "小巨人", "name": "G7", "region_code": JIANGSU, "batch": None,
             "valid_from": "2025-01-01", "valid_until": "2027-12-31"}], now=now)
    cached, fresh = _table(app)
    assert cached == fresh
    assert _row(cached, JIANGSU)["little_giants"]["in_registry"] == 2
    assert _row(cached, SHANGHAI)["little_giants"]["in_registry"] == 1


def test_only_changed_regions_are_counted_again(app, national, db_reads):  # noqa: F811
    _table(app)
    with app.app_context():
        registrations_repository.insert({
            "_id": ObjectId(), "class_id": national.class_b, "user_id": ObjectId(), "year": YEAR,
            "region_code": JIANGSU, "state": "submitted", "history": _history((None, "draft"), ("draft", "submitted")),
            "credit_code": "J2", "snapshot": _snapshot("吴磊", "J2"), "version": 1})
        db_reads.clear()
        table = service.national_kpis(year=YEAR)
    assert _row(table, JIANGSU)["review"]["pending"] == 2
    # The year's counts (attendance gaps of sessions not closed yet are checked live, by class).
    counted = [e for e in db_reads.entries if e[0] in ("registrations", "ratings", "certificates")
               and "year" in (e[2] or {})]
    assert counted and all((e[2] or {}).get("region_code") == JIANGSU for e in counted), counted


def test_a_write_during_a_count_is_not_lost(app, national):  # noqa: F811
    """The versions are read before counting: a write landing during the count leaves a newer
    version, so the stored row is not used afterwards."""
    with app.app_context():
        seen = summaries.versions(YEAR, [JIANGSU])
        stale = service._stored_counts(year=YEAR, region_code=JIANGSU)[0]
        registrations_repository.insert({
            "_id": ObjectId(), "class_id": national.class_b, "user_id": ObjectId(), "year": YEAR,
            "region_code": JIANGSU, "state": "submitted", "history": _history((None, "draft"), ("draft", "submitted")),
            "credit_code": "J3", "snapshot": _snapshot("郑爽", "J3"), "version": 1})
        summaries.store(YEAR, stale, seen)  # the count that began before the write ends after it
    cached, fresh = _table(app)
    assert cached == fresh and _row(cached, JIANGSU)["review"]["pending"] == 2


def test_rows_written_outside_the_service_are_counted_again_when_old(app, db, national):  # noqa: F811
    _table(app)
    db.registrations.insert_one({  # a restore or a manual fix: nobody marks the region
        "_id": ObjectId(), "class_id": national.class_b, "user_id": ObjectId(), "year": YEAR,
        "region_code": JIANGSU, "state": "submitted", "history": _history((None, "draft"), ("draft", "submitted")),
        "credit_code": "J4", "snapshot": _snapshot("王芳", "J4"), "version": 1})
    db.report_region_counts.update_many({}, {"$set": {"counted_at": dt.datetime.now(dt.timezone.utc)
                                                      - summaries.MAX_AGE - dt.timedelta(seconds=1)}})
    cached, fresh = _table(app)
    assert cached == fresh and _row(cached, JIANGSU)["review"]["pending"] == 2


def test_the_region_report_refreshes_its_row(client, admin_token, app, national):  # noqa: F811
    _table(app)
    single = client.get(f"/api/v1/reports/regions/{SHANGHAI}/years/{YEAR}", headers=bearer(admin_token))
    assert single.status_code == 200
    cached, fresh = _table(app)
    assert cached == fresh


def test_writers_marking_the_same_new_region_at_once_all_succeed(app, db):
    """Two first bumps of the same version race on the new _id: neither writer fails."""
    import threading

    errors = []

    def bump():
        try:
            with app.app_context():
                for _ in range(20):
                    summaries.changed(region_code="650000", year=YEAR + 1)
        except Exception as exc:  # noqa: BLE001 (the test reports any)
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert db.report_versions.find_one({"_id": f"{YEAR + 1}:650000"})["v"] == 80


# ---- the worker keeps the read model counted (issue "National scale": never cold for a user) ----

def _counting_reads(db_reads):
    """The reads that count a year (what a cold table costs), as db_reads logged them."""
    return [e for e in db_reads.entries if (e[0] in ("registrations", "ratings", "certificates")
                                            and "year" in (e[2] or {}))
            or (e[0] == "enterprises" and "title" in (e[2] or {}))]


def _stored_rows(db):
    return {d["region_code"]: d["counts"] for d in db.report_region_counts.find({"year": YEAR})}


def test_after_the_worker_a_fresh_database_table_counts_nothing(app, db, national, db_reads):  # noqa: F811
    from service.worker import run_read_model_once

    assert db.report_region_counts.count_documents({}) == 0  # a fresh database: the table would be cold
    with app.app_context():
        counted = service.refresh_read_model(years=[YEAR])
    assert counted == {YEAR: len(_stored_rows(db))} and counted[YEAR] > 30
    db_reads.clear()
    with app.app_context():
        table = service.national_kpis(year=YEAR)
    assert _counting_reads(db_reads) == []
    with app.app_context():
        recount = service.national_kpis(year=YEAR, recount=True)
    assert table["regions"] == recount["regions"] and table["national"] == recount["national"]
    # Nothing changed: the next round counts nothing (and the worker's own step leaves YEAR alone).
    with app.app_context():
        assert service.refresh_read_model(years=[YEAR]) == {YEAR: 0}
    assert run_read_model_once(app).get(YEAR, 0) == 0


def test_the_worker_keeps_the_read_model_equal_to_a_recount_after_a_mix_of_writes(app, db, national):  # noqa: F811
    with app.app_context():
        service.refresh_read_model(years=[YEAR])
        doc = registrations_repository.insert({
            "_id": ObjectId(), "class_id": national.class_a, "user_id": ObjectId(), "year": YEAR,
            "region_code": JIANGSU, "state": "admitted", "history": CONFIRMED[:4], "credit_code": "J1",
            "enterprise_name": "江苏企业", "snapshot": _snapshot("周杰", "J1"), "version": 1})
        registrations_repository.move(registration=doc, update={"$set": {"state": "confirmed", "history": CONFIRMED}})
        certificate = completion_repository.insert({
            "_id": ObjectId(), "number": "LJ202600019", "status": "valid", "class_id": national.class_a,
            "registration_id": doc["_id"], "user_id": doc["user_id"], "region_code": JIANGSU, "year": YEAR,
            "name": "周杰", "issued_on": "2026-01-02"})
        ratings_repository.insert_rating({
            "_id": ObjectId(), "class_id": national.class_a, "year": YEAR, "region_code": SHANGHAI, "kind": "class",
            "suggestions": "", "scores": {"course_design": 5, "faculty": 2, "organisation": 5, "effect": 5}})
        registry_repository.save_entries(new=[
            {"credit_code": "J1", "title": "小巨人", "name": "J1", "region_code": JIANGSU, "batch": None,
             "valid_from": "2025-01-01", "valid_until": "2027-12-31"}], changed=[], now=dt.datetime.now(dt.timezone.utc))
        completion_repository.revoke(certificate_id=certificate["_id"], by=None, reason="错发")
        counted = service.refresh_read_model(years=[YEAR])[YEAR]
        recount = service._stored_counts(year=YEAR)[0]
    assert counted == len(recount)  # the registry import marked every region
    assert _stored_rows(db) == recount
    assert _stored_rows(db)[JIANGSU]["giants_in_registry"] == 1 and _stored_rows(db)[JIANGSU]["confirmed"] >= 1
    # One write in one region: the worker counts that region only, and again equals a recount.
    with app.app_context():
        ratings_repository.insert_rating({
            "_id": ObjectId(), "class_id": national.class_a, "year": YEAR, "region_code": JIANGSU, "kind": "class",
            "suggestions": "", "scores": {"course_design": 1, "faculty": 1, "organisation": 1, "effect": 1}})
        assert service.refresh_read_model(years=[YEAR]) == {YEAR: 1}
        recount = service._stored_counts(year=YEAR)[0]
    assert _stored_rows(db) == recount
    _table(app)


def test_the_worker_counts_old_rows_again_before_a_request_would(app, db, national):  # noqa: F811
    with app.app_context():
        service.refresh_read_model(years=[YEAR])
    db.registrations.insert_one({  # written outside the service: no version moves
        "_id": ObjectId(), "class_id": national.class_b, "user_id": ObjectId(), "year": YEAR,
        "region_code": JIANGSU, "state": "submitted", "history": _history((None, "draft"), ("draft", "submitted")),
        "credit_code": "J5", "snapshot": _snapshot("李娜", "J5"), "version": 1})
    now = dt.datetime.now(dt.timezone.utc)
    db.report_region_counts.update_many({"region_code": JIANGSU}, {"$set": {
        "counted_at": now - service.REFRESH_AFTER - dt.timedelta(seconds=1)}})
    assert service.REFRESH_AFTER < summaries.MAX_AGE  # the worker is first: a request never finds the row too old
    with app.app_context():
        assert service.refresh_read_model(years=[YEAR]) == {YEAR: 1}
    assert _stored_rows(db)[JIANGSU]["pending"] == 2
    cached, fresh = _table(app)
    assert cached == fresh


def test_the_worker_keeps_last_this_and_next_year():
    moment = dt.datetime(2026, 12, 31, 17, 0, tzinfo=dt.timezone.utc)  # 2027-01-01 01:00 in Beijing
    assert service.read_model_years(moment) == [2026, 2027, 2028]


def test_the_worker_counts_with_a_timeout_of_its_own(app, national, monkeypatch):  # noqa: F811
    """A national pass takes longer than the 10 s socket timeout of requests on a loaded machine:
    the worker's reads run under pymongo.timeout(COUNT_TIMEOUT_SECONDS) (pymongo's own record of
    the timeout in force is private: read it there, this test is the only reader)."""
    from pymongo import _csot

    seen = []
    original = service._count_regions

    def count(year, codes):
        seen.append(_csot.get_timeout())
        return original(year, codes)

    monkeypatch.setattr(service, "_count_regions", count)
    with app.app_context():
        service.refresh_read_model(years=[YEAR])
        assert _csot.get_timeout() is None  # requests keep the socket timeout
    assert seen == [service.COUNT_TIMEOUT_SECONDS]
