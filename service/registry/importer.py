"""Reading a registry file (企业名录): .xlsx or CSV in, validated rows and bad-row reasons out.

No database here: `read_rows` turns the bytes into rows, `validate_rows` splits them into the
entries to import and the problems to report. File-level problems (not a spreadsheet, no header,
too big) raise RuleViolation before anything is written.
"""

import csv
import dataclasses
import datetime as dt
import io
import re
import time
import zipfile

from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel

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
# Reading one file stops after this many seconds: a pathological file does not hold a worker, and
# the user gets an answer in Chinese before gunicorn's 60 s worker timeout kills the request.
READ_TIME_BUDGET_SECONDS = 45

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


class Entry:
    """One good row: (credit_code, title, name, region_code, batch, valid_from, valid_until).

    Reads like a dict (entry["name"], dict(entry)) but with slots: a 200,000-row file keeps all its
    entries until they are written, and a dict per row would be twice the memory.
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
    """The file's rows, detected by content (an .xlsx is a zip), never by its name."""
    if len(data) > MAX_FILE_BYTES:
        raise RuleViolation("REGISTRY_FILE_TOO_LARGE", "文件不能超过 20 MB，请分成几个文件导入", status=413)
    if not data.strip():
        raise RuleViolation("REGISTRY_FILE_EMPTY", "文件是空的", errors={"file": ["请选择文件"]})
    deadline = time.monotonic() + READ_TIME_BUDGET_SECONDS
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_sheet(data, deadline)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise RuleViolation("REGISTRY_FILE_TYPE_INVALID", "不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 后上传",
                            errors={"file": ["文件格式不支持"]})
    return _csv_sheet(data, deadline)


def _not_a_spreadsheet():
    return RuleViolation("REGISTRY_FILE_TYPE_INVALID", "只能导入 Excel（.xlsx）或 CSV 文件",
                         errors={"file": ["文件格式不支持"]})


def _xlsx_sheet(data, deadline):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise _not_a_spreadsheet() from None
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise RuleViolation("REGISTRY_FILE_TOO_LARGE", "Excel 文件内容过大，请分成几个文件导入", status=413)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises KeyError, ValueError, InvalidFileException... for non-workbooks
        raise _not_a_spreadsheet() from None
    try:
        if not workbook.worksheets:
            raise _not_a_spreadsheet()
        sheet = workbook.worksheets[0]
        # Read-only mode trusts the sheet's <dimension>: WPS writes "A1" (every row but the first
        # vanishes), stale files say "A1:G2" (later rows vanish) and others "A1:XFD5000" (every row
        # padded to 16,384 cells: hundreds of MB). Forget it and read the rows that are there, no
        # further right than MAX_COLUMNS.
        sheet.reset_dimensions()
        rows = enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1)
        return _collect("xlsx", rows, deadline)
    finally:
        workbook.close()


def _decode(data):
    # Excel's "Unicode text" is UTF-16 with a byte-order mark (and tab-separated).
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise _encoding_unknown() from None
    if b"\x00" in data:  # other text files have no NUL bytes; images, PDFs and archives do
        raise _not_a_spreadsheet()
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK unless told UTF-8
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _encoding_unknown()


def _encoding_unknown():
    return RuleViolation("REGISTRY_FILE_ENCODING", "CSV 文件编码无法识别，请保存为 UTF-8、GBK 或 UTF-16 编码",
                         errors={"file": ["文件编码无法识别"]})


def _csv_sheet(data, deadline):
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    rows = enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1)
    try:
        return _collect("csv", rows, deadline)
    except csv.Error:
        raise RuleViolation("REGISTRY_FILE_TYPE_INVALID", "CSV 文件格式有误（引号不配对等），无法读取",
                            errors={"file": ["文件格式有误"]}) from None


def _collect(kind, numbered_rows, deadline):
    """Keep the non-blank rows, each cut to the columns that matter, within the time budget."""
    rows, blank_run, width = [], 0, MAX_COLUMNS
    for number, cells in numbered_rows:
        if time.monotonic() > deadline:
            raise RuleViolation("REGISTRY_FILE_TOO_SLOW",
                                f"文件在 {READ_TIME_BUDGET_SECONDS} 秒内未能读完，请删除多余的空行空列或分成几个文件导入",
                                status=413, errors={"file": ["文件读取超时"]})
        cells = tuple(cells[:width])
        if _blank(cells):
            blank_run += 1
            if blank_run >= MAX_BLANK_RUN and rows:
                return Sheet(kind, rows, ended_after_blank_run_at=number - blank_run)
            continue
        blank_run = 0
        end = len(cells)
        while end and _empty(cells[end - 1]):
            end -= 1
        rows.append((number, cells[:end]))
        if width == MAX_COLUMNS and len(rows) <= HEADER_SEARCH_ROWS:
            columns = _header_columns(cells)
            if all(field in columns for field in REQUIRED):
                width = max(columns.values()) + 1  # columns past the header's are never kept
        _check_row_count(rows)
    return Sheet(kind, rows)


def _empty(cell):
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _blank(cells):
    return all(_empty(cell) for cell in cells)


def _check_row_count(rows):
    # The header is one of the rows read, hence the + 1.
    if len(rows) > MAX_ROWS + 1:
        raise RuleViolation("REGISTRY_TOO_MANY_ROWS",
                            f"一次最多导入 {MAX_ROWS} 行，请分成几个文件导入", status=413)


# ---------------------------------------------------------------- header

def _header_key(cell):
    if cell is None:
        return None
    text = re.sub(r"[\s*＊:：]", "", str(cell))
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


