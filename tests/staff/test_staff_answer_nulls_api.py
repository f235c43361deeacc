"""Issue 14 §4: an account not yet bound answers `bound_at: null` (present, never left out)."""

from tests.conftest import bearer


def test_unbound_account_answers_bound_at_null(client, admin_token):
    created = client.post("/api/v1/staff", json={"name": "王芳", "role": "supervisor"}, headers=bearer(admin_token))
    assert created.status_code == 201, created.json
    assert created.json["account"]["bound_at"] is None
    shown = client.get(f"/api/v1/staff/{created.json['account']['id']}", headers=bearer(admin_token)).json
    assert "bound_at" in shown and shown["bound_at"] is None
