"""Decoding an uploaded image is bounded by memory, not only by pixel count: width x height x bands x
bytes per band at most UPLOAD_MAX_DECODED_BYTES, and photos are stored at most UPLOAD_MAX_IMAGE_SIDE
on their long side (JPEGs decoded at reduced scale with Image.draft)."""

import io
import struct
import zlib

import pytest
from PIL import Image

from service.core import uploads
from tests.trainees.test_attachments_api import upload

PNG_COLOUR_TYPES = {"RGBA": 6, "RGB": 2, "L": 0}


def _chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_header(width, height, *, bits=16, mode="RGBA", rows=b"\0" * 64):
    """A PNG that declares width x height at `bits` per sample (for a refusal its image data is not
    needed: the refusal comes from the declared size, before anything is decoded)."""
    ihdr = struct.pack(">IIBBBBB", width, height, bits, PNG_COLOUR_TYPES[mode], 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(rows)) + \
        _chunk(b"IEND", b"")


def _encoded(image, fmt, **options):
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


@pytest.fixture
def trainee(login):
    return login("memory-uploader")


def _stored(db):
    return list(db["attachments.files"].find())


def test_a_16_bit_rgba_png_under_the_pixel_cap_is_refused_by_its_decoded_size(client, trainee, db):
    """Finding: a 308 KB 6300x6300 16-bit RGBA PNG (39.7 MP, under the 40 MP cap) was decoded, the
    worker grew by ~470 MB. 6300 x 6300 x 4 bands x 2 bytes = 317.5 MB > 100 MB: refused unread."""
    data = _png_header(6300, 6300)
    assert 6300 * 6300 < uploads.MAX_PIXELS
    assert uploads.decoded_bytes(Image.open(io.BytesIO(data))) == 6300 * 6300 * 4 * 2
    response = upload(client, trainee, data, filename="big16.png")
    assert response.status_code == 422 and response.json["code"] == "ATTACHMENT_TYPE_INVALID"
    assert "像素" in response.json["message"]
    assert _stored(db) == []


@pytest.mark.parametrize("width, height, bits, mode", [(5100, 5100, 8, "RGBA"), (6300, 6300, 16, "RGB"),
                                                       (5800, 5800, 8, "RGB")])
def test_the_bound_is_bytes_not_pixels(client, trainee, db, width, height, bits, mode):
    data = _png_header(width, height, bits=bits, mode=mode)
    assert uploads.decoded_bytes(Image.open(io.BytesIO(data))) > client.application.config["UPLOAD_MAX_DECODED_BYTES"]
    response = upload(client, trainee, data)
    assert response.status_code == 422 and response.json["code"] == "ATTACHMENT_TYPE_INVALID"
    assert "像素" in response.json["message"]  # refused for its size, not for its missing data
    assert _stored(db) == []


def test_a_small_16_bit_rgba_png_is_decoded_and_re_encoded(client, trainee):
    rows = b"".join(b"\0" + bytes([0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xFF, 0xFF]) * 300 for _ in range(200))
    data = _png_header(300, 200, rows=rows)
    assert Image.open(io.BytesIO(data)).size == (300, 200)
    created = upload(client, trainee, data)
    assert created.status_code == 201, created.json
    assert created.json["content_type"] == "image/png"


def test_the_bound_is_a_setting(client, trainee, db):
    data = _encoded(Image.new("RGB", (600, 600), (200, 30, 30)), "PNG")  # 1.08 MB decoded
    client.application.config["UPLOAD_MAX_DECODED_BYTES"] = 1_000_000
    assert upload(client, trainee, data).status_code == 422
    client.application.config["UPLOAD_MAX_DECODED_BYTES"] = 1_100_000
    assert upload(client, trainee, data).status_code == 201


def test_a_large_jpeg_is_decoded_at_reduced_scale_and_stored_at_most_2000_on_its_long_side(client, trainee):
    photo = _encoded(Image.new("RGB", (4000, 3000), (20, 120, 200)), "JPEG", quality=70)
    opened = Image.open(io.BytesIO(photo))
    opened.draft(opened.mode, (2000, 1500))
    assert opened.size == (2000, 1500)  # what the upload path decodes: 9 MB, not 36 MB
    created = upload(client, trainee, photo, filename="photo.jpg")
    assert created.status_code == 201, created.json
    served = client.get(f"/api/v1/attachments/{created.json['id']}",
                        headers={"Authorization": f"Bearer {trainee}"})
    assert Image.open(io.BytesIO(served.data)).size == (2000, 1500)


def test_a_tall_png_scan_is_scaled_to_2000_on_its_long_side(client, trainee):
    scan = _encoded(Image.new("L", (900, 2600), 255), "PNG")
    created = upload(client, trainee, scan, kind="business_licence", filename="scan.png")
    assert created.status_code == 201, created.json
    served = client.get(f"/api/v1/attachments/{created.json['id']}",
                        headers={"Authorization": f"Bearer {trainee}"})
    assert Image.open(io.BytesIO(served.data)).size == (692, 2000)
