"""Bulk issue with unique numbers, public verification (valid / revoked / unknown), revocation, PNG."""

import datetime as dt

import pytest
from bson import ObjectId

from tests.conftest import bearer


def issue(client, token, klass, **body):
    return client.post(f"/api/v1/classes/{klass.id}/certificates", json=body, headers=bearer(token))


def verify(client, number, code, html=False):
    headers = {"Accept": "text/html"} if html else {}
    return client.get(f"/api/v1/certificates/verify/{number}?code={code}", headers=headers)


def test_bulk_issue_to_eligible_trainees_only(client, db, admin_token, finished_class):
    response = issue(client, admin_token, finished_class)
    assert response.status_code == 200, response.json
    data = response.json
    assert len(data["issued"]) == 1
    certificate = data["issued"][0]
    year = db.classes.find_one({"_id": ObjectId(finished_class.id)})["year"]
    assert certificate["number"] == f"LJ{year}00001"
    assert certificate["name"] == finished_class.trainees[0].name and certificate["status"] == "valid"
    assert certificate["issued_on"] == dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date().isoformat()
    assert certificate["verify_url"].startswith("http://127.0.0.1:8000/api/v1/certificates/verify/")
    assert certificate["verify_url"].endswith(f"?code={certificate['check_code']}")
    second, third = finished_class.trainees[1:]
    assert data["not_eligible"] == [
        {"registration_id": second.registration_id, "name": second.name,
         "failed": [{"condition": "attendance_rate", "actual": 0.5, "required": 0.8,
                     "message": "出勤率 50%（1/2 节），低于要求的 80%"}]},
        {"registration_id": third.registration_id, "name": third.name,
         "failed": [{"condition": "attendance_rate", "actual": 0.5, "required": 0.8,
                     "message": "出勤率 50%（1/2 节），低于要求的 80%"},
                    {"condition": "excused_share", "actual": 0.5, "required": 0.1,
                     "message": "请假课时占比 50%（2.0/4.0 课时），超过允许的 10%"},
                    {"condition": "class_rating", "actual": 0.0, "required": 1.0,
                     "message": "尚未提交班级满意度评价"}]}]
    registration = db.registrations.find_one({"_id": ObjectId(finished_class.trainees[0].registration_id)})
    assert registration["completed"] is True and registration["certificate_number"] == certificate["number"]
    assert db.registrations.count_documents({"completed": True}) == 1


def test_issuing_again_issues_nothing_new(client, db, admin_token, finished_class):
    first = issue(client, admin_token, finished_class).json
    second = issue(client, admin_token, finished_class).json
    assert second["issued"] == [] and second["already_issued"] == [first["issued"][0]["registration_id"]]
    assert db.certificates.count_documents({}) == 1


def test_numbers_are_unique_across_classes(client, db, admin_token, ended_class, mark, rate_class):
    numbers = []
    for name in ("第一期", "第二期"):
        klass = ended_class(trainees=2, name=name)
        for index in (0, 1):
            mark(klass, index, 0, "present")
            mark(klass, index, 1, "present")
            rate_class(klass, index)
        numbers += [c["number"] for c in issue(client, admin_token, klass).json["issued"]]
    assert len(numbers) == 4 and len(set(numbers)) == 4
    assert sorted(numbers) == numbers
    year = numbers[0][2:6]
    assert numbers == [f"LJ{year}{serial:05d}" for serial in (1, 2, 3, 4)]
    assert db.certificate_counters.find_one({"_id": int(year)})["seq"] == 4


def test_a_bulk_issue_reserves_its_numbers_with_one_increment(client, db, admin_token, ended_class, mark,
                                                               rate_class, monkeypatch):
    from service.completion import repository

    reserved = []
    real = repository.reserve_numbers

    def recording(year, count):
        reserved.append(count)
        return real(year, count)

    monkeypatch.setattr(repository, "reserve_numbers", recording)
    klass = ended_class(trainees=3)
    for index in (0, 1, 2):
        mark(klass, index, 0, "present")
        mark(klass, index, 1, "present")
        rate_class(klass, index)
    issued = issue(client, admin_token, klass).json["issued"]
    assert reserved == [3] and len(issued) == 3
    assert issue(client, admin_token, klass).json["issued"] == [] and reserved == [3]  # nothing due, no $inc


def test_number_blocks_do_not_overlap_under_concurrency(app):
    import threading

    from service.completion import repository

    blocks, errors = [], []

    def reserve():
        try:
            with app.app_context():
                blocks.append(list(repository.reserve_numbers(2098, 5)))
        except Exception as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=reserve) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(block == list(range(block[0], block[0] + 5)) for block in blocks)
    assert sorted(n for block in blocks for n in block) == list(range(1, 41))


