"""Every failure has the same JSON shape; 500s carry no stack trace."""

import pytest


def _assert_shape(response, status, code):
    assert response.status_code == status
    assert response.is_json
    body = response.json
    assert set(body) == {"code", "message", "errors", "request_id"}
    assert body["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])  # Chinese
    assert body["request_id"] == response.headers["X-Request-ID"]


def test_unknown_route_is_404(client):
    _assert_shape(client.get("/api/v1/nowhere"), 404, "NOT_FOUND")


def test_wrong_method_is_405(client):
    _assert_shape(client.delete("/api/v1/auth/wx-login"), 405, "METHOD_NOT_ALLOWED")


def test_invalid_body_is_422_with_field_errors(client):
    response = client.post("/api/v1/auth/wx-login", json={"code": 12})
    _assert_shape(response, 422, "VALIDATION_ERROR")
    assert response.json["errors"]["code"]


def test_non_json_body_is_415(client):
    response = client.post("/api/v1/auth/wx-login", data="code=1",
                           content_type="application/x-www-form-urlencoded")
    _assert_shape(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_unexpected_exception_is_500_without_trace(app, caplog):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    _assert_shape(response, 500, "INTERNAL_ERROR")
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert "secret internals" in caplog.text  # logged, with the request id
    assert response.headers["X-Request-ID"] in [getattr(r, "request_id", None) for r in caplog.records]


def test_request_id_is_echoed(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abc12345-trace"})
    assert response.headers["X-Request-ID"] == "abc12345-trace"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes(client, path):
    assert client.get(path).json == {"status": "ok"}


def test_openapi_and_docs_are_served(client):
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/auth/wx-login" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert client.get("/api/v1/docs").status_code == 200
