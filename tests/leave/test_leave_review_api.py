"""Approvers and the class: inbox, decisions and their race, scope, 报备, reminders, proofs."""

import datetime as dt
import io
import threading

from bson import ObjectId
from PIL import Image

from service.attendance.repository import ATTENDANCE
from service.leave.repository import LEAVE_REQUESTS
from service.outbox.repository import OUTBOX
from tests.conftest import bearer


def _user_id(client, token):
    return ObjectId(client.get("/api/v1/me", headers=bearer(token)).json["id"])


def _messages(db, template, user_id=None):
    query = {"template": template, **({"user_id": user_id} if user_id else {})}
    return list(db[OUTBOX].find(query))


def test_approve_notifies_trainee_and_supervisors(client, db, leave_class, ask, staff, decide):
    trainee = leave_class.trainees[0]
    _, s2, e2 = leave_class.sessions[2]
    leave = ask(trainee, leave_class, s2, e2)
    approved = decide(staff["110000"], leave["id"], comment="注意身体")
    assert approved["state"] == "approved" and approved["decision_comment"] == "注意身体"
    assert [(h["from"], h["to"], h["comment"]) for h in approved["history"]][-1] == ("submitted", "approved", "注意身体")
    assert approved["history"][-1]["by"] == str(_user_id(client, staff["110000"]))
    [to_trainee] = _messages(db, "leave_decision")
    assert to_trainee["user_id"] == ObjectId(trainee.user_id)
    [to_supervisor] = _messages(db, "class_notice")
    assert to_supervisor["user_id"] == _user_id(client, leave_class.supervisor)
    assert "请假已批准" in to_supervisor["data"]["thing1"]["value"]


def test_reject_needs_a_comment_and_frees_the_sessions(client, db, leave_class, ask, staff, decide):
    trainee = leave_class.trainees[0]
    _, s2, e2 = leave_class.sessions[2]
    leave = ask(trainee, leave_class, s2, e2)
    refused = decide(staff["110000"], leave["id"], "reject", expect=422)
    assert refused["code"] == "COMMENT_REQUIRED"
    assert db[LEAVE_REQUESTS].find_one({"_id": ObjectId(leave["id"])})["state"] == "submitted"
    rejected = decide(staff["110000"], leave["id"], "reject", comment="原则上不准假")
    assert rejected["state"] == "rejected" and rejected["excused_session_ids"] == []
    assert _messages(db, "class_notice") == []  # the class hears of approved leave only
    ask(trainee, leave_class, s2, e2)  # the session may be asked for again


def test_second_decision_is_a_conflict(leave_class, ask, staff, decide):
    _, s2, e2 = leave_class.sessions[2]
    leave = ask(leave_class.trainees[0], leave_class, s2, e2)
    decide(staff["110000"], leave["id"])
    conflict = decide(staff["110000"], leave["id"], "reject", comment="不同意", expect=409)
    assert conflict["code"] == "LEAVE_ALREADY_DECIDED" and conflict["state"] == "approved"


