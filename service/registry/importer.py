"""Reading a registry file (企业名录): .xlsx or CSV in, validated rows and bad-row reasons out.

No database here: `read_rows` turns the bytes into rows, `validate_rows` splits them into the
entries to import and the problems to report. File-level problems (not a spreadsheet, no header,
too big) raise RuleViolation before anything is written.
"""

import contextlib
import csv
import dataclasses
import datetime as dt
import io
import itertools
import re
import secrets
import time
import unicodedata
import zipfile
from zlib import error as zlib_error

from marshmallow import ValidationError

from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel
from openpyxl.utils.escape import unescape
from python_calamine import CalamineWorkbook, SheetTypeEnum

from schemas.text import Text
from service.core import regions
from service.core.identifiers import InvalidIdentifier, parse_credit_code
from service.core.errors import RuleViolation

# The titles (称号) the registry records; one list for the importer, the API and the guide.
TITLES = ("小巨人", "单项冠军", "高新技术企业", "专精特新中小企业", "创新型中小企业")

# Official lists spell titles out in full; after dropping quotes and spaces these mean the short form.
TITLE_ALIASES = {
    "专精特新小巨人": "小巨人", "专精特新小巨人企业": "小巨人", "国家级专精特新小巨人企业": "小巨人",
    "小巨人企业": "小巨人",
    "制造业单项冠军": "单项冠军", "制造业单项冠军企业": "单项冠军", "单项冠军企业": "单项冠军",
    "制造业单项冠军示范企业": "单项冠军",
    "国家高新技术企业": "高新技术企业",
}

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
# An .xlsx is a zip: refuse one that would inflate beyond this before openpyxl reads it (zip bomb).
MAX_XLSX_UNPACKED_BYTES = 400 * 1024 * 1024
# The header may sit below a title line ("第五批专精特新“小巨人”企业名单"): look this far down.
HEADER_SEARCH_ROWS = 10
# Reported problems kept in one import report (a MongoDB document is at most 16 MB).
MAX_REPORTED_PROBLEMS = 10_000
# Memory stays bounded whatever the file declares: cells right of this column are never read before
# the header is found, and right of the header's last column after it.
MAX_COLUMNS = 64
# This many blank rows in a row end the sheet (formatted empty rows down to row 1,048,576).
MAX_BLANK_RUN = 5_000
# Reading one file stops after this many seconds of reading (the time its entries take to be
# written is not counted): a pathological file does not hold the worker's import loop for long.
# Reading runs in the background worker, so the budget is no longer bound by gunicorn's 60 s
# request timeout: a 150,000-row list took 45 s of reading alone on a loaded 2-core machine.
READ_TIME_BUDGET_SECONDS = 300

# field -> Chinese column name (the template's header, in this order).
COLUMNS = {
    "name": "企业名称",
    "credit_code": "统一社会信用代码",
    "region_code": "所在地区",
    "title": "称号",
    "batch": "批次",
    "valid_from": "有效期起",
    "valid_until": "有效期止",
}
REQUIRED = ("name", "credit_code", "region_code", "title", "valid_from", "valid_until")
# The most characters a cell of each column may hold (after trimming its edges). A longer cell makes
# its row faulty, with the limit in the reason: nothing is ever cut to fit. The code-like columns'
# limits leave room for spaces and the long official forms (国家级专精特新“小巨人”企业).
CELL_LIMITS = {"name": 200, "credit_code": 50, "region_code": 30, "title": 50, "batch": 50,
               "valid_from": 30, "valid_until": 30}
CELL_LIMITS_BY_COLUMN = {COLUMNS[field]: limit for field, limit in CELL_LIMITS.items()}
# Codes, names from a list and dates: full-width digits and letters (１１００００, typed with a Chinese
# input method or pasted from Word/WPS) are read as ASCII (NFKC). Names and batches are text and keep
# what was written, as the API's text fields do.
CODE_LIKE = frozenset({"credit_code", "region_code", "title", "valid_from", "valid_until"})
HEADER_ALIASES = {
    **{chinese: field for field, chinese in COLUMNS.items()},
    **{field: field for field in COLUMNS},
    "信用代码": "credit_code", "社会信用代码": "credit_code", "uscc": "credit_code",
    "地区": "region_code", "地区代码": "region_code", "所在地区代码": "region_code", "region": "region_code",
    "企业称号": "title", "认定称号": "title",
    "认定批次": "batch",
    "有效期开始": "valid_from", "有效期自": "valid_from", "有效期起始": "valid_from",
    "有效期结束": "valid_until", "有效期至": "valid_until", "有效期截止": "valid_until",
}

_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_REGION_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "省", "市")


@dataclasses.dataclass
class Sheet:
    kind: str  # "xlsx" or "csv"
    rows: list  # [(row_number, (cell, ...))], row numbers as the spreadsheet shows them
    # Row number after which a long run of blank rows ended the sheet (reported), or None.
    ended_after_blank_run_at: int | None = None
    sheet_name: str | None = None  # the sheet read (.xlsx)
    data: bytes | None = dataclasses.field(default=None, repr=False)  # the file (.xlsx: other sheets, for messages)


class Entry:
    """One good row: (credit_code, title, name, region_code, batch, valid_from, valid_until).

    Reads like a dict (entry["name"], dict(entry)) but with slots: a dict per row would be twice
    the memory of a batch (or of a whole file read with validate_rows).
    """

    FIELDS = ("credit_code", "title", "name", "region_code", "batch", "valid_from", "valid_until")
    __slots__ = FIELDS

    def __init__(self, **values):
        for field in self.FIELDS:
            setattr(self, field, values[field])

    def keys(self):
        return self.FIELDS

    def __getitem__(self, field):
        return getattr(self, field)

    def __eq__(self, other):
        return dict(self) == (dict(other) if isinstance(other, Entry) else other)

    def __repr__(self):
        return f"Entry({dict(self)!r})"


