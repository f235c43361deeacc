"""The trainee's side of leave: preview, ask, every refusal (with nothing written), withdraw, cancel, 销假."""

import datetime as dt
import io
import threading
from unittest import mock

from bson import ObjectId
from PIL import Image

from service.attendance.repository import ATTENDANCE
from service.leave.repository import LEAVE_REQUESTS
from tests.conftest import bearer
from tests.leave.conftest import beijing, leave_body


def _count(db):
    return db[LEAVE_REQUESTS].count_documents({})


def _png():
    buffer = io.BytesIO()
    Image.new("RGB", (20, 28), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def _upload_proof(client, token):
    response = client.post("/api/v1/trainee/attachments", headers=bearer(token), content_type="multipart/form-data",
                           data={"kind": "leave_proof", "file": (io.BytesIO(_png()), "诊断证明.png")})
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_preview_lists_sessions_and_completion_impact(client, db, leave_class):
    trainee = leave_class.trainees[0]
    _, starts, _ = leave_class.sessions[1]
    _, _, ends = leave_class.sessions[2]
    response = client.post("/api/v1/leave-requests/preview",
                           json={"class_id": leave_class.id, "starts_at": starts.isoformat(),
                                 "ends_at": ends.isoformat()}, headers=bearer(trainee.token))
    assert response.status_code == 200, response.json
    preview = response.json
    assert [s["session_id"] for s in preview["sessions"]] == [leave_class.session_id(1), leave_class.session_id(2)]
    # Sessions: 2.5 h (3.3 class hours of 45 min), 2 h (2.7), 2.5 h (3.3) -> 9.3 in all.
    assert preview["class_hours"] == 6.0 and preview["class_hours_total"] == 9.3
    assert preview["leave_class_hours_before"] == 0
    assert preview["leave_share_after"] == round(6.0 / 9.3, 4)
    assert preview["max_leave_share"] == 0.1 and preview["completion_at_risk"] is True
    assert _count(db) == 0  # a preview saves nothing


def test_ask_for_leave(client, db, leave_class, ask):
    trainee = leave_class.trainees[0]
    proof = _upload_proof(client, trainee.token)
    _, starts, ends = leave_class.sessions[2]
    leave = ask(trainee, leave_class, starts - dt.timedelta(minutes=30), ends, type="official",
                reason="参加省政府专题会议", proof_attachment_id=proof)
    assert leave["state"] == "submitted" and leave["state_label"] == "待审批"
    assert leave["type_label"] == "公务" and leave["region_code"] == "110000"
    assert leave["session_ids"] == [leave_class.session_id(2)] == leave["excused_session_ids"]
    assert leave["starts_at"].endswith("+08:00") and leave["trainee_name"] == trainee.name
    assert [(h["from"], h["to"]) for h in leave["history"]] == [(None, "submitted")]
    mine = client.get(f"/api/v1/leave-requests/mine?class_id={leave_class.id}", headers=bearer(trainee.token)).json
    assert [m["id"] for m in mine] == [leave["id"]]


def test_refusals_write_nothing(client, db, leave_class, ask, login):
    trainee = leave_class.trainees[0]
    _, s1, e1 = leave_class.sessions[1]
    cases = [
        (dict(starts=s1, ends=s1 - dt.timedelta(hours=1)), 422, "LEAVE_TIMES_INVALID"),
        (dict(starts=beijing(-3, 9), ends=beijing(-3, 12)), 422, "LEAVE_OUTSIDE_CLASS"),
        (dict(starts=beijing(1, 13), ends=beijing(1, 17)), 422, "LEAVE_COVERS_NO_SESSION"),
        (dict(starts=s1, ends=e1, proof_attachment_id=str(ObjectId())), 422, "ATTACHMENT_NOT_FOUND"),
    ]
    for case, status, code in cases:
        extra = {k: v for k, v in case.items() if k not in ("starts", "ends")}
        refused = ask(trainee, leave_class, case["starts"], case["ends"], expect=status, **extra)
        assert refused["code"] == code, case
    stranger = login("leave-stranger")
    response = client.post("/api/v1/leave-requests", json=leave_body(leave_class, s1, e1), headers=bearer(stranger))
    assert response.status_code == 403 and response.json["code"] == "NOT_ENROLLED"
    no_reason = client.post("/api/v1/leave-requests", json=leave_body(leave_class, s1, e1, reason=""),
                            headers=bearer(trainee.token))
    assert no_reason.status_code == 422 and "reason" in no_reason.json["errors"]
    too_long = client.post("/api/v1/leave-requests", json=leave_body(leave_class, s1, e1, reason="病" * 501),
                           headers=bearer(trainee.token))
    assert too_long.status_code == 422
    bad_type = client.post("/api/v1/leave-requests", json=leave_body(leave_class, s1, e1, type="holiday"),
                           headers=bearer(trainee.token))
    assert bad_type.status_code == 422 and "type" in bad_type.json["errors"]
    assert _count(db) == 0


def test_overlapping_own_leave_is_refused(db, leave_class, ask):
    trainee = leave_class.trainees[0]
    _, s1, e1 = leave_class.sessions[1]
    first = ask(trainee, leave_class, s1, e1)
    refused = ask(trainee, leave_class, s1 + dt.timedelta(minutes=30), e1 + dt.timedelta(hours=20), expect=409)
    assert refused["code"] == "LEAVE_OVERLAP" and refused["leave_request_id"] == first["id"]
    # Another trainee's leave for the same session is fine.
    ask(leave_class.trainees[1], leave_class, s1, e1)
    assert _count(db) == 2


def test_two_overlapping_requests_at_once_make_one(app, db, leave_class):
    trainee = leave_class.trainees[0]
    _, s1, e1 = leave_class.sessions[1]
    barrier, statuses = threading.Barrier(8), []

    def post():
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post("/api/v1/leave-requests", json=leave_body(leave_class, s1, e1),
                                    headers=bearer(trainee.token)).status_code)

    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] + [409] * 7
    assert _count(db) == 1


