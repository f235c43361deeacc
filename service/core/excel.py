"""Excel (.xlsx) downloads: the one door every export leaves through.

Whatever a row holds (text typed by people, rows stored before input was checked), the file is
written and is safe to open:
- a string is always a text cell, never a formula. Text that a spreadsheet would run as a formula
  (starting with = + - @, tab or carriage return; OWASP "CSV Injection", CWE-1236) is written as a
  text cell with Excel's quote prefix: the same thing Excel stores when a person types a leading
  apostrophe. OWASP's advice is that leading apostrophe; in .xlsx it lives in the cell style, not
  in the value, so the cell reads exactly as typed and is never evaluated, even after editing.
- text reads back exactly as stored: Excel reads `_x0041_` in a cell's XML as "A" (its escape of
  characters XML cannot hold), so such a sequence typed by a person is written escaped ("_x005F_"
  before it), as Excel itself does; text the API accepted (schemas.text.Text) is never changed;
- characters XML 1.0 cannot hold (control characters, lone surrogates, U+FFFE/U+FFFF: the Text
  field refuses them all, so only rows stored before input was checked hold them) are dropped;
  openpyxl would raise IllegalCharacterError (a 500 whose log line carries the personal text); a
  carriage return is written as the line feed XML would read it back as;
- a cell holds at most 32,767 characters (Excel's limit; longer text is cut, Excel would refuse);
- sheet names are legal (1-31 characters, none of []:*?/\\, unique);
- the download name travels RFC 6266 / RFC 5987 encoded (`filename*`, the Chinese name) with an
  ASCII fallback (`filename`) that every export names itself (`registry-template.xlsx`): Werkzeug
  would make the fallback by dropping every non-ASCII character, leaving ".xlsx" of a Chinese name.
  The header is built by Werkzeug's `Headers.set` (quoting) from names cleaned here, never by hand;
- list workbooks are written in openpyxl's write-only mode (rows streamed, memory flat for large
  exports); laid-out forms (FormSheet: merged cells, borders, pictures; one small sheet per person)
  need a normal workbook and go through the same cell rules.
"""

import dataclasses
import datetime as dt
import io
import re
from urllib.parse import quote

from flask import send_file
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.drawing.image import Image as SheetImage
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter, range_boundaries

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Excel's limit for one cell.
MAX_CELL_CHARS = 32_767
MAX_SHEET_TITLE = 31
# XML 1.0 allows tab, LF, CR and U+0020 upwards except surrogates and U+FFFE/U+FFFF.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Text Excel would read as its escape of a character (ECMA-376 ST_Xstring "_xHHHH_"): the underscore
# is written as "_x005F_" so the text reads back as typed.
_LOOKS_LIKE_ESCAPE = re.compile("_(?=x[0-9A-Fa-f]{4}_)")
# What a spreadsheet starts a formula (or a DDE payload) with (OWASP CSV Injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_SHEET_TITLE_ILLEGAL = re.compile(r"[\[\]:*?/\\]")
# Characters a file name should not carry on any system (path separators, Windows reserved, controls).
_FILENAME_ILLEGAL = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')


def pct(value):
    """A share (0.875) as a cell ("87.5%"); empty when there is no figure."""
    return "" if value is None else f"{value:.1%}"


def yes_no(flag):
    return "是" if flag else "否"


def clean_text(value):
    """Text as it can be stored in a cell: XML-illegal characters dropped, at most 32,767 characters,
    `_xHHHH_` escaped so that Excel reads it as written."""
    text = _xml_text(value)
    return _LOOKS_LIKE_ESCAPE.sub("_x005F_", text) if "_x" in text else text


def _xml_text(value):
    # XML reads a carriage return back as a line feed: write the line feed.
    return _ILLEGAL_XML.sub("", value).replace("\r\n", "\n").replace("\r", "\n")[:MAX_CELL_CHARS]


def is_formula_like(text):
    return text.startswith(FORMULA_TRIGGERS)


