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
