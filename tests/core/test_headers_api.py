"""Headers and links (issue 14 §5): nosniff everywhere, CSP on HTML pages, no-store on answers,
Swagger UI from the installed package, links from configuration and never the Host header."""

import re
import subprocess
import sys

import pytest

from service import create_app
from tests.conftest import bearer


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/me", "/api/v1/nowhere", "/api/v1/openapi.json",
                                  "/api/v1/docs", "/api/v1/docs/assets/swagger-ui-bundle.js"])
def test_nosniff_on_every_answer(client, path):
    assert client.get(path).headers["X-Content-Type-Options"] == "nosniff"


def test_answers_with_personal_data_are_not_stored(client, login):
    token = login("alice")
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/me").headers["Cache-Control"] == "no-store"  # error answers too


def _assert_html_page_headers(response):
    assert response.mimetype == "text/html"
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # No inline script: every <script> has a src on this service.
    html = response.get_data(as_text=True)
    for tag in re.findall(r"<script[^>]*>", html):
        assert re.search(r'src="/', tag), tag
    assert "cdn" not in html.lower() and "https://" not in html


def test_docs_page_loads_swagger_ui_from_the_service(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    _assert_html_page_headers(response)
    html = response.get_data(as_text=True)
    for asset in re.findall(r'(?:src|href)="([^"]+)"', html):
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.data) > 100
    assert 'data-spec-url="/api/v1/openapi.json"' in html


def test_docs_serve_only_the_page_assets(client):
    assert client.get("/api/v1/docs/assets/index.html").status_code == 404
    assert client.get("/api/v1/docs/assets/..%2F..%2F__init__.py").status_code == 404


def test_certificate_verification_page_headers(client):
    response = client.get("/api/v1/certificates/verify/ZZ-0000?code=ABCDEF12", headers={"Accept": "text/html"})
    assert response.status_code == 200
    _assert_html_page_headers(response)


def test_projector_link_uses_configuration_not_the_host_header(client, make_checkin_class):
    klass = make_checkin_class(trainees=1, regions=("110000",))
    response = client.post(f"/api/v1/sessions/{klass.session_id}/projector-link",
                           headers={**bearer(klass.supervisor), "Host": "evil.example"})
    assert response.status_code == 201, response.json
    assert response.json["url"].startswith("http://127.0.0.1:8000/console/sessions/")
    page = client.get(response.json["url"].removeprefix("http://127.0.0.1:8000"))
    assert page.status_code == 200
    _assert_html_page_headers(page)


def test_public_base_url_is_used_for_links(app_config):
    app = create_app({**app_config, "PUBLIC_BASE_URL": "https://lingjun.example.cn/"})
    from service.core.links import public_url

    with app.test_request_context("/", headers={"Host": "evil.example"}):
        assert public_url("/x") == "https://lingjun.example.cn/x"


def test_gunicorn_does_not_name_itself_and_has_raised_limits():
    code = ("import service.gunicorn_conf as c; from gunicorn.http import wsgi; "
            "print(wsgi.SERVER, c.limit_request_line, c.limit_request_field_size)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["lingjun", "8190", "16384"]


def test_answers_without_a_body_carry_no_content_type(client, login):
    """q14 finding 16: 204 from logout said application/json, OPTIONS said text/html."""
    from tests.conftest import bearer as _bearer

    token = login("alice")
    logout = client.post("/api/v1/auth/logout", headers=_bearer(token))
    assert logout.status_code == 204 and "Content-Type" not in logout.headers and logout.data == b""
    options = client.options("/api/v1/programmes")
    assert options.status_code == 200 and options.data == b""
    assert "Content-Type" not in options.headers
    assert "GET" in options.headers["Allow"]
    assert options.headers["X-Content-Type-Options"] == "nosniff"