def test_issue_refused_before_the_class_ends(client, db, admin_token, make_checkin_class):
    klass = make_checkin_class()
    response = issue(client, admin_token, klass)
    assert response.status_code == 422 and response.json["code"] == "CLASS_NOT_FINISHED"
    assert db.certificates.count_documents({}) == 0


def nothing_issued(db):
    assert db.certificates.count_documents({}) == 0
    assert db.registrations.count_documents({"completed": {"$exists": True}}) == 0
    assert db.certificate_counters.count_documents({}) == 0  # no number was taken either


def test_issue_to_listed_registrations(client, db, admin_token, finished_class):
    stranger = str(ObjectId())
    refused = issue(client, admin_token, finished_class,
                    registration_ids=[finished_class.trainees[0].registration_id, stranger])
    assert refused.status_code == 422 and refused.json["code"] == "NOT_CLASS_TRAINEE"
    assert refused.json["errors"] == {"registration_ids": [stranger]}
    nothing_issued(db)  # the eligible trainee listed beside the stranger got nothing either
    only_second = issue(client, admin_token, finished_class,
                        registration_ids=[finished_class.trainees[1].registration_id])
    assert only_second.json["issued"] == [] and len(only_second.json["not_eligible"]) == 1
    nothing_issued(db)


def test_only_organizers_issue(client, db, finished_class):
    response = issue(client, finished_class.supervisor, finished_class)
    assert response.status_code == 403 and response.json["code"] == "ROLE_REQUIRED"
    assert db.certificates.count_documents({}) == 0


def test_public_verification_valid_revoked_unknown(client, db, admin_token, finished_class):
    certificate = issue(client, admin_token, finished_class).json["issued"][0]
    valid = verify(client, certificate["number"], certificate["check_code"])
    assert valid.status_code == 200
    name = finished_class.trainees[0].name  # 学员001
    assert valid.json == {"status": "valid", "number": certificate["number"], "name_masked": name[0] + "***" + name[-1],
                          "class_name": "第一期 专精特新发展专题班", "institution": "清华大学经济管理学院",
                          "issued_on": certificate["issued_on"], "revoked_on": None, "message": "证书有效"}
    page = verify(client, certificate["number"], certificate["check_code"], html=True)
    assert page.mimetype == "text/html" and "证书有效" in page.get_data(as_text=True)
    assert name not in page.get_data(as_text=True)
    assert verify(client, certificate["number"], "WRONG123").json["status"] == "unknown"
    assert verify(client, "LJ209900001", certificate["check_code"]).json["status"] == "unknown"

    url = f"/api/v1/certificates/{certificate['id']}/revoke"
    revoked = client.post(url, json={"reason": "出勤记录有误，经核实未达结业要求"}, headers=bearer(admin_token))
    assert revoked.status_code == 200 and revoked.json["status"] == "revoked"
    answer = verify(client, certificate["number"], certificate["check_code"]).json
    assert answer["status"] == "revoked" and answer["message"] == "该证书已撤销" and "revoked_on" in answer
    again = client.post(url, json={"reason": "重复操作"}, headers=bearer(admin_token))
    assert again.status_code == 409 and again.json["code"] == "CERTIFICATE_ALREADY_REVOKED"
    registration = db.registrations.find_one({"_id": ObjectId(finished_class.trainees[0].registration_id)})
    assert registration["completed"] is False and "certificate_number" not in registration


def test_revocation_needs_an_organizer_and_a_reason(client, db, admin_token, finished_class):
    certificate = issue(client, admin_token, finished_class).json["issued"][0]
    url = f"/api/v1/certificates/{certificate['id']}/revoke"
    assert client.post(url, json={}, headers=bearer(admin_token)).status_code == 422
    refused = client.post(url, json={"reason": "无权撤销"}, headers=bearer(finished_class.supervisor))
    assert refused.status_code == 403
    assert db.certificates.find_one()["status"] == "valid"
    unknown = client.post(f"/api/v1/certificates/{ObjectId()}/revoke", json={"reason": "不存在"},
                          headers=bearer(admin_token))
    assert unknown.status_code == 404 and unknown.json["code"] == "CERTIFICATE_NOT_FOUND"


def test_bulk_issue_leaves_out_a_revoked_trainee(client, db, admin_token, finished_class):
    first = issue(client, admin_token, finished_class).json["issued"][0]
    client.post(f"/api/v1/certificates/{first['id']}/revoke", json={"reason": "出勤记录有误，经核实未达结业要求"},
                headers=bearer(admin_token))
    # Issuing to "all eligible" again does not undo the revocation; the answer says who and why.
    again = issue(client, admin_token, finished_class)
    assert again.status_code == 200 and again.json["issued"] == []
    assert again.json["revoked_skipped"] == [{"registration_id": first["registration_id"], "name": first["name"],
                                              "revoked_number": first["number"],
                                              "revoke_reason": "出勤记录有误，经核实未达结业要求"}]
    # Naming the trainee without reissue_revoked is no deliberate re-issue either.
    named = issue(client, admin_token, finished_class, registration_ids=[first["registration_id"]])
    assert named.json["issued"] == [] and len(named.json["revoked_skipped"]) == 1
    assert db.certificates.count_documents({"status": "valid"}) == 0


