"""A class running yesterday to tomorrow (Beijing): session 0 yesterday, 1 today at 14:00 or later,
2 tomorrow; three confirmed trainees (two in 110000, one in 440000), staff of both regions."""

import dataclasses
import datetime as dt

import pytest
from bson import ObjectId

from service.classes.repository import CLASSES
from schemas.base import BEIJING
from tests.conftest import bearer


def beijing(day_offset, hour, minute=0):
    today = dt.datetime.now(BEIJING).date()
    day = today + dt.timedelta(days=day_offset)
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=BEIJING)


@dataclasses.dataclass
class LeaveClass:
    id: str
    sessions: list  # [(session_id, starts_at, ends_at)] Beijing datetimes
    trainees: list
    supervisor: str

    def session_id(self, index):
        return self.sessions[index][0]


@pytest.fixture
def leave_class(app, db, make_checkin_class, set_class):
    """Sessions: 0 = yesterday 09:00–11:30, 1 = today in 3 h for 2 h, 2 = tomorrow 09:00–11:30."""
    klass = make_checkin_class()
    today = dt.datetime.now(BEIJING).date()
    # Ends the day after tomorrow: "today in 3 h" is tomorrow when a test runs late in the evening.
    set_class(klass.id, start_date=(today - dt.timedelta(days=1)).isoformat(),
              end_date=(today + dt.timedelta(days=2)).isoformat())
    later = (dt.datetime.now(BEIJING) + dt.timedelta(hours=3)).replace(second=0, microsecond=0)
    times = [(beijing(-1, 9), beijing(-1, 11, 30)), (later, later + dt.timedelta(hours=2)),
             (beijing(1, 9), beijing(1, 11, 30))]
    # A third session, so a leave can cover a past, a coming and a next-day session.
    class_doc = db[CLASSES].find_one({"_id": ObjectId(klass.id)})
    third = {**class_doc["sessions"][1], "_id": ObjectId(), "title": "企业数字化转型"}
    db[CLASSES].update_one({"_id": ObjectId(klass.id)}, {"$push": {"sessions": third}})
    ids = [klass.session_ids[0], klass.session_ids[1], str(third["_id"])]
    for session_id, (starts, ends) in zip(ids, times):
        db[CLASSES].update_one({"sessions._id": ObjectId(session_id)},
                               {"$set": {"sessions.$.starts_at": starts.astimezone(dt.timezone.utc),
                                         "sessions.$.ends_at": ends.astimezone(dt.timezone.utc)}})
    set_class(klass.id)  # clears the check-in caches
    return LeaveClass(id=klass.id, sessions=[(i, s, e) for i, (s, e) in zip(ids, times)], trainees=klass.trainees,
                      supervisor=klass.supervisor)


@pytest.fixture
def staff(make_staff):
    return {"110000": make_staff("province_staff", region_code="110000"),
            "440000": make_staff("province_staff", region_code="440000")}


def leave_body(klass, starts, ends, **overrides):
    return {"class_id": klass.id, "type": "sick", "starts_at": starts.isoformat(), "ends_at": ends.isoformat(),
            "reason": "发烧就医，需要休息", **overrides}


@pytest.fixture
def ask(client):
    """ask(trainee, klass, starts, ends, expect=201, **overrides) -> JSON of POST /leave-requests."""

    def post(trainee, klass, starts, ends, expect=201, **overrides):
        response = client.post("/api/v1/leave-requests", json=leave_body(klass, starts, ends, **overrides),
                               headers=bearer(trainee.token))
        assert response.status_code == expect, response.json
        return response.json

    return post


@pytest.fixture
def decide(client):
    def post(token, leave_id, action="approve", comment=None, expect=200):
        body = {"action": action, **({"comment": comment} if comment else {})}
        response = client.post(f"/api/v1/leave-requests/{leave_id}/decision", json=body, headers=bearer(token))
        assert response.status_code == expect, response.json
        return response.json

    return post
