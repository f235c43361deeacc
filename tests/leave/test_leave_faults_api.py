"""Nothing half-written (issue 14 §3) for leave decisions, cancelling and reporting back: the
request's messages (trainee, supervisors) are queued held and taken back if the decision's own
write fails, so a failure there leaves everything as it was; the attendance records that follow
from a made decision are finished by sending the same request again (they cannot be undone
without a transaction, and they are idempotent)."""

from bson import ObjectId

from service.attendance.repository import ATTENDANCE
from service.leave.repository import LEAVE_REQUESTS
from service.outbox.repository import OUTBOX
from tests.conftest import bearer
from tests.fixtures.faults import assert_unavailable


def _status(db, leave_class, trainee, index):
    session_id = leave_class.sessions[index][0]
    return db[ATTENDANCE].find_one({"session_id": ObjectId(session_id), "user_id": ObjectId(trainee.user_id)})["status"]


def _decide(client, token, leave_id, action="approve", comment=None):
    body = {"action": action, **({"comment": comment} if comment else {})}
    return client.post(f"/api/v1/leave-requests/{leave_id}/decision", json=body, headers=bearer(token))


def _leave_messages(db):
    return sorted(m["template"] for m in db[OUTBOX].find({"template": {"$in": ["class_notice", "leave_decision"]}}))


def _leave(db, leave_id):
    return db[LEAVE_REQUESTS].find_one({"_id": ObjectId(leave_id)})


def _closed_session_leave(client, leave_class, ask):
    """A leave for session 0, which is closed: the trainee's record there is `absent`."""
    trainee = leave_class.trainees[0]
    session_id, s0, e0 = leave_class.sessions[0]
    assert client.post(f"/api/v1/sessions/{session_id}/close", headers=bearer(leave_class.supervisor)).status_code == 200
    return trainee, ask(trainee, leave_class, s0, e0)


def test_approval_whose_decision_write_fails_changes_nothing(client, db, leave_class, ask, staff, fail_write):
    trainee, leave = _closed_session_leave(client, leave_class, ask)
    before = (_leave(db, leave["id"]), list(db[OUTBOX].find(sort=[("_id", 1)])), _status(db, leave_class, trainee, 0))
    with fail_write(1, commands=["findAndModify"]):  # the decision (messages are inserts, before it)
        assert_unavailable(_decide(client, staff["110000"], leave["id"]))
    assert (_leave(db, leave["id"]), list(db[OUTBOX].find(sort=[("_id", 1)])), _status(db, leave_class, trainee, 0)) == before
    again = _decide(client, staff["110000"], leave["id"])
    assert again.status_code == 200 and again.json["state"] == "approved"
    assert _status(db, leave_class, trainee, 0) == "excused"
    assert _leave_messages(db) == ["class_notice", "leave_decision"]


def test_approval_whose_records_fail_is_finished_by_sending_it_again(client, db, leave_class, ask, staff,
                                                                    fail_write):
    trainee, leave = _closed_session_leave(client, leave_class, ask)
    with fail_write(2, commands=["findAndModify"]):  # 1 the decision, 2 the session-0 record
        assert_unavailable(_decide(client, staff["110000"], leave["id"]))
    assert _leave(db, leave["id"])["state"] == "approved"  # the decision stands, its messages go out
    assert _status(db, leave_class, trainee, 0) == "absent"
    again = _decide(client, staff["110000"], leave["id"])
    assert again.status_code == 200 and again.json["state"] == "approved"
    assert _status(db, leave_class, trainee, 0) == "excused"
    assert _leave_messages(db) == ["class_notice", "leave_decision"]
    # Nothing left to finish: the same approval is a repeat again.
    repeat = _decide(client, staff["110000"], leave["id"])
    assert repeat.status_code == 409 and repeat.json["code"] == "LEAVE_ALREADY_DECIDED"


def test_return_early_whose_write_fails_changes_nothing(client, db, leave_class, ask, staff, fail_write):
    trainee = leave_class.trainees[0]
    _, s0, _ = leave_class.sessions[0]
    _, _, e2 = leave_class.sessions[2]
    leave = _decide(client, staff["110000"], ask(trainee, leave_class, s0, e2)["id"]).json
    before = (_leave(db, leave["id"]), list(db[OUTBOX].find(sort=[("_id", 1)])))
    url = f"/api/v1/leave-requests/{leave['id']}/return"
    with fail_write(1, commands=["findAndModify"]):  # the return itself (its message is queued before it)
        assert_unavailable(client.post(url, json={}, headers=bearer(trainee.token)))
    assert (_leave(db, leave["id"]), list(db[OUTBOX].find(sort=[("_id", 1)]))) == before
    again = client.post(url, json={}, headers=bearer(trainee.token))
    assert again.status_code == 200 and again.json["state"] == "returned_early"
    assert db[OUTBOX].count_documents({"dedupe_key": {"$regex": f"^leave:{leave['id']}:class:returned_early:"}}) == 1
    assert client.post(url, json={}, headers=bearer(trainee.token)).json["code"] == "LEAVE_STATE_INVALID"
