"""The background loops while the database is down: one warning per outage, not a traceback per
round, and they resume by themselves (issue 17, fault 17: the worker logged a full ERROR traceback
every round for registry imports, jobs and the read model)."""

import logging
import threading

import pytest
from pymongo.errors import AutoReconnect, ServerSelectionTimeoutError

from service import worker

LOOPS = [("run_forever", "run_once"), ("run_imports_forever", "run_imports_once"),
         ("run_read_model_forever", "run_read_model_once")]


@pytest.fixture(autouse=True)
def fresh_outage(monkeypatch):
    monkeypatch.setattr(worker, "OUTAGE", worker.DatabaseOutage())


def _rounds(outcomes, stop):
    """A round that fails or succeeds as `outcomes` says, then stops the loop."""
    left = list(outcomes)

    def one_round(app, **_):
        outcome = left.pop(0)
        if not left:
            stop.set()
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return one_round


@pytest.mark.parametrize("loop, once", LOOPS)
def test_an_outage_is_one_warning_then_one_line_when_it_answers_again(monkeypatch, caplog, loop, once):
    stop = threading.Event()
    done = {} if once != "run_imports_once" else None
    down = [AutoReconnect("connection refused"), ServerSelectionTimeoutError("127.0.0.1:40755: refused"),
            AutoReconnect("connection refused")]
    # Two outages with rounds that work between them.
    monkeypatch.setattr(worker, once, _rounds([*down, done, done, *down[:2], done], stop))
    with caplog.at_level(logging.INFO, logger="service.worker"):
        getattr(worker, loop)(object(), interval=0, stop=stop)
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert [level for level, _ in lines] == ["WARNING", "INFO", "WARNING", "INFO"], lines
    assert "database unavailable (AutoReconnect in" in lines[0][1]
    assert lines[1][1].startswith("database answers again: background jobs resumed")
    assert not any(r.exc_info for r in caplog.records)


def test_the_loops_share_one_warning_per_outage(monkeypatch, caplog):
    """The three loops run side by side and all fail while the database is down: one warning."""
    down, failures = threading.Event(), []
    down.set()
    stops = [threading.Event() for _ in LOOPS]
    for (loop, once), stop in zip(LOOPS, stops):
        def one_round(app, stop=stop, once=once, **_):
            if down.is_set():
                failures.append(once)
                raise AutoReconnect("connection refused")
            stop.set()
            return {} if once != "run_imports_once" else None

        monkeypatch.setattr(worker, once, one_round)
    with caplog.at_level(logging.INFO, logger="service.worker"):
        threads = [threading.Thread(target=getattr(worker, loop), args=(object(),),
                                    kwargs={"interval": 0.01, "stop": stop}) for (loop, _), stop in zip(LOOPS, stops)]
        for thread in threads:
            thread.start()
        while len(set(failures)) < len(LOOPS) or len(failures) < 10:
            threading.Event().wait(0.01)
        down.clear()
        for thread in threads:
            thread.join(10)
    assert [r.levelname for r in caplog.records] == ["WARNING", "INFO"], caplog.records


@pytest.mark.parametrize("loop, once", LOOPS)
def test_a_fault_that_is_not_an_outage_is_still_an_error_with_its_trace(monkeypatch, caplog, loop, once):
    stop = threading.Event()
    monkeypatch.setattr(worker, once, _rounds([KeyError("profile"), {} if once != "run_imports_once" else None],
                                              stop))
    with caplog.at_level(logging.INFO, logger="service.worker"):
        getattr(worker, loop)(object(), interval=0, stop=stop)
    assert [(r.levelname, bool(r.exc_info)) for r in caplog.records] == [("ERROR", True)]
