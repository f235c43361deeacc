"""Render a check-in code as a QR image (PNG for phones, SVG for the projector)."""

import io

import qrcode
import qrcode.image.svg


def png(payload, box_size=10):
    buffer = io.BytesIO()
    qrcode.make(payload, box_size=box_size, border=2).save(buffer, format="PNG")
    return buffer.getvalue()


def svg(payload):
    buffer = io.BytesIO()
    qrcode.make(payload, image_factory=qrcode.image.svg.SvgPathImage, border=2).save(buffer)
    return buffer.getvalue().decode()
