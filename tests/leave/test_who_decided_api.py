"""Issue 16 §5: history entries and decisions say who, by name, as their reader sees it."""

from tests.conftest import bearer


def test_leave_history_names_the_trainee_and_the_approver(client, make_staff, leave_class, ask):
    approver = make_staff("province_staff", region_code="110000", person="王芳")
    trainee = leave_class.trainees[0]
    _, starts, ends = leave_class.sessions[2]
    leave = ask(trainee, leave_class, starts, ends)
    decided = client.post(f"/api/v1/leave-requests/{leave['id']}/decision", json={"action": "approve"},
                          headers=bearer(approver))
    assert decided.status_code == 200, decided.json
    assert [(h["to"], h["by_name"]) for h in decided.json["history"]] == [("submitted", "学员本人"),
                                                                          ("approved", "王芳")]
    mine = client.get(f"/api/v1/leave-requests/{leave['id']}", headers=bearer(trainee.token)).json
    assert [h["by_name"] for h in mine["history"]] == ["学员本人", "王芳"]
    inbox = client.get("/api/v1/leave-requests?state=approved", headers=bearer(approver)).json["items"]
    assert [h["by_name"] for h in inbox[0]["history"]] == ["学员本人", "王芳"]


def test_leave_over_a_cancelled_session_leaves_it_out(client, admin_token, leave_class, ask):
    trainee = leave_class.trainees[0]
    _, s1, _ = leave_class.sessions[1]
    cancelled_id, _, e2 = leave_class.sessions[2]
    cancelled = client.post(f"/api/v1/classes/{leave_class.id}/sessions/{cancelled_id}/cancel",
                            json={"reason": "授课老师生病"}, headers=bearer(admin_token))
    assert cancelled.status_code == 200
    preview = client.post("/api/v1/leave-requests/preview",
                          json={"class_id": leave_class.id, "starts_at": s1.isoformat(), "ends_at": e2.isoformat()},
                          headers=bearer(trainee.token))
    assert preview.status_code == 200, preview.json
    assert [s["session_id"] for s in preview.json["sessions"]] == [leave_class.session_id(1)]
    leave = ask(trainee, leave_class, s1, e2)
    assert leave["session_ids"] == [leave_class.session_id(1)]
