"""Registry imports in the background: the upload answers at once with a queued import, the worker
runs one import at a time with progress, a failure midway leaves a clear state that can be run
again, an import whose worker stopped is marked so."""

import datetime as dt

import pytest
from bson import ObjectId

from service.registry import importer, repository, service
from service.registry.repository import ENTERPRISES, REGISTRY_IMPORTS
from tests.conftest import bearer
from tests.factories import credit_code
from tests.registry.helpers import IMPORTS_URL, failing_on_call, good_row, import_registry, xlsx_bytes


def post(client, token, data, filename="名录.xlsx"):
    import io

    return client.post(IMPORTS_URL, headers=bearer(token), content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), filename)})


def get(client, token, import_id):
    return client.get(f"{IMPORTS_URL}/{import_id}", headers=bearer(token)).json


def run_worker(app):
    with app.app_context():
        return service.run_next_import()


def test_upload_answers_at_once_with_a_queued_import(client, db, admin_token):
    response = post(client, admin_token, xlsx_bytes([good_row(1), good_row(2)]))
    assert response.status_code == 202, response.json
    queued = response.json
    assert queued["state"] == "queued" and queued["error"] is None
    assert queued["progress"] == {"rows_read": 0, "rows_total": None}
    assert (queued["total"], queued["inserted"], queued["bad_rows"], queued["duration_ms"]) == (0, 0, [], None)
    assert db[ENTERPRISES].count_documents({}) == 0  # nothing written before the worker runs
    listed = client.get(IMPORTS_URL, headers=bearer(admin_token)).json["items"]
    assert [(item["id"], item["state"]) for item in listed] == [(queued["id"], "queued")]


def test_the_worker_imports_with_progress_in_batches(client, app, db, admin_token, monkeypatch):
    monkeypatch.setattr(service, "IMPORT_BATCH_ROWS", 2)
    seen = []
    original = repository.update_import

    def watch(import_id, fields, **kwargs):
        if "progress" in fields:
            seen.append((fields["progress"]["rows_read"], db[ENTERPRISES].count_documents({})))
        return original(import_id, fields, **kwargs)

    monkeypatch.setattr(repository, "update_import", watch)
    posted = post(client, admin_token, xlsx_bytes([good_row(serial) for serial in range(1, 6)])).json
    assert run_worker(app) is not None
    done = get(client, admin_token, posted["id"])
    assert done["state"] == "done" and done["error"] is None and done["finished_at"]
    assert (done["total"], done["inserted"], done["rejected"]) == (5, 5, 0)
    # Header row 1, data rows 2-6: progress after rows 3 and 5 (two each), then the end.
    assert seen[:2] == [(3, 2), (5, 4)] and seen[-1] == (6, 5)
    assert done["progress"] == {"rows_read": 6, "rows_total": 6}


def test_a_second_upload_waits_for_the_first(client, app, db, admin_token):
    first = post(client, admin_token, xlsx_bytes([good_row(1)])).json
    second = post(client, admin_token, xlsx_bytes([good_row(1, name="北京精工科技有限公司（更名）")])).json
    assert second["state"] == "queued"
    with app.app_context():  # the first is running (a worker holds it): nothing else starts
        claimed = repository.claim_next(now=dt.datetime.now(dt.timezone.utc))
        assert str(claimed["_id"]) == first["id"]
        assert service.run_next_import() is None
        repository.update_import(claimed["_id"], {"state": "queued"})  # give it back
    assert run_worker(app) is not None and run_worker(app) is not None and run_worker(app) is None
    assert get(client, admin_token, first["id"])["inserted"] == 1
    assert get(client, admin_token, second["id"])["updated"] == 1  # in upload order: the later file wins
    assert db[ENTERPRISES].find_one({})["name"] == "北京精工科技有限公司（更名）"


