"""Issue 16 follow-ups found by QA: closed state seen by every process, completion over held sessions,
retries, leave and check-in, offline upload details, small input rules."""

from bson import ObjectId

from service.attendance.repository import SESSION_CHECKINS
from service.core.db import utcnow
from tests.conftest import bearer


def test_board_and_projector_see_a_closing_made_by_another_process_at_once(client, db, checkin_class):
    session_id = checkin_class.session_id
    headers = bearer(checkin_class.supervisor)
    link = client.post(f"/api/v1/sessions/{session_id}/projector-link", headers=headers).json
    state_path = link["url"].removeprefix("http://localhost").replace("/checkin?", "/checkin/state?")
    # This process has read "open" (and would keep it for ROSTER_CACHE_SECONDS) ...
    assert client.get(f"/api/v1/sessions/{session_id}/board", headers=headers).json["closed"] is False
    assert client.get(state_path).json["closed"] is False
    # ... when another worker closes the session.
    db[SESSION_CHECKINS].insert_one({"_id": ObjectId(session_id), "closed_at": utcnow(), "closed_by": None})
    for _ in range(3):
        assert client.get(f"/api/v1/sessions/{session_id}/board", headers=headers).json["closed"] is True
        assert client.get(state_path).json["closed"] is True