def find_header(rows):
    """(index of the header row in `rows`, {field: column index}); RuleViolation when none."""
    best_missing = None
    for index, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns = _header_columns(cells)
        missing = [COLUMNS[f] for f in REQUIRED if f not in columns]
        if not missing:
            return index, columns
        if columns and (best_missing is None or len(missing) < len(best_missing)):
            best_missing = missing
    wanted = "、".join(COLUMNS[f] for f in REQUIRED)
    if best_missing:
        message = f"表头缺少以下列：{'、'.join(best_missing)}"
    else:
        message = f"没有找到表头；第一行应为列名：{wanted}（批次可选）"
    raise RuleViolation("REGISTRY_HEADER_INVALID", message, errors={"file": [message]},
                        extra={"required_columns": [COLUMNS[f] for f in REQUIRED]})


# ---------------------------------------------------------------- cells

def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"\s+", " ", str(value)).strip()


def _credit_code(value):
    if isinstance(value, float):
        # Excel keeps 15 significant digits: an all-digit code typed into a number cell is already damaged.
        return None, "统一社会信用代码被 Excel 存成了数字，请将该列设置为文本格式后重新填写"
    text = _text(value)
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


def _region(value, index):
    text = _text(value)
    if not text:
        return None, "所在地区为空"
    code = index.get(text)
    if code is None:
        return None, f"所在地区“{text}”不在地区列表中（填写六位地区代码，如 440000，或地区名称，如 广东省）"
    return code, None


def _title(value):
    text = _text(value)
    if not text:
        return None, "称号为空"
    compact = re.sub(r"[\s“”\"'‘’「」]", "", text)
    title = compact if compact in TITLES else TITLE_ALIASES.get(compact)
    if title is None:
        return None, f"称号“{text}”不在可选范围内（{'、'.join(TITLES)}）"
    return title, None


def _date(value, label):
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
            return None, f"{label}“{_text(value)}”不是有效日期"
    else:
        text = _text(value).split(" ")[0].split("T")[0]
        match = _DATE_TEXT.match(text)
        if match is None and re.fullmatch(r"\d{8}", text):
            match = re.match(r"(\d{4})(\d{2})(\d{2})", text)
        try:
            day = dt.date(*map(int, match.groups())) if match else None
        except ValueError:
            day = None
        if day is None:
            return None, f"{label}“{_text(value)}”不是有效日期（应为 2024-07-01 或 2024/7/1）"
    if not 1990 <= day.year <= 2100:
        return None, f"{label}“{day.isoformat()}”超出合理范围"
    return day, None


# ---------------------------------------------------------------- rows

def validate_rows(sheet):
    """Split a sheet into good entries and problems.

    Returns (entries, problems, total, rejected, truncated): entries are Entry (dict-like) with the stored fields,
    one per (credit_code, title); problems are {row, column, reason}, one per fault, several per row
    when a row has several faults.
    """
    header_index, columns = find_header(sheet.rows)
    region_index = _region_index()
    entries, problems = [], []
    first_row_of = {}  # (credit_code, title) -> row number where it first appeared
    shared = {}
    rejected = 0
    total = len(sheet.rows) - header_index - 1
    for index in range(header_index + 1, len(sheet.rows)):
        number, cells = sheet.rows[index]
        sheet.rows[index] = None  # each row is let go once checked: rows and entries never peak together
        def cell(field):
            position = columns.get(field)
            return cells[position] if position is not None and position < len(cells) else None

        faults = []
        name = _text(cell("name"))
        if not name:
            faults.append(("name", "企业名称为空"))
        elif len(name) > 200:
            faults.append(("name", "企业名称超过 200 个字"))
        credit_code, reason = _credit_code(cell("credit_code"))
        if reason:
            faults.append(("credit_code", reason))
        region_code, reason = _region(cell("region_code"), region_index)
        if reason:
            faults.append(("region_code", reason))
        title, reason = _title(cell("title"))
        if reason:
            faults.append(("title", reason))
        batch = _text(cell("batch"))[:50] or None
        valid_from, reason = _date(cell("valid_from"), "有效期起")
        if reason:
            faults.append(("valid_from", reason))
        valid_until, reason = _date(cell("valid_until"), "有效期止")
        if reason:
            faults.append(("valid_until", reason))
        if valid_from and valid_until and valid_until < valid_from:
            faults.append(("valid_until", f"有效期止（{valid_until}）早于有效期起（{valid_from}）"))
        if credit_code and title:
            # The key counts from its first appearance even if that row is bad, so fixing the first
            # row later does not change which row wins.
            first = first_row_of.setdefault((credit_code, title), number)
            if first != number:
                faults.append(("credit_code", f"与第 {first} 行重复（统一社会信用代码和称号相同）"))
        if faults:
            rejected += 1
            problems.extend(_problem(number, COLUMNS[field], reason) for field, reason in faults)
            continue
        # Dates and batches repeat down a list (one batch, one validity): one string each, shared.
        entries.append(Entry(credit_code=credit_code, title=title, name=name, region_code=region_code,
                             batch=shared.setdefault(batch, batch),
                             valid_from=shared.setdefault(valid_from, valid_from.isoformat()),
                             valid_until=shared.setdefault(valid_until, valid_until.isoformat())))
    if sheet.ended_after_blank_run_at is not None:
        first_blank = sheet.ended_after_blank_run_at + 1
        problems.append(_problem(first_blank, "", f"从第 {first_blank} 行起连续 {MAX_BLANK_RUN} 行为空，视为表格结束；"
                                                  "如下面还有企业，请删除空行后重新导入"))
    truncated = len(problems) > MAX_REPORTED_PROBLEMS
    return entries, problems[:MAX_REPORTED_PROBLEMS], total, rejected, truncated


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
