"""Render a check-in code as a QR image (PNG for phones, SVG for the projector)."""

import functools
import io

import qrcode
import qrcode.image.svg


def png(payload, box_size=10):
    buffer = io.BytesIO()
    qrcode.make(payload, box_size=box_size, border=2).save(buffer, format="PNG")
    return buffer.getvalue()


# A class code changes every CHECKIN_CODE_SECONDS while each class's projector asks for it every
# second or so: drawing the QR code was most of a projector poll's CPU (~10 ms; 50 classes at once
# were half a core). Each code is drawn once per process; 256 codes is a few hundred classes at once.
@functools.lru_cache(maxsize=256)
def svg(payload):
    """The QR code of `payload` as SVG text (the same text for the same payload, drawn once)."""
    buffer = io.BytesIO()
    qrcode.make(payload, image_factory=qrcode.image.svg.SvgPathImage, border=2).save(buffer)
    return buffer.getvalue().decode()
