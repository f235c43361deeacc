"""An import cut short by the process stopping or dying (finding q19 F4, F6, F12): a graceful stop
fails it REGISTRY_IMPORT_INTERRUPTED at once (one log line naming it) so it is retried at once and
the queue goes on; a process that died is recognised by its lapsed heartbeat within STALE_AFTER
(< 5 minutes); a run is never running twice; the counts of a failed import are what it wrote; the
KPIs' read model learns of what it wrote."""

import datetime as dt
import logging
import threading
import time

import pytest

from service.registry import repository, service
from service.registry.repository import ENTERPRISES, REGISTRY_IMPORTS
from tests.conftest import bearer
from tests.registry.helpers import IMPORTS_URL, good_row, xlsx_bytes
from tests.registry.test_registry_background_import import get, post


def _now():
    return dt.datetime.now(dt.timezone.utc)


def _written_then(after_batches, action):
    """A save_entries that calls `action()` once `after_batches` batches were written."""
    original = repository.save_entries
    calls = []

    def save(**kwargs):
        result = original(**kwargs)
        calls.append(1)
        if len(calls) == after_batches:
            action()
        return result

    return save, calls


def test_a_graceful_stop_fails_the_import_at_once_and_it_is_retried_at_once(client, app, db, admin_token,
                                                                           monkeypatch, caplog):
    monkeypatch.setattr(service, "IMPORT_BATCH_ROWS", 2)
    stop = threading.Event()
    save, calls = _written_then(2, stop.set)  # the service is told to stop after the second batch
    monkeypatch.setattr(repository, "save_entries", save)
    posted = post(client, admin_token, xlsx_bytes([good_row(serial) for serial in range(1, 12)])).json
    waiting = post(client, admin_token, xlsx_bytes([good_row(50)])).json  # queued behind it
    with caplog.at_level(logging.INFO, logger="service.registry.service"), app.app_context():
        assert service.run_next_import(stop=stop) is not None
    stopped = get(client, admin_token, posted["id"])
    assert stopped["state"] == "failed" and stopped["error"]["code"] == "REGISTRY_IMPORT_INTERRUPTED"
    assert stopped["finished_at"] is not None
    # The batch in hand was finished, the batches read ahead were not written.
    assert len(calls) == 2 and db[ENTERPRISES].count_documents({}) == 4
    # Its counts are what it wrote (finding q19 F6), its progress where the writes ended.
    assert (stopped["inserted"], stopped["total"], stopped["rejected"], stopped["progress"]["rows_read"]) == (4, 4, 0, 5)
    lines = [r for r in caplog.records if posted["id"] in r.getMessage()]
    assert len(lines) == 1 and "REGISTRY_IMPORT_INTERRUPTED" in lines[0].getMessage()
    assert "名录.xlsx" in lines[0].getMessage()
    # The KPIs' read model learns of the four entries it wrote (finding q19 F12).
    assert db.report_versions.find_one({"_id": "registry:110000"})["v"] == 1

    # After the restart (a new stop event): nothing waits for a lapsed heartbeat.
    monkeypatch.undo()
    with app.app_context():
        assert service.run_next_import(stop=threading.Event()) == service.ObjectId(waiting["id"])
    assert get(client, admin_token, waiting["id"])["state"] == "done"
    retried = client.post(f"{IMPORTS_URL}/{posted['id']}/retry", headers=bearer(admin_token))
    assert retried.status_code == 202 and retried.json["state"] == "queued"
    with app.app_context():
        service.run_next_import(stop=threading.Event())
    done = get(client, admin_token, posted["id"])
    assert (done["state"], done["inserted"], done["unchanged"], done["total"]) == ("done", 7, 4, 11)


def test_a_stopping_worker_claims_nothing(client, app, admin_token):
    posted = post(client, admin_token, xlsx_bytes([good_row(1)])).json
    stop = threading.Event()
    stop.set()
    with app.app_context():
        assert service.run_next_import(stop=stop) is None
    assert get(client, admin_token, posted["id"])["state"] == "queued"


def test_a_process_that_died_is_recognised_well_within_five_minutes(client, app, db, admin_token):
    assert service.STALE_AFTER <= dt.timedelta(minutes=2)
    assert service.HEARTBEAT_SECONDS * 3 <= service.OWN_LEASE_SECONDS < service.STALE_AFTER.total_seconds() / 1.5
    posted = post(client, admin_token, xlsx_bytes([good_row(1)])).json
    with app.app_context():
        claimed = repository.claim_next(now=_now())  # a worker took it, wrote one batch, then was killed
    db[ENTERPRISES].insert_one({"credit_code": "X", "title": "小巨人", "region_code": "110000"})
    db[REGISTRY_IMPORTS].update_one({"_id": claimed["_id"]}, {"$set": {
        "heartbeat_at": _now() - service.STALE_AFTER + dt.timedelta(seconds=5)}})
    with app.app_context():
        assert service.run_next_import() is None  # its heartbeat is recent: it may still be running
    assert get(client, admin_token, posted["id"])["state"] == "running"
    db[REGISTRY_IMPORTS].update_one({"_id": claimed["_id"]}, {"$set": {
        "heartbeat_at": _now() - service.STALE_AFTER - dt.timedelta(seconds=1)}})
    with app.app_context():
        service.run_next_import()
    failed = get(client, admin_token, posted["id"])
    assert failed["state"] == "failed" and failed["error"]["code"] == "REGISTRY_IMPORT_INTERRUPTED"
    # What the dead process wrote reaches the KPIs' read model (finding q19 F12).
    assert db.report_versions.find_one({"_id": "registry:110000"})["v"] == 1


