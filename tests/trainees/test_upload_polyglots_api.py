"""Uploads cannot carry anything else: images are re-encoded by Pillow, PDFs re-written by pypdf,
everything served with its re-encoded type, nosniff, and PDFs as downloads."""

import io
import struct
import zlib

import gridfs
import pytest
from PIL import Image
from pypdf import PdfReader

from tests.conftest import bearer
from tests.trainees.test_attachments_api import pdf_bytes, upload

SCRIPT = b"<html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'


@pytest.fixture
def trainee(login):
    return login("polyglot-uploader")


def _stored(db):
    return [doc for doc in db["attachments.files"].find()]


def _jpeg_with_gps_comment_and_trailer():
    image = Image.new("RGB", (64, 48), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 26.0), 3: "E", 4: (116.0, 23.0, 29.0)}  # GPS position
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"<script>alert(3)</script>")
    return out.getvalue() + SCRIPT  # bytes after the end-of-image marker


def _png_header_only(width, height):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + \
        chunk(b"IEND", b"")


def _pdf_with_javascript():
    body = pdf_bytes()
    reader_source = body.decode("latin-1")
    # A catalog that runs JavaScript on opening and a page action, as an attacker writes them.
    reader_source = reader_source.replace("/Type /Catalog", "/Type /Catalog /OpenAction << /S /JavaScript "
                                          "/JS (app.alert\\('x'\\)) >> /Names << /JavaScript << /Names [] >> >>", 1)
    assert "/OpenAction" in reader_source
    return reader_source.encode("latin-1") + SCRIPT


@pytest.mark.parametrize("payload", [b"\xff\xd8\xff\xe0" + SCRIPT, b"\xff\xd8\xff" + SVG, SVG,
                                     b"%PDF-1.7\n" + SCRIPT, b"\x89PNG\r\n\x1a\n" + SCRIPT],
                         ids=["jpeg-signature-html", "jpeg-signature-svg", "svg", "pdf-signature-html",
                              "png-signature-html"])
def test_a_signature_followed_by_markup_is_refused_and_nothing_stored(client, trainee, db, payload):
    response = upload(client, trainee, payload, filename="photo.jpg")
    assert response.status_code == 422, response.json
    assert response.json["code"] == "ATTACHMENT_TYPE_INVALID" and "file" in response.json["errors"]
    assert _stored(db) == []


def test_a_gif_is_refused_although_pillow_reads_it(client, trainee, db):
    out = io.BytesIO()
    Image.new("P", (8, 8)).save(out, "GIF")
    assert upload(client, trainee, out.getvalue()).json["code"] == "ATTACHMENT_TYPE_INVALID"
    assert _stored(db) == []


def test_a_real_photo_is_re_encoded_without_exif_gps_comment_or_trailer(client, trainee):
    created = upload(client, trainee, _jpeg_with_gps_comment_and_trailer(), filename="photo.html")
    assert created.status_code == 201, created.json
    assert created.json["content_type"] == "image/jpeg" and created.json["filename"] == "photo.jpg"
    served = client.get(f"/api/v1/attachments/{created.json['id']}", headers=bearer(trainee))
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"].startswith("inline")
    assert b"<script" not in served.data and b"<html" not in served.data and b"SpyCam" not in served.data
    image = Image.open(io.BytesIO(served.data))
    assert image.format == "JPEG" and image.size == (64, 48)
    assert dict(image.getexif()) == {} and "comment" not in image.info


@pytest.mark.parametrize("width, height", [(8_000, 6_000), (30_000, 30_000)])  # ours; Pillow's own limit
def test_a_decompression_bomb_is_refused_by_pixel_count(client, trainee, db, width, height):
    response = upload(client, trainee, _png_header_only(width, height))
    assert response.status_code == 422 and response.json["code"] == "ATTACHMENT_TYPE_INVALID"
    assert "像素" in response.json["message"]
    assert _stored(db) == []


def test_a_pdf_with_javascript_is_rewritten_and_served_as_a_download(client, trainee):
    created = upload(client, trainee, _pdf_with_javascript(), kind="business_licence", filename="licence.pdf")
    assert created.status_code == 201, created.json
    served = client.get(f"/api/v1/attachments/{created.json['id']}", headers=bearer(trainee))
    assert served.mimetype == "application/pdf"
    assert served.headers["Content-Disposition"] == 'attachment; filename="business_licence.pdf"'
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert b"/JavaScript" not in served.data and b"/OpenAction" not in served.data and b"<script" not in served.data
    assert len(PdfReader(io.BytesIO(served.data)).pages) == 1


def test_a_pdf_no_library_opens_is_refused(client, trainee, db):
    response = upload(client, trainee, b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\n%%EOF", kind="business_licence")
    assert response.status_code == 422 and response.json["code"] == "ATTACHMENT_TYPE_INVALID"
    assert _stored(db) == []


def test_a_file_stored_before_re_encoding_is_served_as_an_opaque_download(client, trainee, db):
    me = client.get("/api/v1/me", headers=bearer(trainee)).json["id"]
    from bson import ObjectId

    legacy_id = gridfs.GridFSBucket(db, bucket_name="attachments").upload_from_stream(
        "photo.jpg", b"\xff\xd8\xff" + SCRIPT,
        metadata={"owner_id": ObjectId(me), "kind": "photo", "content_type": "image/jpeg"})
    served = client.get(f"/api/v1/attachments/{legacy_id}", headers=bearer(trainee))
    assert served.mimetype == "application/octet-stream"
    assert served.headers["Content-Disposition"].startswith("attachment")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
