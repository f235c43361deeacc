"""Expired documents: deleted by the worker's upkeep through each TTL index, because the embedded
server runs without SecantusDB's TTL sweeper (it stalled every write for a quarter to half a second
once a minute: service/core/embedded_server.py)."""

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
