"""Limits hold under parallel requests: a failure is counted with one atomic hit of the `limits`
counter (False once over) and answered 429 past the limit, so failures arriving together cannot
overshoot it (a read before the request and a write after let 37 of 30 through)."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from service import create_app
from tests.conftest import bearer
from tests.factories import profile_body

LIMITS = {"RATELIMIT_LOGIN_FAILURES": "30 per 10 minutes", "RATELIMIT_CERTIFICATE_FAILURES": "30 per 10 minutes",
          "RATELIMIT_ID_NUMBER_CONFLICTS": "5 per day", "RATELIMIT_ID_NUMBER_CONFLICTS_PER_IP": "20 per hour"}


@pytest.fixture
def app_config(app_config):
    return {**app_config, **LIMITS}


def _in_parallel(app_config, count, call):
    """`count` calls at once, spread over two app instances on one database (two workers)."""
    apps = [create_app({**app_config, "ENSURE_INDEXES_ON_START": False}) for _ in range(2)]

    def one(n):
        return call(apps[n % 2].test_client(), n)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def _statuses(answers):
    return [answer.status_code for answer in answers]


def test_40_parallel_failed_logins_against_a_limit_of_30(app, app_config):
    answers = _in_parallel(app_config, 40, lambda client, n: client.post(
        "/api/v1/auth/wx-login", json={"code": f"invalid-{n}"}, environ_base={"REMOTE_ADDR": "203.0.113.70"}))
    statuses = _statuses(answers)
    assert set(statuses) <= {400, 429}
    assert statuses.count(400) == 30 and statuses.count(429) == 10
    assert all(answer.headers["Retry-After"] for answer in answers if answer.status_code == 429)


def test_40_parallel_unknown_certificates_against_a_limit_of_30(app, app_config):
    answers = _in_parallel(app_config, 40, lambda client, n: client.get(
        f"/api/v1/certificates/verify/LJ2099{n:06d}?code={'ab' * 10}", environ_base={"REMOTE_ADDR": "203.0.113.71"}))
    statuses = _statuses(answers)
    assert set(statuses) <= {200, 429}
    assert statuses.count(200) == 30  # each an "unknown": the rest learn nothing


def test_parallel_id_number_conflicts_from_one_account(app, app_config, client, login):
    owner, prober = login("parallel-owner"), login("parallel-prober")
    assert client.put("/api/v1/trainee/profile", json=profile_body(serial=1), headers=bearer(owner)).status_code == 200
    answers = _in_parallel(app_config, 16, lambda either, n: either.put(
        "/api/v1/trainee/profile", json=profile_body(serial=1), headers=bearer(prober)))
    statuses = _statuses(answers)
    assert set(statuses) <= {409, 429}
    assert statuses.count(409) == 5


def test_parallel_id_number_conflicts_from_many_accounts_on_one_address(app, app_config, client, login):
    owner = login("parallel-owner-2")
    assert client.put("/api/v1/trainee/profile", json=profile_body(serial=1), headers=bearer(owner)).status_code == 200
    probers = [login(f"parallel-prober-{n}") for n in range(26)]
    answers = _in_parallel(app_config, 26, lambda either, n: either.put(
        "/api/v1/trainee/profile", json=profile_body(serial=1), headers=bearer(probers[n]),
        environ_base={"REMOTE_ADDR": "198.51.100.70"}))
    statuses = _statuses(answers)
    assert set(statuses) <= {409, 429}
    assert statuses.count(409) == 20
