"""Attendance fixtures. The shared check-in fixtures (make_checkin_class, move_session, set_class,
class_code, scan, ...) live in the tests/fixtures/checkin.py plugin."""

import pytest


@pytest.fixture
def checkin_class(make_checkin_class):
    """A class whose first session started 5 minutes ago, with three confirmed trainees."""
    return make_checkin_class()
