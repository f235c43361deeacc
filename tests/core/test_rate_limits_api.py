"""Rate limits: counted in MongoDB, so two app instances on one database (two workers, two hosts)
count as one; only failures count where a crowd shares an address; 429 in the error shape with
Retry-After."""

import io
import time

import pytest
from bson import ObjectId

from service import create_app
from service.attendance import tokens
from service.config import ConfigError
from service.core.ratelimit import COUNTERS
from tests.conftest import bearer
from tests.factories import profile_body
from tests.fixtures.checkin import AT_VENUE

LIMITS = {"RATELIMIT_LOGIN_FAILURES": "4 per 10 minutes", "RATELIMIT_BINDING_FAILURES": "3 per hour",
          "RATELIMIT_CHECKIN_FAILURES": "2 per 10 minutes", "RATELIMIT_CERTIFICATE_FAILURES": "3 per 10 minutes",
          "RATELIMIT_ID_NUMBER_CONFLICTS": "2 per day", "RATELIMIT_UPLOADS": "2 per hour",
          "RATELIMIT_PHONE_EXCHANGES": "2 per day",
          "RATELIMIT_CONSOLE_LOGINS": "2 per 10 minutes", "RATELIMIT_LEGACY_CHECK_CODE_FAILURES": "2 per day"}


@pytest.fixture
def app_config(app_config):
    return {**app_config, **LIMITS}



def from_ip(address):
    return {"environ_base": {"REMOTE_ADDR": address}}


def assert_too_many(response, window_seconds):
    assert response.status_code == 429, response.json
    assert response.json["code"] == "TOO_MANY_REQUESTS"
    assert response.json["message"] and response.json["request_id"]
    assert 0 < int(response.headers["Retry-After"]) <= window_seconds + 1


def test_failed_logins_per_ip_are_counted_across_two_instances(client, other_client, db):
    for n in range(4):
        answer = (client, other_client)[n % 2].post("/api/v1/auth/wx-login", json={"code": f"invalid-{n}"},
                                                    **from_ip("203.0.113.7"))
        assert answer.status_code == 400 and answer.json["code"] == "WX_CODE_INVALID"
    for either in (client, other_client):
        assert_too_many(either.post("/api/v1/auth/wx-login", json={"code": "invalid-x"}, **from_ip("203.0.113.7")),
                        600)
    # Even a good code from that address waits; another address is not affected.
    assert client.post("/api/v1/auth/wx-login", json={"code": "alice.1"}, **from_ip("203.0.113.7")).status_code == 429
    assert client.post("/api/v1/auth/wx-login", json={"code": "alice.2"}, **from_ip("203.0.113.8")).status_code == 200
    assert db[COUNTERS].count_documents({}) >= 1  # the count lives in the database, not in a process


