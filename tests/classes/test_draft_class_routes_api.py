"""Nothing of an unpublished class leaks (issue 15 §5): every API operation that names a class or a
session — in its path, its query string or its JSON body — is enumerated from the OpenAPI document
(a new route is walked without editing this test) and must answer a draft class exactly as it
answers a made-up id: 404 CLASS_NOT_FOUND / SESSION_NOT_FOUND, to anyone but organizers and the
class's own supervisors, writing nothing."""

import re

import pytest
from bson import ObjectId

from service.attendance import tokens
from tests.conftest import bearer
from tests.factories import create_class, create_programme, profile_body, session_body

SECRET_TITLE = "未公布的课程标题"
ID_FIELDS = {"class_id": "class", "class_ids": "class", "session_id": "session", "session_ids": "session"}
NAMES_A_CLASS = re.compile(r"(class|session)s?_ids?$")
# Collections a refused request may still touch: who called (tokens' last use, request counters of
# the rate limiter). Everything else must be byte-for-byte what it was before the walk.
BOOKKEEPING = {"rate_limit_counters", "rate_limit_windows"}


def _spec(app):
    with app.app_context():
        return app.extensions["api"].spec.to_dict()


def _resolve(spec, schema):
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


def _body_fields(spec, schema, prefix="", depth=0):
    """[(dotted name, name, depth)] of every property of a request body schema, nested ones too."""
    schema = _resolve(spec, schema)
    found = []
    for name, prop in schema.get("properties", {}).items():
        found.append((prefix + name, name, depth))
        prop = _resolve(spec, prop)
        if prop.get("type") == "array":
            prop = _resolve(spec, prop.get("items", {}))
        if prop.get("properties") and depth < 4:
            found += _body_fields(spec, prop, f"{prefix}{name}.", depth + 1)
    return found


def operations_naming_classes(spec):
    """[(method, path, {"path": [...], "query": [...], "body": [...]})] of every operation taking a
    class or session id anywhere, and [(method, path, field)] of those naming one where the draft
    refusal (classes.access.named_ids) does not look: nested body fields or unusual names."""
    found, unreachable = [], []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            where = {"path": [], "query": [], "body": []}
            for parameter in operation.get("parameters", []) + item.get("parameters", []):
                name = parameter["name"]
                if name in ID_FIELDS and parameter["in"] in ("path", "query"):
                    where[parameter["in"]].append(name)
                elif NAMES_A_CLASS.search(name):
                    unreachable.append((method, path, name))
            for content in operation.get("requestBody", {}).get("content", {}).values():
                for dotted, name, depth in _body_fields(spec, content.get("schema", {})):
                    if name in ID_FIELDS and depth == 0:
                        where["body"].append(name)
                    elif NAMES_A_CLASS.search(name):
                        unreachable.append((method, path, dotted))
            if any(where.values()):
                found.append((method.upper(), path, where))
    return found, unreachable


def _snapshot(db):
    return {name: sorted(map(repr, db[name].find())) for name in db.list_collection_names()
            if name not in BOOKKEEPING}


@pytest.fixture
def draft(client, admin_token):
    programme = create_programme(client, admin_token)
    klass = create_class(client, admin_token, programme["id"])  # a draft
    assert klass["status"] == "draft"
    session = client.post(f"/api/v1/classes/{klass['id']}/sessions",
                          json=session_body(klass["start_date"], title=SECRET_TITLE), headers=bearer(admin_token))
    assert session.status_code == 201, session.json
    return {"class_id": klass["id"], "session_id": session.json["id"], "programme_id": programme["id"],
            "start_date": klass["start_date"]}


