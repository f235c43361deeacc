"""A CSV whose quote is not closed is refused naming the row, before anything is written (issue 19 F10).

Python's csv reader (not strict) reads from an unclosed quote to the next quote, or to the end of the
file, as one cell: the row then looked empty (统一社会信用代码为空, 所在地区为空...) and the rows swallowed
after it vanished.
"""

import pytest

from service.registry import importer
from service.registry.repository import ENTERPRISES
from service.core.errors import RuleViolation
from tests.registry.helpers import csv_bytes, good_row, import_registry


def good_csv(rows=10):
    return csv_bytes([good_row(serial) for serial in range(1, rows + 1)])


def refused(data):
    with pytest.raises(RuleViolation) as error:
        importer.read_rows(data)
    assert error.value.code == "REGISTRY_FILE_TYPE_INVALID"
    return error.value.message


def test_an_unclosed_quote_on_the_last_row_is_refused_naming_the_row(client, db, admin_token):
    # badquote.csv of the trial: 10 good rows, then a row whose quote is never closed (row 12).
    data = good_csv() + '"北京未闭合,911,110000\n'.encode()
    report = import_registry(client, admin_token, data, filename="badquote.csv").json
    assert report["state"] == "failed", report
    assert report["error"]["code"] == "REGISTRY_FILE_TYPE_INVALID"
    assert report["error"]["message"] == ("CSV 文件第 12 行的引号没有配对：从这个引号起到文件末尾的内容会被读成一个单元格。"
                                          "请补上或删除这个引号后重新导入")
    assert db[ENTERPRISES].count_documents({}) == 0  # refused before any batch is written


def test_an_unclosed_quote_in_the_middle_names_its_row():
    lines = good_csv(5).decode("utf-8-sig").splitlines(keepends=True)
    lines.insert(3, '"北京未闭合,91110000MA00000,110000,小巨人,,2024-07-01,2027-06-30\n')  # row 4
    lines.insert(6, '北京"丙"公司,x",110000\n')  # a quote further down closes it: rows 4-7 would be one record
    assert "第 4 行的引号没有配对" in refused("".join(lines).encode())


@pytest.mark.parametrize("text", [
    '北京"小巨人"科技有限公司',  # quotes inside an unquoted cell are characters
    '5" 屏幕厂',
])
def test_quotes_inside_a_cell_are_text(text):
    entries, problems, *_ = importer.validate_rows(importer.read_rows(csv_bytes([good_row(1, name=text)])))
    assert problems == [] and entries[0]["name"] == text


def test_quoted_cells_with_commas_line_breaks_and_doubled_quotes_are_read():
    data = csv_bytes([good_row(1, name='北京"甲",乙\n丙有限公司'), good_row(2)])
    entries, problems, *_ = importer.validate_rows(importer.read_rows(data))
    assert problems == [] and [entry["name"] for entry in entries] == ['北京"甲",乙 丙有限公司', "北京精工科技有限公司2"]


def test_an_unclosed_quote_closed_by_a_quote_rows_later_is_found():
    lines = good_csv(6).decode("utf-8-sig").splitlines(keepends=True)
    lines.insert(2, '"北京未闭合,91110000MA00000,110000,小巨人,,2024-07-01,2027-06-30\n')  # row 3
    lines.insert(5, 'x",91110000MA00000,110000,小巨人,,2024-07-01,2027-06-30\n')  # reads back under strict rules
    assert "第 3 行的引号没有配对" in refused("".join(lines).encode())


def test_an_unclosed_quote_in_a_later_cell_of_the_last_row():
    assert "第 12 行的引号没有配对" in refused(good_csv() + '北京未闭合,"911,110000'.encode())
