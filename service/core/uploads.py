"""The one door for uploaded files: what is stored is what a library re-wrote, never the bytes sent.

A file that merely *starts* like a JPEG can carry HTML, script or an SVG after its signature, and a
browser that sniffs it runs them. So:
- images are decoded by Pillow and encoded again (JPEG stays JPEG, PNG stays PNG): trailing
  bytes, comments, text chunks, EXIF and its GPS position are gone; the EXIF orientation is applied
  first so the photo stays upright; more than MAX_PIXELS pixels, or more than
  UPLOAD_MAX_DECODED_BYTES of decoded memory (width x height x bands x bytes per band: a 300 KB
  16-bit RGBA PNG can need 300 MB), is refused before decoding (a decompression bomb); a JPEG is
  decoded at the smallest of 1/2, 1/4, 1/8 scale that still gives UPLOAD_MAX_IMAGE_SIDE pixels
  (Image.draft), and every image is stored at most UPLOAD_MAX_IMAGE_SIDE on its long side (an ID
  photo or a readable scan needs no more);
- PDFs are opened by pypdf and rebuilt from what a page needs to be drawn, nothing else: each new
  page gets only its boxes, rotation, content streams and resources (fonts, images, colour spaces,
  graphics states, patterns, shadings), and every dictionary reachable from them loses its actions,
  scripts, associated and embedded files, private data and annotations (/AA, /A, /JS, /AF,
  /PieceInfo, /Annots, ...). Only what the new pages reach is copied into the new file, so the
  document's /OpenAction, /Names, /AcroForm, outlines and any object nothing draws are not in it, nor
  is anything appended after the last %%EOF. A PDF pypdf cannot open, an encrypted one, or one without
  pages is refused;
- everything else is refused.
Files are then served with the type they were re-encoded to, `nosniff`, and PDFs as downloads
(service/trainees/routes.py).
"""

import io
import math
import warnings

from flask import current_app

from PIL import Image, ImageMode, ImageOps, UnidentifiedImageError
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, NullObject, StreamObject

from service.core.errors import RuleViolation

MAX_PIXELS = 40_000_000  # a 1-inch photo or a phone scan is far below (a 48 MP camera photo is refused)
MAX_PDF_PAGES = 50
JPEG, PNG, PDF = "image/jpeg", "image/png", "application/pdf"
EXTENSIONS = {JPEG: ".jpg", PNG: ".png", PDF: ".pdf"}


def _refuse(message="只能上传 JPG、PNG 图片或 PDF 文件", field_message="文件格式不支持"):
    return RuleViolation("ATTACHMENT_TYPE_INVALID", message, errors={"file": [field_message]})


def _too_many_pixels():
    return _refuse("图片像素太多，请缩小或压缩后再上传", "图片像素过多")


def sanitize(data):
    """(content type, re-encoded bytes) of an uploaded JPEG, PNG or PDF; RuleViolation otherwise."""
    if data.startswith(b"%PDF-"):
        return PDF, _pdf(data)
    return _image(data)


def _image(data):
    max_bytes = current_app.config["UPLOAD_MAX_DECODED_BYTES"]
    max_side = current_app.config["UPLOAD_MAX_IMAGE_SIDE"]
    with warnings.catch_warnings():
        # Pillow warns above its own pixel limit and raises above twice it; both are refusals here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in ("JPEG", "PNG"):
                    raise _refuse()
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise _too_many_pixels()
                if image.format == "JPEG" and max(width, height) > max_side:
                    scale = max_side / max(width, height)
                    image.draft(image.mode, (math.ceil(width * scale), math.ceil(height * scale)))
                if decoded_bytes(image) > max_bytes:
                    raise _too_many_pixels()
                image.load()
                image.thumbnail((max_side, max_side))
                return _encode(image)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels() from None
        # KeyError: an image mode Pillow's mode table lacks (decoded_bytes).
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, KeyError):
            raise _refuse() from None


def decoded_bytes(image):
    """Bytes an opened, not yet loaded image takes once decoded at its (draft) size: width x height
    x bands x bytes per band, a band counted at 2 bytes when the file holds 16 bits per sample
    (Pillow may keep fewer, but its decoder works on the wider samples)."""
    mode = ImageMode.getmode(image.mode)
    per_band = int(mode.typestr[-1])
    args = image.tile[0][3] if image.tile else ""
    rawmode = args[0] if isinstance(args, tuple) and args else args
    if isinstance(rawmode, str) and ";16" in rawmode:
        per_band = max(per_band, 2)
    width, height = image.size
    return width * height * len(mode.bands) * per_band