def _problem(row, column, reason):
    return {"row": row, "column": column, "reason": reason}


# ---------------------------------------------------------------- reading the file

def read_rows(data):
    """The file's rows, detected by content (an .xlsx is a zip), never by its name: a Sheet with
    every kept row (small files and tests; imports stream through `open_rows`)."""
    stream = open_rows(data)
    with stream:
        rows = list(stream)
    return Sheet(stream.kind, rows, ended_after_blank_run_at=stream.ended_after_blank_run_at,
                 sheet_name=stream.sheet_name, data=stream.data)


def check_file(data):
    """What the bytes alone tell, at once (the upload answers before the import runs): size,
    emptiness, kind, a zip inflating too far, a text encoding. RuleViolation if bad; else the kind."""
    if len(data) > MAX_FILE_BYTES:
        raise RuleViolation("REGISTRY_FILE_TOO_LARGE", "文件不能超过 20 MB，请分成几个文件导入", status=413)
    if not data.strip():
        raise RuleViolation("REGISTRY_FILE_EMPTY", "文件是空的", errors={"file": ["请选择文件"]})
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                unpacked = sum(info.file_size for info in archive.infolist())
        except zipfile.BadZipFile:
            raise _not_a_spreadsheet() from None
        if unpacked > MAX_XLSX_UNPACKED_BYTES:
            raise RuleViolation("REGISTRY_FILE_TOO_LARGE", "Excel 文件内容过大，请分成几个文件导入", status=413)
        return "xlsx"
    if data.lstrip().startswith(_OTHER_FILE_SIGNATURES):
        raise _not_a_spreadsheet()
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise RuleViolation("REGISTRY_FILE_TYPE_INVALID", "不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 后上传",
                            errors={"file": ["文件格式不支持"]})
    _decode(data)
    return "csv"


def open_rows(data):
    """A RowStream over the file's first sheet (RuleViolation for file-level faults)."""
    return _xlsx_stream(data) if check_file(data) == "xlsx" else _csv_stream(data)


# Files that are neither .xlsx nor CSV although a text-only one decodes as text (a PDF of plain
# text has no NUL byte): told by their signature, before decoding is tried.
_OTHER_FILE_SIGNATURES = (b"%PDF-", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"{\\rtf", b"<?xml", b"<html", b"<!DOCTYPE",
                          b"Rar!", b"7z\xbc\xaf")


def _not_a_spreadsheet():
    return RuleViolation("REGISTRY_FILE_TYPE_INVALID", "只能导入 Excel（.xlsx）或 CSV 文件",
                         errors={"file": ["文件格式不支持"]})


class RowStream:
    """The kept rows of a file, read lazily: (row number, cells) for each non-blank row, cut to
    the columns that matter, within the time budget. `rows_total` is the file's last row number
    (the sheet's last `<row>`, formatted blank ones included; a CSV's last record), which the row
    numbers reach unless the file ends in blank rows (for progress). A context manager (closes the workbook)."""

    def __init__(self, kind, numbered_rows, rows_total, close=None, reader=None):
        self.kind, self.rows_total = kind, rows_total
        self.reader = reader or kind  # "calamine", "openpyxl" or "csv"
        self.ended_after_blank_run_at = None  # row number after which a long blank run ended the sheet
        self._rows, self._close = numbered_rows, close
        self.reading_seconds = 0.0  # time spent reading; the caller's time between rows is not counted
        self.sheet_name = None  # the sheet read (.xlsx), known once the first row is read
        self.data = None  # the file's bytes (.xlsx): where a missing header is looked for on other sheets
        self.long_text_marker = None  # the text standing for a LongCell in this file (.xlsx), if any

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._close is not None:
            self._close()

    def __iter__(self):
        blank_run, width, kept = 0, MAX_COLUMNS, 0
        resumed = time.monotonic()
        try:
            for number, cells in self._rows:
                if self.reading_seconds + time.monotonic() - resumed > READ_TIME_BUDGET_SECONDS:
                    raise RuleViolation(
                        "REGISTRY_FILE_TOO_SLOW",
                        f"文件在 {READ_TIME_BUDGET_SECONDS} 秒内未能读完，请删除多余的空行空列或分成几个文件导入",
                        status=413, errors={"file": ["文件读取超时"]})
                cells = tuple(cells[:width])
                if self.long_text_marker is not None:
                    cells = tuple(_long_cell(cell, self.long_text_marker) for cell in cells)
                if _blank(cells):
                    blank_run += 1
                    if blank_run >= MAX_BLANK_RUN and kept:
                        self.ended_after_blank_run_at = number - blank_run
                        return
                    continue
                blank_run = 0
                end = len(cells)
                while end and _empty(cells[end - 1]):
                    end -= 1
                kept += 1
                if kept > MAX_ROWS + 1:  # the header is one of the rows read, hence the + 1
                    raise RuleViolation("REGISTRY_TOO_MANY_ROWS",
                                        f"一次最多导入 {MAX_ROWS} 行，请分成几个文件导入", status=413)
                if width == MAX_COLUMNS and kept <= HEADER_SEARCH_ROWS:
                    columns = _header_columns(cells)
                    if all(field in columns for field in REQUIRED):
                        width = max(columns.values()) + 1  # columns past the header's are never kept
                self.reading_seconds += time.monotonic() - resumed
                yield number, cells[:end]
                resumed = time.monotonic()
        except csv.Error:
            raise RuleViolation("REGISTRY_FILE_TYPE_INVALID", "CSV 文件格式有误（引号不配对等），无法读取",
                                errors={"file": ["文件格式有误"]}) from None