def test_a_failure_midway_leaves_a_clear_state_and_can_be_run_again(client, app, db, admin_token, monkeypatch):
    monkeypatch.setattr(service, "IMPORT_BATCH_ROWS", 2)
    original = repository.save_entries
    monkeypatch.setattr(repository, "save_entries", failing_on_call(original, 2, ConnectionError("database gone")))
    rows = [good_row(serial) for serial in range(1, 6)]
    posted = post(client, admin_token, xlsx_bytes(rows)).json
    run_worker(app)
    failed = get(client, admin_token, posted["id"])
    assert failed["state"] == "failed"
    assert failed["error"]["code"] == "REGISTRY_IMPORT_FAILED" and "重新导入" in failed["error"]["message"]
    # What the first batch wrote is kept and counted; the progress and total cover the batch whose
    # write failed (rows 4-5, checked, not written).
    assert db[ENTERPRISES].count_documents({}) == 2
    assert (failed["inserted"], failed["total"], failed["progress"]["rows_read"]) == (2, 4, 5)

    monkeypatch.setattr(repository, "save_entries", original)
    retried = client.post(f"{IMPORTS_URL}/{posted['id']}/retry", headers=bearer(admin_token))
    assert retried.status_code == 202 and retried.json["state"] == "queued"
    run_worker(app)
    done = get(client, admin_token, posted["id"])
    assert done["state"] == "done" and done["error"] is None
    assert (done["inserted"], done["unchanged"], done["total"]) == (3, 2, 5)
    assert sorted(d["credit_code"] for d in db[ENTERPRISES].find()) == sorted(credit_code(s) for s in range(1, 6))
    again = client.post(f"{IMPORTS_URL}/{posted['id']}/retry", headers=bearer(admin_token))
    assert again.status_code == 409 and again.json["code"] == "REGISTRY_IMPORT_NOT_FAILED"
    # Its file was let go once done.
    assert db["registry_files.files"].count_documents({}) == 0


def test_an_import_whose_worker_stopped_is_marked_interrupted(client, app, db, admin_token):
    posted = post(client, admin_token, xlsx_bytes([good_row(1)])).json
    with app.app_context():
        claimed = repository.claim_next(now=dt.datetime.now(dt.timezone.utc))  # a worker took it, then died
    db[REGISTRY_IMPORTS].update_one({"_id": claimed["_id"]}, {"$set": {
        "heartbeat_at": dt.datetime.now(dt.timezone.utc) - service.STALE_AFTER - dt.timedelta(seconds=1)}})
    assert run_worker(app) is None
    stopped = get(client, admin_token, posted["id"])
    assert stopped["state"] == "failed" and stopped["error"]["code"] == "REGISTRY_IMPORT_INTERRUPTED"
    assert client.post(f"{IMPORTS_URL}/{posted['id']}/retry", headers=bearer(admin_token)).status_code == 202
    run_worker(app)
    assert get(client, admin_token, posted["id"])["state"] == "done"


def test_every_fault_is_counted_and_the_first_ones_listed(client, db, admin_token, monkeypatch):
    monkeypatch.setattr(importer, "MAX_REPORTED_PROBLEMS", 3)
    rows = [good_row(serial, name="") for serial in range(1, 6)]  # five faults
    report = import_registry(client, admin_token, xlsx_bytes(rows)).json
    assert (report["rejected"], report["bad_rows_total"], len(report["bad_rows"]), report["bad_rows_truncated"]) == \
        (5, 5, 3, True)
    assert [bad["row"] for bad in report["bad_rows"]] == [2, 3, 4]


def test_retry_of_an_unknown_import(client, admin_token):
    response = client.post(f"{IMPORTS_URL}/0123456789abcdef01234567/retry", headers=bearer(admin_token))
    assert response.status_code == 404 and response.json["code"] == "REGISTRY_IMPORT_NOT_FOUND"


@pytest.mark.parametrize("role", ["supervisor", "province_staff"])
def test_only_organizers_retry(client, app, make_staff, admin_token, role):
    posted = post(client, admin_token, xlsx_bytes([good_row(1)])).json
    token = make_staff(role, region_code="110000" if role == "province_staff" else None)
    response = client.post(f"{IMPORTS_URL}/{posted['id']}/retry", headers=bearer(token))
    assert response.status_code == 403 and response.json["code"] == "ROLE_REQUIRED"


