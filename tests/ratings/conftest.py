"""Ratings fixtures: a class whose two sessions are over, with attendance marked by its supervisor.

The check-in fixtures (a class with confirmed trainees, moving sessions) come from the
attendance tests.
"""

import pytest

from tests.attendance.conftest import make_checkin_class, move_session, set_class  # noqa: F401
from tests.conftest import bearer


@pytest.fixture
def mark(client):
    """mark(klass, trainee_index, session_index, status): the supervisor records a status."""

    def do(klass, trainee_index, session_index, status):
        trainee = klass.trainees[trainee_index]
        response = client.put(f"/api/v1/sessions/{klass.session_ids[session_index]}/attendance/{trainee.registration_id}",
                              json={"status": status, "reason": "现场核实"}, headers=bearer(klass.supervisor))
        assert response.status_code == 200, response.json

    return do


@pytest.fixture
def ended_class(make_checkin_class, move_session):
    """ended_class(trainees=3) -> CheckinClass whose sessions ended 3 h and 1 h ago (class dates unchanged)."""

    def make(trainees=3, **kwargs):
        klass = make_checkin_class(trainees=trainees, **kwargs)
        move_session(klass.session_ids[0], -300, 90)
        move_session(klass.session_ids[1], -150, 90)
        return klass

    return make
