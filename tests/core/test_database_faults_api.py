"""Database faults (issue 14 §3): a database that cannot answer gives 503 DATABASE_UNAVAILABLE with
Retry-After, never 500, and nothing is written. Faults come from the embedded server's own fault
injection (configureFailPoint failCommand, as mongod's test commands), scoped to the app's
connections by appName so the test's own client keeps working; `times: 2` so the driver's one
retry of a read fails too instead of hiding the fault."""

import pytest

from tests.conftest import bearer
from tests.factories import programme_body


@pytest.fixture
def app_config(app_config):
    # After a "not primary" answer the driver marks the server unknown until its monitor checks
    # again; in streaming mode that check can wait a full heartbeat (10 s) on a server that did not
    # really step down. Polling answers a requested check at once.
    uri = app_config["MONGODB_URI"]
    if "serverMonitoringMode=poll" in uri:  # the embedded server's URI polls already
        return app_config
    return {**app_config, "MONGODB_URI": uri + ("&" if "?" in uri else "?") + "serverMonitoringMode=poll"}


# fail_point: tests/fixtures/faults.py


def _unavailable(response):
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert response.json["code"] == "DATABASE_UNAVAILABLE"
    assert response.json["errors"] == {}
    assert int(response.headers["Retry-After"]) > 0
    assert any("\u4e00" <= ch <= "\u9fff" for ch in response.json["message"])


@pytest.mark.parametrize("fault", [
    {"errorCode": 10107},  # NotWritablePrimary: a replica set election
    {"errorCode": 91},  # ShutdownInProgress
    {"errorCode": 262},  # ExceededTimeLimit
    {"closeConnection": True},  # the connection drops mid-request
], ids=["not-primary", "shutdown", "time-limit", "connection-closed"])
def test_failed_insert_is_503_and_writes_nothing(client, admin_token, db, fail_point, fault):
    with fail_point(["insert"], **fault):
        response = client.post("/api/v1/programmes", json=programme_body(), headers=bearer(admin_token))
    _unavailable(response)
    assert db.programmes.count_documents({}) == 0
    again = client.post("/api/v1/programmes", json=programme_body(), headers=bearer(admin_token))
    assert again.status_code == 201, again.json  # the next request works
    assert db.programmes.count_documents({}) == 1


@pytest.mark.parametrize("fault", [{"errorCode": 10107}, {"closeConnection": True}],
                         ids=["not-primary", "connection-closed"])
def test_failed_read_is_503_even_after_the_drivers_retry(client, admin_token, fail_point, fault):
    with fail_point(["find", "aggregate", "count"], **fault):
        response = client.get("/api/v1/programmes", headers=bearer(admin_token))
    _unavailable(response)
    assert client.get("/api/v1/programmes", headers=bearer(admin_token)).status_code == 200


def test_failed_update_is_503_and_changes_nothing(client, admin_token, db, fail_point):
    created = client.post("/api/v1/programmes", json=programme_body(), headers=bearer(admin_token)).json
    before = db.programmes.find_one({})
    with fail_point(["update", "findAndModify"], errorCode=189):  # PrimarySteppedDown
        response = client.patch(f"/api/v1/programmes/{created['id']}", json={"name": "改过的名称"},
                                headers=bearer(admin_token))
    _unavailable(response)
    assert db.programmes.find_one({}) == before


def test_readyz_says_the_database_is_unavailable(client, fail_point):
    with fail_point(["ping"], errorCode=10107):
        response = client.get("/readyz")
    _unavailable(response)
    assert client.get("/readyz").json == {"status": "ok"}


def test_other_database_errors_stay_500_and_are_logged(app, client, caplog):
    from service.core.db import get_db

    @app.get("/bad-query")
    def bad_query():
        get_db().programmes.find_one({"$bad": 1})  # our bug, not the database's availability

    response = client.get("/bad-query")
    assert response.status_code == 500
    assert response.json["code"] == "INTERNAL_ERROR"
