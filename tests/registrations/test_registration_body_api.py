"""Issue 14 §4: an endpoint documented without a body refuses one."""

from bson import ObjectId

from service.registrations.repository import REGISTRATIONS
from tests.conftest import bearer


def test_submit_with_a_body_is_refused_and_changes_nothing(client, db, klass, make_trainee, apply):
    """Issue 14 §4: `POST /registrations/{id}/submit` takes no body; `{"state": "admitted"}` was
    accepted and ignored."""
    token = make_trainee(2)
    draft = apply(token, klass["id"], submit=False)
    before = db[REGISTRATIONS].find_one({"_id": ObjectId(draft["id"])})
    response = client.post(f"/api/v1/registrations/{draft['id']}/submit", json={"state": "admitted"},
                           headers=bearer(token))
    assert response.status_code == 422 and response.json["code"] == "VALIDATION_ERROR"
    assert response.json["errors"] == {"state": ["不允许的字段"]}
    assert db[REGISTRATIONS].find_one({"_id": ObjectId(draft["id"])}) == before
