"""Attachments: JPEG/PNG/PDF by content, ≤ 5 MB, visible to the owner and the reviewing staff only."""

import io

import pytest
from PIL import Image

from tests.conftest import bearer
from tests.factories import create_class, create_programme, profile_body


def png_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (20, 28), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def pdf_bytes():
    from pypdf import PdfWriter

    writer, buffer = PdfWriter(), io.BytesIO()
    writer.add_blank_page(width=595, height=842)
    writer.write(buffer)
    return buffer.getvalue()


def upload(client, token, data, kind="photo", filename="a.png"):
    return client.post("/api/v1/trainee/attachments", headers=bearer(token), content_type="multipart/form-data",
                       data={"kind": kind, "file": (io.BytesIO(data), filename)})


@pytest.fixture
def trainee(login):
    return login("attach-owner")


def test_upload_png_and_pdf(client, trainee):
    png = upload(client, trainee, png_bytes())
    assert png.status_code == 201, png.json
    assert png.json["content_type"] == "image/png" and png.json["kind"] == "photo"
    pdf = upload(client, trainee, pdf_bytes(), kind="business_licence", filename="licence.exe")
    assert pdf.json["content_type"] == "application/pdf"
    assert pdf.json["filename"] == "business_licence.pdf"
    listing = client.get("/api/v1/trainee/attachments", headers=bearer(trainee)).json
    assert len(listing) == 2
    download = client.get(f"/api/v1/attachments/{png.json['id']}", headers=bearer(trainee))
    assert download.mimetype == "image/png"
    assert Image.open(io.BytesIO(download.data)).tobytes() == Image.open(io.BytesIO(png_bytes())).tobytes()


def test_content_decides_the_type(client, trainee, db):
    response = upload(client, trainee, b"MZ\x90\x00 not an image", filename="photo.png")
    assert response.status_code == 422
    assert response.json["code"] == "ATTACHMENT_TYPE_INVALID"
    assert db["attachments.files"].count_documents({}) == 0


def test_size_limit(client, trainee, db):
    big = b"\x89PNG\r\n\x1a\n" + b"0" * (5 * 1024 * 1024)
    response = upload(client, trainee, big)
    assert response.status_code == 413
    assert response.json["code"] == "ATTACHMENT_TOO_LARGE"
    assert db["attachments.files"].count_documents({}) == 0


def test_bad_kind(client, trainee):
    response = upload(client, trainee, png_bytes(), kind="selfie")
    assert response.status_code == 422
    assert "kind" in response.json["errors"]


def test_visibility(client, login, admin_token, make_staff):
    owner = login("attach-applicant")
    client.put("/api/v1/trainee/profile", json=profile_body(serial=70), headers=bearer(owner))
    attachment = upload(client, owner, png_bytes(), kind="business_licence").json
    url = f"/api/v1/attachments/{attachment['id']}"
    stranger = login("attach-stranger")
    staff_bj = make_staff("province_staff", region_code="110000")
    staff_gd = make_staff("province_staff", region_code="440000")
    # Before any registration, only the owner (and organizers).
    assert client.get(url, headers=bearer(stranger)).json["code"] == "ATTACHMENT_NOT_FOUND"
    assert client.get(url, headers=bearer(staff_bj)).status_code == 404
    programme = create_programme(client, admin_token)
    klass = create_class(client, admin_token, programme["id"], publish=True)
    rid = client.post("/api/v1/registrations", json={"class_id": klass["id"], "attachment_ids": [attachment["id"]]},
                      headers=bearer(owner)).json["id"]
    client.post(f"/api/v1/registrations/{rid}/submit", headers=bearer(owner))
    assert client.get(url, headers=bearer(staff_bj)).status_code == 200
    assert client.get(url, headers=bearer(staff_gd)).status_code == 404
    assert client.get(url, headers=bearer(stranger)).status_code == 404
    assert client.get(url, headers=bearer(admin_token)).status_code == 200


def test_someone_elses_attachment_cannot_be_attached(client, login, admin_token):
    owner, other = login("attach-a"), login("attach-b")
    attachment = upload(client, owner, png_bytes()).json
    programme = create_programme(client, admin_token)
    klass = create_class(client, admin_token, programme["id"], publish=True)
    response = client.post("/api/v1/registrations", json={"class_id": klass["id"],
                                                          "attachment_ids": [attachment["id"]]},
                           headers=bearer(other))
    assert response.json["code"] == "ATTACHMENT_NOT_FOUND"