def test_the_progress_a_client_polls_moves_while_the_import_runs(client, app, db, admin_token, monkeypatch):
    """What GET .../imports/{id} answers between batches: running, rows read of rows total, and
    the counts of what is written so far (the writer stores them after each batch)."""
    monkeypatch.setattr(service, "IMPORT_BATCH_ROWS", 2)
    posted = post(client, admin_token, xlsx_bytes([good_row(serial) for serial in range(1, 6)])).json
    polled = []
    original = repository.save_entries

    def poll_then_write(**kwargs):
        report = get(client, admin_token, posted["id"])
        polled.append((report["state"], report["progress"]["rows_read"], report["progress"]["rows_total"],
                       report["inserted"], db[ENTERPRISES].count_documents({})))
        return original(**kwargs)

    monkeypatch.setattr(repository, "save_entries", poll_then_write)
    run_worker(app)
    assert polled == [("running", 0, None, 0, 0), ("running", 3, 6, 2, 2), ("running", 5, 6, 4, 4)]
    assert get(client, admin_token, posted["id"])["state"] == "done"


def test_a_file_fault_found_midway_keeps_the_written_batches_counted(client, app, db, admin_token, monkeypatch):
    """Reading runs ahead of writing: a file-level fault found at row 15 (the 14th data row, too
    many rows) fails the import once the batches read before it are written, and those are counted."""
    monkeypatch.setattr(service, "IMPORT_BATCH_ROWS", 2)
    monkeypatch.setattr(importer, "MAX_ROWS", 13)
    posted = post(client, admin_token, xlsx_bytes([good_row(serial) for serial in range(1, 16)])).json
    run_worker(app)
    failed = get(client, admin_token, posted["id"])
    assert failed["state"] == "failed" and failed["error"]["code"] == "REGISTRY_TOO_MANY_ROWS"
    assert db[ENTERPRISES].count_documents({}) == failed["inserted"] == 12  # six whole batches
    assert failed["progress"]["rows_read"] == 13
    monkeypatch.setattr(importer, "MAX_ROWS", 20)
    assert client.post(f"{IMPORTS_URL}/{posted['id']}/retry", headers=bearer(admin_token)).status_code == 202
    run_worker(app)
    done = get(client, admin_token, posted["id"])
    assert (done["state"], done["inserted"], done["unchanged"], done["total"]) == ("done", 3, 12, 15)
    assert db[ENTERPRISES].count_documents({}) == 15


def test_a_failed_write_stops_the_import_at_that_batch(client, app, db, admin_token, monkeypatch):
    """The writer thread's fault reaches the import: no batch after the failed one is written,
    even though reading ran ahead."""
    monkeypatch.setattr(service, "IMPORT_BATCH_ROWS", 2)
    original = repository.save_entries
    written = []

    def fail_first(**kwargs):
        written.append([e["credit_code"] for e in kwargs["new"]])
        if len(written) == 1:
            raise ConnectionError("database gone")
        return original(**kwargs)

    monkeypatch.setattr(repository, "save_entries", fail_first)
    posted = post(client, admin_token, xlsx_bytes([good_row(serial) for serial in range(1, 10)])).json
    run_worker(app)
    failed = get(client, admin_token, posted["id"])
    assert failed["state"] == "failed" and failed["error"]["code"] == "REGISTRY_IMPORT_FAILED"
    assert len(written) == 1 and db[ENTERPRISES].count_documents({}) == 0 and failed["inserted"] == 0


ENTERPRISE_FINDS = lambda reads: [e[2] for e in reads.entries if e[0] == ENTERPRISES and e[1] == "find"]  # noqa: E731