def test_reissue_revoked_must_name_the_trainees(client, db, admin_token, finished_class):
    first = issue(client, admin_token, finished_class).json["issued"][0]
    client.post(f"/api/v1/certificates/{first['id']}/revoke", json={"reason": "信息有误，重新颁发"},
                headers=bearer(admin_token))
    refused = issue(client, admin_token, finished_class, reissue_revoked=True)
    assert refused.status_code == 422 and "逐个" in refused.json["errors"]["reissue_revoked"][0]
    assert db.certificates.count_documents({"status": "valid"}) == 0


def test_reissue_after_revocation_gets_a_new_number(client, db, admin_token, finished_class):
    first = issue(client, admin_token, finished_class).json["issued"][0]
    client.post(f"/api/v1/certificates/{first['id']}/revoke", json={"reason": "信息有误，重新颁发"},
                headers=bearer(admin_token))
    second = issue(client, admin_token, finished_class, registration_ids=[first["registration_id"]],
                   reissue_revoked=True).json
    assert second["revoked_skipped"] == [] and second["issued"][0]["number"] != first["number"]
    assert db.certificates.count_documents({"status": "valid"}) == 1
    # The re-issued trainee holds a valid certificate again: a later bulk run neither skips nor re-issues.
    later = issue(client, admin_token, finished_class).json
    assert later["revoked_skipped"] == [] and later["issued"] == []
    assert first["registration_id"] in later["already_issued"]


def test_trainee_fetches_own_certificate_and_png(client, admin_token, finished_class, make_staff):
    certificate = issue(client, admin_token, finished_class).json["issued"][0]
    owner = finished_class.trainees[0].token
    mine = client.get("/api/v1/certificates/mine", headers=bearer(owner))
    assert [c["number"] for c in mine.json] == [certificate["number"]]
    image = client.get(f"/api/v1/certificates/{certificate['id']}.png", headers=bearer(owner))
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert image.data[:8] == b"\x89PNG\r\n\x1a\n" and len(image.data) > 10_000
    other = client.get(f"/api/v1/certificates/{certificate['id']}.png",
                       headers=bearer(finished_class.trainees[1].token))
    assert other.status_code == 404 and other.json["code"] == "CERTIFICATE_NOT_FOUND"
    wrong_region = make_staff("province_staff", region_code="440000")
    assert client.get(f"/api/v1/certificates/{certificate['id']}", headers=bearer(wrong_region)).status_code == 404
    right_region = make_staff("province_staff", region_code="110000")
    assert client.get(f"/api/v1/certificates/{certificate['id']}", headers=bearer(right_region)).status_code == 200
    client.post(f"/api/v1/certificates/{certificate['id']}/revoke", json={"reason": "撤销测试"},
                headers=bearer(admin_token))
    revoked = client.get(f"/api/v1/certificates/{certificate['id']}.png", headers=bearer(owner))
    assert revoked.status_code == 422 and revoked.json["code"] == "CERTIFICATE_REVOKED"


def test_class_certificate_list_by_scope(client, admin_token, finished_class, make_staff):
    issue(client, admin_token, finished_class)
    url = f"/api/v1/classes/{finished_class.id}/certificates"
    assert len(client.get(url, headers=bearer(admin_token)).json) == 1
    assert len(client.get(url, headers=bearer(finished_class.supervisor)).json) == 1
    assert client.get(url, headers=bearer(make_staff("province_staff", region_code="440000"))).json == []


def test_completed_trainee_counts_as_prior_trainee(app, db, admin_token, client, finished_class):
    from service.registrations import checks

    issue(client, admin_token, finished_class)
    registration = db.registrations.find_one({"_id": ObjectId(finished_class.trainees[0].registration_id)})
    with app.app_context():
        assert checks.has_completed_before(registration["id_number_hash"]) is True


def test_one_valid_certificate_per_registration_in_the_database(app):
    from pymongo.errors import DuplicateKeyError

    from service.completion import repository

    registration_id = ObjectId()

    def certificate(number, status="valid"):
        return {"number": number, "status": status, "registration_id": registration_id, "class_id": ObjectId(),
                "user_id": ObjectId(), "region_code": "110000", "year": 2026}

    with app.app_context():
        repository.insert(certificate("LJ209900001", status="revoked"))
        repository.insert(certificate("LJ209900002"))  # a revoked one does not block
        with pytest.raises(repository.AlreadyIssued):
            repository.insert(certificate("LJ209900003"))
        # The same number is a fault, never silently "already issued".
        other = {**certificate("LJ209900002"), "registration_id": ObjectId()}
        with pytest.raises(DuplicateKeyError):
            repository.insert(other)