def _valid_bodies(draft, codes):
    """Bodies a view would accept if the id were a class the caller may use: a route reached by
    mistake would write, so "nothing written" proves the refusal. Other operations get only the ids."""
    starts = f"{draft['start_date']}T09:00:00+08:00"
    ends = f"{draft['start_date']}T11:30:00+08:00"
    scan = {"code": codes["personal"], "scanned_at": starts, "nonce": "offline-nonce-1"}
    return {
        ("POST", "/api/v1/registrations"): {"note": "报名本班"},
        ("POST", "/api/v1/leave-requests"): {"starts_at": starts, "ends_at": ends, "type": "personal",
                                             "reason": "公司有急事需处理"},
        ("POST", "/api/v1/leave-requests/preview"): {"starts_at": starts, "ends_at": ends},
        ("POST", "/api/v1/sessions/{session_id}/rating"): {"stars": 5, "comment": "很好"},
        ("PUT", "/api/v1/sessions/{session_id}/rating"): {"stars": 4, "comment": "不错"},
        ("POST", "/api/v1/classes/{class_id}/rating"): {"course_design": 5, "faculty": 5, "organisation": 5,
                                                        "effect": 5},
        ("PUT", "/api/v1/classes/{class_id}/rating"): {"course_design": 4, "faculty": 4, "organisation": 4,
                                                       "effect": 4},
        ("POST", "/api/v1/sessions/{session_id}/checkins"): {"code": codes["class"], "nonce": "scan-nonce-1"},
        ("POST", "/api/v1/sessions/{session_id}/checkins/personal"): {"code": codes["personal"]},
        ("POST", "/api/v1/sessions/{session_id}/checkins/offline"): {"items": [scan], "device_id": "phone-1"},
        ("POST", "/api/v1/classes/{class_id}/sessions"): session_body(draft["start_date"], day=1),
        ("POST", "/api/v1/classes/{class_id}/status"): {"status": "published"},
        ("PUT", "/api/v1/classes/{class_id}/quotas/{region_code}"): {"places": 20},
        ("PATCH", "/api/v1/classes/{class_id}"): {"name": "改名"},
        ("PUT", "/api/v1/sessions/{session_id}/attendance/{registration_id}"): {"status": "present",
                                                                                 "reason": "补签到"},
    }


def _request(method, path, where, ids, bodies, operation):
    values = {**ids, "region_code": "110000", "year": "2026"}  # any other id: one that names nothing
    url = re.sub(r"{([^}]+)}", lambda m: values.get(m.group(1)) or str(ObjectId()), path)
    query = {name: ids[name] for name in where["query"]}
    body = None
    if "requestBody" in operation:
        body = dict(bodies.get((method, path), {}))
        for name in where["body"]:
            body[name] = [ids[name[:-1]]] if name.endswith("_ids") else ids[name]
    return url, query, body


def test_the_walk_finds_every_route_naming_a_class_and_the_refusal_sees_every_such_field(app):
    spec = _spec(app)
    operations, unreachable = operations_naming_classes(spec)
    # A class or session id where classes.access.named_ids does not look (a nested body field, a new
    # name): extend the hook and ID_FIELDS together, or the route leaks drafts.
    assert unreachable == []
    by_where = {kind: [(m, p) for m, p, where in operations if where[kind]] for kind in ("path", "query", "body")}
    assert len(by_where["path"]) >= 40
    assert {("GET", "/api/v1/registrations"), ("GET", "/api/v1/leave-requests"),
            ("GET", "/api/v1/leave-requests/mine")} <= set(by_where["query"])
    assert {("POST", "/api/v1/registrations"), ("POST", "/api/v1/leave-requests"),
            ("POST", "/api/v1/leave-requests/preview"), ("POST", "/api/v1/staff")} <= set(by_where["body"])
    # Every API rule with a class or session in its path is in the document, so the walk sees it.
    documented = {(m, p) for m, p, _ in operations}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and {"class_id", "session_id"} & set(rule.arguments):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (method, path) in documented, (method, path)


def test_every_route_naming_a_class_or_session_refuses_a_draft_like_an_unknown_id(
        app, client, db, admin_token, login, make_staff, draft):
    other_class = create_class(client, admin_token, draft["programme_id"], publish=True)
    trainee = login("draft-prober")
    assert client.put("/api/v1/trainee/profile", json=profile_body(serial=7),
                      headers=bearer(trainee)).status_code == 200
    callers = {"trainee": trainee,
               "province staff": make_staff("province_staff", region_code="110000"),
               "supervisor of another class": make_staff("supervisor", class_ids=[ObjectId(other_class["id"])])}
    with app.app_context():
        codes = {"class": tokens.issue(tokens.CLASS, ObjectId(draft["session_id"]))[0],
                 "personal": tokens.issue(tokens.PERSONAL, ObjectId())[0]}
    bodies = _valid_bodies(draft, codes)
    spec = _spec(app)
    operations, _ = operations_naming_classes(spec)
    draft_ids = {"class_id": draft["class_id"], "session_id": draft["session_id"]}
    unknown_ids = {"class_id": str(ObjectId()), "session_id": str(ObjectId())}
    before = _snapshot(db)
    leaks = []
    for who, token in callers.items():
        for method, path, where in operations:
            operation = spec["paths"][path][method.lower()]
            answers = {}
            for label, ids in (("draft", draft_ids), ("unknown", unknown_ids)):
                url, query, body = _request(method, path, where, ids, bodies, operation)
                answer = client.open(url, method=method, query_string=query, json=body, headers=bearer(token))
                answers[label] = (answer.status_code, (answer.get_json(silent=True) or {}).get("code"))
                if SECRET_TITLE in answer.get_data(as_text=True):
                    leaks.append((who, method, path, label, "secret title in the answer"))
            names_a_class = any(name.startswith("class") for names in where.values() for name in names)
            expected = (404, "CLASS_NOT_FOUND" if names_a_class else "SESSION_NOT_FOUND")
            if answers["draft"] != expected or answers["unknown"] != expected:
                leaks.append((who, method, path, answers))
    assert leaks == []
    assert _snapshot(db) == before  # no registration, leave request, rating, check-in, session, ...