# Text openpyxl would store as an error value rather than as text.
_ERROR_TEXTS = frozenset(ERROR_CODES)


def _cell(sheet, value):
    """One value of a write-only row: strings as text (quote-prefixed when formula-like), other
    values as they are. Plain text, numbers and empty cells go to openpyxl as values: it binds
    them in the one cell it reuses for the row, as text; only text it would take for a formula or
    an error value ("#N/A") needs a cell of its own (explicit text type, quote prefix). Building a
    cell for every value cost half the time of a 40,000-row roster."""
    if isinstance(value, str):
        text = clean_text(value)
        if not is_formula_like(text) and text not in _ERROR_TEXTS:
            return text
        cell = WriteOnlyCell(sheet, text)
        cell.data_type = "s"  # openpyxl makes a string starting with "=" a formula, "#N/A" an error
        if is_formula_like(text):
            cell.quotePrefix = True
        return cell
    if value is None or isinstance(value, (bool, int, float, dt.date, dt.datetime, dt.time)):
        return value
    return _cell(sheet, str(value))


def sheet_title(title, taken=()):
    """A legal, unique sheet name: forbidden characters replaced, at most 31 characters, never empty."""
    text = _SHEET_TITLE_ILLEGAL.sub("_", clean_text(str(title or ""))).strip().strip("'")
    text = text[:MAX_SHEET_TITLE] or "Sheet"
    lowered = {name.lower() for name in taken}
    if text.lower() == "history":  # reserved by Excel
        text = "History_"
    candidate, number = text, 2
    while candidate.lower() in lowered:
        suffix = f"({number})"
        candidate = text[:MAX_SHEET_TITLE - len(suffix)] + suffix
        number += 1
    return candidate