@pytest.mark.parametrize("parts", [True, False], ids=["registry-parts-read", "look-up-per-batch"])
def test_new_changed_and_unchanged_rows_told_apart_either_way(client, app, db, admin_token, monkeypatch, db_reads,
                                                               parts):
    """Compared with the parts of the registry the file brings, each read once (a big file), or
    batch by batch by credit code (a short list): the same counts, and an unchanged row is not
    written (its updated_at stays). Never a read of the whole registry."""
    monkeypatch.setattr(service, "IMPORT_BATCH_ROWS", 2)
    monkeypatch.setattr(service, "READ_PART_MIN_ROWS", 0 if parts else 10**9)
    run = lambda rows: (post(client, admin_token, xlsx_bytes(rows)).json["id"], run_worker(app))[0]  # noqa: E731
    first = run([good_row(serial) for serial in range(1, 6)])
    assert get(client, admin_token, first)["inserted"] == 5
    before = {d["credit_code"]: d["updated_at"] for d in db[ENTERPRISES].find()}
    db_reads.clear()
    second = run([good_row(1), good_row(2, name="北京精工科技有限公司（更名）"), good_row(3),
                  good_row(4, valid_until=dt.date(2028, 6, 30)), good_row(5), good_row(6), good_row(7, region="440000")])
    finds = ENTERPRISE_FINDS(db_reads)
    report = get(client, admin_token, second)
    assert (report["inserted"], report["updated"], report["unchanged"], report["state"]) == (2, 2, 3, "done")
    after = {d["credit_code"]: d for d in db[ENTERPRISES].find()}
    assert after[credit_code(2)]["name"] == "北京精工科技有限公司（更名）"
    assert after[credit_code(4)]["valid_until"] == "2028-06-30" and len(after) == 7
    assert all(after[credit_code(s)]["updated_at"] == before[credit_code(s)] for s in (1, 3, 5))
    assert {} not in finds and finds
    part_reads = [f for f in finds if set(f) == {"region_code", "title"}]
    if parts:  # each part once: (110000, 小巨人) and (440000, 小巨人)
        assert sorted(f["region_code"] for f in part_reads) == ["110000", "440000"]
        assert all(set(f) == {"region_code", "title"} for f in finds)
    else:
        assert part_reads == [] and all(set(f) == {"credit_code"} for f in finds)


def test_a_short_list_into_a_big_registry_reads_only_its_own_codes(client, app, db, admin_token, db_reads):
    """21 rows into a registry of many entries (F8: such an import read the whole registry first):
    only the stored entries of those 21 credit codes are read, and one of them changed is told apart."""
    stored = [{"credit_code": credit_code(serial), "title": "小巨人", "name": f"北京精工科技有限公司{serial}",
               "region_code": "110000", "batch": "第六批", "valid_from": "2024-07-01", "valid_until": "2027-06-30"}
              for serial in range(1, 3001)]
    db[ENTERPRISES].insert_many(stored)
    db_reads.clear()
    rows = [good_row(serial) for serial in range(1, 21)] + [good_row(2999, name="北京精工科技有限公司（更名）")]
    report = import_registry(client, admin_token, xlsx_bytes(rows)).json
    finds = ENTERPRISE_FINDS(db_reads)
    assert (report["state"], report["unchanged"], report["updated"], report["inserted"]) == ("done", 20, 1, 0)
    assert finds and all(set(f) == {"credit_code"} for f in finds)
    looked_up = [code for f in finds for code in f["credit_code"]["$in"]]
    assert sorted(looked_up) == sorted({credit_code(serial) for serial in [*range(1, 21), 2999]})


def test_a_big_file_reads_only_the_parts_of_the_registry_it_brings(client, app, db, admin_token, monkeypatch,
                                                                   db_reads):
    """A file bringing many rows of a region's 小巨人 reads that part of the registry once (an index
    range), not the other regions' entries, and not one look-up per batch."""
    monkeypatch.setattr(service, "IMPORT_BATCH_ROWS", 2)
    monkeypatch.setattr(service, "READ_PART_MIN_ROWS", 4)
    db[ENTERPRISES].insert_many([{"credit_code": credit_code(serial, "440000"), "title": title, "name": "广东某公司",
                                  "region_code": "440000", "batch": "第六批", "valid_from": "2024-07-01",
                                  "valid_until": "2027-06-30"} for serial in range(1, 50) for title in ("小巨人", "专精特新中小企业")])
    first = import_registry(client, admin_token, xlsx_bytes([good_row(serial) for serial in range(1, 9)])).json
    assert first["inserted"] == 8
    db_reads.clear()
    again = import_registry(client, admin_token, xlsx_bytes([good_row(serial) for serial in range(1, 9)])).json
    finds = ENTERPRISE_FINDS(db_reads)
    assert (again["unchanged"], again["inserted"], again["updated"]) == (8, 0, 0)
    assert finds == [{"region_code": "110000", "title": "小巨人"}]


