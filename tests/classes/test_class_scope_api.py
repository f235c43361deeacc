"""Who sees which classes: drafts hidden, supervisors their classes, province staff their region."""

import pytest
from bson import ObjectId

from tests.conftest import bearer
from tests.factories import create_class, create_programme


@pytest.fixture
def setup(client, admin_token, make_staff, db):
    programme = create_programme(client, admin_token)
    class_a = create_class(client, admin_token, programme["id"], publish=True, name="第一期 北京广东联合班")
    class_b = create_class(client, admin_token, programme["id"], publish=True, name="第二期 浙江班",
                           quotas=[{"region_code": "330000", "places": 20}])
    draft = create_class(client, admin_token, programme["id"], name="第三期 草稿班")
    supervisor = make_staff("supervisor", person="sup-a")
    account = db["staff_accounts"].find_one({"name": "sup-a"})
    response = client.put(f"/api/v1/classes/{class_a['id']}/supervisors", json={"staff_ids": [str(account["_id"])]},
                          headers=bearer(admin_token))
    assert response.status_code == 200
    assert [s["name"] for s in response.json["supervisors"]] == ["sup-a"]
    return {"a": class_a, "b": class_b, "draft": draft, "supervisor": supervisor, "programme": programme}


def test_trainees_see_published_classes_only(client, login, setup):
    trainee = login("trainee-x")
    listing = client.get("/api/v1/classes", headers=bearer(trainee)).json
    assert {c["name"] for c in listing["items"]} == {"第一期 北京广东联合班", "第二期 浙江班"}
    assert client.get(f"/api/v1/classes/{setup['draft']['id']}", headers=bearer(trainee)).json["code"] == \
        "CLASS_NOT_FOUND"
    assert client.get(f"/api/v1/classes/{setup['a']['id']}", headers=bearer(trainee)).status_code == 200


def test_admin_sees_drafts(client, admin_token, setup):
    assert client.get("/api/v1/classes", headers=bearer(admin_token)).json["total"] == 3


def test_filter_by_region_and_places_left(client, login, setup):
    trainee = login("trainee-y")
    listing = client.get("/api/v1/classes?region_code=440000", headers=bearer(trainee)).json
    assert [c["name"] for c in listing["items"]] == ["第一期 北京广东联合班"]
    assert listing["items"][0]["places_left"] == {"region_code": "440000", "region_name": "广东省",
                                                  "places": 10, "left": 10}
    assert listing["items"][0]["regions"] == ["110000", "440000"]


def test_supervisor_scope(client, setup):
    supervisor = setup["supervisor"]
    me = client.get("/api/v1/me", headers=bearer(supervisor)).json
    assert me["class_ids"] == [setup["a"]["id"]]
    mine = client.get("/api/v1/classes?mine=true", headers=bearer(supervisor)).json
    assert [c["id"] for c in mine["items"]] == [setup["a"]["id"]]
    assert client.get(f"/api/v1/classes/{setup['a']['id']}/quotas", headers=bearer(supervisor)).status_code == 200
    refused = client.get(f"/api/v1/classes/{setup['b']['id']}/quotas", headers=bearer(supervisor))
    assert refused.status_code == 403
    assert refused.json["code"] == "OUT_OF_SCOPE"
    assert client.get(f"/api/v1/classes/{setup['b']['id']}/quotas.xlsx",
                      headers=bearer(supervisor)).status_code == 403


def test_supervisor_sees_own_draft(client, admin_token, db, make_staff, setup):
    supervisor = make_staff("supervisor", person="sup-draft")
    account = db["staff_accounts"].find_one({"name": "sup-draft"})
    client.put(f"/api/v1/classes/{setup['draft']['id']}/supervisors", json={"staff_ids": [str(account["_id"])]},
               headers=bearer(admin_token))
    assert client.get(f"/api/v1/classes/{setup['draft']['id']}", headers=bearer(supervisor)).status_code == 200
    assert client.get(f"/api/v1/classes/{setup['draft']['id']}",
                      headers=bearer(setup["supervisor"])).status_code == 404


def test_province_staff_scope(client, make_staff, setup):
    staff_gd = make_staff("province_staff", region_code="440000")
    mine = client.get("/api/v1/classes?mine=true", headers=bearer(staff_gd)).json
    assert [c["id"] for c in mine["items"]] == [setup["a"]["id"]]
    assert mine["items"][0]["places_left"]["region_code"] == "440000"
    quotas = client.get(f"/api/v1/classes/{setup['a']['id']}/quotas", headers=bearer(staff_gd)).json
    assert [q["region_code"] for q in quotas["quotas"]] == ["440000"]
    refused = client.get(f"/api/v1/classes/{setup['b']['id']}/quotas", headers=bearer(staff_gd))
    assert refused.json["code"] == "OUT_OF_SCOPE"


def test_assigning_a_non_supervisor_is_refused(client, admin_token, make_staff, db, setup):
    make_staff("province_staff", region_code="110000", person="not-a-sup")
    account = db["staff_accounts"].find_one({"name": "not-a-sup"})
    response = client.put(f"/api/v1/classes/{setup['b']['id']}/supervisors",
                          json={"staff_ids": [str(account["_id"])]}, headers=bearer(admin_token))
    assert response.json["code"] == "SUPERVISOR_INVALID"
    assert db["staff_accounts"].find_one({"_id": account["_id"]})["class_ids"] == []


def test_replacing_supervisors(client, admin_token, db, make_staff, setup):
    make_staff("supervisor", person="sup-new")
    new = db["staff_accounts"].find_one({"name": "sup-new"})
    client.put(f"/api/v1/classes/{setup['a']['id']}/supervisors", json={"staff_ids": [str(new["_id"])]},
               headers=bearer(admin_token))
    assert client.get("/api/v1/me", headers=bearer(setup["supervisor"])).json["class_ids"] == []


def test_page_size_capped_and_bad_ids(client, login, setup):
    trainee = login("trainee-z")
    assert client.get("/api/v1/classes?page_size=101", headers=bearer(trainee)).status_code == 422
    assert client.get("/api/v1/classes/xyz", headers=bearer(trainee)).json["code"] == "NOT_FOUND"  # no such URL
    assert client.get(f"/api/v1/classes/{ObjectId()}", headers=bearer(trainee)).json["code"] == "CLASS_NOT_FOUND"
    assert client.get("/api/v1/classes", headers=bearer(trainee) | {}).json["page_size"] == 20
