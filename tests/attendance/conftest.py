"""A class whose first session is on now, with confirmed trainees, a supervisor and a second class.

Classes are created 30 days ahead through the API (registration rules need that), then the
sessions are moved to "now" directly in the database: check-in only reads the session times.
"""

import dataclasses
import datetime as dt

import pytest
from bson import ObjectId

from service.classes.repository import CLASSES
from tests.conftest import bearer
from tests.factories import create_class, create_programme, profile_body, session_body

VENUE = {"latitude": 40.0003, "longitude": 116.3265}  # the class_body venue, radius 300 m
AT_VENUE = {"latitude": 40.0004, "longitude": 116.3266}
FAR_AWAY = {"latitude": 40.0300, "longitude": 116.3265}  # ~3.3 km north


@dataclasses.dataclass
class Trainee:
    token: str
    registration_id: str
    user_id: str
    name: str


@dataclasses.dataclass
class CheckinClass:
    id: str
    session_ids: list  # [on now, later today]
    trainees: list
    supervisor: str

    @property
    def session_id(self):
        return self.session_ids[0]


def _invalidate(app):
    with app.app_context():
        from service.attendance import roster

        roster.invalidate()


@pytest.fixture
def move_session(app, db):
    """move_session(session_id, starts_in_minutes, length_minutes=90): put a session's times around now."""

    def move(session_id, starts_in_minutes, length_minutes=90):
        starts = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(minutes=starts_in_minutes)
        db[CLASSES].update_one({"sessions._id": ObjectId(session_id)},
                               {"$set": {"sessions.$.starts_at": starts,
                                         "sessions.$.ends_at": starts + dt.timedelta(minutes=length_minutes)}})
        _invalidate(app)

    return move


@pytest.fixture
def set_class(app, db):
    """set_class(class_id, **fields): change class fields directly (e.g. check-in settings)."""

    def update(class_id, **fields):
        db[CLASSES].update_one({"_id": ObjectId(class_id)}, {"$set": fields})
        _invalidate(app)

    return update


@pytest.fixture
def make_checkin_class(app, client, admin_token, login, make_staff, move_session):
    """make_checkin_class(trainees=3, name=...) -> CheckinClass: session 0 started 5 min ago, session 1 later."""
    programme = create_programme(client, admin_token)
    serials = iter(range(1, 10_000))
    province = {"110000": make_staff("province_staff", region_code="110000"),
                "440000": make_staff("province_staff", region_code="440000")}

    def make(trainees=3, name="第一期 专精特新发展专题班", regions=("110000", "110000", "440000")):
        klass = create_class(client, admin_token, programme["id"], name=name,
                             quotas=[{"region_code": "110000", "places": 40}, {"region_code": "440000", "places": 40}])
        session_ids = []
        for start, end in (("09:00", "11:30"), ("14:00", "16:30")):
            created = client.post(f"/api/v1/classes/{klass['id']}/sessions",
                                  json=session_body(klass["start_date"], start=start, end=end),
                                  headers=bearer(admin_token))
            assert created.status_code == 201, created.json
            session_ids.append(created.json["id"])
        published = client.post(f"/api/v1/classes/{klass['id']}/status", json={"status": "published"},
                                headers=bearer(admin_token))
        assert published.status_code == 200, published.json
        people = []
        for index in range(trainees):
            region = regions[index % len(regions)]
            serial = next(serials)
            people.append(_confirmed_trainee(client, login, admin_token, province[region], klass["id"], serial, region))
        supervisor = make_staff("supervisor", class_ids=[ObjectId(klass["id"])])
        move_session(session_ids[0], -5)
        move_session(session_ids[1], 180)
        return CheckinClass(id=klass["id"], session_ids=session_ids, trainees=people, supervisor=supervisor)

    return make


def _confirmed_trainee(client, login, admin_token, province_token, class_id, serial, region):
    token = login(f"trainee-{serial}")
    name = f"学员{serial:03d}"
    profile = client.put("/api/v1/trainee/profile", json=profile_body(serial=serial, region_code=region, name=name),
                         headers=bearer(token))
    assert profile.status_code == 200, profile.json
    rid = client.post("/api/v1/registrations", json={"class_id": class_id}, headers=bearer(token)).json["id"]
    steps = [(token, f"/api/v1/registrations/{rid}/submit", None),
             (province_token, f"/api/v1/registrations/{rid}/decision", {"action": "recommend"}),
             (admin_token, f"/api/v1/registrations/{rid}/decision", {"action": "admit"}),
             (token, f"/api/v1/registrations/{rid}/confirm", None)]
    for who, url, body in steps:
        response = client.post(url, json=body, headers=bearer(who))
        assert response.status_code == 200, (url, response.json)
    user_id = client.get("/api/v1/me", headers=bearer(token)).json["id"]
    return Trainee(token=token, registration_id=rid, user_id=user_id, name=name)


@pytest.fixture
def checkin_class(make_checkin_class):
    return make_checkin_class()


@pytest.fixture
def class_code(app, client):
    """class_code(checkin_class, session_index=0) -> the code the projector shows now."""

    def current(klass, session_index=0):
        response = client.get(f"/api/v1/sessions/{klass.session_ids[session_index]}/checkin-code",
                              headers=bearer(klass.supervisor))
        assert response.status_code == 200, response.json
        return response.json["code"]

    return current


@pytest.fixture
def scan(client):
    """scan(token, code, **body) -> response of POST /api/v1/checkins (at the venue by default)."""

    def post(token, code, **body):
        payload = {"code": code, **AT_VENUE, **body}
        return client.post("/api/v1/checkins", json={k: v for k, v in payload.items() if v is not ...},
                           headers=bearer(token))

    return post
