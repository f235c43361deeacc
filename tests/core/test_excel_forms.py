"""Laid-out sheets (official forms) written through core/excel: text stays text, legal unique sheet names."""

import io

import openpyxl
from PIL import Image

from service.core.excel import FormSheet, form_workbook_bytes, sheet_title


def test_sheet_titles_are_legal_and_unique():
    assert sheet_title("北京/上海:[班]*?") == "北京_上海__班___"
    assert sheet_title("张伟", ["张伟"]) == "张伟(2)"
    assert sheet_title("a" * 40) == "a" * 31
    assert sheet_title("a" * 40, ["a" * 31]) == "a" * 28 + "(2)"
    assert sheet_title("", []) == "Sheet"


def test_text_is_never_a_formula_and_illegal_characters_are_dropped():
    form = FormSheet(title="表")
    form.put(1, 1, '=HYPERLINK("http://x.invalid","点击")', to=(1, 3))
    form.put(2, 1, "钱\x0b多多")
    form.put(3, 1, 42)
    workbook = openpyxl.load_workbook(io.BytesIO(form_workbook_bytes([form])))
    sheet = workbook["表"]
    assert sheet["A1"].data_type == "s" and sheet["A1"].value == '=HYPERLINK("http://x.invalid","点击")'
    assert sheet["A1"].quotePrefix  # shown as typed, never run, even after editing
    assert sheet["A2"].value == "钱多多" and sheet["A3"].value == 42
    assert [str(r) for r in sheet.merged_cells.ranges] == ["A1:C1"]


def test_picture_is_anchored_where_placed():
    buffer = io.BytesIO()
    Image.new("RGB", (30, 40), "red").save(buffer, format="PNG")
    form = FormSheet(title="照片")
    form.picture(3, 7, buffer.getvalue(), width=30, height=40)
    sheet = openpyxl.load_workbook(io.BytesIO(form_workbook_bytes([form, FormSheet(title="照片")])))
    assert sheet.sheetnames == ["照片", "照片(2)"]
    image = sheet["照片"]._images[0]
    assert (image.anchor._from.row, image.anchor._from.col) == (2, 6)


def test_fitted_picture_is_upright_scaled_and_plain():
    from service.core.images import fitted_jpeg

    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the camera was turned; shown rotated 90° clockwise
    Image.new("RGBA", (400, 300), (0, 0, 255, 128)).convert("RGB").save(buffer, format="JPEG", exif=exif)
    fitted = Image.open(io.BytesIO(fitted_jpeg(buffer.getvalue(), width=240, height=330)))
    assert fitted.format == "JPEG" and fitted.size == (240, 320)  # upright 300 x 400, scaled into the box
    assert not fitted.getexif()
    transparent = io.BytesIO()
    Image.new("RGBA", (50, 70), (255, 0, 0, 0)).save(transparent, format="PNG")
    assert Image.open(io.BytesIO(fitted_jpeg(transparent.getvalue(), width=240, height=330))).size == (50, 70)
    assert fitted_jpeg(b"\x89PNG\r\n\x1a\nnot really", width=240, height=330) is None