def _encode(image):
    upright = ImageOps.exif_transpose(image)
    if image.format == "JPEG":
        clean = upright.convert("L" if upright.mode in ("L", "1") else "RGB")
        fmt, content_type, options = "JPEG", JPEG, {"quality": 90, "optimize": True}
    else:
        keep = upright.mode if upright.mode in ("1", "L", "LA", "P", "RGB", "RGBA") else "RGBA"
        clean = upright.convert(keep)
        fmt, content_type, options = "PNG", PNG, {"optimize": True}
    clean.info = {}  # no comment, text chunk, EXIF or ICC profile is carried over
    out = io.BytesIO()
    clean.save(out, fmt, **options)
    return content_type, out.getvalue()


def _pdf(data):
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise _refuse("不能上传加密的 PDF 文件，请取消密码后再上传", "PDF 已加密")
        if not 0 < len(reader.pages) <= MAX_PDF_PAGES:
            raise _refuse(f"PDF 文件应有 1 至 {MAX_PDF_PAGES} 页", "PDF 页数不符")
        writer = PdfWriter()
        for page in reader.pages:
            writer.add_page(_drawing_only(page))
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()
    except RuleViolation:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, RecursionError):
        raise _refuse("PDF 文件无法读取，请重新导出或改为上传图片", "PDF 文件已损坏") from None


# What a page needs to be drawn (ISO 32000-1 table 30); everything else (/AA, /Annots, /AF,
# /PieceInfo, /Thumb, /Metadata, /B, ...) is left behind.
_PAGE_KEYS = ("/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox", "/Rotate", "/UserUnit",
              "/Contents", "/Resources")
_RESOURCE_KEYS = ("/Font", "/XObject", "/ExtGState", "/ColorSpace", "/Pattern", "/Shading",
                  "/Properties", "/ProcSet")
# Keys that are never needed to draw a page and can act, link, attach or hide data, wherever they sit
# (a font's /AA, a form XObject's /AF or /PieceInfo, a resource dictionary's /JS, ...).
_DROPPED_KEYS = frozenset((
    "/AA", "/A", "/JS", "/JavaScript", "/OpenAction", "/Launch", "/URI", "/SubmitForm", "/ResetForm",
    "/ImportData", "/GoToR", "/GoToE", "/Rendition", "/RichMedia", "/AF", "/PieceInfo", "/EmbeddedFile",
    "/EmbeddedFiles", "/EF", "/RF", "/FS", "/Names", "/Annots", "/AcroForm", "/Thumb", "/Metadata",
    "/Outlines", "/Threads", "/Collection", "/XFA", "/Ref", "/OPI"))
# A stream whose data lives in an outside file (/F) would make a viewer fetch it.
_DROPPED_STREAM_KEYS = frozenset(("/F", "/FFilter", "/FDecodeParms"))
# Dictionaries that are an action, an annotation or a file, whatever key holds them.
_DROPPED_TYPES = frozenset(("/Action", "/Annot", "/Filespec", "/EmbeddedFile"))
_ACTIONS = frozenset((
    "/JavaScript", "/Launch", "/URI", "/SubmitForm", "/ResetForm", "/ImportData", "/GoTo", "/GoToR",
    "/GoToE", "/GoTo3DView", "/Named", "/Rendition", "/RichMediaExecute", "/Sound", "/Movie", "/Hide",
    "/SetOCGState", "/Trans", "/Thread"))


def _drawing_only(page):
    """A new page holding only the drawing parts of `page`, each reachable dictionary cleaned.

    The reader's objects are cleaned in place (they are this request's parsed copies); the writer
    then copies only what the new page reaches."""
    new = PageObject()
    new[NameObject("/Type")] = NameObject("/Page")
    for key in _PAGE_KEYS:
        if key in page:
            new[NameObject(key)] = page.raw_get(key)
    resources = page.get("/Resources")
    if isinstance(resources, DictionaryObject):
        new[NameObject("/Resources")] = DictionaryObject(
            {NameObject(key): resources.raw_get(key) for key in _RESOURCE_KEYS if key in resources})
    _clean_graph(new)
    return new


def _dropped(value):
    value = value.get_object() if isinstance(value, IndirectObject) else value
    if not isinstance(value, DictionaryObject):
        return False
    return value.get("/Type") in _DROPPED_TYPES or value.get("/S") in _ACTIONS


def _clean_graph(root):
    """Walk every dictionary and array reachable from `root` (iteratively: a deep or cyclic file
    must not exhaust the stack) and drop the keys and entries above. Stream data is not decoded."""
    seen, stack = set(), [root]
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            if (item.idnum, item.generation) in seen:
                continue
            seen.add((item.idnum, item.generation))
            item = item.get_object()
        if isinstance(item, DictionaryObject):  # streams are dictionaries too
            stream = isinstance(item, StreamObject)
            for key in list(item.keys()):
                if key in _DROPPED_KEYS or (stream and key in _DROPPED_STREAM_KEYS) or _dropped(item.raw_get(key)):
                    del item[key]
                else:
                    stack.append(item.raw_get(key))
        elif isinstance(item, ArrayObject):
            for index, value in enumerate(item):
                if _dropped(value):
                    item[index] = NullObject()
                else:
                    stack.append(value)