def test_twenty_way_race_of_approve_and_reject(app, db, leave_class, ask, make_staff):
    _, s2, e2 = leave_class.sessions[2]
    leave = ask(leave_class.trainees[0], leave_class, s2, e2)
    tokens = [make_staff("province_staff", region_code="110000") for _ in range(4)]
    barrier, answers = threading.Barrier(20), []

    def act(index):
        client = app.test_client()
        body = {"action": "approve"} if index % 2 else {"action": "reject", "comment": "不同意"}
        barrier.wait()
        response = client.post(f"/api/v1/leave-requests/{leave['id']}/decision", json=body,
                               headers=bearer(tokens[index % 4]))
        answers.append((response.status_code, response.json.get("code"), response.json.get("state")))

    threads = [threading.Thread(target=act, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [a for a in answers if a[0] == 200]
    assert len(winners) == 1
    assert sorted({a[:2] for a in answers if a[0] != 200}) == [(409, "LEAVE_ALREADY_DECIDED")]
    stored = db[LEAVE_REQUESTS].find_one({"_id": ObjectId(leave["id"])})
    assert stored["state"] == winners[0][2] and stored["version"] == 2
    assert len([h for h in stored["history"] if h["from"] == "submitted"]) == 1
    assert len(_messages(db, "leave_decision")) == 1


def test_other_region_supervisors_and_trainees_cannot_decide(client, db, leave_class, ask, staff, decide):
    trainee = leave_class.trainees[0]  # Beijing
    _, s2, e2 = leave_class.sessions[2]
    leave = ask(trainee, leave_class, s2, e2)
    cross = decide(staff["440000"], leave["id"], expect=403)
    assert cross["code"] == "OUT_OF_SCOPE"
    supervisor = decide(leave_class.supervisor, leave["id"], expect=403)
    assert supervisor["code"] == "ROLE_REQUIRED"
    assert decide(trainee.token, leave["id"], expect=403)["code"] == "ROLE_REQUIRED"
    stored = db[LEAVE_REQUESTS].find_one({"_id": ObjectId(leave["id"])})
    assert stored["state"] == "submitted" and stored["version"] == 1
    assert _messages(db, "leave_decision") == []


def test_other_region_cannot_read(client, leave_class, ask, staff):
    _, s2, e2 = leave_class.sessions[2]
    leave = ask(leave_class.trainees[0], leave_class, s2, e2)
    one = client.get(f"/api/v1/leave-requests/{leave['id']}", headers=bearer(staff["440000"]))
    assert one.status_code == 403 and one.json["code"] == "OUT_OF_SCOPE"
    listed = client.get("/api/v1/leave-requests?region_code=110000", headers=bearer(staff["440000"]))
    assert listed.status_code == 403
    inbox = client.get("/api/v1/leave-requests", headers=bearer(staff["440000"])).json
    assert inbox["total"] == 0
    other_trainee = client.get(f"/api/v1/leave-requests/{leave['id']}", headers=bearer(leave_class.trainees[1].token))
    assert other_trainee.status_code == 404
    for allowed in (staff["110000"], leave_class.supervisor, leave_class.trainees[0].token):
        assert client.get(f"/api/v1/leave-requests/{leave['id']}", headers=bearer(allowed)).status_code == 200


def test_inbox_oldest_first_with_attendance_and_leave_taken(client, db, leave_class, ask, staff, decide):
    first, second, guangdong = leave_class.trainees
    _, s0, e0 = leave_class.sessions[0]
    _, s1, e1 = leave_class.sessions[1]
    _, s2, e2 = leave_class.sessions[2]
    db[ATTENDANCE].insert_one({"session_id": ObjectId(leave_class.session_id(0)), "user_id": ObjectId(second.user_id),
                               "class_id": ObjectId(leave_class.id), "status": "late", "history": []})
    earliest = ask(first, leave_class, s0, e0)
    decide(staff["110000"], earliest["id"])
    older = ask(first, leave_class, s2, e2)
    newer = ask(second, leave_class, s1, e1)
    ask(guangdong, leave_class, s1, e1)
    inbox = client.get("/api/v1/leave-requests", headers=bearer(staff["110000"])).json
    assert [i["id"] for i in inbox["items"]] == [older["id"], newer["id"]] and inbox["total"] == 2
    assert inbox["items"][0]["leave_taken"] == 1
    assert inbox["items"][1]["attendance_so_far"] == {"present": 0, "late": 1, "absent": 0, "excused": 0}
    everything = client.get("/api/v1/leave-requests?state=all", headers=bearer(staff["110000"])).json
    assert everything["total"] == 3
    # A request is not its own precedent: approving `older` leaves its figure at 1 (the first one).
    decide(staff["110000"], older["id"])
    everything = client.get("/api/v1/leave-requests?state=all", headers=bearer(staff["110000"])).json
    taken = {i["id"]: i["leave_taken"] for i in everything["items"]}
    assert taken[older["id"]] == 1 and taken[earliest["id"]] == 1 and taken[newer["id"]] == 0


def test_approval_after_closing_turns_absent_into_excused(client, db, leave_class, ask, staff, decide):
    trainee = leave_class.trainees[0]
    session_id, s0, e0 = leave_class.sessions[0]
    closed = client.post(f"/api/v1/sessions/{session_id}/close", headers=bearer(leave_class.supervisor))
    assert closed.json["absent"] == 3
    leave = ask(trainee, leave_class, s0, e0)
    decide(staff["110000"], leave["id"])
    record = db[ATTENDANCE].find_one({"session_id": ObjectId(session_id), "user_id": ObjectId(trainee.user_id)})
    assert record["status"] == "excused"
    assert [(h["from"], h["to"], h["reason"]) for h in record["history"]] == [
        (None, "absent", "close"), ("absent", "excused", "请假已批准")]
    others = db[ATTENDANCE].count_documents({"session_id": ObjectId(session_id), "status": "absent"})
    assert others == 2


def test_board_and_projector_move_from_absent_to_on_leave_right_after_the_approval(client, leave_class, ask, staff,
                                                                                   decide):
    """The polls read the session's tally: the approval's absent -> excused is on it at once."""
    trainee = leave_class.trainees[0]
    session_id, s0, e0 = leave_class.sessions[0]
    headers = bearer(leave_class.supervisor)
    assert client.post(f"/api/v1/sessions/{session_id}/close", headers=headers).json["absent"] == 3
    link = client.post(f"/api/v1/sessions/{session_id}/projector-link", headers=headers).json["url"]
    state = link.removeprefix("http://localhost").replace("/checkin?", "/checkin/state?")
    assert client.get(f"/api/v1/sessions/{session_id}/board", headers=headers).json["counts"]["absent"] == 3
    decide(staff["110000"], ask(trainee, leave_class, s0, e0)["id"])
    for counts in (client.get(f"/api/v1/sessions/{session_id}/board", headers=headers).json["counts"],
                   client.get(state).json["counts"]):
        assert (counts["absent"], counts["on_leave"], counts["missing"]) == (2, 1, 0)


def test_board_shows_the_leave_and_the_supervisor_acknowledges(client, db, leave_class, ask, staff, decide):
    trainee = leave_class.trainees[0]
    session_id, s1, e1 = leave_class.sessions[1]
    leave = ask(trainee, leave_class, s1, e1)
    early = client.post(f"/api/v1/leave-requests/{leave['id']}/acknowledgement", json={"note": "收到"},
                        headers=bearer(leave_class.supervisor))
    assert early.status_code == 422 and early.json["code"] == "LEAVE_STATE_INVALID"
    decide(staff["110000"], leave["id"])
    board = client.get(f"/api/v1/sessions/{session_id}/board", headers=bearer(leave_class.supervisor)).json
    assert board["counts"]["on_leave"] == 1 and trainee.name not in [m["name"] for m in board["missing"]]
    assert board["leaves"] == [{"leave_request_id": leave["id"], "registration_id": trainee.registration_id,
                                "name": trainee.name, "type": "sick", "acknowledged": False}]
    acked = client.post(f"/api/v1/leave-requests/{leave['id']}/acknowledgement", json={"note": "已知悉，注意安全"},
                        headers=bearer(leave_class.supervisor))
    assert acked.status_code == 200 and acked.json["acknowledgements"][0]["note"] == "已知悉，注意安全"
    board = client.get(f"/api/v1/sessions/{session_id}/board", headers=bearer(leave_class.supervisor)).json
    assert board["leaves"][0]["acknowledged"] is True
    not_theirs = client.post(f"/api/v1/leave-requests/{leave['id']}/acknowledgement", json={},
                             headers=bearer(staff["110000"]))
    assert not_theirs.status_code == 403


def test_pending_requests_remind_the_region_once(app, client, db, leave_class, ask, staff):
    _, s2, e2 = leave_class.sessions[2]
    leave = ask(leave_class.trainees[0], leave_class, s2, e2)
    from service.leave.review import remind_pending

    with app.app_context():
        assert remind_pending() == 0  # not old enough
        later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=25)
        assert remind_pending(now=later) == 1
        assert remind_pending(now=later) == 0
    beijing_staff = {a["user_id"] for a in db["staff_accounts"].find({"role": "province_staff", "region_code": "110000"})}
    reminders = _messages(db, "leave_pending")
    assert {m["user_id"] for m in reminders} == beijing_staff and len(reminders) == len(beijing_staff)
    assert _user_id(client, staff["110000"]) in beijing_staff
    assert db[LEAVE_REQUESTS].find_one({"_id": ObjectId(leave["id"])})["reminded_at"] is not None


def _proof(client, token):
    buffer = io.BytesIO()
    Image.new("RGB", (20, 28), "white").save(buffer, format="PNG")
    response = client.post("/api/v1/trainee/attachments", headers=bearer(token), content_type="multipart/form-data",
                           data={"kind": "leave_proof", "file": (io.BytesIO(buffer.getvalue()), "proof.png")})
    return response.json["id"]


def test_proof_visible_to_approvers_and_supervisors_only(client, leave_class, ask, staff):
    trainee = leave_class.trainees[0]
    proof = _proof(client, trainee.token)
    _, s2, e2 = leave_class.sessions[2]
    ask(trainee, leave_class, s2, e2, proof_attachment_id=proof)
    for allowed in (trainee.token, staff["110000"], leave_class.supervisor):
        response = client.get(f"/api/v1/attachments/{proof}", headers=bearer(allowed))
        assert response.status_code == 200 and response.data.startswith(b"\x89PNG")
    for refused in (staff["440000"], leave_class.trainees[1].token):
        assert client.get(f"/api/v1/attachments/{proof}", headers=bearer(refused)).status_code == 404


def test_decision_messages_are_built_to_wechat_rules_and_accepted(app, client, db, leave_class, ask, staff, decide,
                                                                   fake_wechat):
    """Issue: time3 "12-02 08:30至12-02 12" (cut mid-time) and phrase2 "已录取，待" were refused with 47003."""
    from service.core import subscribe
    from service.outbox import service as outbox

    _, s2, e2 = leave_class.sessions[2]
    leave = ask(leave_class.trainees[0], leave_class, s2, e2)
    decide(staff["110000"], leave["id"], comment="注意身体，按时返回课堂，回来后请向班主任报到并补交请假条")
    for message in _messages(db, "leave_decision") + _messages(db, "class_notice"):
        assert subscribe.check(message["data"]) == {}, message["data"]
    time3 = _messages(db, "leave_decision")[0]["data"]["time3"]["value"]
    assert "~" in time3 and "至" not in time3
    assert _messages(db, "leave_decision")[0]["data"]["thing4"]["value"].endswith("…")
    refused_before = len(fake_wechat.refused_messages)
    with app.app_context():
        counts = outbox.dispatch_due()
    assert counts["failed"] == 0 and len(fake_wechat.refused_messages) == refused_before
