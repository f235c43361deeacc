"""Nothing half-written (issue 14 §3): revoking a certificate writes the certificate, then the
registration's `completed` flag (read by the prior-trainee rule). If the database fails on the
second, the answer is 503 and the same request sent again clears the flag and answers the
revocation; after that it is 409 CERTIFICATE_ALREADY_REVOKED as before."""

from bson import ObjectId

from tests.certificates.test_certificates_api import issue
from tests.conftest import bearer
from tests.fixtures.faults import assert_unavailable


def test_revoke_whose_registration_write_fails_is_finished_by_sending_it_again(client, db, admin_token,
                                                                                 finished_class, fail_write):
    certificate = issue(client, admin_token, finished_class).json["issued"][0]
    registration_id = ObjectId(finished_class.trainees[0].registration_id)
    url = f"/api/v1/certificates/{certificate['id']}/revoke"
    body = {"reason": "出勤记录有误，经核实未达结业要求"}
    # 1 the certificate, 2 the report version bump (best effort), 3 the registration
    with fail_write(3, commands=["findAndModify", "update"]):
        assert_unavailable(client.post(url, json=body, headers=bearer(admin_token)))
    assert db.certificates.find_one({"_id": ObjectId(certificate["id"])})["status"] == "revoked"
    assert db.registrations.find_one({"_id": registration_id})["completed"] is True
    again = client.post(url, json=body, headers=bearer(admin_token))
    assert again.status_code == 200 and again.json["status"] == "revoked"
    registration = db.registrations.find_one({"_id": registration_id})
    assert registration["completed"] is False and "certificate_number" not in registration
    repeat = client.post(url, json=body, headers=bearer(admin_token))
    assert repeat.status_code == 409 and repeat.json["code"] == "CERTIFICATE_ALREADY_REVOKED"
