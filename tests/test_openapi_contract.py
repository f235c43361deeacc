"""The OpenAPI document tells the truth (issue 14 §4): schemathesis sends generated requests to
every operation of /api/v1/openapi.json through the WSGI app (no server) as an organizer, a
trainee and without a token, and checks every answer: no server error, the answer matches its
response schema, its status code and content type are documented, documented headers are there.

Deterministic: hypothesis derandomised (the seed comes from each test's name), no example
database, a bounded number of examples per operation; a new failure fails the suite every time.
"""

import os
import uuid

import pymongo
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)

from service import create_app
from service.core.fake_wechat import FAKE_APPID, FAKE_SECRET
from tests.conftest import bearer
from tests.factories import create_class, create_programme, session_body
from tests.fixtures.checkin import _confirmed_trainee

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance,
          response_headers_conformance]
EXAMPLES_PER_OPERATION = 6


# The document is read when the module loads (schemathesis builds one test per operation from it);
# the app points at the test database only when the tests run (`contract_app`). Building the
# document touches no database.
APP = create_app({"MONGODB_URI": "mongodb://127.0.0.1:9/not-yet", "ENSURE_INDEXES_ON_START": False,
                  "TESTING": True})
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)
schema.config.generation.update(modes=[GenerationMode.POSITIVE], max_examples=EXAMPLES_PER_OPERATION,
                                deterministic=True, with_security_parameters=False)
# CONTRACT_STATUS_LOG=/tmp/statuses.txt writes "who method path status" per request (to see what was reached).
STATUS_LOG = os.environ.get("CONTRACT_STATUS_LOG")


@pytest.fixture(scope="module")
def contract_app(mongodb_uri, fake_wechat):
    from service.core.db import ensure_indexes, mongo

    name = f"test_contract_{uuid.uuid4().hex[:8]}"
    APP.config.update(MONGODB_URI=mongodb_uri, MONGODB_DB=name, WECHAT_API_BASE=fake_wechat.api_base,
                      WECHAT_APPID=FAKE_APPID, WECHAT_SECRET=FAKE_SECRET)
    with APP.app_context():
        ensure_indexes(mongo.db_for(APP.config))
    yield APP
    client = pymongo.MongoClient(mongodb_uri)
    client.drop_database(name)
    client.close()


def _login(client, person):
    response = client.post("/api/v1/auth/wx-login", json={"code": f"{person}.{uuid.uuid4().hex[:8]}"})
    assert response.status_code == 200, response.json
    return response.json["token"]


def _staff(app, client, role, **scope):
    from service.staff import service as staff_service

    person = f"contract-{role}-{uuid.uuid4().hex[:6]}"
    with app.app_context():
        account, code = staff_service.create(name=person, role=role, **scope)
    token = _login(client, person)
    bound = client.post("/api/v1/auth/bind", json={"binding_code": code}, headers=bearer(token))
    assert bound.status_code == 200, bound.json
    return token, str(account["_id"])


@pytest.fixture(scope="module")
def seeded(contract_app):
    """Real objects for the path parameters, so answers are 200s to check and not only 404s: a
    published programme and class with two sessions, a confirmed trainee, a supervisor."""
    client = contract_app.test_client()
    admin, _ = _staff(contract_app, client, "admin")
    province, _ = _staff(contract_app, client, "province_staff", region_code="110000")
    programme = create_programme(client, admin)
    klass = create_class(client, admin, programme["id"], quotas=[{"region_code": "110000", "places": 40}])
    session_ids = []
    for start, end in (("09:00", "11:30"), ("14:00", "16:30")):
        created = client.post(f"/api/v1/classes/{klass['id']}/sessions", headers=bearer(admin),
                              json=session_body(klass["start_date"], start=start, end=end))
        assert created.status_code == 201, created.json
        session_ids.append(created.json["id"])
    published = client.post(f"/api/v1/classes/{klass['id']}/status", json={"status": "published"},
                            headers=bearer(admin))
    assert published.status_code == 200, published.json
    trainee = _confirmed_trainee(client, lambda person: _login(client, person), admin, province, klass["id"], 1,
                                 "110000")
    first = client.get(f"/api/v1/classes/{klass['id']}/sessions", headers=bearer(admin)).json["sessions"][0]
    leave = client.post("/api/v1/leave-requests", headers=bearer(trainee.token), json={
        "class_id": klass["id"], "starts_at": first["starts_at"], "ends_at": first["ends_at"], "type": "sick",
        "reason": "发烧需要就医"})
    assert leave.status_code == 201, leave.json
    with contract_app.app_context():  # an account not yet bound: bound_at is null
        from service.staff import service as staff_service

        unbound, _ = staff_service.create(name="未绑定的班主任", role="supervisor", class_ids=[])
    return {
        "tokens": {"organizer": admin, "trainee": trainee.token},
        "path": {"class_id": klass["id"], "session_id": session_ids[0], "registration_id": trainee.registration_id,
                 "programme_id": programme["id"], "account_id": str(unbound["_id"]), "region_code": "110000",
                 "leave_id": leave.json["id"],
                 "year": programme["year"]},
    }


def _with_seeded_objects(case, seeded):
    """Point the generated request at the seeded objects (path parameters and the ids in a body)."""
    ids = seeded["path"]
    if case.path_parameters:
        case.path_parameters = {name: ids.get(name, value) for name, value in case.path_parameters.items()}
    if isinstance(case.body, dict):
        for name in ("class_id", "session_id", "registration_id", "programme_id", "leave_id"):
            if name in case.body:
                case.body[name] = ids[name]
        if "registration_ids" in case.body:
            case.body["registration_ids"] = [ids["registration_id"]]


HYPOTHESIS = settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None, deadline=None,
                      suppress_health_check=list(HealthCheck), print_blob=False)


def _call(case, token, seeded):
    _with_seeded_objects(case, seeded)
    if token and case.path == "/api/v1/auth/logout":  # would end the role's token for every later operation
        token = _login(APP.test_client(), f"contract-logout-{uuid.uuid4().hex[:6]}")
    headers = {name: value for name, value in (case.headers or {}).items() if name.lower() != "authorization"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    case.headers = headers
    response = case.call_and_validate(checks=CHECKS)
    if STATUS_LOG:
        with open(STATUS_LOG, "a", encoding="utf-8") as log:
            log.write(f"{'token' if token else 'none'} {case.method} {case.path} {response.status_code}\n")


@schema.parametrize()
@HYPOTHESIS
def test_as_organizer(case, seeded):
    _call(case, seeded["tokens"]["organizer"], seeded)


@schema.parametrize()
@HYPOTHESIS
def test_as_trainee(case, seeded):
    _call(case, seeded["tokens"]["trainee"], seeded)


@schema.parametrize()
@HYPOTHESIS
def test_without_a_token(case, seeded):
    _call(case, None, seeded)
