"""The embedded server's two mends (service/core/embedded_server.py): expired documents are deleted
by the worker's upkeep through each TTL index, because the server runs without SecantusDB's TTL
sweeper (it stalled every write for a quarter to half a second once a minute); find-and-modify
picks its document by `_id` instead of scanning the collection, with the same matches."""

import datetime as dt
import tempfile

from service import worker
from service.core.db import ttl_indexes, utcnow


def test_upkeep_deletes_what_each_ttl_index_says_expired_and_nothing_else(app, db):
    now = utcnow()
    db.auth_tokens.insert_many([
        {"_id": "expired", "user_id": 1, "expires_at": now - dt.timedelta(seconds=5), "staff": False},
        {"_id": "live", "user_id": 1, "expires_at": now + dt.timedelta(days=3), "staff": False},
        {"_id": "no-date", "user_id": 1, "expires_at": "2020-01-01", "staff": False},  # MongoDB's TTL skips it too
    ])
    # Console sessions' index expires an hour after `expires_at` (expireAfterSeconds=3600).
    db.console_logins.insert_many([
        {"_id": "ended-long-ago", "status": "pending", "expires_at": now - dt.timedelta(hours=2)},
        {"_id": "ended-recently", "status": "pending", "expires_at": now - dt.timedelta(minutes=30)},
    ])
    db.login_codes.insert_one({"_id": "old-code", "expires_at": now - dt.timedelta(minutes=1)})
    with app.app_context():
        done = worker.run_upkeep()
    assert done["expired"] == {"auth_tokens": 1, "console_logins": 1, "login_codes": 1}
    assert sorted(d["_id"] for d in db.auth_tokens.find()) == ["live", "no-date"]
    assert [d["_id"] for d in db.console_logins.find()] == ["ended-recently"]
    assert db.login_codes.count_documents({}) == 0
    with app.app_context():
        assert worker.run_upkeep()["expired"] == {}


def test_every_ttl_index_of_the_service_is_swept():
    swept = {(name, field, seconds) for name, field, seconds, _ in ttl_indexes()}
    assert {("auth_tokens", "expires_at", 0), ("login_codes", "expires_at", 0),
            ("rate_limit_counters", "expireAt", 0), ("rate_limit_windows", "expireAt", 0),
            ("wechat_access_tokens", "expires_at", 0)} <= swept
    assert any(name == "console_logins" and seconds == 3600 for name, _, seconds in swept)


def test_the_embedded_server_is_built_without_its_ttl_sweeper():
    from secantus import server

    from service.core.embedded_server import _without_ttl_sweeper

    stock = server.SecantusDBServer.__init__
    built = server.SecantusDBServer(host="127.0.0.1", port=0, storage_path=tempfile.mkdtemp())
    try:
        assert built.storage._ttl_thread is not None  # what `secantusd-py` would run
    finally:
        built.storage.close()
    server.SecantusDBServer.__init__ = _without_ttl_sweeper(stock)
    try:
        built = server.SecantusDBServer(host="127.0.0.1", port=0, storage_path=tempfile.mkdtemp())
        assert built.storage._ttl_thread is None
        built.storage.close()
    finally:
        server.SecantusDBServer.__init__ = stock


def test_the_test_database_runs_through_the_launcher(mongodb_uri):
    import os

    import pytest

    from service.core import embedded

    if os.environ.get("MONGODB_URI"):
        pytest.skip("a real MongoDB: nothing of ours runs it")
    port = int(mongodb_uri.split(":")[2].split("/")[0])
    commands = [embedded._command_line(int(pid)) for pid in os.listdir("/proc") if pid.isdigit()]
    assert any(embedded.SERVER_MODULE in c and f"--port {port}" in c for c in commands)


def test_find_and_modify_candidates_come_from_the_id_and_fall_back_to_the_stock_picker():
    from service.core.embedded_server import _by_id_first

    calls = []

    def stock(self, db, coll, filter, *, collation=None):
        calls.append(filter)
        return ["rid-7"] if list(filter) == ["_id"] and filter["_id"] == 7 else None

    pick = _by_id_first(stock)
    assert pick(None, "d", "c", {"_id": 7, "$and": [{"session_id": 1}]}) == ["rid-7"]
    assert calls == [{"_id": 7}]
    calls.clear()
    # No point lookup for that _id (an operator): the whole filter goes to the stock picker.
    assert pick(None, "d", "c", {"_id": {"$gt": 1}, "$and": [{"a": 1}]}) is None
    assert calls == [{"_id": {"$gt": 1}}, {"_id": {"$gt": 1}, "$and": [{"a": 1}]}]
    calls.clear()
    pick(None, "d", "c", {"_id": 7, "a": 1}, collation={"locale": "zh"})  # collations: as the stock picker
    assert calls == [{"_id": 7, "a": 1}]


def test_find_and_modify_matches_what_it_matched_before(app, db):
    """The mend is live in the test database: a find-and-modify by `_id` plus a condition still
    applies the condition (the candidate from `_id` is tested against the whole filter)."""
    from pymongo import ReturnDocument

    db.records.insert_many([{"_id": 1, "state": "open", "n": 0}, {"_id": 2, "state": "closed", "n": 0}])
    assert db.records.find_one_and_update({"_id": 2, "state": "open"}, {"$inc": {"n": 1}}) is None
    assert db.records.find_one({"_id": 2})["n"] == 0
    after = db.records.find_one_and_update({"_id": 1, "state": "open"}, {"$inc": {"n": 1}},
                                           return_document=ReturnDocument.AFTER)
    assert after == {"_id": 1, "state": "open", "n": 1}
    assert db.records.find_one_and_delete({"_id": 1, "state": "closed"}) is None
    assert db.records.find_one_and_delete({"_id": 1, "n": 1}) == after
    assert [d["_id"] for d in db.records.find()] == [2]