def test_an_import_keeps_the_registry_indexes(client, app, db, admin_token, monkeypatch):
    """A first import into an empty registry writes with the indexes in place (the embedded server
    holds every request while it builds an index, so they are never dropped and built again), and
    the unique index keeps a duplicate out while it runs."""
    monkeypatch.setattr(service, "IMPORT_BATCH_ROWS", 2)
    dropped, seen = [], []
    monkeypatch.setattr(type(db[ENTERPRISES]), "drop_indexes", lambda self, *a, **k: dropped.append(self.name))
    monkeypatch.setattr(type(db[ENTERPRISES]), "drop_index", lambda self, *a, **k: dropped.append(self.name))
    original = repository.save_entries

    def watch(**kwargs):
        seen.append(sorted(db[ENTERPRISES].index_information()))
        return original(**kwargs)

    monkeypatch.setattr(repository, "save_entries", watch)
    report = import_registry(client, admin_token, xlsx_bytes([good_row(serial) for serial in range(1, 6)])).json
    assert (report["state"], report["inserted"]) == ("done", 5)
    assert dropped == [] and seen and all(names == ["_id_", "credit_code_title", "region_title_credit_code"]
                                          for names in seen)


def test_an_import_marks_the_regions_once_after_its_writes(client, app, db, admin_token, monkeypatch):
    """The KPIs' read model (service.reports.summaries) learns of the import once, after its last
    write (not once per batch); an import that changed nothing does not move it."""
    monkeypatch.setattr(service, "IMPORT_BATCH_ROWS", 2)
    rows = [good_row(serial) for serial in range(1, 8)]
    post(client, admin_token, xlsx_bytes(rows))
    run_worker(app)
    assert db.report_versions.find_one({"_id": "registry:110000"})["v"] == 1
    post(client, admin_token, xlsx_bytes(rows))
    run_worker(app)
    assert db.report_versions.find_one({"_id": "registry:110000"})["v"] == 1


def test_a_part_of_the_registry_is_read_in_ranges_that_cover_it_once(client, app, db, admin_token, monkeypatch,
                                                                    db_reads):
    """A big part is read in ranges of credit codes (repository.PART_PAGE_ENTRIES each, split at the
    file's codes: the embedded server holds other requests for a find's whole answer); the ranges
    cover the part, stored entries beyond the file's lowest and highest code included, each read once."""
    monkeypatch.setattr(service, "READ_PART_MIN_ROWS", 0)
    monkeypatch.setattr(repository, "PART_PAGE_ENTRIES", 2)
    import_registry(client, admin_token, xlsx_bytes([good_row(serial) for serial in range(1, 11)]))
    db_reads.clear()
    report = import_registry(client, admin_token, xlsx_bytes(
        [good_row(serial) for serial in range(3, 8)] + [good_row(8, name="北京精工科技有限公司（更名）")])).json
    finds = ENTERPRISE_FINDS(db_reads)
    assert (report["unchanged"], report["updated"], report["inserted"]) == (5, 1, 0)
    ranges = [f["credit_code"] for f in finds]
    assert len(ranges) >= 3 and all(set(f) == {"region_code", "title", "credit_code"} for f in finds)
    assert db[REGISTRY_IMPORTS].find_one({"_id": ObjectId(report["id"])})["timings"]["registry_read"] == \
        {"parts": 1, "entries": 10}
    # Every stored code falls in exactly one range.
    for code in (credit_code(serial) for serial in range(1, 11)):
        assert sum(1 for r in ranges if r.get("$gte", "") <= code and ("$lt" not in r or code < r["$lt"])) == 1


@pytest.mark.parametrize("codes, count", [([], 4), (["B"], 1), (["B"], 3), (["A", "B", "C", "D"], 2),
                                          (["A", "B", "C", "D"], 9), (["A", "A", "A"], 3)])