def test_leave_for_a_session_already_attended_is_refused(db, leave_class, ask):
    trainee = leave_class.trainees[0]
    session_id, starts, ends = leave_class.sessions[1]
    db[ATTENDANCE].insert_one({"session_id": ObjectId(session_id), "user_id": ObjectId(trainee.user_id),
                               "class_id": ObjectId(leave_class.id), "status": "late", "history": []})
    refused = ask(trainee, leave_class, starts, ends, expect=422)
    assert refused["code"] == "LEAVE_COVERS_ATTENDED" and "新发展格局" in refused["message"]
    assert _count(db) == 0


def test_withdraw_only_own_and_pending(client, db, leave_class, ask, staff, decide):
    owner, other = leave_class.trainees[:2]
    _, s1, e1 = leave_class.sessions[1]
    leave = ask(owner, leave_class, s1, e1)
    foreign = client.post(f"/api/v1/leave-requests/{leave['id']}/withdraw", json={}, headers=bearer(other.token))
    assert foreign.status_code == 404 and foreign.json["code"] == "LEAVE_NOT_FOUND"
    withdrawn = client.post(f"/api/v1/leave-requests/{leave['id']}/withdraw", json={"comment": "已康复"},
                            headers=bearer(owner.token))
    assert withdrawn.status_code == 200 and withdrawn.json["state"] == "withdrawn"
    assert withdrawn.json["excused_session_ids"] == []
    again = client.post(f"/api/v1/leave-requests/{leave['id']}/withdraw", json={}, headers=bearer(owner.token))
    assert again.status_code == 422 and again.json["code"] == "LEAVE_STATE_INVALID"
    # The session is free again: a new request for it is accepted.
    approved = decide(staff["110000"], ask(owner, leave_class, s1, e1)["id"])
    refused = client.post(f"/api/v1/leave-requests/{approved['id']}/withdraw", json={}, headers=bearer(owner.token))
    assert refused.json["code"] == "LEAVE_STATE_INVALID"


def _close(client, klass, index):
    """Close the session as its supervisor would once it has begun (these sessions lie ahead:
    closing before the start is refused, so the clock of check-in is moved past the start)."""
    started = klass.sessions[index][1].astimezone(dt.timezone.utc) + dt.timedelta(minutes=1)
    with mock.patch("service.attendance.service.utcnow", lambda: started):
        response = client.post(f"/api/v1/sessions/{klass.session_id(index)}/close", headers=bearer(klass.supervisor))
    assert response.status_code == 200, response.json


def _status(db, klass, trainee, index):
    record = db[ATTENDANCE].find_one({"session_id": ObjectId(klass.session_id(index)),
                                      "user_id": ObjectId(trainee.user_id)})
    return record and record["status"]


def test_cancel_before_start_makes_the_session_count_again(client, db, leave_class, ask, staff, decide):
    trainee = leave_class.trainees[0]
    _, s2, e2 = leave_class.sessions[2]
    leave = decide(staff["110000"], ask(trainee, leave_class, s2, e2)["id"])
    cancelled = client.post(f"/api/v1/leave-requests/{leave['id']}/cancel", json={"comment": "行程取消"},
                            headers=bearer(trainee.token))
    assert cancelled.status_code == 200 and cancelled.json["state"] == "cancelled"
    _close(client, leave_class, 2)
    assert _status(db, leave_class, trainee, 2) == "absent"


