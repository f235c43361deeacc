"""Counting that cannot be inflated: drafts created and withdrawn again and again (by someone with no
profile, and by someone with one) change no report figure; applied = submitted at least once."""

import pytest

from tests.conftest import bearer
from tests.factories import create_class, create_programme, profile_body


def _figures(client, token, class_id, year):
    """Every report the churn could touch, as the JSON a reader gets."""
    answers = {
        "class": client.get(f"/api/v1/reports/classes/{class_id}", headers=bearer(token)),
        "region": client.get(f"/api/v1/reports/regions/110000/years/{year}", headers=bearer(token)),
        "regions": client.get(f"/api/v1/reports/years/{year}/regions", headers=bearer(token)),
    }
    for name, answer in answers.items():
        assert answer.status_code == 200, (name, answer.json)
    return {name: _without_clock(answer.json) for name, answer in answers.items()}


def _without_clock(value):
    if isinstance(value, dict):
        return {k: _without_clock(v) for k, v in value.items() if k != "generated_at"}
    if isinstance(value, list):
        return [_without_clock(v) for v in value]
    return value


def _regions_in(value):
    """Every region_code anywhere in a report."""
    if isinstance(value, dict):
        return [value.get("region_code")] * ("region_code" in value) + \
            [code for v in value.values() for code in _regions_in(v)]
    if isinstance(value, list):
        return [code for v in value for code in _regions_in(v)]
    return []


@pytest.fixture
def one_application(client, admin_token, login):
    programme = create_programme(client, admin_token)
    klass = create_class(client, admin_token, programme["id"], publish=True)
    applicant = login("churn-real-applicant")
    assert client.put("/api/v1/trainee/profile", json=profile_body(serial=41), headers=bearer(applicant)).status_code \
        == 200
    rid = client.post("/api/v1/registrations", json={"class_id": klass["id"]}, headers=bearer(applicant)).json["id"]
    assert client.post(f"/api/v1/registrations/{rid}/submit", headers=bearer(applicant)).status_code == 200
    return klass, programme["year"]


def _churn(client, token, class_id, times):
    for _ in range(times):
        created = client.post("/api/v1/registrations", json={"class_id": class_id}, headers=bearer(token))
        assert created.status_code == 201, created.json
        withdrawn = client.post(f"/api/v1/registrations/{created.json['id']}/withdraw", headers=bearer(token))
        assert withdrawn.status_code == 200, withdrawn.json


def test_draft_churn_changes_no_report_figure(client, admin_token, login, one_application, db):
    klass, year = one_application
    before = _figures(client, admin_token, klass["id"], year)
    assert before["class"]["enrolment"]["applied"] == 1
    assert [row["applied"] for row in before["class"]["enrolment"]["by_region"]] == [1]

    _churn(client, login("churn-no-profile"), klass["id"], 5)
    with_profile = login("churn-with-profile")
    client.put("/api/v1/trainee/profile", json=profile_body(serial=42), headers=bearer(with_profile))
    _churn(client, with_profile, klass["id"], 3)
    assert db.registrations.count_documents({"state": "withdrawn"}) == 8  # the churn happened

    after = _figures(client, admin_token, klass["id"], year)
    assert after == before
    national_total = after["regions"].pop("national")  # the one row that is everyone's: region_code null
    assert national_total["region_name"] == "全国"
    assert None not in _regions_in(after)


def test_a_submitted_then_withdrawn_application_still_counts_as_applied(client, admin_token, login,
                                                                       one_application):
    klass, year = one_application
    second = login("churn-second-applicant")
    client.put("/api/v1/trainee/profile", json=profile_body(serial=43), headers=bearer(second))
    rid = client.post("/api/v1/registrations", json={"class_id": klass["id"]}, headers=bearer(second)).json["id"]
    assert client.post(f"/api/v1/registrations/{rid}/submit", headers=bearer(second)).status_code == 200
    assert client.post(f"/api/v1/registrations/{rid}/withdraw", headers=bearer(second)).status_code == 200
    enrolment = _figures(client, admin_token, klass["id"], year)["class"]["enrolment"]
    assert enrolment["applied"] == 2 and enrolment["confirmed"] == 0


def test_submit_withdraw_churn_counts_the_trainee_once(client, admin_token, login, one_application):
    """Finding: create -> submit -> withdraw, again and again, added 1 to the class report's
    enrolment.applied and to its region row every cycle (第3期 7 -> 11 with one account).
    applied counts people who submitted at least once."""
    klass, year = one_application
    before = _figures(client, admin_token, klass["id"], year)
    churner = login("churn-submitter")
    assert client.put("/api/v1/trainee/profile", json=profile_body(serial=44),
                      headers=bearer(churner)).status_code == 200
    for cycle in range(4):
        rid = client.post("/api/v1/registrations", json={"class_id": klass["id"]}, headers=bearer(churner)).json["id"]
        assert client.post(f"/api/v1/registrations/{rid}/submit", headers=bearer(churner)).status_code == 200
        if cycle < 3:  # the last one stays submitted
            assert client.post(f"/api/v1/registrations/{rid}/withdraw", headers=bearer(churner)).status_code == 200
    after = _figures(client, admin_token, klass["id"], year)
    assert after["class"]["enrolment"]["applied"] == before["class"]["enrolment"]["applied"] + 1 == 2
    assert [row["applied"] for row in after["class"]["enrolment"]["by_region"]] == [2]
    # The region KPIs count the one pending registration, not the three withdrawn ones.
    review = after["region"]["review"]
    assert review["pending"] == before["region"]["review"]["pending"] + 1
    assert review["to_review"] == before["region"]["review"]["to_review"] + 1
    assert after["region"]["trainees_trained"] == before["region"]["trainees_trained"]