def test_a_forged_forwarded_for_header_does_not_reset_the_count(client):
    for n in range(5):
        client.post("/api/v1/auth/wx-login", json={"code": f"invalid-{n}"},
                    headers={"X-Forwarded-For": f"198.51.100.{n}"}, **from_ip("203.0.113.9"))
    answer = client.post("/api/v1/auth/wx-login", json={"code": "invalid-z"},
                         headers={"X-Forwarded-For": "198.51.100.99"}, **from_ip("203.0.113.9"))
    assert_too_many(answer, 600)


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(app_config):
    client = create_app({**app_config, "TRUSTED_PROXY_COUNT": 1, "ENSURE_INDEXES_ON_START": False}).test_client()
    for n in range(4):
        client.post("/api/v1/auth/wx-login", json={"code": f"invalid-{n}"}, headers={"X-Forwarded-For": "198.51.100.1"})
    assert client.post("/api/v1/auth/wx-login", json={"code": "invalid-5"},
                       headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 429
    assert client.post("/api/v1/auth/wx-login", json={"code": "invalid-6"},
                       headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 400


def test_many_good_logins_from_one_address_are_never_limited(client):
    for n in range(12):  # three times the failure limit, all from one classroom address
        assert client.post("/api/v1/auth/wx-login", json={"code": f"pupil-{n}.1"},
                           **from_ip("203.0.113.50")).status_code == 200


def test_wrong_binding_codes_are_limited_per_user(client, other_client, login):
    mallory, bob = login("mallory"), login("bob")
    for n in range(3):
        answer = (client, other_client)[n % 2].post("/api/v1/auth/bind", json={"binding_code": f"WRONG{n}CODE"},
                                                    headers=bearer(mallory))
        assert answer.status_code == 400 and answer.json["code"] == "BINDING_CODE_INVALID"
    assert_too_many(other_client.post("/api/v1/auth/bind", json={"binding_code": "WRONG9CODE"},
                                      headers=bearer(mallory)), 3600)
    assert client.post("/api/v1/auth/bind", json={"binding_code": "WRONG9CODE"},
                       headers=bearer(bob)).json["code"] == "BINDING_CODE_INVALID"


def test_id_number_conflicts_are_limited_per_user(client, other_client, login, db):
    owner, prober = login("id-owner"), login("id-prober")
    assert client.put("/api/v1/trainee/profile", json=profile_body(serial=1), headers=bearer(owner)).status_code == 200
    for either in (client, other_client):
        answer = either.put("/api/v1/trainee/profile", json=profile_body(serial=1), headers=bearer(prober))
        assert answer.status_code == 409 and answer.json["code"] == "ID_NUMBER_IN_USE"
    assert_too_many(client.put("/api/v1/trainee/profile", json=profile_body(serial=1), headers=bearer(prober)),
                    24 * 3600)
    # Successful saves do not count: the owner edits the form as often as needed.
    for _ in range(4):
        assert client.put("/api/v1/trainee/profile", json=profile_body(serial=1),
                          headers=bearer(owner)).status_code == 200


def test_uploads_are_limited_per_user(client, other_client, login):
    uploader, other = login("uploader"), login("other-uploader")

    def upload(who, via=client):
        png = _png()
        return via.post("/api/v1/trainee/attachments", data={"kind": "photo", "file": (png, "p.png")},
                        headers=bearer(who), content_type="multipart/form-data")

    assert upload(uploader).status_code == 201
    assert upload(uploader, other_client).status_code == 201
    assert_too_many(upload(uploader), 3600)
    assert upload(other).status_code == 201


def _png():
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 56), (200, 30, 30)).save(out, "PNG")
    out.seek(0)
    return out


def test_certificate_guesses_are_limited_per_ip(client, other_client):
    for n in range(3):
        answer = (client, other_client)[n % 2].get(f"/api/v1/certificates/verify/LJ20990000{n}?code=DEADBEEF",
                                                   **from_ip("203.0.113.20"))
        assert answer.status_code == 200 and answer.json["status"] == "unknown"
    assert_too_many(client.get("/api/v1/certificates/verify/LJ209900009?code=DEADBEEF",
                               **from_ip("203.0.113.20")), 600)
    assert client.get("/api/v1/certificates/verify/LJ209900009?code=DEADBEEF",
                      **from_ip("203.0.113.21")).json["status"] == "unknown"


def test_certificate_check_code_is_long():
    from service.completion.certificates import new_check_code

    codes = {new_check_code() for _ in range(100)}
    assert len(codes) == 100  # random, not derived from the sequential number
    assert all(len(code) == 20 and int(code, 16) >= 0 for code in codes)  # 80 bits


def _forged(session_id):
    with_wrong_mac = tokens.issue(tokens.CLASS, ObjectId(session_id))[0]
    return with_wrong_mac[:-8] + ("A" * 8 if not with_wrong_mac.endswith("A" * 8) else "B" * 8)


