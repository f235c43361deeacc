"""Every operation that can answer 429 declares it in the OpenAPI document, with Retry-After
(finding: wx-login and the certificate verification listed only 200, 422 and default)."""

import inspect
import re

# What limits a view: the decorator, the failure block (and the check-in routes' helper for it),
# the per-key calls.
LIMITING = ("@limit(", "failures(", "count_failure(", "refuse_when_spent(", "_code_failures(")
# The limited actions of the guide's table, so that the source scan below cannot find nothing.
KNOWN = {("/api/v1/auth/wx-login", "post"), ("/api/v1/auth/bind", "post"), ("/api/v1/checkins", "post"),
         ("/api/v1/sessions/{session_id}/checkins", "post"), ("/api/v1/certificates/verify/{number}", "get"),
         ("/api/v1/trainee/profile", "put"), ("/api/v1/trainee/attachments", "post"),
         ("/api/v1/trainee/profile/phone", "post"), ("/api/v1/auth/console-logins", "post")}


def _openapi_path(rule):
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _limited_operations(app):
    found = set()
    for rule in app.url_map.iter_rules():
        view_class = getattr(app.view_functions[rule.endpoint], "view_class", None)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            handler = getattr(view_class, method.lower(), None)
            if handler is not None and any(mark in inspect.getsource(handler) for mark in LIMITING):
                found.add((_openapi_path(rule.rule), method.lower()))
    return found


def test_every_operation_that_can_answer_429_declares_it_with_retry_after(app, client):
    spec = client.get("/api/v1/openapi.json").json
    limited = _limited_operations(app)
    assert KNOWN <= limited
    for path, method in sorted(limited):
        responses = spec["paths"][path][method]["responses"]
        assert "429" in responses, (path, method)
        assert "Retry-After" in responses["429"]["headers"], (path, method)
        assert responses["429"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error"), (path, method)


def test_an_operation_without_a_limit_declares_no_429(client):
    spec = client.get("/api/v1/openapi.json").json
    assert "429" not in spec["paths"]["/api/v1/me"]["get"]["responses"]
