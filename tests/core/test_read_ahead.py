"""core.db.read_ahead: the same items in the same order, the reader's error raised to the consumer,
the reader stopped when the consumer stops early, and queries run in the app context."""

import threading
import time

import pytest

from service.core.db import collection, read_ahead


def test_items_come_in_order_across_chunks(app):
    with app.app_context():
        assert list(read_ahead(iter(range(2345)), chunk=100, chunks=2)) == list(range(2345))
        assert list(read_ahead(iter([]))) == []


def test_the_readers_error_is_raised_after_the_items_before_it(app):
    def failing():
        yield from range(250)
        raise RuntimeError("database went away")

    seen = []
    with app.app_context(), pytest.raises(RuntimeError, match="database went away"):
        for item in read_ahead(failing(), chunk=100):
            seen.append(item)
    assert seen == list(range(200))  # whole chunks only: the last 50 were never handed over


def test_a_consumer_that_stops_early_stops_the_reader(app):
    produced = []

    def endless():
        number = 0
        while True:
            produced.append(number)
            yield number
            number += 1

    with app.app_context():
        items = read_ahead(endless(), chunk=10, chunks=2)
        assert [next(items) for _ in range(5)] == [0, 1, 2, 3, 4]
        items.close()
    time.sleep(0.3)
    count = len(produced)
    time.sleep(0.3)
    assert len(produced) == count <= 10 * 4  # bounded read-ahead, and nothing more after close
    assert not [t for t in threading.enumerate() if t.name == "read-ahead"]


def test_queries_run_in_the_app_context_of_the_caller(app, db):
    db.read_ahead_probe.insert_many([{"n": n} for n in range(30)])

    def query():
        yield from collection("read_ahead_probe").find({}, {"_id": 0}).sort("n", 1)

    with app.app_context():
        assert [d["n"] for d in read_ahead(query(), chunk=7)] == list(range(30))
