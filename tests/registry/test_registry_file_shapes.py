"""Registry files shaped as WPS, LibreOffice and Excel really write them, built byte by byte here.

openpyxl's read-only mode trusts the sheet's <dimension>; these files lie about it in each way seen
in practice. Also: UTF-16 "Unicode text" from Excel, long runs of blank rows, the time budget.
Every test runs with both .xlsx readers: calamine (chosen when the sheet's XML shows a small
rectangle of cells) and openpyxl (the rest; forced here by allowing calamine no cells).
"""

import datetime as dt
import io
import zipfile
from xml.sax.saxutils import escape

import pytest

from service.core.errors import RuleViolation
from service.registry import importer
from tests.factories import credit_code
from tests.registry.helpers import HEADER, good_row

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
</Types>"""
ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"""
WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>
</Relationships>"""


@pytest.fixture(params=["calamine", "openpyxl"], autouse=True)
def reader(request, monkeypatch):
    if request.param == "openpyxl":
        monkeypatch.setattr(importer, "CALAMINE_MAX_CELLS", 0)
    return request.param


def _column(index):
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _cell_value(value):
    if isinstance(value, dt.date):
        return (value - dt.date(1899, 12, 30)).days  # a date serial, as spreadsheets store dates
    return value


def build_xlsx(rows, *, dimension, shared_strings=False, inline=False, extra_row_xml="", row_numbers=None,
               cell_refs=True):
    """An .xlsx with exactly this sheet XML: `dimension` as declared, strings shared (Excel, WPS)
    or inline (LibreOffice exports, streaming writers), with or without r= attributes."""
    strings, xml_rows = [], []
    for position, row in enumerate(rows):
        number = row_numbers[position] if row_numbers else position + 1
        cells = []
        for index, value in enumerate(row):
            value = _cell_value(value)
            ref = f' r="{_column(index)}{number}"' if cell_refs else ""
            if value is None:
                continue
            if isinstance(value, (int, float)):
                cells.append(f"<c{ref}><v>{value}</v></c>")
            elif inline:
                cells.append(f'<c{ref} t="inlineStr"><is><t>{escape(value)}</t></is></c>')
            else:
                strings.append(value)
                cells.append(f'<c{ref} t="s"><v>{len(strings) - 1}</v></c>')
        row_ref = f' r="{number}"' if cell_refs else ""
        xml_rows.append(f"<row{row_ref}>{''.join(cells)}</row>")
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f'<dimension ref="{dimension}"/><sheetData>{"".join(xml_rows)}{extra_row_xml}</sheetData></worksheet>')
    shared = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
              '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings) + "</sst>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        archive.writestr("xl/sharedStrings.xml", shared)
    return buffer.getvalue()


def validate(data):
    return importer.validate_rows(importer.read_rows(data))


def three_rows():
    return [HEADER, good_row(1), good_row(2), good_row(3)]


@pytest.mark.parametrize("shape", [
    {"dimension": "A1", "shared_strings": True},  # WPS: the dimension names one cell
    {"dimension": "A1:G2"},  # stale dimension: rows 3 and 4 are past it
    {"dimension": "A1:G2", "inline": True},  # LibreOffice-style inline strings
    {"dimension": "A1:G4", "cell_refs": False},  # streaming writers omit r= on rows and cells
    {"dimension": "A1:AMJ1048576"},  # LibreOffice's whole-sheet dimension
    {"dimension": "A1:XFD5000"},  # Excel's last column, declared
])
def test_every_row_is_read_whatever_the_dimension_says(shape):
    entries, problems, total, rejected, _ = validate(build_xlsx(three_rows(), **shape))
    assert problems == []
    assert (total, rejected) == (3, 0)
    assert [e["credit_code"] for e in entries] == [credit_code(1), credit_code(2), credit_code(3)]
    assert entries[0]["valid_from"] == "2024-07-01"


def test_declared_width_and_cells_far_right_are_not_kept():
    # A row with a stray value in column XFD and formatted empty cells all the way there.
    stray = "".join(f'<c r="{_column(i)}5" s="1"/>' for i in range(7, 300)) + '<c r="XFD5" t="inlineStr"><is><t>x</t></is></c>'
    data = build_xlsx(three_rows(), dimension="A1:XFD5000", extra_row_xml=f'<row r="5">{stray}</row>')
    sheet = importer.read_rows(data)
    assert max(len(cells) for _, cells in sheet.rows) <= len(HEADER)
    entries, problems, total, *_ = importer.validate_rows(sheet)
    assert len(entries) == 3 and total == 3


def test_header_wider_than_the_read_window_is_not_needed():
    # Extra columns beside the header are ignored once the header is known.
    header = HEADER + ["备注"] * 3
    rows = [header] + [good_row(i) + ["说明", None, "x" * 50] for i in (1, 2)]
    entries, problems, *_ = validate(build_xlsx(rows, dimension="A1"))
    assert problems == [] and len(entries) == 2


def test_a_long_run_of_blank_rows_ends_the_sheet_and_says_so(monkeypatch):
    monkeypatch.setattr(importer, "MAX_BLANK_RUN", 50)
    blank_rows = "".join(f'<row r="{n}"><c r="A{n}" s="1"/><c r="B{n}" s="1"/></row>' for n in range(5, 200))
    far = good_row(9)
    # A gap shorter than the run: the far row is read.
    data = build_xlsx(three_rows() + [far], dimension="A1", row_numbers=[1, 2, 3, 4, 40])
    data_with_blanks = build_xlsx(three_rows(), dimension="A1", extra_row_xml=blank_rows + build_row_xml(far, 250))
    entries, problems, total, rejected, _ = validate(data_with_blanks)
    assert len(entries) == 3
    assert [p["row"] for p in problems] == [5]
    assert "连续 50 行为空" in problems[0]["reason"]
    # Without the blank run, the far row is read.
    entries, problems, *_ = validate(data)
    assert len(entries) == 4 and problems == []


def build_row_xml(row, number):
    cells = []
    for index, value in enumerate(row):
        value = _cell_value(value)
        if isinstance(value, (int, float)):
            cells.append(f'<c r="{_column(index)}{number}"><v>{value}</v></c>')
        else:
            cells.append(f'<c r="{_column(index)}{number}" t="inlineStr"><is><t>{escape(value)}</t></is></c>')
    return f'<row r="{number}">{"".join(cells)}</row>'


def test_missing_rows_far_down_do_not_hold_the_worker(monkeypatch):
    # One data row at the sheet's last row: openpyxl yields a blank row for every missing one.
    monkeypatch.setattr(importer, "MAX_BLANK_RUN", 1000)
    data = build_xlsx(three_rows(), dimension="A1", extra_row_xml=build_row_xml(good_row(9), 1_048_576))
    entries, problems, *_ = validate(data)
    assert len(entries) == 3 and "连续 1000 行为空" in problems[0]["reason"]


def test_the_time_budget_refuses_a_file_that_takes_too_long(monkeypatch):
    monkeypatch.setattr(importer, "READ_TIME_BUDGET_SECONDS", -1)
    with pytest.raises(RuleViolation) as refused:
        importer.read_rows(build_xlsx(three_rows(), dimension="A1"))
    assert refused.value.code == "REGISTRY_FILE_TOO_SLOW" and refused.value.status == 413


def _unicode_text(rows):
    """Excel's "Unicode text (*.txt)": UTF-16 LE with a BOM, tab-separated, CR LF."""
    lines = ["\t".join("" if v is None else v.isoformat() if isinstance(v, dt.date) else str(v) for v in row)
             for row in rows]
    return "\r\n".join(lines).encode("utf-16")


