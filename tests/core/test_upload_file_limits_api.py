"""An upload's file over its limit is 413 with the upload's own code before the login check, on
every upload endpoint, however little it is over (finding q19 F14: a registry file of 21,000,000
bytes, over 20 MB but within the body's room for the multipart envelope, was 401 without a token
and 403 with a trainee's, and 413 only for an organizer)."""

import io

import pytest

from service.registry import importer
from service.trainees import service as trainees
from tests.conftest import bearer

LIMIT = 50_000  # the file limit the tests set (small files, same code path)
MULTIPART_OVERHEAD = 64 * 1024  # the body's room around the file

UPLOADS = {
    "registry": ("/api/v1/registry/imports", importer, "MAX_FILE_BYTES", {}, "REGISTRY_FILE_TOO_LARGE",
                 "文件不能超过 20 MB，请分成几个文件导入"),
    "attachment": ("/api/v1/trainee/attachments", trainees, "MAX_ATTACHMENT_BYTES", {"kind": "photo"},
                   "ATTACHMENT_TOO_LARGE", "文件不能超过 5 MB"),
}


def _caller(who, login, make_staff, admin_token):
    return {"none": None, "bogus": "bogus", "trainee": lambda: login("upload-limit-trainee"),
            "supervisor": lambda: make_staff("supervisor"), "admin": lambda: admin_token}[who]


def _send(client, url, token, fields, size):
    headers = bearer(token) if token else {}
    return client.post(url, headers=headers, content_type="multipart/form-data",
                       data={**fields, "file": (io.BytesIO(b"PK\x03\x04" + b"\0" * (size - 4)), "f.xlsx")})


@pytest.mark.parametrize("upload", sorted(UPLOADS))
@pytest.mark.parametrize("who", ["none", "bogus", "trainee", "supervisor", "admin"])
def test_a_file_just_over_its_limit_is_413_whoever_sends_it(client, db, login, make_staff, admin_token,
                                                            monkeypatch, upload, who):
    url, module, name, fields, code, message = UPLOADS[upload]
    monkeypatch.setattr(module, name, LIMIT)
    caller = _caller(who, login, make_staff, admin_token)
    token = caller() if callable(caller) else caller
    response = _send(client, url, token, fields, LIMIT + 1)
    assert LIMIT + 1 < LIMIT + MULTIPART_OVERHEAD  # the body fits its limit: the file's own size refuses it
    assert response.status_code == 413, response.json
    assert (response.json["code"], response.json["message"]) == (code, message)
    assert db[f"{'registry_files' if upload == 'registry' else 'attachments'}.files"].count_documents({}) == 0


@pytest.mark.parametrize("upload", sorted(UPLOADS))
def test_a_file_at_its_limit_goes_on_to_the_login_check(client, monkeypatch, upload):
    url, module, name, fields, _, _ = UPLOADS[upload]
    monkeypatch.setattr(module, name, LIMIT)
    response = _send(client, url, None, fields, LIMIT)
    assert response.status_code == 401 and response.json["code"] == "UNAUTHORIZED"


def test_the_real_limits_are_what_the_guide_says(client, login):
    """21,000,000 bytes (the finding's file) without a token: 413, not 401."""
    response = _send(client, UPLOADS["registry"][0], None, {}, 21_000_000)
    assert response.status_code == 413 and response.json["code"] == "REGISTRY_FILE_TOO_LARGE"
    response = _send(client, UPLOADS["attachment"][0], None, {"kind": "photo"}, 5 * 1024 * 1024 + 1)
    assert response.status_code == 413 and response.json["code"] == "ATTACHMENT_TOO_LARGE"