def test_code_ranges_cover_the_key_space_once(codes, count):
    ranges = repository._code_ranges(sorted(codes), count)
    assert 1 <= len(ranges) <= max(count, 1)
    for code in ["", "0", "A", "AA", "B", "C", "D", "Z", "ZZ"]:
        assert sum(1 for r in ranges if r.get("$gte", "") <= code and ("$lt" not in r or code < r["$lt"])) == 1


def test_two_workers_never_run_two_imports_at_once(client, app, db, admin_token, monkeypatch):
    """Two workers (serve's own and a `lingjun worker`) that both found no import running each
    claimed another queued one: the database now refuses the second claim."""
    first = post(client, admin_token, xlsx_bytes([good_row(1)])).json
    post(client, admin_token, xlsx_bytes([good_row(2)]))
    with app.app_context():
        claimed = repository.claim_next(now=dt.datetime.now(dt.timezone.utc))  # the other worker's
        assert str(claimed["_id"]) == first["id"]
        # This worker read "nothing running" just before that claim.
        monkeypatch.setattr(repository, "running_import", lambda **kwargs: None)
        assert service.run_next_import() is None
        assert repository.claim_next(now=dt.datetime.now(dt.timezone.utc)) is None
    assert db[REGISTRY_IMPORTS].count_documents({"state": "running"}) == 1
    assert db[REGISTRY_IMPORTS].count_documents({"state": "queued"}) == 1


def test_imports_left_running_side_by_side_are_fitted_before_the_index(app, db):
    """Data of an earlier version (two imports running at once) must not stop the index build, and
    with it the service's start: all but the newest fail as interrupted, to be retried."""
    from service.core.db import ensure_indexes

    db[REGISTRY_IMPORTS].drop_index("one_running")
    now = dt.datetime.now(dt.timezone.utc)
    older, newer, queued = ObjectId(), ObjectId(), ObjectId()
    db[REGISTRY_IMPORTS].insert_many([
        {"_id": older, "state": "running", "heartbeat_at": now - dt.timedelta(seconds=30)},
        {"_id": newer, "state": "running", "heartbeat_at": now - dt.timedelta(seconds=5)},
        {"_id": queued, "state": "queued"}])

    ensure_indexes(db)

    states = {doc["_id"]: doc for doc in db[REGISTRY_IMPORTS].find()}
    assert states[newer]["state"] == "running" and states[queued]["state"] == "queued"
    assert states[older]["state"] == "failed" and states[older]["error"]["code"] == "REGISTRY_IMPORT_INTERRUPTED"
    assert db[REGISTRY_IMPORTS].index_information()["one_running"]["unique"] is True
    ensure_indexes(db)  # a second start changes nothing
    assert db[REGISTRY_IMPORTS].count_documents({"state": "failed"}) == 1


def test_an_import_whose_last_answer_timed_out_after_it_was_recorded_done_is_not_logged_failed(
        client, app, db, admin_token, monkeypatch, caplog):
    """Re-check q21 F6: the `done` write was applied, its answer timed out (a busy database), and the
    log said "registry import ... failed" with a traceback while the API said done."""
    import logging

    from pymongo.errors import NetworkTimeout

    original = repository.update_import

    def applied_then_timed_out(import_id, fields, **kwargs):
        matched = original(import_id, fields, **kwargs)
        if fields.get("state") == "done":
            raise NetworkTimeout("timed out")
        return matched

    monkeypatch.setattr(repository, "update_import", applied_then_timed_out)
    posted = post(client, admin_token, xlsx_bytes([good_row(1)])).json
    with caplog.at_level(logging.WARNING, logger="service.registry.service"):
        assert run_worker(app) is not None
    report = get(client, admin_token, posted["id"])
    assert report["state"] == "done" and report["error"] is None and report["inserted"] == 1
    lines = [r for r in caplog.records if r.name == "service.registry.service"]
    assert [r.levelname for r in lines] == ["WARNING"]
    assert "NetworkTimeout after its end was recorded" in lines[0].getMessage() and lines[0].exc_info is None
