"""Issue 14 §4: a leave request nobody decided yet answers `decided_at`, `decision_comment` and
`returned_at` as null (present, never left out), as the guide shows them."""

from tests.conftest import bearer


def test_undecided_leave_answers_nulls(client, leave_class, ask):
    trainee = leave_class.trainees[0]
    _, s2, e2 = leave_class.sessions[2]
    leave = ask(trainee, leave_class, s2, e2)
    shown = client.get(f"/api/v1/leave-requests/{leave['id']}", headers=bearer(trainee.token)).json
    for answer in (leave, shown):
        assert {k: answer[k] for k in ("decided_at", "decision_comment", "returned_at")} == {
            "decided_at": None, "decision_comment": None, "returned_at": None}
