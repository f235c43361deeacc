"""A chunked upload over a view's limit answers the view's own 413 code, as a Content-Length one
does (finding: chunked bodies got the generic PAYLOAD_TOO_LARGE while the guide promised
ATTACHMENT_TOO_LARGE / REGISTRY_FILE_TOO_LARGE)."""

import io

import pytest

from service.registry import importer, service as registry
from service.trainees import service as trainees
from tests.conftest import bearer

BOUNDARY = "lingjunboundary"


def _multipart(fields, file_bytes, filename):
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 f"Content-Type: application/octet-stream\r\n\r\n".encode() + file_bytes + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def _post(client, url, token, body, *, chunked):
    kwargs = {"headers": {**bearer(token), **({"Transfer-Encoding": "chunked"} if chunked else {})},
              "content_type": f"multipart/form-data; boundary={BOUNDARY}"}
    if chunked:
        return client.post(url, input_stream=io.BytesIO(body), environ_overrides={"wsgi.input_terminated": True},
                           **kwargs)
    return client.post(url, data=body, **kwargs)


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_an_oversized_attachment_is_attachment_too_large(client, login, db, chunked):
    token = login("chunked-uploader")
    body = _multipart({"kind": "photo"}, b"\xff\xd8\xff" + b"\0" * (trainees.MAX_ATTACHMENT_BYTES + 100_000),
                      "photo.jpg")
    response = _post(client, "/api/v1/trainee/attachments", token, body, chunked=chunked)
    assert response.status_code == 413
    assert response.json["code"] == "ATTACHMENT_TOO_LARGE" and response.json["message"] == "文件不能超过 5 MB"
    assert db["attachments.files"].count_documents({}) == 0


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_an_oversized_registry_file_is_registry_file_too_large(client, admin_token, monkeypatch, db, chunked):
    monkeypatch.setattr(importer, "MAX_FILE_BYTES", 200_000)
    body = _multipart({}, b"PK\x03\x04" + b"\0" * 300_000, "名录.xlsx")
    response = _post(client, "/api/v1/registry/imports", admin_token, body, chunked=chunked)
    assert response.status_code == 413 and response.json["code"] == "REGISTRY_FILE_TOO_LARGE"
    assert response.json["message"] == registry.FILE_TOO_LARGE_MESSAGE


def test_a_chunked_json_body_over_the_default_limit_keeps_the_generic_code(client):
    stream = io.BytesIO(b'{"code": "' + b"a" * (200 * 1024) + b'"}')
    response = client.post("/api/v1/auth/wx-login", input_stream=stream, content_type="application/json",
                           headers={"Transfer-Encoding": "chunked"}, environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413 and response.json["code"] == "PAYLOAD_TOO_LARGE"
