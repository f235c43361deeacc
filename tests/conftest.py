"""Fixtures: one embedded database server and one fake WeChat per run, a fresh database per test.

With MONGODB_URI set, the same tests run against that server instead.
"""

import itertools
import os
import tempfile
import threading
import uuid

import pymongo
import pytest

from service import create_app
from service.core import embedded
from service.core.fake_wechat import FAKE_APPID, FAKE_SECRET, FakeWeChat

# Fixtures shared across test packages, as plugins rather than imports of another package's conftest.
pytest_plugins = ["tests.fixtures.checkin", "tests.fixtures.browser", "tests.fixtures.faults"]

_login_counter = itertools.count()


@pytest.fixture(scope="session")
def mongodb_uri():
    uri = os.environ.get("MONGODB_URI")
    if uri:
        yield uri
        return
    # Test commands on: tests/core/test_database_faults_api.py injects faults with configureFailPoint.
    server = embedded.EmbeddedMongo(tempfile.mkdtemp(prefix="lingjun-test-db-"), test_commands=True).start()
    yield server.uri
    server.stop()


@pytest.fixture(scope="session")
def fake_wechat():
    fake = FakeWeChat().start()
    yield fake
    fake.stop()


@pytest.fixture
def app_config(mongodb_uri, fake_wechat):
    return {
        "MONGODB_URI": mongodb_uri,
        "MONGODB_DB": f"test_{uuid.uuid4().hex[:12]}",
        "WECHAT_API_BASE": fake_wechat.api_base,
        "WECHAT_APPID": FAKE_APPID,
        "WECHAT_SECRET": FAKE_SECRET,
        "TESTING": True,
        # A test reads what it just wrote: the registry list's rebuild of a test's few entries is
        # waited for (seconds, not 2 s: a loaded CI machine; tests of the wait set their own).
        "REGISTRY_LIST_BUILD_WAIT_SECONDS": 30.0,
    }


@pytest.fixture
def other_client(app_config):
    """A second app instance on the same database (another worker or another host): for limits,
    revocation and anything else several processes must agree on."""
    return create_app({**app_config, "ENSURE_INDEXES_ON_START": False}).test_client()


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    yield app
    client = pymongo.MongoClient(app_config["MONGODB_URI"])
    client.drop_database(app_config["MONGODB_DB"])
    client.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    """Raw database handle, to check what was (not) written."""
    from service.core.db import mongo

    return mongo.db_for(app.config)


class ReadLog:
    """Reads sent to MongoDB during a test: (collection, operation, filter) per call."""

    def __init__(self):
        self.entries = []

    def clear(self):
        self.entries.clear()

    def of(self, collection_name):
        """[(operation, filter)] read from one collection (an aggregate's filter is its first $match)."""
        return [(op, query) for name, op, query in self.entries if name == collection_name]


@pytest.fixture
def db_reads(monkeypatch):
    """Log every find / find_one / aggregate / count_documents (to show a read is bounded, not N+1)."""
    from pymongo.collection import Collection

    log, state = ReadLog(), threading.local()

    def wrap(operation, original):
        def logged(self, *args, **kwargs):
            if getattr(state, "inside", False):  # find_one calls find: count the outer call only
                return original(self, *args, **kwargs)
            query = args[0] if args else kwargs.get("filter", kwargs.get("pipeline"))
            if operation == "aggregate":
                query = (query or [{}])[0].get("$match")
            log.entries.append((self.name, operation, query))
            state.inside = True
            try:
                return original(self, *args, **kwargs)
            finally:
                state.inside = False

        return logged

    for operation in ("find", "find_one", "aggregate", "count_documents"):
        monkeypatch.setattr(Collection, operation, wrap(operation, getattr(Collection, operation)))
    return log


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def login(client):
    """login(person) -> token; each call uses a fresh single-use code for that person."""

    def do_login(person):
        code = f"{person}.{next(_login_counter)}"
        response = client.post("/api/v1/auth/wx-login", json={"code": code})
        assert response.status_code == 200, response.json
        return response.json["token"]

    return do_login


@pytest.fixture
def make_staff(app, client, login):
    """make_staff(role, region_code=None, class_ids=(), person=None) -> token of a bound staff user."""
    from service.staff import service as staff_service

    def factory(role, region_code=None, class_ids=(), person=None):
        person = person or f"staff-{uuid.uuid4().hex[:8]}"
        with app.app_context():
            _, code = staff_service.create(name=person, role=role, region_code=region_code,
                                           class_ids=list(class_ids))
        token = login(person)
        response = client.post("/api/v1/auth/bind", json={"binding_code": code}, headers=bearer(token))
        assert response.status_code == 200, response.json
        return token

    return factory


@pytest.fixture
def admin_token(make_staff):
    return make_staff("admin")