# What the sheet's XML holds, found on its bytes before a reader is chosen (one pass, ~0.3 s per
# 25 MB of XML): row start tags (their r= if any), a cell reference right of column P or of column Z,
# a cell without an r= reference (placed by its position).
_ROW_START = re.compile(rb'<(?:\w+:)?row(?=[\s>/])(?:[^>]*?\sr="(\d+)")?')
_CELL_RIGHT_OF_P = re.compile(rb'\sr="[Q-Z][0-9]')
_CELL_RIGHT_OF_Z = re.compile(rb'\sr="[A-Z]{2,3}[0-9]')
_CELL_WITHOUT_REF = re.compile(rb'<(?:\w+:)?c(?=[\s/>])(?:(?!\sr=)[^>])*>')
# The fast reader (calamine) holds the sheet's whole rectangle of cells at once (~32 bytes a cell):
# it is used only when the XML shows that rectangle small (rows x columns), else openpyxl reads
# the rows one by one (any shape, bounded memory, ~8x slower).
CALAMINE_MAX_CELLS = 3_500_000


@dataclasses.dataclass
class _SheetXml:
    rows: int  # row tags (blank ones included)
    last_row: int  # the largest row number (the import's rows_total)
    columns: int | None  # at most this many columns hold cells; None: unknown or past column Z


def _first_sheet_path(archive):
    """The path of the workbook's first sheet inside the .xlsx (workbook order, as both readers take
    it), from the package's relationships; None if they cannot be read."""
    from xml.etree import ElementTree

    def targets(rels_path):
        root = ElementTree.fromstring(archive.read(rels_path))
        return {rel.get("Id"): (rel.get("Type") or "", rel.get("Target") or "") for rel in root}

    def resolve(base_dir, target):
        return target.lstrip("/") if target.startswith("/") else f"{base_dir}{target}"

    try:
        workbook = next(resolve("", target) for kind, target in targets("_rels/.rels").values()
                        if kind.endswith("/officeDocument"))
        base_dir = workbook.rsplit("/", 1)[0] + "/" if "/" in workbook else ""
        sheet = next(element for element in ElementTree.fromstring(archive.read(workbook)).iter()
                     if element.tag.endswith("}sheet"))
        rel_id = next(value for key, value in sheet.attrib.items() if key.endswith("}id"))
        relations = targets(f"{base_dir}_rels/{workbook.rsplit('/', 1)[-1]}.rels")
        kind, target = relations[rel_id]
        return resolve(base_dir, target) if kind.endswith("/worksheet") else None
    except (KeyError, StopIteration, ElementTree.ParseError, ValueError):
        return None


# The sheet's XML is scanned this many bytes at a time.
SCAN_CHUNK_BYTES = 1 << 20


def _scan_sheet_xml(archive, path):
    """_SheetXml of the sheet at `path`, read on its bytes chunk by chunk; None if unreadable."""
    rows = last_row = 0
    right_of_p = right_of_z = without_ref = False
    tail = b""
    offset = 0  # where `buffer` starts in the XML
    counted_up_to = -1  # the start of the last row tag counted (in the XML)
    try:
        with archive.open(path) as xml:
            while chunk := xml.read(SCAN_CHUNK_BYTES):
                buffer = tail + chunk
                # A tag cut by the chunk boundary is found in both buffers (`<row ` before the cut,
                # `<row r="150003">` after it): each row tag is counted once, by where it starts
                # (counting those that ended in the new bytes counted such a tag twice, finding q19 F1).
                for match in _ROW_START.finditer(buffer):
                    if offset + match.start() > counted_up_to:
                        rows += 1
                        counted_up_to = offset + match.start()
                    if match.group(1):
                        last_row = max(last_row, int(match.group(1)))
                right_of_p = right_of_p or _CELL_RIGHT_OF_P.search(buffer) is not None
                right_of_z = right_of_z or _CELL_RIGHT_OF_Z.search(buffer) is not None
                without_ref = without_ref or _CELL_WITHOUT_REF.search(buffer) is not None
                tail = buffer[-64:]
                offset += len(buffer) - len(tail)
    except (KeyError, zipfile.BadZipFile, OSError, zlib_error):
        return None
    columns = None if right_of_z or without_ref else 26 if right_of_p else 16
    return _SheetXml(rows=rows, last_row=max(last_row, rows), columns=columns)


