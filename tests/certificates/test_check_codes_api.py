"""Check codes (issue 15 §1): a certificate verifies with the code it was issued with, stored on it;
new codes are 20 hex characters; certificates printed before carry 8 and keep verifying, their short
codes limited per certificate number as well as per address."""

import hashlib
import hmac
import re

import pytest
from bson import ObjectId

from service import create_app
from tests.conftest import bearer

LIMITS = {"RATELIMIT_CERTIFICATE_FAILURES": "100 per 10 minutes", "RATELIMIT_LEGACY_CHECK_CODE_FAILURES": "3 per day"}


@pytest.fixture
def app_config(app_config):
    return {**app_config, **LIMITS}



def issued(client, admin_token, klass):
    response = client.post(f"/api/v1/classes/{klass.id}/certificates", json={}, headers=bearer(admin_token))
    assert response.status_code == 200, response.json
    return response.json["issued"][0]


def verify(client, number, code, address="203.0.113.50"):
    return client.get(f"/api/v1/certificates/verify/{number}", query_string={"code": code},
                      environ_base={"REMOTE_ADDR": address})


def printed_before(app, db, certificate):
    """Make `certificate` what one issued before codes were stored looks like in the database (no
    `check_code`), and return the 8 hex characters that were printed on it: the HMAC of its number."""
    db.certificates.update_one({"_id": ObjectId(certificate["id"])}, {"$unset": {"check_code": ""}})
    key = app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"certificate:{certificate['number']}".encode(), hashlib.sha256).hexdigest()[:8].upper()


def test_a_new_certificate_stores_a_20_hex_code_and_verifies_with_it_only(client, db, admin_token, finished_class):
    certificate = issued(client, admin_token, finished_class)
    code = certificate["check_code"]
    assert re.fullmatch(r"[0-9A-F]{20}", code)
    assert db.certificates.find_one({"_id": ObjectId(certificate["id"])})["check_code"] == code
    assert certificate["verify_url"].endswith(f"?code={code}")
    assert verify(client, certificate["number"], code).json["status"] == "valid"
    assert verify(client, certificate["number"], code.lower()).json["status"] == "valid"  # typed by hand
    assert verify(client, certificate["number"], code[:8]).json["status"] == "unknown"
    assert verify(client, certificate["number"], code[:-1] + ("0" if code[-1] != "0" else "1")).json["status"] \
        == "unknown"


def test_the_stored_code_keeps_verifying_when_the_secret_key_changes(app_config, client, admin_token,
                                                                     finished_class):
    certificate = issued(client, admin_token, finished_class)
    rotated = create_app({**app_config, "SECRET_KEY": "a-new-secret-key-after-rotation-0123456789",
                          "ENSURE_INDEXES_ON_START": False}).test_client()
    assert verify(rotated, certificate["number"], certificate["check_code"]).json["status"] == "valid"


def test_a_certificate_printed_with_an_8_hex_code_keeps_verifying(app, client, db, admin_token, finished_class):
    certificate = issued(client, admin_token, finished_class)
    printed = printed_before(app, db, certificate)
    answer = verify(client, certificate["number"], printed)
    assert answer.status_code == 200 and answer.json["status"] == "valid", answer.json
    assert verify(client, certificate["number"], printed.lower()).json["status"] == "valid"
    # The certificate as read again shows (and its PNG and QR carry) the code it was issued with.
    again = client.get(f"/api/v1/certificates/{certificate['id']}", headers=bearer(admin_token)).json
    assert again["check_code"] == printed and again["verify_url"].endswith(f"?code={printed}")
    owner = finished_class.trainees[0].token
    assert client.get(f"/api/v1/certificates/{certificate['id']}.png", headers=bearer(owner)).status_code == 200
    # Another certificate's short code, or a wrong one, is unknown.
    assert verify(client, certificate["number"], "0" * 8 if printed != "0" * 8 else "1" * 8).json["status"] \
        == "unknown"
    revoked = client.post(f"/api/v1/certificates/{certificate['id']}/revoke", json={"reason": "出勤记录有误"},
                          headers=bearer(admin_token))
    assert revoked.status_code == 200 and revoked.json["check_code"] == printed
    assert verify(client, certificate["number"], printed).json["status"] == "revoked"


def test_short_code_guesses_are_limited_per_number_whatever_the_address(app, client, other_client, db,
                                                                         admin_token, finished_class):
    certificate = issued(client, admin_token, finished_class)
    printed = printed_before(app, db, certificate)
    number = certificate["number"]
    wrong = [f"{n:08X}" for n in range(1, 5) if f"{n:08X}" != printed][:3]
    for n, code in enumerate(wrong):
        # each from a fresh address, alternating between two app instances: only the number ties them
        answer = verify((client, other_client)[n % 2], number, code, address=f"198.51.100.{n + 1}")
        assert answer.status_code == 200 and answer.json["status"] == "unknown"
    # Spent: even the right short code is not answered, from any address or instance.
    for either in (client, other_client):
        refused = verify(either, number, printed, address="198.51.100.99")
        assert refused.status_code == 429 and refused.json["code"] == "TOO_MANY_REQUESTS"
        assert 0 < int(refused.headers["Retry-After"]) <= 86_400 + 1
    # The limit is the number's: another certificate's look-ups and long codes are not held up.
    assert verify(client, "LJ209900001", "ABCDEF12", address="198.51.100.99").json["status"] == "unknown"


def test_long_codes_are_never_held_up_by_the_short_code_limit(client, db, admin_token, finished_class):
    certificate = issued(client, admin_token, finished_class)
    for n in range(3):
        assert verify(client, certificate["number"], f"{n:08X}", address=f"198.51.100.{n + 10}").json["status"] \
            == "unknown"
    assert verify(client, certificate["number"], f"{3:08X}").status_code == 429
    assert verify(client, certificate["number"], certificate["check_code"]).json["status"] == "valid"
    assert verify(client, certificate["number"], "F" * 20).json["status"] == "unknown"  # counted per address only
