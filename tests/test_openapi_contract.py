"""The OpenAPI document tells the truth (issue 14 §4): schemathesis sends generated requests to
every operation of /api/v1/openapi.json through the WSGI app (no server) as an organizer, a
trainee and without a token, and checks every answer: no server error, the answer matches its
response schema, its status code and content type are documented, documented headers are there.

Deterministic: hypothesis derandomised (the seed comes from each test's name), no example
database, a bounded number of examples per operation; a new failure fails the suite every time.
"""

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
                                deterministic=True)


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


@pytest.fixture(scope="module")
def tokens(contract_app):
    from service.staff import service as staff_service

    client = contract_app.test_client()
    with contract_app.app_context():
        _, code = staff_service.create(name="contract-admin", role="admin", region_code=None, class_ids=[])
    admin = _login(client, "contract-admin")
    bound = client.post("/api/v1/auth/bind", json={"binding_code": code}, headers={"Authorization": f"Bearer {admin}"})
    assert bound.status_code == 200, bound.json
    return {"organizer": admin, "trainee": _login(client, "contract-trainee"), "anonymous": None}


HYPOTHESIS = settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None, deadline=None,
                      suppress_health_check=list(HealthCheck), print_blob=False)


def _call(case, token):
    if token:
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
    else:
        case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@HYPOTHESIS
def test_as_organizer(case, tokens):
    _call(case, tokens["organizer"])


@schema.parametrize()
@HYPOTHESIS
def test_as_trainee(case, tokens):
    _call(case, tokens["trainee"])


@schema.parametrize()
@HYPOTHESIS
def test_without_a_token(case, contract_app):
    _call(case, None)
