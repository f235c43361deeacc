"""A big first import into an empty registry is a bulk load: the registry's indexes are dropped,
the entries inserted batch by batch, and the indexes built again at the end, also when the import
fails midway (service.BULK_LOAD_MIN_ROWS; lowered to 0 here so small files take that path)."""

import pytest
from bson import ObjectId

from service.registry import repository, service
from service.registry.repository import ENTERPRISES, REGISTRY_IMPORTS
from tests.registry import test_registry_background_import as background
from tests.registry.helpers import good_row, import_registry, xlsx_bytes


@pytest.fixture(autouse=True)
def bulk(monkeypatch):
    monkeypatch.setattr(service, "BULK_LOAD_MIN_ROWS", 0)


# The background import's behaviour holds in a bulk load too (the same tests, run with the fixture
# above): progress by batch with the entries visible as written, a failure midway keeps what was
# written counted and can be run again, a file fault found midway, the compare of a second import.
test_the_worker_imports_with_progress_in_batches = background.test_the_worker_imports_with_progress_in_batches
test_a_failure_midway_leaves_a_clear_state_and_can_be_run_again = \
    background.test_a_failure_midway_leaves_a_clear_state_and_can_be_run_again
test_a_file_fault_found_midway_keeps_the_written_batches_counted = \
    background.test_a_file_fault_found_midway_keeps_the_written_batches_counted
test_a_failed_write_stops_the_import_at_that_batch = background.test_a_failed_write_stops_the_import_at_that_batch
test_new_changed_and_unchanged_rows_told_apart_either_way = \
    background.test_new_changed_and_unchanged_rows_told_apart_either_way
test_an_import_marks_the_regions_once_after_its_writes = background.test_an_import_marks_the_regions_once_after_its_writes


def declared(db):
    """The registry's indexes as {name: (key, unique)} when every declared one exists."""
    return {name: (tuple(info["key"]), bool(info.get("unique"))) for name, info in
            db[ENTERPRISES].index_information().items()}


EXPECTED = {
    "_id_": ((("_id", 1),), False),
    "credit_code_title": ((("credit_code", 1), ("title", 1)), True),
    "region_title_credit_code": ((("region_code", 1), ("title", 1), ("credit_code", 1)), False),
}


def timings(db):
    return db[REGISTRY_IMPORTS].find_one(sort=[("_id", -1)])["timings"]


def test_a_bulk_load_builds_the_declared_indexes_at_its_end(client, db, admin_token, monkeypatch):
    monkeypatch.setattr(service, "IMPORT_BATCH_ROWS", 2)
    indexes_while_writing = []
    original = repository.save_entries

    def watch(**kwargs):
        indexes_while_writing.append(sorted(db[ENTERPRISES].index_information()))
        return original(**kwargs)

    monkeypatch.setattr(repository, "save_entries", watch)
    report = import_registry(client, admin_token, xlsx_bytes([good_row(s) for s in range(1, 6)])).json
    assert (report["state"], report["inserted"]) == ("done", 5)
    assert indexes_while_writing and all(names == ["_id_"] for names in indexes_while_writing)
    assert declared(db) == EXPECTED
    assert timings(db)["bulk_load"] is True
    # The unique index is back: the same entry cannot be inserted twice.
    with pytest.raises(Exception, match="E11000|duplicate"):
        db[ENTERPRISES].insert_one({k: v for k, v in db[ENTERPRISES].find_one().items() if k != "_id"})


def test_a_failed_bulk_load_builds_the_indexes_again(client, db, admin_token, monkeypatch):
    monkeypatch.setattr(repository, "save_entries", lambda **kwargs: (_ for _ in ()).throw(ConnectionError("gone")))
    report = import_registry(client, admin_token, xlsx_bytes([good_row(1)])).json
    assert report["state"] == "failed" and report["error"]["code"] == "REGISTRY_IMPORT_FAILED"
    assert declared(db) == EXPECTED


def test_a_registry_with_entries_is_never_bulk_loaded(client, db, admin_token, monkeypatch):
    import_registry(client, admin_token, xlsx_bytes([good_row(1)]))
    dropped = []
    monkeypatch.setattr(type(db[ENTERPRISES]), "drop_indexes", lambda self, *a, **k: dropped.append(self.name))
    report = import_registry(client, admin_token, xlsx_bytes([good_row(1), good_row(2)])).json
    assert (report["inserted"], report["unchanged"]) == (1, 1)
    assert dropped == [] and timings(db)["bulk_load"] is False and declared(db) == EXPECTED


def test_a_small_file_is_not_a_bulk_load(client, db, admin_token, monkeypatch):
    monkeypatch.setattr(service, "BULK_LOAD_MIN_ROWS", 3)
    import_registry(client, admin_token, xlsx_bytes([good_row(1)]))  # 2 rows with the header
    assert timings(db)["bulk_load"] is False


def test_a_duplicate_another_writer_added_meanwhile_is_removed(client, db, admin_token, monkeypatch):
    """Without the unique index a second writer could add the same (credit_code, title): the later
    entry is kept and the unique index built."""
    monkeypatch.setattr(service, "IMPORT_BATCH_ROWS", 2)
    original = repository.save_entries
    calls = []

    def another_writer_first(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            entry = dict(kwargs["new"][0])
            db[ENTERPRISES].insert_one({**entry, "name": "另一次写入"})
        return original(**kwargs)

    monkeypatch.setattr(repository, "save_entries", another_writer_first)
    report = import_registry(client, admin_token, xlsx_bytes([good_row(s) for s in range(1, 6)])).json
    assert report["state"] == "done"
    assert declared(db) == EXPECTED
    assert db[ENTERPRISES].count_documents({}) == 5
    third = db[ENTERPRISES].find_one({"name": {"$regex": "公司3$"}})
    assert third is not None and db[ENTERPRISES].count_documents({"name": "另一次写入"}) == 0


def test_a_worker_that_died_in_a_bulk_load_leaves_the_indexes_to_the_next_run(app, db):
    with app.app_context():
        assert repository.begin_bulk_load()
        db[REGISTRY_IMPORTS].insert_one({"_id": ObjectId(), "state": "running", "heartbeat_at":
                                         service.utcnow() - service.STALE_AFTER * 2, "imported_at": service.utcnow()})
        assert sorted(db[ENTERPRISES].index_information()) == ["_id_"]
        assert service.run_next_import() is None
    assert declared(db) == EXPECTED