def _xlsx_stream(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        path = _first_sheet_path(archive)
        shape = _scan_sheet_xml(archive, path) if path else None
        long_parts = [part for part in (path, _shared_strings_path(archive)) if part and _has_long_text(archive, part)]
    marker = None
    if long_parts:
        marker = f"\ufdd0{secrets.token_hex(8)}:"
        data = _shorten_long_texts(data, long_parts, marker)
    if shape is not None and shape.columns is not None and shape.last_row * shape.columns <= CALAMINE_MAX_CELLS:
        stream = _calamine_stream(data, shape.last_row)
    else:
        stream = _openpyxl_stream(data, shape.last_row if shape else None)
    stream.long_text_marker = marker
    return stream


# ---------------------------------------------------------------- texts too long to read

# A text of more bytes than this in the sheet's XML is no cell Excel or WPS wrote (a cell holds at
# most 32,767 characters, 6 bytes each at worst: "&quot;"). Such a text (a 300 MB shared string
# in a 312 KB upload) is measured while the file is unpacked and replaced by a marker holding its
# length before a reader sees it: both readers hold a text whole, calamine three times over (a
# 300 MB string took the worker from 103 MB to 1005 MB).
LONG_TEXT_BYTES = 256 * 1024
_UTF8_CONTINUATION = bytes(range(0x80, 0xC0))
_ENTITY = re.compile(rb"&#?\w{1,8};")


class LongCell:
    """A cell whose text was too long to read (LONG_TEXT_BYTES): only its length in characters is
    kept (entities counted as one character; one cut by a chunk boundary may count a few more)."""

    __slots__ = ("length",)

    def __init__(self, length):
        self.length = length

    def __repr__(self):
        return f"LongCell({self.length})"


def _characters(xml_bytes):
    """Characters of UTF-8 XML text (no tags): lead bytes, an entity counted as one."""
    characters = len(xml_bytes.translate(None, _UTF8_CONTINUATION))
    if b"&" in xml_bytes:
        characters -= sum(len(entity) - 1 for entity in _ENTITY.findall(xml_bytes))
    return characters


def _shared_strings_path(archive):
    """The path of the workbook's shared strings part (xl/sharedStrings.xml as every writer names it), or None."""
    for name in archive.namelist():
        if name.lower().endswith("sharedstrings.xml") and not name.startswith("["):
            return name
    return None


def _has_long_text(archive, path):
    """Whether the XML part at `path` may hold a run of more than LONG_TEXT_BYTES bytes without a tag
    (read chunk by chunk: only a chunk is held). A run that long holds a whole window of half its
    size: a window without "<" (a byte search per window, not a parse) says "maybe"; the rewrite
    then shortens only runs longer than LONG_TEXT_BYTES."""
    window = LONG_TEXT_BYTES // 2
    run = 0  # bytes since the last "<"
    try:
        with archive.open(path) as xml:
            while chunk := xml.read(1 << 20):
                first = chunk.find(b"<")
                if first < 0:
                    run += len(chunk)
                    if run > LONG_TEXT_BYTES:
                        return True
                    continue
                if run + first > LONG_TEXT_BYTES or any(chunk.find(b"<", start, start + window) < 0 for start in range(first, len(chunk) - window, window)):
                    return True
                run = len(chunk) - chunk.rfind(b"<")
    except (KeyError, zipfile.BadZipFile, OSError, zlib_error, EOFError):
        return False
    return False


def _shorten_long_texts(data, parts, marker):
    """The .xlsx with every text of more than LONG_TEXT_BYTES in `parts` replaced by `marker` and its
    length in characters; the other parts copied as they are."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename in parts:
                with source.open(info) as xml, target.open(zipfile.ZipInfo(info.filename, info.date_time), "w",
                                                           force_zip64=True) as sink:
                    _copy_shortening(xml, sink, marker)
            else:
                target.writestr(info, source.read(info), compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _copy_shortening(xml, sink, marker):
    """Copy XML from `xml` to `sink` chunk by chunk, each text longer than LONG_TEXT_BYTES replaced by
    the marker and its length: a pending segment ("<tag ...>text") is held only while short."""

    def long_text(length):
        return f"{marker}{length}".encode()

    def shortened(segments):
        if max(map(len, segments.split(b"<"))) <= LONG_TEXT_BYTES:
            return segments
        out = []
        for segment in segments.split(b"<"):
            end_of_tag = segment.find(b">")
            if len(segment) > LONG_TEXT_BYTES and 0 <= end_of_tag < len(segment) - LONG_TEXT_BYTES:
                segment = segment[:end_of_tag + 1] + long_text(_characters(segment[end_of_tag + 1:]))
            out.append(segment)
        return b"<".join(out)

    pending, counting = b"", None  # counting: characters of the long text being skipped
    cut = b""  # the start of an entity cut by the chunk boundary, counted with the next chunk

    def count(piece, whole=False):
        nonlocal cut
        piece, cut = cut + piece, b""
        entity = piece.rfind(b"&", max(0, len(piece) - 10))
        if not whole and entity >= 0 and b";" not in piece[entity:]:
            piece, cut = piece[:entity], piece[entity:]
        return _characters(piece)

    while chunk := xml.read(1 << 20):
        if counting is not None:
            end = chunk.find(b"<")
            if end < 0:
                counting += count(chunk)
                continue
            sink.write(long_text(counting + count(chunk[:end], whole=True)))
            counting, chunk = None, chunk[end:]
        data = pending + chunk
        last = data.rfind(b"<")
        if last > 0:
            sink.write(shortened(data[:last]))
        pending = data[max(last, 0):]
        if len(pending) > LONG_TEXT_BYTES:
            end_of_tag = pending.find(b">")
            if end_of_tag < 0:  # a tag this long: nothing to shorten (the readers refuse or read it)
                sink.write(pending)
            else:
                sink.write(pending[:end_of_tag + 1])
                counting = count(pending[end_of_tag + 1:])
            pending = b""
    sink.write(shortened(pending) if counting is None else long_text(counting + count(b"", whole=True)))


def _calamine_stream(data, rows_total):
    """The first sheet read by calamine (Rust; a 150,000-row list in ~1.5 s where openpyxl takes
    ~13 s), or by openpyxl when calamine cannot read the file. The sheet is read at the first row
    asked for, not here: the caller may start other work between (the import starts reading the
    registry; calamine lets go of the interpreter lock while it reads). Cells come as openpyxl
    gives them but for: numbers are floats (110000.0; `_text` writes whole ones without the
    point), empty cells are "", `_x000B_` escapes are already undone, dates are dates only where
    the cell is formatted as a date (else the serial number, read by `_date`)."""
    opened = []  # what close() closes: the calamine workbook, or openpyxl's stream

    def rows():
        try:
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
            opened.append(workbook)
            if not workbook.sheets_metadata or workbook.sheets_metadata[0].typ != SheetTypeEnum.WorkSheet:
                raise ValueError("the first sheet is not a worksheet")
            sheet = workbook.get_sheet_by_index(0)
            stream.sheet_name = workbook.sheet_names[0]
        except Exception:  # noqa: BLE001 (CalamineError, XmlError, ZipError...: openpyxl decides)
            fallback = _openpyxl_stream(data, rows_total)
            opened.append(fallback)
            stream.reader, stream.sheet_name = fallback.reader, fallback.sheet_name
            yield from fallback._rows
            return
        # iter_rows gives every row from the first (blank ones before the first value included) but
        # only the columns from the first one holding a value: put the columns before it back.
        start = sheet.start
        if start is None:
            return
        padding = [None] * start[1]
        yield from enumerate((padding + cells for cells in sheet.iter_rows()) if padding else sheet.iter_rows(),
                             start=1)

    def close():
        for thing in opened:
            with contextlib.suppress(Exception):  # closed twice, or already failed
                thing.close() if isinstance(thing, CalamineWorkbook) else thing.__exit__(None, None, None)

    stream = RowStream("xlsx", rows(), rows_total, close=close, reader="calamine")
    stream.data = data
    return stream


def _openpyxl_stream(data, rows_total):
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises KeyError, ValueError, InvalidFileException... for non-workbooks
        raise _not_a_spreadsheet() from None
    if not workbook.worksheets:
        workbook.close()
        raise _not_a_spreadsheet()
    sheet = workbook.worksheets[0]
    # Read-only mode trusts the sheet's <dimension>: WPS writes "A1" (every row but the first
    # vanishes), stale files say "A1:G2" (later rows vanish) and others "A1:XFD5000" (every row
    # padded to 16,384 cells: hundreds of MB). Forget it and read the rows that are there, no
    # further right than MAX_COLUMNS.
    sheet.reset_dimensions()
    rows = ((number, tuple(_unescaped(c) for c in cells))
            for number, cells in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1))
    stream = RowStream("xlsx", rows, rows_total, close=workbook.close, reader="openpyxl")
    stream.sheet_name, stream.data = sheet.title, data
    return stream


def _decode(data):
    # Excel's "Unicode text" is UTF-16 with a byte-order mark (and tab-separated).
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise _encoding_unknown() from None
    if b"\x00" in data:  # other text files have no NUL bytes; images, PDFs and archives do
        if _looks_like_utf16(data):
            raise _encoding_unknown()
        raise _not_a_spreadsheet()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")  # Excel in China saves CSV as GBK unless told UTF-8
    except UnicodeDecodeError:
        raise _encoding_unknown() from None
    # GB 18030 decodes nearly any bytes: Big5 (traditional Chinese) comes out as other characters and
    # would be reported as a header fault. A file whose first lines name no known column in GB 18030
    # but do in Big5 is an encoding fault.
    head = data[:4096]
    if not _names_a_column(text[:4096]):
        try:
            if _names_a_column(head.decode("big5", errors="ignore")):
                raise _encoding_unknown()
        except LookupError:
            pass
    return text


def _looks_like_utf16(data):
    """UTF-16 without a byte-order mark: NUL bytes nearly all on one side of the pairs (the ASCII
    commas, digits and line ends of a CSV)."""
    sample = data[:4096]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    # A Chinese character whose low byte is 0 (U+4E00 一) puts a few on the other side.
    return len(data) % 2 == 0 and max(even, odd) >= 4 and max(even, odd) >= 8 * min(even, odd)


def _names_a_column(text):
    traditional = text.replace("業", "业").replace("稱", "称").replace("號", "号").replace("區", "区") \
        .replace("統", "统").replace("會", "会").replace("碼", "码").replace("構", "构")
    return any(name in traditional for name in COLUMNS.values())


def _encoding_unknown():
    return RuleViolation("REGISTRY_FILE_ENCODING", "CSV 文件编码无法识别，请保存为 UTF-8、GBK 或带 BOM 的 UTF-16 编码（繁体 Big5 请另存为 UTF-8）",
                         errors={"file": ["文件编码无法识别"]})


# A CSV cell may be as long as the file (csv's default limit, 128 KiB, made a long cell a file fault
# "引号不配对"): the cell reaches its column's check, which reports it with the limit.
csv.field_size_limit(max(csv.field_size_limit(), MAX_FILE_BYTES))


def _csv_stream(data):
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    if '"' in text:
        _check_quotes(text, delimiter)
    rows = enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1)
    return RowStream("csv", rows, _csv_records(text, delimiter))


def _csv_records(text, delimiter):
    """The records of a CSV, counted as the import numbers its rows (by the csv module, ~0.2 s per
    150,000 rows: a quoted cell may hold a line break, and a Mac CSV ends its lines with CR alone)."""
    try:
        return sum(1 for _ in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:  # unbalanced quotes: the import reports them
        return text.count("\n") + (not text.endswith("\n"))


def _check_quotes(text, delimiter):
    """RuleViolation naming the row of a quote that is never closed. The csv reader (not strict, as
    Excel reads) takes everything from such a quote to the next quote, or to the end of the file,
    as one cell: the row looked empty and the rows it swallowed vanished. Such a row is a record
    that ends the file inside quotes, or runs over several lines and either does not read back
    under the strict rules or holds a line that looks like a row of its own (two delimiters: a name
    or batch with a line break and two commas is no registry's). Run before any row is read, so
    nothing is written."""
    lines = []

    def read_lines():
        for line in io.StringIO(text, newline=""):
            lines.append(line)
            yield line

    def unbalanced(record_text, cells, last):
        several_lines = record_text.rstrip("\r\n").count("\n") > 0
        if not (last or several_lines):
            return False
        if several_lines and any(part.count(delimiter) >= 2 for cell in cells if "\n" in cell
                                 for part in cell.split("\n")):
            return True
        try:
            for _ in csv.reader(io.StringIO(record_text, newline=""), delimiter=delimiter, strict=True):
                pass
        except csv.Error:
            return True
        return False

    records = csv.reader(read_lines(), delimiter=delimiter)
    number, pending = 0, None  # pending: (number, text, cells) of the record read before, not yet checked
    while True:
        lines.clear()
        cells = next(records, None)
        if pending is not None and '"' in pending[1] and unbalanced(pending[1], pending[2], last=cells is None):
            message = (f"CSV 文件第 {pending[0]} 行的引号没有配对：从这个引号起到文件末尾的内容会被读成一个单元格。"
                       "请补上或删除这个引号后重新导入")
            raise RuleViolation("REGISTRY_FILE_TYPE_INVALID", message, errors={"file": ["文件格式有误"]})
        if cells is None:
            return
        number += 1
        pending = (number, "".join(lines), cells)


def _long_cell(cell, marker):
    if isinstance(cell, str) and cell.startswith(marker):
        return LongCell(int(cell[len(marker):]))
    return cell


def _empty(cell):
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _blank(cells):
    return all(_empty(cell) for cell in cells)


# ---------------------------------------------------------------- header

def _header_key(cell):
    if cell is None:
        return None
    text = re.sub(r"[\s*:]", "", unicodedata.normalize("NFKC", str(cell)))  # ｎａｍｅ, 企业名称＊：
    text = re.sub(r"[（(].*?[)）]$", "", text)  # "所在地区（代码或名称）"
    return HEADER_ALIASES.get(text) or HEADER_ALIASES.get(text.lower())


def _header_columns(cells):
    """{field: column index} of the known column names in one row."""
    columns = {}
    for position, cell in enumerate(cells):
        field = _header_key(cell)
        if field and field not in columns:
            columns[field] = position
    return columns


# How far below the first 10 rows a header is looked for, to say where it is when it is too low.
HEADER_HINT_ROWS = 200


def _full_header(cells):
    columns = _header_columns(cells)
    return columns if all(field in columns for field in REQUIRED) else None


def find_header(rows, *, source=None, later=None):
    """(index of the header row in `rows`, {field: column index}); RuleViolation when none.

    rows: the first HEADER_SEARCH_ROWS kept rows (more are ignored); source: the RowStream or Sheet
    they came from, and later: the rows after them (an iterator), both only to say in the message
    what was searched and where the header is (further down, on another sheet)."""
    best_missing = None
    for index, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns = _header_columns(cells)
        missing = [COLUMNS[f] for f in REQUIRED if f not in columns]
        if not missing:
            return index, columns
        if columns and (best_missing is None or len(missing) < len(best_missing)):
            best_missing = missing
    if best_missing:
        message = f"表头缺少以下列：{'、'.join(best_missing)}"
    else:
        message = _no_header_message(source, rows[HEADER_SEARCH_ROWS:] if later is None else later)
    raise RuleViolation("REGISTRY_HEADER_INVALID", message, errors={"file": [message]},
                        extra={"required_columns": [COLUMNS[f] for f in REQUIRED]})


def _no_header_message(source, later):
    """What was searched, and what to do: the header's row when it sits lower, the sheet holding it
    when another sheet does, else to put the column names on the first row."""
    wanted = "、".join(COLUMNS[f] for f in REQUIRED)
    kind = getattr(source, "kind", None)
    sheet_name = getattr(source, "sheet_name", None)
    where = "文件" if kind == "csv" else f"第一个工作表“{sheet_name}”" if sheet_name else "第一个工作表"
    searched = f"在{where}的前 {HEADER_SEARCH_ROWS} 行（空行不计）中没有找到表头，应有列名：{wanted}（批次可选）。"
    for number, cells in itertools.islice(later, HEADER_HINT_ROWS):
        if _full_header(cells):
            return searched + f"第 {number} 行像是表头：请删除它上面多余的行，使表头位于前 {HEADER_SEARCH_ROWS} 行内，再重新导入"
    other = _sheet_with_header(source.data) if kind == "xlsx" and getattr(source, "data", None) else None
    if other:
        return searched + f"表头在工作表“{other}”中：只读取第一个工作表，请把“{other}”移到最前面（或删除其他工作表）后重新导入"
    return searched + "请在第一行填写这些列名（可下载导入模板）后重新导入"


def _sheet_with_header(data):
    """The name of a sheet after the first whose first rows hold the header, or None (a message's hint:
    any fault reading the other sheets is no answer)."""
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        try:
            for index, metadata in enumerate(workbook.sheets_metadata[1:], start=1):
                if metadata.typ != SheetTypeEnum.WorkSheet:
                    continue
                kept = (cells for cells in workbook.get_sheet_by_index(index).iter_rows() if not _blank(cells))
                if any(_full_header(cells[:MAX_COLUMNS]) for cells in itertools.islice(kept, HEADER_SEARCH_ROWS)):
                    return metadata.name
        finally:
            workbook.close()
    except Exception:  # noqa: BLE001 (a hint only)
        return None
    return None


# ---------------------------------------------------------------- cells

def _unescaped(value):
    """A cell as the person typed it: Excel stores a control character as `_x000B_` in the XML and
    openpyxl hands that text over as it is, where a CSV has the character itself. Both then go
    through the same cleaning (_text), so the two formats of one list store the same text."""
    return unescape(value) if isinstance(value, str) and "_x" in value else value


# Runs of spaces and control characters inside a cell (a tab, a line break typed with Alt+Enter, a
# vertical tab) are layout, not content: one space. Everything else follows the API's text fields.
_SPACES_AND_CONTROLS = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")
# The one cleaning of typed text (schemas.text.Text), with each column's limit: NFC; spaces,
# zero-width characters and BOMs trimmed at either end; lone surrogates, direction overrides and
# non-characters refused; nothing visible refused.
_CELL_TEXT = {field: Text(max_length=limit) for field, limit in CELL_LIMITS.items()}
_EDGE_SPACES = " \t\r\n\u3000\u00a0"
# Cells made only of these (ASCII, CJK ideographs and punctuation, full-width forms: the cells of
# nearly every list) are unchanged by Text.clean once their spaces are trimmed: NFC leaves them
# as they are, none is invisible, a control or a direction override. Checking 150,000 rows took
# 1.9 s of CPU before the text rules, 3.6 s with them on every cell, 2.1 s with this shortcut.
_PLAIN = re.compile("[ -~\u4e00-\u9fff\u3001-\u3011\u3014-\u301f\uff01-\uff5e\u2018\u2019\u201c\u201d\u00b7]+")


class CellFault(ValueError):
    """A cell its column refuses; `reason` names the column (a Chinese sentence for the report)."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _text(value, field):
    """A registry cell as stored ("" when empty); CellFault when its column refuses it: longer than
    CELL_LIMITS (said with the limit, never cut), or refused by the text rules (schemas.text.Text).
    Code-like columns are read with full-width characters as ASCII (CODE_LIKE)."""
    if value is None:
        return ""
    label, limit = COLUMNS[field], CELL_LIMITS[field]
    if isinstance(value, LongCell):
        raise CellFault(f"{label}不能超过 {limit} 个字（现为 {value.length} 个）")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    # Measured before anything copies it: a 300 MB cell is refused without being cleaned.
    length = len(text.strip(_EDGE_SPACES)) if len(text) > limit else 0
    if length > limit:
        raise CellFault(f"{label}不能超过 {limit} 个字（现为 {length} 个）")
    text = _SPACES_AND_CONTROLS.sub(" ", text)
    if field in CODE_LIKE:
        text = unicodedata.normalize("NFKC", text)
    plain = text.strip(" ")
    if _PLAIN.fullmatch(plain):
        return plain  # what Text.clean returns for it, without its loop over every character
    try:
        return _CELL_TEXT[field].clean(text)
    except ValidationError as exc:
        message = exc.messages[0].replace("后重新输入", "后重新导入")
        raise CellFault(f"{label}{message}") from None


def _credit_code(value):
    if isinstance(value, float):
        # Excel keeps 15 significant digits: an all-digit code typed into a number cell is already damaged.
        return None, "统一社会信用代码被 Excel 存成了数字，请将该列设置为文本格式后重新填写"
    text = _text(value, "credit_code")
    if not text:
        return None, "统一社会信用代码为空"
    try:
        return parse_credit_code(text), None
    except InvalidIdentifier as exc:
        return None, f"“{text}”：{exc.reason}"


def _region_index():
    index = {}
    for code, region in regions.all_regions().items():
        name = region["name"]
        index[code] = index[name] = code
        for suffix in _REGION_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix) + 1:
                index.setdefault(name[: -len(suffix)], code)
                break
    index.setdefault("兵团", "660000")
    return index


def _required_text(value, field):
    text = _text(value, field)
    return (text, None) if text else (None, f"{COLUMNS[field]}为空")


def _region(value, index):
    text = _text(value, "region_code")
    if not text:
        return None, "所在地区为空"
    code = index.get(text)
    if code is None:
        return None, f"所在地区“{text}”不在地区列表中（填写六位地区代码，如 440000，或地区名称，如 广东省）"
    return code, None


def normalise_title(text):
    """A title as people write it (`专精特新“小巨人”企业`, `小 巨 人`) -> one of TITLES, or None.
    The one reading of titles: the import and the registry's `title` filter."""
    compact = re.sub(r"[\s“”\"'‘’「」]", "", text or "")
    return compact if compact in TITLES else TITLE_ALIASES.get(compact)


def _title(value):
    text = _text(value, "title")
    if not text:
        return None, "称号为空"
    title = normalise_title(text)
    if title is None:
        return None, f"称号“{text}”不在可选范围内（{'、'.join(TITLES)}）"
    return title, None


def _date(value, field):
    label = COLUMNS[field]
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, f"{label}为空"
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        # A date cell without date formatting arrives as its Excel serial number.
        try:
            day = from_excel(value).date() if 1 <= value < 2958466 else None
        except (ValueError, OverflowError, TypeError):
            day = None
        if day is None:
            return None, f"{label}“{_text(value, field)}”不是有效日期"
    else:
        typed = _text(value, field)
        if not typed:
            return None, f"{label}为空"
        text = typed.split(" ")[0].split("T")[0]
        match = _DATE_TEXT.match(text)
        if match is None and re.fullmatch(r"\d{8}", text):
            match = re.match(r"(\d{4})(\d{2})(\d{2})", text)
        try:
            day = dt.date(*map(int, match.groups())) if match else None
        except ValueError:
            day = None
        if day is None:
            return None, f"{label}“{typed}”不是有效日期（应为 2024-07-01 或 2024/7/1）"
    if not 1990 <= day.year <= 2100:
        return None, f"{label}“{day.isoformat()}”超出合理范围"
    return day, None


# ---------------------------------------------------------------- rows

class Validator:
    """Checks data rows one at a time (a file is never held whole): `check(number, cells)` returns
    the entry to store or None (its faults kept). Problems are {row, column, reason}, one per
    fault; the first MAX_REPORTED_PROBLEMS are kept, all are counted."""

    def __init__(self, columns):
        self.columns, self.region_index = columns, _region_index()
        self.problems, self.problems_total = [], 0
        self.first_row_of = {}  # (credit_code, title) -> row number where it first appeared
        self.shared = {}  # dates and batches repeat down a list (one batch, one validity): one string each
        self.total = self.rejected = 0

    def _report(self, number, column, reason):
        self.problems_total += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(_problem(number, column, reason))

    @property
    def truncated(self):
        return self.problems_total > len(self.problems)

    def check(self, number, cells):
        columns = self.columns

        def cell(field):
            position = columns.get(field)
            return cells[position] if position is not None and position < len(cells) else None

        self.total += 1
        faults = []

        def read(field, reader, *args):
            try:
                value, reason = reader(cell(field), *args)
            except CellFault as fault:
                value, reason = None, fault.reason
            if reason:
                faults.append((field, reason))
            return value

        name = read("name", _required_text, "name")
        credit_code = read("credit_code", _credit_code)
        region_code = read("region_code", _region, self.region_index)
        title = read("title", _title)
        batch = read("batch", lambda value: (_text(value, "batch") or None, None))
        valid_from = read("valid_from", _date, "valid_from")
        valid_until = read("valid_until", _date, "valid_until")
        if valid_from and valid_until and valid_until < valid_from:
            faults.append(("valid_until", f"有效期止（{valid_until}）早于有效期起（{valid_from}）"))
        if credit_code and title:
            # The key counts from its first appearance even if that row is bad, so fixing the first
            # row later does not change which row wins.
            first = self.first_row_of.setdefault((credit_code, title), number)
            if first != number:
                faults.append(("credit_code", f"与第 {first} 行重复（统一社会信用代码和称号相同）"))
        if faults:
            self.rejected += 1
            for field, reason in faults:
                self._report(number, COLUMNS[field], reason)
            return None
        shared = self.shared
        return Entry(credit_code=credit_code, title=title, name=name, region_code=region_code,
                     batch=shared.setdefault(batch, batch),
                     valid_from=shared.setdefault(valid_from, valid_from.isoformat()),
                     valid_until=shared.setdefault(valid_until, valid_until.isoformat()))

    def ended_after_blank_run(self, row_number):
        """Report that a long blank run after `row_number` ended the sheet."""
        first_blank = row_number + 1
        self._report(first_blank, "", f"从第 {first_blank} 行起连续 {MAX_BLANK_RUN} 行为空，视为表格结束；"
                                      "如下面还有企业，请删除空行后重新导入")


def validate_rows(sheet):
    """Split a sheet into good entries and problems.

    Returns (entries, problems, total, rejected, truncated): entries are dicts with the stored fields,
    one per (credit_code, title); problems are {row, column, reason}, one per fault, several per row
    when a row has several faults.
    """
    header_index, columns = find_header(sheet.rows, source=sheet)
    validator = Validator(columns)
    entries = []
    for index in range(header_index + 1, len(sheet.rows)):
        number, cells = sheet.rows[index]
        sheet.rows[index] = None  # each row is let go once checked: rows and entries never peak together
        entry = validator.check(number, cells)
        if entry is not None:
            entries.append(entry)
    if sheet.ended_after_blank_run_at is not None:
        validator.ended_after_blank_run(sheet.ended_after_blank_run_at)
    return entries, validator.problems, validator.total, validator.rejected, validator.truncated


def template_sheets():
    """The sheets of the empty import template: the header, then how to fill it in."""
    notes = [
        (COLUMNS["name"], "必填", "营业执照上的企业名称"),
        (COLUMNS["credit_code"], "必填", "18 位统一社会信用代码；请将该列设置为文本格式"),
        (COLUMNS["region_code"], "必填", "六位地区代码（如 440000）或地区名称（如 广东省），见“地区”表"),
        (COLUMNS["title"], "必填", "、".join(TITLES)),
        (COLUMNS["batch"], "选填", "认定批次，如 第五批"),
        (COLUMNS["valid_from"], "必填", "日期，如 2024-07-01 或 2024/7/1"),
        (COLUMNS["valid_until"], "必填", "日期，不早于有效期起"),
    ]
    region_rows = [(code, r["name"]) for code, r in regions.all_regions().items()]
    return [("企业名录", list(COLUMNS.values()), []),
            ("填写说明", ["列名", "是否必填", "说明"], notes),
            ("地区", ["地区代码", "地区名称"], region_rows)]