def test_the_heartbeat_is_renewed_while_a_batch_takes_long(client, app, db, admin_token, monkeypatch):
    """Reading the registry, a slow batch or a bulk load's index build write no progress for a
    while: the heartbeat thread keeps the import fresh meanwhile."""
    monkeypatch.setattr(service, "HEARTBEAT_SECONDS", 0.05)
    posted = post(client, admin_token, xlsx_bytes([good_row(1)])).json
    seen = []
    original = repository.save_entries

    def slow(**kwargs):
        before = db[REGISTRY_IMPORTS].find_one({})["heartbeat_at"]
        time.sleep(0.4)
        seen.append((before, db[REGISTRY_IMPORTS].find_one({})["heartbeat_at"]))
        return original(**kwargs)

    monkeypatch.setattr(repository, "save_entries", slow)
    with app.app_context():
        service.run_next_import()
    (before, after), = seen
    assert after > before
    assert get(client, admin_token, posted["id"])["state"] == "done"


def test_a_run_whose_import_was_taken_over_writes_no_further_batch(client, app, db, admin_token, monkeypatch):
    """Another worker failed the import as stale (this run's heartbeats did not reach the
    database) and it was retried: the first run stops before its next batch and leaves the new
    run's import alone. Never two runs of one import writing at once."""
    monkeypatch.setattr(service, "IMPORT_BATCH_ROWS", 2)
    monkeypatch.setattr(service, "HEARTBEAT_SECONDS", 0.05)
    posted = post(client, admin_token, xlsx_bytes([good_row(serial) for serial in range(1, 12)])).json

    def taken_over():
        with app.app_context():
            import_id = service.ObjectId(posted["id"])
            repository.fail_stale(stale_before=_now() + dt.timedelta(days=1), error=service.INTERRUPTED, now=_now())
            assert repository.requeue(import_id, fields=service._empty_report()) is not None
        time.sleep(0.3)  # the first run's heartbeat notices

    save, calls = _written_then(1, taken_over)
    monkeypatch.setattr(repository, "save_entries", save)
    with app.app_context():
        service.run_next_import()
    assert len(calls) == 1 and db[ENTERPRISES].count_documents({}) == 2
    # The first run's end (failed INTERRUPTED) did not touch the retried import.
    queued = get(client, admin_token, posted["id"])
    assert (queued["state"], queued["error"], queued["inserted"]) == ("queued", None, 0)


def test_a_run_that_cannot_renew_its_heartbeat_stops_writing_before_others_may_take_it(
        client, app, db, admin_token, monkeypatch):
    monkeypatch.setattr(service, "IMPORT_BATCH_ROWS", 2)
    monkeypatch.setattr(service, "HEARTBEAT_SECONDS", 0.05)
    monkeypatch.setattr(service, "OWN_LEASE_SECONDS", 0.3)
    original = repository.update_import

    def database_away_for_heartbeats(import_id, fields, **kwargs):
        if set(fields) == {"heartbeat_at"}:
            raise ConnectionError("database away")
        return original(import_id, fields, **kwargs)

    monkeypatch.setattr(repository, "update_import", database_away_for_heartbeats)
    save, calls = _written_then(1, lambda: time.sleep(0.5))
    monkeypatch.setattr(repository, "save_entries", save)
    posted = post(client, admin_token, xlsx_bytes([good_row(serial) for serial in range(1, 12)])).json
    with app.app_context():
        service.run_next_import()
    failed = get(client, admin_token, posted["id"])
    assert failed["state"] == "failed" and failed["error"]["code"] == "REGISTRY_IMPORT_INTERRUPTED"
    assert len(calls) == 1 and failed["inserted"] == db[ENTERPRISES].count_documents({}) == 2


@pytest.mark.parametrize("fail_at", ["second-chunk-of-new", "changed"])
def test_the_counts_of_a_failed_import_are_what_it_wrote(client, app, db, admin_token, monkeypatch, fail_at):
    """Counted as each write chunk is written (finding q19 F6): a write failing after some chunks
    of its batch leaves those counted."""
    from service.registry import repository as repo

    monkeypatch.setattr(repo, "WRITE_CHUNK", 2)
    monkeypatch.setattr(service, "IMPORT_BATCH_ROWS", 6)
    post(client, admin_token, xlsx_bytes([good_row(serial) for serial in range(1, 3)]))
    with app.app_context():
        service.run_next_import()
    real = repo.collection
    chunks = []

    class Failing:
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def bulk_write(self, ops, **kwargs):
            chunks.append(len(ops))
            if (fail_at == "changed" and len(chunks) == 3) or (fail_at != "changed" and len(chunks) == 2):
                raise ConnectionError("database gone")
            return self.inner.bulk_write(ops, **kwargs)

    monkeypatch.setattr(repo, "collection", lambda name: Failing(real(name)) if name == ENTERPRISES else real(name))
    rows = [good_row(1, name="北京精工科技有限公司（更名）"), good_row(2, name="北京精工（更名）")] + \
        [good_row(serial) for serial in range(3, 7)] if fail_at == "changed" else \
        [good_row(serial) for serial in range(3, 9)]
    posted = post(client, admin_token, xlsx_bytes(rows)).json
    with app.app_context():
        service.run_next_import()
    monkeypatch.setattr(repo, "collection", real)
    failed = get(client, admin_token, posted["id"])
    assert failed["state"] == "failed" and failed["error"]["code"] == "REGISTRY_IMPORT_FAILED"
    written = db[ENTERPRISES].count_documents({}) - 2
    assert failed["inserted"] == written == (4 if fail_at == "changed" else 2)
    assert failed["updated"] == 0