@pytest.mark.parametrize("encode", [
    _unicode_text,
    lambda rows: b"\xfe\xff" + _unicode_text(rows).decode("utf-16").encode("utf-16-be"),
])
def test_utf16_with_a_bom_is_read(encode):
    entries, problems, total, rejected, _ = validate(encode(three_rows()))
    assert problems == [] and (total, rejected) == (3, 0)
    assert entries[2]["name"] == "北京精工科技有限公司3"


def test_utf16_that_is_not_utf16_is_an_encoding_error():
    with pytest.raises(RuleViolation) as refused:
        importer.read_rows(b"\xff\xfe" + b"\x00\xd8" + b"a\x00")  # a lone surrogate
    assert refused.value.code == "REGISTRY_FILE_ENCODING"


def _reader_used(monkeypatch, data):
    """"calamine" or "openpyxl": which reader read the file's rows."""
    with importer.open_rows(data) as stream:
        list(stream)
    return stream.reader


@pytest.mark.parametrize("shape, chosen", [
    ({"dimension": "A1", "shared_strings": True}, "calamine"),
    ({"dimension": "A1:G2", "inline": True}, "calamine"),
    ({"dimension": "A1:XFD5000"}, "calamine"),  # calamine sizes the sheet by its cells, not the dimension
    ({"dimension": "A1:G4", "cell_refs": False}, "openpyxl"),  # a cell without r=: its width is unknown
])
def test_the_fast_reader_is_chosen_only_for_a_small_rectangle(monkeypatch, reader, shape, chosen):
    expected = "openpyxl" if reader == "openpyxl" else chosen
    assert _reader_used(monkeypatch, build_xlsx(three_rows(), **shape)) == expected


