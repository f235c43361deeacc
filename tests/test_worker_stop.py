"""Stopping the service while a background round is in hand: one info line, no traceback.

Found by a new user: SIGTERM during a read-model round closed the client under it and logged
`ERROR … Cannot use MongoClient after close` with a traceback."""

import logging
import threading

import pytest
from pymongo.errors import InvalidOperation

from service import worker


@pytest.mark.parametrize("loop, once", [("run_read_model_forever", "run_read_model_once"),
                                        ("run_imports_forever", "run_imports_once")])
def test_a_round_cut_by_the_stop_ends_the_loop_with_one_info_line(monkeypatch, caplog, loop, once):
    stop = threading.Event()

    def round_cut_by_stop(app, **_):
        stop.set()  # the service is stopping while this round runs
        raise InvalidOperation("Cannot use MongoClient after close")

    monkeypatch.setattr(worker, once, round_cut_by_stop)
    with caplog.at_level(logging.INFO, logger="service.worker"):
        getattr(worker, loop)(object(), interval=60, stop=stop)  # returns at once instead of waiting 60 s
    assert [r.levelname for r in caplog.records] == ["INFO"]
    assert "left unfinished at stop" in caplog.records[0].getMessage()


@pytest.mark.parametrize("loop, once", [("run_read_model_forever", "run_read_model_once"),
                                        ("run_imports_forever", "run_imports_once")])
def test_a_failed_round_while_running_is_still_an_error(monkeypatch, caplog, loop, once):
    stop = threading.Event()
    rounds = []

    def failing_round(app, **_):
        rounds.append(1)
        if len(rounds) == 2:
            stop.set()
            return None
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(worker, once, failing_round)
    with caplog.at_level(logging.INFO, logger="service.worker"):
        getattr(worker, loop)(object(), interval=0, stop=stop)
    assert any(r.levelname == "ERROR" and r.exc_info for r in caplog.records)
    assert len(rounds) == 2
