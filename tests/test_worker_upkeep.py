"""The worker's upkeep sweeps (service.worker.run_upkeep) run beside the jobs without holding them up."""

import logging

from service import worker


def test_a_failing_upkeep_is_logged_and_the_round_goes_on(app, monkeypatch, caplog):
    def broken():
        raise RuntimeError("sweep bug")

    monkeypatch.setattr(worker, "run_upkeep", broken)
    with caplog.at_level(logging.ERROR, logger="service.worker"):
        done = worker.run_once(app)
    assert "outbox" in done and "quota_places" not in done
    assert "upkeep sweeps failed" in caplog.text


def test_upkeep_results_are_in_the_round_and_only_when_due(app):
    done = worker.run_once(app)
    assert done["quota_places"] == {"released": 0, "taken": 0, "rebuilt": 0}
    assert done["orphan_files"] == {"registry": 0, "attachments": 0}
    assert not worker._worth_logging(done)
    assert "quota_places" not in worker.run_once(app, upkeep=False)
    assert worker._worth_logging({**done, "orphan_files": {"registry": 1, "attachments": 0}})


def test_an_unreachable_database_in_the_upkeep_fails_the_round_for_the_loop_to_report(app, monkeypatch):
    import pytest
    from pymongo.errors import AutoReconnect

    def unreachable():
        raise AutoReconnect("connection refused")

    monkeypatch.setattr(worker, "run_upkeep", unreachable)
    with pytest.raises(AutoReconnect):  # run_forever logs an outage once (worker.OUTAGE), not every round
        worker.run_once(app)


def test_an_idle_imports_loop_looks_for_queued_imports_every_two_seconds(app, monkeypatch):
    """Finding q20 F2: with the worker's interval (20 s) an upload sat queued up to 20 s."""
    import threading

    seen = {}
    monkeypatch.setattr(worker, "run_imports_forever", lambda app, *, interval, stop: seen.update(interval=interval))
    worker.start_imports(app, interval=20, stop=threading.Event()).join(5)
    assert seen == {"interval": worker.IMPORT_POLL_SECONDS} and worker.IMPORT_POLL_SECONDS <= 2
    worker.start_imports(app, interval=1, stop=threading.Event()).join(5)
    assert seen == {"interval": 1}  # a shorter worker interval (tests, demos) stands
