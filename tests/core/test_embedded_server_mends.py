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


def test_partial_indexes_on_type_and_in_are_proved_soundly():
    """Mend 4's proof: a query is answered from a partial index only when every document it can
    match is in the index; `$type` and `$in` filters now count, anything unproved still scans."""
    import datetime as dt

    from secantus import storage

    from service.core.embedded_server import _partial_proof_with_type_and_in

    proof = _partial_proof_with_type_and_in(storage.Storage._query_implies_partial).__func__
    string, date = {"openid": {"$type": "string"}}, {"changed_at": {"$type": "date"}}
    when = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
    assert proof({"openid": "o-1"}, string)
    assert proof({"openid": {"$eq": "o-1"}}, string)
    assert proof({"openid": {"$in": ["a", "b"]}}, string)
    assert proof({"changed_at": {"$gte": when}, "expires_at": {"$gt": when}}, date)
    assert proof({"changed_at": when}, date)
    assert proof({"changed_at": {"$type": "date"}}, date)  # the stock proof's equal filters
    for unproved in ({"openid": 5}, {"openid": None}, {"openid": {"$gte": "a"}},  # a string range: symbols too
                     {"openid": {"$in": ["a", 5]}}, {"openid": {"$ne": "a"}}, {"other": "a"}, {},
                     {"openid": {"sub": "document"}}, {"openid": ["a"]}):
        assert not proof(unproved, string), unproved
    assert not proof({"changed_at": {"$gte": "2026-12-01"}}, date)
    assert not proof({"changed_at": {"$exists": True}}, date)

    states = {"state": {"$in": ["submitted", "confirmed"]}, "enterprise_key": {"$type": "string"}}
    assert proof({"enterprise_key": "e-1", "state": {"$in": ["confirmed"]}}, states)
    assert proof({"enterprise_key": "e-1", "state": "submitted"}, states)
    for unproved in ({"enterprise_key": "e-1"}, {"enterprise_key": "e-1", "state": "withdrawn"},
                     {"enterprise_key": "e-1", "state": {"$in": ["confirmed", "withdrawn"]}},
                     {"enterprise_key": 7, "state": "confirmed"}, {"state": "confirmed"}):
        assert not proof(unproved, states), unproved
    assert not proof({"n": True}, {"n": {"$in": [1]}})  # in BSON a boolean is not the number 1
    assert proof({"claim_active": True}, {"claim_active": True})  # the stock proof's own cases stand


def test_lookups_through_partial_indexes_find_the_same_documents_as_a_scan(app, db):
    """Live in the test database: each of the service's lookups on a partial index (a login by
    openid, a registration's enterprise check, a changed-token read) is answered through the index
    and finds exactly what a collection scan finds, among documents the index leaves out."""
    import datetime as dt

    from service.core.db import utcnow

    now = utcnow()
    db.logins.create_index("openid", unique=True, name="openid_unique",
                           partialFilterExpression={"openid": {"$type": "string"}})
    db.logins.insert_many([{"openid": "o-1"}, {"openid": 1}, {"openid": None}, {}, {"openid": ["o-3", 2]},
                           {"openid": "o-2"}])
    db.regs.create_index("enterprise_key", unique=True, name="one_active",
                         partialFilterExpression={"state": {"$in": ["submitted", "confirmed"]},
                                                  "enterprise_key": {"$type": "string"}})
    db.regs.create_index([("class_id", 1), ("user_id", 1)], unique=True, name="one_open",
                         partialFilterExpression={"state": {"$in": ["submitted", "confirmed"]}})
    db.regs.insert_many([{"enterprise_key": "e-1", "state": "confirmed", "class_id": 1, "user_id": 1},
                         {"enterprise_key": "e-1", "state": "withdrawn"},
                         {"enterprise_key": "e-1", "state": "rejected"},
                         {"enterprise_key": "e-2", "state": "submitted"}])
    db.tokens.create_index("changed_at", name="changed", partialFilterExpression={"changed_at": {"$type": "date"}})
    db.tokens.insert_many([{"changed_at": now}, {"changed_at": now - dt.timedelta(hours=1)},
                           {"changed_at": "2026-12-01"}, {}])
    cases = [
        (db.logins, {"openid": "o-1"}, "openid_unique"),
        (db.logins, {"openid": {"$in": ["o-1", "o-2"]}}, "openid_unique"),
        (db.logins, {"openid": "o-3"}, "openid_unique"),  # an array holding a string is in the index
        (db.logins, {"openid": 1}, None),  # a number is not in the index: scanned
        (db.regs, {"enterprise_key": "e-1", "state": {"$in": ["submitted", "confirmed"]}}, "one_active"),
        (db.regs, {"enterprise_key": "e-1"}, None),
        (db.regs, {"class_id": 1, "user_id": 1, "state": "confirmed"}, "one_open"),
        (db.tokens, {"changed_at": {"$gte": now - dt.timedelta(minutes=1)}}, "changed"),
    ]
    for coll, query, index in cases:
        plan = str(coll.find(query).explain()["queryPlanner"]["winningPlan"])
        if index:
            assert "COLLSCAN" not in plan and index in plan, (query, plan)
        else:
            assert "COLLSCAN" in plan, (query, plan)
        scanned = sorted(str(d["_id"]) for d in coll.find(query).hint([("$natural", 1)]))
        assert sorted(str(d["_id"]) for d in coll.find(query)) == scanned, query
        assert scanned, query
