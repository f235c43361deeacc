"""The verification limits as the guide words them (q14 finding 9): the per-number limit holds
look-ups typed with 8 characters or fewer on any certificate, also one carrying a 20-character
code, while its 20-character code still verifies; the per-address limit holds every look-up from
that address, the right code too."""

import pytest

from tests.certificates.test_check_codes_api import issued, verify


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RATELIMIT_CERTIFICATE_FAILURES": "2 per 10 minutes",
            "RATELIMIT_LEGACY_CHECK_CODE_FAILURES": "5 per day"}


def test_short_wrong_codes_on_a_long_code_certificate_hold_only_short_look_ups(client, admin_token, finished_class):
    certificate = issued(client, admin_token, finished_class)
    assert len(certificate["check_code"]) == 20
    for n in range(5):
        answer = verify(client, certificate["number"], f"{n:08X}", address=f"198.51.100.{n + 1}")
        assert answer.json["status"] == "unknown"
    held = verify(client, certificate["number"], f"{9:08X}", address="198.51.100.50")
    assert held.status_code == 429 and held.json["message"] == "该证书今日验证失败次数太多，请明天再试"
    assert 0 < int(held.headers["Retry-After"]) <= 86_400 + 1
    right = verify(client, certificate["number"], certificate["check_code"], address="198.51.100.51")
    assert right.status_code == 200 and right.json["status"] == "valid"


def test_past_the_address_limit_even_the_right_code_waits(client, admin_token, finished_class):
    certificate = issued(client, admin_token, finished_class)
    for n in range(2):
        assert verify(client, certificate["number"], "F" * 20).json["status"] == "unknown"
    right = verify(client, certificate["number"], certificate["check_code"])
    assert right.status_code == 429 and right.json["code"] == "TOO_MANY_REQUESTS"
    elsewhere = verify(client, certificate["number"], certificate["check_code"], address="198.51.100.77")
    assert elsewhere.json["status"] == "valid"