def test_cells_far_right_or_far_down_are_read_by_openpyxl(monkeypatch, reader):
    # calamine would hold 16,384 columns of every row, or 1,048,576 rows of every column.
    stray = '<row r="5"><c r="XFD5" t="inlineStr"><is><t>x</t></is></c></row>'
    assert _reader_used(monkeypatch, build_xlsx(three_rows(), dimension="A1", extra_row_xml=stray)) == "openpyxl"
    far = build_row_xml(good_row(9), 1_048_576)
    assert _reader_used(monkeypatch, build_xlsx(three_rows(), dimension="A1", extra_row_xml=far)) == "openpyxl"
    # Columns Q to Z are within the rectangle calamine may hold.
    beside = '<row r="5"><c r="Z5" t="inlineStr"><is><t>x</t></is></c></row>'
    expected = "openpyxl" if reader == "openpyxl" else "calamine"
    assert _reader_used(monkeypatch, build_xlsx(three_rows(), dimension="A1", extra_row_xml=beside)) == expected


def _workbook_bytes(cells):
    """An .xlsx written by openpyxl (as Excel would: dates formatted as dates) with these
    {(row, column): value} cells."""
    from openpyxl import Workbook

    workbook = Workbook()
    for (row, column), value in cells.items():
        workbook.active.cell(row=row, column=column, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_cells(rows, *, first_row=1, first_column=1):
    return {(first_row + r, first_column + c): value for r, row in enumerate(rows) for c, value in enumerate(row)
            if value is not None}


def test_both_readers_read_every_kind_of_cell_alike(monkeypatch):
    """Dates as dates, datetimes and serial numbers; region codes as numbers; credit codes damaged
    as numbers; Excel's `_x000B_` escapes; a title line; a blank row; a sheet starting at C3."""
    rows = [
        ["第六批专精特新“小巨人”企业名单"], [],
        HEADER,
        good_row(1),
        good_row(2, valid_from=dt.datetime(2024, 7, 1, 9, 30), valid_until=dt.datetime(2027, 6, 30)),
        good_row(3)[:5] + [45474, 46568.0],  # serial numbers without a date format
        good_row(4)[:2] + [440000] + good_row(4)[3:],  # the region code typed as a number
        good_row(5)[:1] + [911101080000000000] + good_row(5)[2:],  # a credit code stored as a number
        good_row(6, name="钱_x000B_多多_x0001_有限公司"),
        [None] * 7,
        good_row(7)[:5] + ["2024-13-01", "2027/6/30"],
        good_row(8, title="专精特新“小巨人”企业", batch=6),
        good_row(1, name="重复"),
        [True, credit_code(10), "广东省", "单项冠军", None, "20240701", " 2027-06-30 "],
    ]

    def both(data):
        results = {}
        for reader, cells in (("calamine", 10_000_000), ("openpyxl", 0)):
            monkeypatch.setattr(importer, "CALAMINE_MAX_CELLS", cells)
            assert _reader_used(monkeypatch, data) == reader
            monkeypatch.undo()
            monkeypatch.setattr(importer, "CALAMINE_MAX_CELLS", cells)
            entries, problems, total, rejected, truncated = validate(data)
            results[reader] = ([dict(e) for e in entries], problems, total, rejected, truncated)
        return results

    for placement in ({}, {"first_row": 3, "first_column": 3}):
        results = both(_workbook_bytes(_sheet_cells(rows, **placement)))
        assert results["calamine"] == results["openpyxl"]
        entries, problems, total, rejected, _ = results["calamine"]
        assert (total, rejected) == (10, 3)
        assert {p["reason"].split("“")[0] for p in problems} >= {"统一社会信用代码被 Excel 存成了数字，请将该列设置为文本格式后重新填写",
                                                                 "有效期起", "与第 {} 行重复（统一社会信用代码和称号相同）".format(4 + placement.get("first_row", 1) - 1)}
        by_code = {e["credit_code"]: e for e in entries}
        assert by_code[credit_code(2)]["valid_from"] == "2024-07-01"
        assert by_code[credit_code(3)]["valid_until"] == "2027-06-30"
        assert by_code[credit_code(4)]["region_code"] == "440000"
        assert by_code[credit_code(6)]["name"] == "钱 多多 有限公司"
        assert (by_code[credit_code(8)]["title"], by_code[credit_code(8)]["batch"]) == ("小巨人", "6")
        assert by_code[credit_code(10)]["name"] == "True"
        first_data_row = 4 + placement.get("first_row", 1) - 1
        assert {p["row"] for p in problems} == {first_data_row + 4, first_data_row + 7, first_data_row + 9}


def test_a_file_calamine_cannot_read_is_read_by_openpyxl(monkeypatch):
    from python_calamine import CalamineError

    def refuse(*args, **kwargs):
        raise CalamineError("cannot read")

    monkeypatch.setattr(importer.CalamineWorkbook, "from_filelike", refuse)
    data = build_xlsx(three_rows(), dimension="A1")
    assert _reader_used(monkeypatch, data) == "openpyxl"
    entries, problems, total, *_ = validate(data)
    assert (len(entries), problems, total) == (3, [], 3)