def workbook_bytes(sheets):
    """sheets: [(title, headers, rows)] -> xlsx bytes (write-only mode; rows may be any iterable)."""
    workbook = Workbook(write_only=True)
    titles = []
    for title, headers, rows in sheets:
        titles.append(sheet_title(title, titles))
        sheet = workbook.create_sheet(title=titles[-1])
        sheet.append([_cell(sheet, value) for value in headers])
        for row in rows:
            sheet.append([_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def download_name(filename):
    """A file name safe on every system: separators and control characters become "-"."""
    name = _FILENAME_ILLEGAL.sub("-", _xml_text(filename)).strip(" .") or "export.xlsx"
    return name if name.lower().endswith(".xlsx") else f"{name}.xlsx"


_ASCII_NAME_ILLEGAL = re.compile(r"[^A-Za-z0-9._-]+")


def ascii_download_name(name):
    """The ASCII fallback: letters, digits, ".", "_" and "-" only (runs of anything else become "-")."""
    stem = name[:-5] if name.lower().endswith(".xlsx") else name
    return f"{_ASCII_NAME_ILLEGAL.sub('-', stem).strip('-.') or 'export'}.xlsx"


def download(data, filename, *, ascii_name):
    """An .xlsx download response: the Chinese `filename` in RFC 5987 `filename*`, `ascii_name`
    (e.g. "class-plan-2026.xlsx") as the plain `filename` older clients show."""
    response = send_file(io.BytesIO(data), mimetype=XLSX_MIMETYPE, as_attachment=True,
                         download_name=ascii_download_name(ascii_name), conditional=False, etag=False,
                         max_age=0)
    # RFC 5987 attr-char set, as Werkzeug's send_file quotes it ("/" is not kept).
    quoted = quote(download_name(filename), safe="!#$&+^`|~")
    response.headers.set("Content-Disposition", "attachment", filename=ascii_download_name(ascii_name),
                         **{"filename*": f"UTF-8''{quoted}"})
    # Exports carry personal data: never kept by a shared cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def xlsx_response(filename, sheets, *, ascii_name):
    """A download response of list sheets [(title, headers, rows)]."""
    return download(workbook_bytes(sheets), filename, ascii_name=ascii_name)


# ---- laid-out sheets (official forms: merged cells, borders, pictures) ---------------------------

_THIN = Side(style="thin")
_GRID = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


@dataclasses.dataclass
class FormSheet:
    """A sheet laid out cell by cell. Rows and columns count from 1."""

    title: str
    cells: dict = dataclasses.field(default_factory=dict)  # (row, column) -> value
    styles: dict = dataclasses.field(default_factory=dict)  # (row, column) -> {"bold", "size", "align"}
    merged: list = dataclasses.field(default_factory=list)  # "A1:G1"
    bordered: list = dataclasses.field(default_factory=list)  # ranges drawn as a grid
    images: list = dataclasses.field(default_factory=list)  # (anchor cell "G3", bytes, width px, height px)
    column_widths: dict = dataclasses.field(default_factory=dict)  # column number -> width (characters)
    row_heights: dict = dataclasses.field(default_factory=dict)  # row number -> height (points)

    def put(self, row, column, value, *, to=None, bold=False, size=None, align="center"):
        """Write `value` at (row, column); `to=(row, column)` merges up to that cell."""
        self.cells[(row, column)] = value
        self.styles[(row, column)] = {"bold": bold, "size": size, "align": align}
        if to is not None and to != (row, column):
            self.merged.append(f"{get_column_letter(column)}{row}:{get_column_letter(to[1])}{to[0]}")

    def picture(self, row, column, data, *, width, height):
        """Place a picture (PNG/JPEG bytes) with its top-left corner in (row, column), shown width x height px."""
        self.images.append((f"{get_column_letter(column)}{row}", data, width, height))


def _form_cell(sheet, row, column, value):
    """One cell of a form, by the same rules as `_cell`: strings always text, formula-like ones quote-prefixed."""
    if isinstance(value, str):
        cell = sheet.cell(row=row, column=column, value=clean_text(value))
        cell.data_type = "s"
        if is_formula_like(cell.value):
            cell.quotePrefix = True
        return cell
    if value is None or isinstance(value, (bool, int, float, dt.date, dt.datetime, dt.time)):
        return sheet.cell(row=row, column=column, value=value)
    return _form_cell(sheet, row, column, str(value))


def _write_form(workbook, form, taken):
    sheet = workbook.create_sheet(title=sheet_title(form.title, taken))
    for (row, column), value in form.cells.items():
        cell = _form_cell(sheet, row, column, value)
        style = form.styles.get((row, column)) or {}
        cell.alignment = Alignment(horizontal=style.get("align", "center"), vertical="center", wrap_text=True)
        if style.get("bold") or style.get("size"):
            cell.font = Font(bold=style.get("bold", False), size=style.get("size") or 11)
    for area in form.bordered:
        min_col, min_row, max_col, max_row = range_boundaries(area)
        for row in range(min_row, max_row + 1):
            for column in range(min_col, max_col + 1):
                sheet.cell(row=row, column=column).border = _GRID
    for area in form.merged:
        sheet.merge_cells(area)
    for column, width in form.column_widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = width
    for row, height in form.row_heights.items():
        sheet.row_dimensions[row].height = height
    for anchor, data, width, height in form.images:
        image = SheetImage(io.BytesIO(data))
        image.width, image.height = width, height
        sheet.add_image(image, anchor)
    return sheet.title


def form_workbook_bytes(forms):
    """[FormSheet] -> xlsx bytes, sheets in order, names made legal and unique."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    taken = []
    for form in forms:
        taken.append(_write_form(workbook, form, taken))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def form_xlsx_response(filename, forms, *, ascii_name):
    """A download response of laid-out sheets."""
    return download(form_workbook_bytes(forms), filename, ascii_name=ascii_name)


__all__ = ["XLSX_MIMETYPE", "workbook_bytes", "xlsx_response", "clean_text", "sheet_title",
           "download_name", "ascii_download_name", "pct", "yes_no", "FORMULA_TRIGGERS", "FormSheet", "form_workbook_bytes",
           "form_xlsx_response", "download"]