def test_cancel_after_start_is_refused(client, db, leave_class, ask, staff, decide):
    trainee = leave_class.trainees[0]
    _, s0, _ = leave_class.sessions[0]
    _, _, e1 = leave_class.sessions[1]
    leave = decide(staff["110000"], ask(trainee, leave_class, s0, e1)["id"])
    refused = client.post(f"/api/v1/leave-requests/{leave['id']}/cancel", json={}, headers=bearer(trainee.token))
    assert refused.status_code == 422 and refused.json["code"] == "LEAVE_ALREADY_STARTED"
    assert db[LEAVE_REQUESTS].find_one({"_id": ObjectId(leave["id"])})["state"] == "approved"


def test_return_early_keeps_past_sessions_excused_and_frees_later_ones(client, db, leave_class, ask, staff,
                                                                       decide):
    trainee = leave_class.trainees[0]
    _, s0, _ = leave_class.sessions[0]
    _, _, e2 = leave_class.sessions[2]
    _close(client, leave_class, 0)
    assert _status(db, leave_class, trainee, 0) == "absent"
    leave = decide(staff["110000"], ask(trainee, leave_class, s0, e2)["id"])
    assert _status(db, leave_class, trainee, 0) == "excused"
    back = client.post(f"/api/v1/leave-requests/{leave['id']}/return", json={"comment": "已返回课堂"},
                       headers=bearer(trainee.token))
    assert back.status_code == 200, back.json
    assert back.json["state"] == "returned_early" and back.json["returned_at"].endswith("+08:00")
    assert back.json["excused_session_ids"] == [leave_class.session_id(0)]
    _close(client, leave_class, 1)
    _close(client, leave_class, 2)
    assert [_status(db, leave_class, trainee, i) for i in range(3)] == ["excused", "absent", "absent"]
    # The freed sessions may be asked for again; the kept one may not.
    _, s2, e2 = leave_class.sessions[2]
    ask(trainee, leave_class, s2, e2)
    _, s0, e0 = leave_class.sessions[0]
    assert ask(trainee, leave_class, s0, e0, expect=409)["code"] == "LEAVE_OVERLAP"


def test_return_early_refusals(client, leave_class, ask, staff, decide):
    trainee = leave_class.trainees[0]
    _, s2, e2 = leave_class.sessions[2]
    pending = ask(trainee, leave_class, s2, e2)
    refused = client.post(f"/api/v1/leave-requests/{pending['id']}/return", json={}, headers=bearer(trainee.token))
    assert refused.json["code"] == "LEAVE_STATE_INVALID"
    decide(staff["110000"], pending["id"])
    not_started = client.post(f"/api/v1/leave-requests/{pending['id']}/return", json={}, headers=bearer(trainee.token))
    assert not_started.status_code == 422 and not_started.json["code"] == "LEAVE_NOT_STARTED"


def test_return_after_the_leave_ended_is_refused(client, db, leave_class, ask, staff, decide):
    trainee = leave_class.trainees[0]
    _, s0, e0 = leave_class.sessions[0]  # yesterday
    leave = decide(staff["110000"], ask(trainee, leave_class, s0, e0)["id"])
    refused = client.post(f"/api/v1/leave-requests/{leave['id']}/return", json={}, headers=bearer(trainee.token))
    assert refused.status_code == 422 and refused.json["code"] == "LEAVE_ALREADY_ENDED"
    assert db[LEAVE_REQUESTS].find_one({"_id": ObjectId(leave["id"])})["state"] == "approved"


def test_withdraw_twice_at_once_moves_once(app, db, leave_class, ask):
    trainee = leave_class.trainees[0]
    _, s2, e2 = leave_class.sessions[2]
    leave = ask(trainee, leave_class, s2, e2)
    barrier, answers = threading.Barrier(10), []

    def withdraw():
        client = app.test_client()
        barrier.wait()
        response = client.post(f"/api/v1/leave-requests/{leave['id']}/withdraw", json={}, headers=bearer(trainee.token))
        answers.append((response.status_code, response.json.get("code")))

    threads = [threading.Thread(target=withdraw) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(1 for status, _ in answers if status == 200) == 1
    assert {a for a in answers if a[0] != 200} <= {(409, "LEAVE_CHANGED"), (422, "LEAVE_STATE_INVALID")}
    stored = db[LEAVE_REQUESTS].find_one({"_id": ObjectId(leave["id"])})
    assert stored["version"] == 2 and [h["to"] for h in stored["history"]] == ["submitted", "withdrawn"]