def test_wrong_check_in_codes_are_limited_per_user_and_session(app, client, other_client, make_checkin_class,
                                                               class_code):
    checkin_class = make_checkin_class(trainees=2)
    cheat, honest = checkin_class.trainees[0], checkin_class.trainees[1]
    with app.app_context():
        forged = _forged(checkin_class.session_id)
    for either in (client, other_client):
        answer = either.post("/api/v1/checkins", json={"code": forged, **AT_VENUE}, headers=bearer(cheat.token))
        assert answer.status_code == 422 and answer.json["code"] == "CODE_INVALID"
    assert_too_many(other_client.post("/api/v1/checkins", json={"code": forged, **AT_VENUE},
                                      headers=bearer(cheat.token)), 600)
    # Another trainee of the same class is not affected, nor is the cheat's own count on another session.
    answer = client.post("/api/v1/checkins", json={"code": class_code(checkin_class), **AT_VENUE},
                         headers=bearer(honest.token))
    assert answer.status_code == 200, answer.json
    other_session = checkin_class.session_ids[1]
    assert client.post(f"/api/v1/sessions/{other_session}/checkins", json={"code": forged, **AT_VENUE},
                       headers=bearer(cheat.token)).json["code"] == "CODE_INVALID"


def test_a_whole_class_behind_one_address_is_never_limited(app, client, make_checkin_class, class_code, db):
    """A full class of 100 phones behind one classroom NAT address (the issue's burst): each phone scans
    a stale code first, then the right one."""
    klass = make_checkin_class(trainees=100, regions=("110000", "440000"), places=50)
    code = class_code(klass)
    with app.app_context():
        stale = tokens.issue(tokens.CLASS, ObjectId(klass.session_id), now=time.time() - 600)[0]
    counters_before = db[COUNTERS].count_documents({})
    for trainee in klass.trainees:
        first = client.post("/api/v1/checkins", json={"code": stale, **AT_VENUE}, headers=bearer(trainee.token),
                            **from_ip("10.20.30.40"))
        assert first.json["code"] == "CODE_EXPIRED"
        answer = client.post("/api/v1/checkins", json={"code": code, **AT_VENUE}, headers=bearer(trainee.token),
                             **from_ip("10.20.30.40"))
        assert answer.status_code == 200 and answer.json["result"] == "checked_in", answer.json
    # Only the 100 failures were written (one counter per trainee); the successes touched none.
    assert db[COUNTERS].count_documents({}) == counters_before + 100


def test_a_limit_that_is_not_a_limit_refuses_to_start(app_config):
    with pytest.raises(ConfigError, match="RATELIMIT_UPLOADS"):
        create_app({**app_config, "RATELIMIT_UPLOADS": "many"})


def test_id_number_conflicts_are_limited_per_address_across_accounts(app_config, login):
    """Many fresh accounts from one address cannot add up to enough 409s to rebuild a masked number,
    whichever instance answers them."""
    config = {**app_config, "RATELIMIT_ID_NUMBER_CONFLICTS_PER_IP": "2 per hour"}
    client = create_app(config).test_client()
    other_client = create_app({**config, "ENSURE_INDEXES_ON_START": False}).test_client()
    owner = login("ip-owner")
    assert client.put("/api/v1/trainee/profile", json=profile_body(serial=1), headers=bearer(owner)).status_code == 200
    for either, name in ((client, "prober-1"), (other_client, "prober-2")):
        answer = either.put("/api/v1/trainee/profile", json=profile_body(serial=1), headers=bearer(login(name)),
                            **from_ip("198.51.100.7"))
        assert answer.status_code == 409 and answer.json["code"] == "ID_NUMBER_IN_USE"
    assert_too_many(client.put("/api/v1/trainee/profile", json=profile_body(serial=1),
                               headers=bearer(login("prober-3")), **from_ip("198.51.100.7")), 3600)
    # Another address is not affected.
    answer = client.put("/api/v1/trainee/profile", json=profile_body(serial=1), headers=bearer(login("prober-4")),
                        **from_ip("198.51.100.8"))
    assert answer.status_code == 409


