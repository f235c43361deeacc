"""Completion fixtures: the ended class of the check-in plugin, with attendance and class ratings."""

import pytest

from tests.conftest import bearer

ALL_FIVES = {"course_design": 5, "faculty": 5, "organisation": 5, "effect": 5}


@pytest.fixture
def rate_class(client):
    def do(klass, trainee_index):
        response = client.post(f"/api/v1/classes/{klass.id}/rating", json=ALL_FIVES,
                               headers=bearer(klass.trainees[trainee_index].token))
        assert response.status_code == 201, response.json

    return do


@pytest.fixture
def finished_class(ended_class, mark, rate_class):
    """Trainee 0: present twice, rated (completes). Trainee 1: present, absent, rated.
    Trainee 2: present, excused, did not rate. Two sessions of 90 minutes = 2 class hours each."""
    klass = ended_class()
    for index, statuses in enumerate((("present", "present"), ("present", "absent"), ("late", "excused"))):
        for session_index, status in enumerate(statuses):
            mark(klass, index, session_index, status)
    rate_class(klass, 0)
    rate_class(klass, 1)
    return klass
