"""Nothing of an unpublished class leaks: every API route taking a class or session id, enumerated
from the URL map (a new route is covered without editing this test), answers 404 for a draft class
to anyone but organizers and the class's own supervisors."""

import re

import pytest
from bson import ObjectId

from tests.conftest import bearer
from tests.factories import create_class, create_programme, session_body

SECRET_TITLE = "未公布的课程标题"


def _routes(app):
    """(method, rule) of every API route with a class_id or session_id in its path."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or not {"class_id", "session_id"} & set(rule.arguments):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, rule))
    return found


def _url(rule, class_id, session_id):
    values = {"class_id": class_id, "session_id": session_id, "region_code": "110000",
              "registration_id": str(ObjectId())}
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: values[m.group(1)], rule.rule)


@pytest.fixture
def draft(client, admin_token):
    programme = create_programme(client, admin_token)
    klass = create_class(client, admin_token, programme["id"])  # a draft
    assert klass["status"] == "draft"
    session = client.post(f"/api/v1/classes/{klass['id']}/sessions",
                          json=session_body(klass["start_date"], title=SECRET_TITLE), headers=bearer(admin_token))
    assert session.status_code == 201, session.json
    return klass["id"], session.json["id"], programme["id"]


def test_every_class_or_session_route_refuses_a_draft_class(app, client, admin_token, login, make_staff, draft):
    class_id, session_id, programme_id = draft
    other_class = create_class(client, admin_token, programme_id, publish=True)
    callers = {"trainee": login("draft-prober"),
               "province staff": make_staff("province_staff", region_code="110000"),
               "supervisor of another class": make_staff("supervisor", class_ids=[ObjectId(other_class["id"])])}
    routes = _routes(app)
    assert len(routes) >= 30  # the walk really covers the class and session routes
    leaks = []
    for who, token in callers.items():
        for method, rule in routes:
            url = _url(rule, class_id, session_id)
            answer = client.open(url, method=method, json={}, headers=bearer(token))
            expected = "CLASS_NOT_FOUND" if "class_id" in rule.arguments else "SESSION_NOT_FOUND"
            body = answer.get_data(as_text=True)
            if answer.status_code != 404 or answer.json.get("code") != expected or SECRET_TITLE in body:
                leaks.append((who, method, url, answer.status_code, body[:120]))
    assert leaks == []


def test_the_issue_example_my_attendance_of_a_draft_is_404(client, login, draft):
    class_id, _, _ = draft
    answer = client.get(f"/api/v1/classes/{class_id}/my-attendance", headers=bearer(login("draft-trainee")))
    assert answer.status_code == 404 and answer.json["code"] == "CLASS_NOT_FOUND"
    assert SECRET_TITLE not in answer.get_data(as_text=True)


def test_organizers_and_the_class_supervisors_still_work_on_a_draft(client, admin_token, make_staff, draft):
    class_id, session_id, _ = draft
    own_supervisor = make_staff("supervisor", class_ids=[ObjectId(class_id)])
    for token in (admin_token, own_supervisor):
        assert client.get(f"/api/v1/classes/{class_id}", headers=bearer(token)).status_code == 200
        timetable = client.get(f"/api/v1/classes/{class_id}/sessions", headers=bearer(token))
        assert timetable.status_code == 200 and SECRET_TITLE in timetable.get_data(as_text=True)
    assert client.get(f"/api/v1/sessions/{session_id}/checkin-code", headers=bearer(admin_token)).json.get("code") \
        != "SESSION_NOT_FOUND"


def test_once_published_the_class_is_seen_by_everyone(client, admin_token, login, draft):
    class_id, _, _ = draft
    trainee = login("after-publish")
    assert client.get(f"/api/v1/classes/{class_id}/sessions", headers=bearer(trainee)).status_code == 404
    published = client.post(f"/api/v1/classes/{class_id}/status", json={"status": "published"},
                            headers=bearer(admin_token))
    assert published.status_code == 200, published.json
    answer = client.get(f"/api/v1/classes/{class_id}/sessions", headers=bearer(trainee))
    assert answer.status_code == 200 and SECRET_TITLE in answer.get_data(as_text=True)