def test_a_conflicting_save_writes_nothing(client, login, db):
    owner, other = login("owner-2"), login("other-2")
    assert client.put("/api/v1/trainee/profile", json=profile_body(serial=1), headers=bearer(owner)).status_code == 200
    assert client.put("/api/v1/trainee/profile", json=profile_body(serial=2), headers=bearer(other)).status_code == 200
    before = db.trainee_profiles.find_one({"enterprise.name": "北京精工科技有限公司2"})
    changed = profile_body(serial=1, name="李四", position="总经理", mobile="13900000999", management_years=3)
    answer = client.put("/api/v1/trainee/profile", json=changed, headers=bearer(other))
    assert answer.status_code == 409
    after = db.trainee_profiles.find_one({"_id": before["_id"]})
    assert after == before
    first_time = login("newcomer")
    assert client.put("/api/v1/trainee/profile", json=changed, headers=bearer(first_time)).status_code == 409
    assert db.trainee_profiles.count_documents({"position": "总经理"}) == 0


def test_phone_exchanges_are_limited_per_user_across_two_instances(client, other_client, login, fake_wechat):
    trainee, other = login("phone-user"), login("other-phone-user")
    before = fake_wechat.phone_exchanges
    for n, either in enumerate((client, other_client)):
        answer = either.post("/api/v1/trainee/profile/phone", json={"code": f"phone-1390000001{n}"},
                             headers=bearer(trainee))
        assert answer.status_code == 200, answer.json
    assert_too_many(other_client.post("/api/v1/trainee/profile/phone", json={"code": "phone-13900000019"},
                                      headers=bearer(trainee)), 24 * 3600)
    assert fake_wechat.phone_exchanges == before + 2  # the third never reached WeChat
    assert client.post("/api/v1/trainee/profile/phone", json={"code": "phone-13900000029"},
                       headers=bearer(other)).status_code == 200


def test_console_login_requests_are_limited_per_address_across_two_instances(client, other_client, db):
    assert client.post("/api/v1/auth/console-logins", **from_ip("192.0.2.40")).status_code == 201
    assert other_client.post("/api/v1/auth/console-logins", **from_ip("192.0.2.40")).status_code == 201
    assert_too_many(client.post("/api/v1/auth/console-logins", **from_ip("192.0.2.40")), 600)
    assert other_client.post("/api/v1/auth/console-logins", **from_ip("192.0.2.41")).status_code == 201
    assert db.console_logins.count_documents({}) == 3


def test_the_readme_lists_every_limit_with_its_setting_and_default():
    from pathlib import Path

    from service.config import ENV_SETTINGS, DefaultConfig

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    limits = [name for name in ENV_SETTINGS if name.startswith("RATELIMIT_")]
    assert len(limits) >= 10
    for name in limits:
        assert f"| `{name}` | `{getattr(DefaultConfig, name)}` |" in readme, name


def test_limiter_request_hook_left_out_when_every_limit_is_a_decorator(app, client, login):
    """Every limit here is a view decorator, which checks itself: Flask-Limiter's per-request hook
    (default/application/blueprint limits) would find nothing on every request, so it is not run;
    decorated limits still refuse (a wrong check-in code past RATELIMIT_CHECKIN_FAILURES)."""
    from service.core.ratelimit import limiter

    assert limiter._check_request_limit not in app.before_request_funcs[None]
    headers = bearer(login("openid-hookless"))
    answers = [client.post("/api/v1/checkins", json={"code": "not-a-code", **AT_VENUE}, headers=headers)
               for _ in range(3)]
    assert [a.json["code"] for a in answers[:2]] == ["CODE_INVALID", "CODE_INVALID"]
    assert_too_many(answers[2], 600)


def test_limiter_request_hook_kept_when_default_limits_are_configured(app_config):
    from service.core.ratelimit import limiter

    try:
        app = create_app({**app_config, "RATELIMIT_DEFAULT": "2 per minute"})
        assert limiter._check_request_limit in app.before_request_funcs[None]
        client = app.test_client()
        answers = [client.get("/api/v1/openapi.json", **from_ip("10.9.8.7")).status_code for _ in range(3)]
        assert answers == [200, 200, 429]
    finally:
        # The limiter is the process's: its default limits would outlive this app into the next tests'.
        limiter.limit_manager.set_default_limits([])
