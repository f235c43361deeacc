"""PNG documents a phone can save (admission notice, certificate): Chinese text and a QR code."""

import functools
import io
from importlib import resources

import qrcode
from PIL import Image, ImageDraw, ImageFont


@functools.cache
def _font_bytes():
    # Noto Sans SC (SIL OFL) shipped by a PyPI package, so no system font is needed.
    return resources.files("pylopdf_fonts_zh_cn").joinpath("NotoSansSC-Regular.otf").read_bytes()


def font(size):
    return ImageFont.truetype(io.BytesIO(_font_bytes()), size)


class Page:
    """A portrait card: a title, lines of text, optionally a QR code at the bottom."""

    def __init__(self, width=750, height=1100, accent=(178, 34, 34)):
        self.image = Image.new("RGB", (width, height), "white")
        self.draw = ImageDraw.Draw(self.image)
        self.width, self.height, self.accent = width, height, accent
        self.y = 60
        self.draw.rectangle([20, 20, width - 20, height - 20], outline=accent, width=4)

    def title(self, text, size=44):
        f = font(size)
        w = self.draw.textlength(text, font=f)
        self.draw.text(((self.width - w) / 2, self.y), text, font=f, fill=self.accent)
        self.y += size + 40

    def line(self, text, size=26, indent=60, gap=14, fill="black"):
        f = font(size)
        # Wrap by width: Chinese text has no spaces to break on.
        current = ""
        for ch in text:
            if self.draw.textlength(current + ch, font=f) > self.width - 2 * indent:
                self.draw.text((indent, self.y), current, font=f, fill=fill)
                self.y += size + gap
                current = ""
            current += ch
        self.draw.text((indent, self.y), current, font=f, fill=fill)
        self.y += size + gap

    def qr(self, payload, size=220, caption=None):
        code = qrcode.make(payload, box_size=8, border=2).get_image().convert("RGB").resize((size, size))
        x = (self.width - size) // 2
        top = max(self.y + 20, self.height - size - 110)
        self.image.paste(code, (x, top))
        if caption:
            f = font(22)
            w = self.draw.textlength(caption, font=f)
            self.draw.text(((self.width - w) / 2, top + size + 12), caption, font=f, fill="gray")

    def png(self):
        buffer = io.BytesIO()
        self.image.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()


def fitted_jpeg(data, *, width, height):
    """An uploaded picture (JPEG/PNG) turned upright by its EXIF orientation, scaled to fit
    width x height pixels and re-encoded as a plain JPEG (no metadata travels on); None when
    Pillow cannot read it."""
    from PIL import ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as picture:
            picture.draft("RGB", (width, height))  # a JPEG decodes at 1/2..1/8 scale when that still fits
            picture = ImageOps.exif_transpose(picture).convert("RGB")
            picture.thumbnail((width, height))
            out = io.BytesIO()
            picture.save(out, format="JPEG", quality=88)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