def test_a_genuine_class_code_of_a_draft_session_is_an_unknown_session(app, client, db, login, draft):
    """The class code names its session in the body (POST /checkins): a code minted for a draft's
    session (a supervisor trying the projector) checks nobody in and says what a code for a session
    that does not exist says."""
    trainee = login("draft-scanner")
    with app.app_context():
        draft_code = tokens.issue(tokens.CLASS, ObjectId(draft["session_id"]))[0]
        unknown_code = tokens.issue(tokens.CLASS, ObjectId())[0]
    answers = [client.post("/api/v1/checkins", json={"code": code, "nonce": f"nonce-{i:04d}"}, headers=bearer(trainee))
               for i, code in enumerate((draft_code, unknown_code))]
    assert [(a.status_code, a.json["code"]) for a in answers] == [(404, "SESSION_NOT_FOUND")] * 2
    assert db.attendance.count_documents({}) == 0


def test_the_issue_example_my_attendance_of_a_draft_is_404(client, login, draft):
    answer = client.get(f"/api/v1/classes/{draft['class_id']}/my-attendance", headers=bearer(login("draft-trainee")))
    assert answer.status_code == 404 and answer.json["code"] == "CLASS_NOT_FOUND"
    assert SECRET_TITLE not in answer.get_data(as_text=True)


def test_organizers_and_the_class_supervisors_still_work_on_a_draft(client, admin_token, make_staff, draft):
    class_id, session_id = draft["class_id"], draft["session_id"]
    own_supervisor = make_staff("supervisor", class_ids=[ObjectId(class_id)])
    for token in (admin_token, own_supervisor):
        assert client.get(f"/api/v1/classes/{class_id}", headers=bearer(token)).status_code == 200
        timetable = client.get(f"/api/v1/classes/{class_id}/sessions", headers=bearer(token))
        assert timetable.status_code == 200 and SECRET_TITLE in timetable.get_data(as_text=True)
        # ... and the ids in query strings reach the view as well
        for url in ("/api/v1/registrations", "/api/v1/leave-requests"):
            listed = client.get(url, query_string={"class_id": class_id}, headers=bearer(token))
            assert listed.status_code == 200 and listed.json["total"] == 0, listed.json
    assert client.get(f"/api/v1/sessions/{session_id}/checkin-code", headers=bearer(admin_token)).json.get("code") \
        != "SESSION_NOT_FOUND"


def test_once_published_the_class_is_seen_by_everyone(client, admin_token, login, draft):
    class_id = draft["class_id"]
    trainee = login("after-publish")
    assert client.put("/api/v1/trainee/profile", json=profile_body(serial=8), headers=bearer(trainee)).status_code == 200
    assert client.get(f"/api/v1/classes/{class_id}/sessions", headers=bearer(trainee)).status_code == 404
    assert client.post("/api/v1/registrations", json={"class_id": class_id}, headers=bearer(trainee)).status_code \
        == 404
    published = client.post(f"/api/v1/classes/{class_id}/status", json={"status": "published"},
                            headers=bearer(admin_token))
    assert published.status_code == 200, published.json
    answer = client.get(f"/api/v1/classes/{class_id}/sessions", headers=bearer(trainee))
    assert answer.status_code == 200 and SECRET_TITLE in answer.get_data(as_text=True)
    assert client.post("/api/v1/registrations", json={"class_id": class_id},
                       headers=bearer(trainee)).status_code == 201

