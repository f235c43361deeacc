"""The API keeps no cookie session: no Set-Cookie, and flask.session refuses to be written."""

import flask
import pytest


def test_no_session_cookie_and_session_writes_refused(app, client):
    response = client.get("/readyz")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    with app.test_request_context("/"):
        with pytest.raises(RuntimeError):
            flask.session["who"] = "anyone"
