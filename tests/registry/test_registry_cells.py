"""Registry cells follow the API's text rules (schemas.text.Text), code-like columns are read the same
whatever the width of their digits, and no column is cut silently (issue 19 F2, F3, F7)."""

import datetime as dt
import re

import pytest

from service.registry import importer
from service.registry.repository import ENTERPRISES
from tests.factories import credit_code
from tests.registry.helpers import HEADER, csv_bytes, good_row, import_registry, replace_in_xlsx, xlsx_bytes


def validate(data):
    return importer.validate_rows(importer.read_rows(data))


def reasons(problems):
    return {(p["row"], p["column"]): p["reason"] for p in problems}


def with_cell(column, value, serial=1):
    row = good_row(serial)
    row[HEADER.index(column)] = value
    return row


# ---------------------------------------------------------------- F2: the text rules of the API

@pytest.mark.parametrize("make", [xlsx_bytes, csv_bytes])
def test_invisible_characters_at_the_edges_are_removed_as_in_text_fields(make):
    # quirk_wps.xlsx row 8: a Word paste with full-width and no-break spaces, a tab, a vertical tab
    # and a trailing zero-width space.
    typed = "\u3000北京\u00a0戊  科技\t有限\x0b公司\u200b "
    if make is xlsx_bytes:
        typed = typed.replace("\x0b", "_x000B_")  # as Excel stores it
    entries, problems, *_ = validate(make([with_cell("企业名称", typed), with_cell("批次", "\ufeff第六批\u2060", 2)]))
    assert problems == []
    assert [entry["name"] for entry in entries] == ["北京 戊 科技 有限 公司", "北京精工科技有限公司2"]
    assert entries[1]["batch"] == "第六批"


@pytest.mark.parametrize("column, typed, reason", [
    ("企业名称", "北京癸\u202e科技有限公司", "企业名称含有改变文字方向的控制字符，请删除后重新导入"),
    ("企业名称", "北京\u2066癸科技有限公司", "企业名称含有改变文字方向的控制字符"),
    ("批次", "第六批\u202d", "批次含有改变文字方向的控制字符"),
    ("称号", "小巨人\u202e", "称号含有改变文字方向的控制字符"),
    ("企业名称", "北京\uffff科技有限公司", "企业名称含有无效字符（U+FFFF），请删除后重新导入"),  # F13
    ("批次", "第\ufdd0批", "批次含有无效字符（U+FDD0）"),
    ("所在地区", "110000\ufffe", "所在地区含有无效字符（U+FFFE）"),
    ("企业名称", "\u200b\u200b\u3164", "企业名称不能只包含空格或不可见字符"),
])
def test_a_cell_the_text_rules_refuse_makes_the_row_faulty_and_names_the_column(column, typed, reason):
    files = [csv_bytes([with_cell(column, typed), good_row(2)])]
    if not re.search("[\ufffe\uffff]", typed):  # XML cannot hold U+FFFE / U+FFFF: no .xlsx has them
        files.append(xlsx_bytes([with_cell(column, typed), good_row(2)]))
    for data in files:
        entries, problems, total, rejected, _ = validate(data)
        assert (total, rejected, len(entries)) == (2, 1, 1)
        assert list(reasons(problems)) == [(2, column)]
        assert reason in reasons(problems)[(2, column)]


def test_a_lone_surrogate_is_a_faulty_cell_not_a_failed_import():
    # Only openpyxl's reading of an escape (_xD800_) can make one; MongoDB could not store it.
    with pytest.raises(importer.CellFault, match="企业名称含有无法识别的字符"):
        importer._text("北京\ud800科技有限公司", "name")


def test_direction_override_is_refused_through_the_api_and_nothing_stored(client, db, admin_token):
    data = xlsx_bytes([with_cell("企业名称", "北京癸\u202e科技有限公司"), good_row(2)])
    report = import_registry(client, admin_token, data).json
    assert (report["state"], report["inserted"], report["rejected"]) == ("done", 1, 1)
    assert report["bad_rows"] == [{"row": 2, "column": "企业名称",
                                   "reason": "企业名称含有改变文字方向的控制字符，请删除后重新导入"}]
    assert [doc["credit_code"] for doc in db[ENTERPRISES].find()] == [credit_code(2)]


# ---------------------------------------------------------------- F3: full-width digits

def _full_width(text):
    return text.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-/."})


@pytest.mark.parametrize("make", [xlsx_bytes, csv_bytes])
def test_a_row_pasted_from_word_with_full_width_digits_in_every_column(make):
    row = ["北京１号科技有限公司", _full_width(credit_code(1)), "１１００００", "专精特新“小巨人”企业", "第６批",
           "２０２４－０７－０１", "２０２７年６月３０日"]
    rows = [row, ["深圳２号有限公司", _full_width(credit_code(2, "440300")), "４４０３００", "小巨人", "",
                  "２０２４／７／１", "２０２７．６．３０"]]
    entries, problems, *_ = validate(make(rows))
    assert problems == []
    assert [dict(entry) for entry in entries] == [
        {"credit_code": credit_code(1), "title": "小巨人", "name": "北京１号科技有限公司", "region_code": "110000",
         "batch": "第６批", "valid_from": "2024-07-01", "valid_until": "2027-06-30"},
        {"credit_code": credit_code(2, "440300"), "title": "小巨人", "name": "深圳２号有限公司",
         "region_code": "440300", "batch": None, "valid_from": "2024-07-01", "valid_until": "2027-06-30"}]


@pytest.mark.parametrize("typed", ["１１００００", "110000\u200b", " １１００００ ", "北京市\u200b"])
def test_region_codes_are_read_whatever_their_width_and_invisible_edges(typed):
    entries, problems, *_ = validate(xlsx_bytes([with_cell("所在地区", typed)]))
    assert problems == [] and entries[0]["region_code"] == "110000"


# ---------------------------------------------------------------- F7: limits, never a silent cut

@pytest.mark.parametrize("column, limit", sorted(importer.CELL_LIMITS_BY_COLUMN.items()))
def test_a_cell_over_its_column_limit_is_reported_with_the_limit(column, limit):
    typed = "第" * (limit + 1) if column in ("企业名称", "批次") else "1" * (limit + 1)
    entries, problems, total, rejected, _ = validate(xlsx_bytes([with_cell(column, typed), good_row(2)]))
    assert (total, rejected, len(entries)) == (2, 1, 1)
    assert reasons(problems) == {(2, column): f"{column}不能超过 {limit} 个字（现为 {limit + 1} 个）"}


@pytest.mark.parametrize("column", ["企业名称", "批次"])
def test_text_at_its_limit_is_kept_whole(column):
    limit = importer.CELL_LIMITS_BY_COLUMN[column]
    entries, problems, *_ = validate(xlsx_bytes([with_cell(column, "精" * limit)]))
    assert problems == []
    assert entries[0]["name" if column == "企业名称" else "batch"] == "精" * limit


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_a_megabyte_batch_is_reported_not_cut(client, db, admin_token, kind):
    rows = [with_cell("批次", "B" * (1 << 20)), good_row(2)]
    if kind == "xlsx":  # openpyxl writes at most 32,767 characters: the long text is put in afterwards
        rows[0][HEADER.index("批次")] = "PLACEHOLDER"
        data = replace_in_xlsx(xlsx_bytes(rows), "PLACEHOLDER", "B" * (1 << 20))
    else:
        data = csv_bytes(rows)
    report = import_registry(client, admin_token, data).json
    assert (report["state"], report["inserted"], report["rejected"]) == ("done", 1, 1), report
    assert report["bad_rows"] == [{"row": 2, "column": "批次", "reason": "批次不能超过 50 个字（现为 1048576 个）"}]
    assert db[ENTERPRISES].count_documents({"batch": {"$regex": "^B"}}) == 0


@pytest.mark.parametrize("column", ["统一社会信用代码", "所在地区", "称号", "有效期起"])
def test_a_long_cell_is_never_copied_whole_into_the_report(column):
    _, problems, *_ = validate(csv_bytes([with_cell(column, "9" * 100_000)]))
    assert len(problems) == 1 and len(problems[0]["reason"]) < 100
    assert "100000" in problems[0]["reason"]


def test_every_limit_is_in_the_guide():
    from pathlib import Path

    guide = Path(__file__).resolve().parents[2].joinpath("miniprogram-api.md").read_text(encoding="utf-8")
    for column, limit in importer.CELL_LIMITS_BY_COLUMN.items():
        assert f"| {column} | {limit} |" in guide


def test_dates_keep_reading_every_documented_form():
    row = with_cell("有效期起", "２０２４年７月１日")
    row[HEADER.index("有效期止")] = dt.datetime(2027, 6, 30)
    entries, problems, *_ = validate(xlsx_bytes([row]))
    assert problems == [] and (entries[0]["valid_from"], entries[0]["valid_until"]) == ("2024-07-01", "2027-06-30")


def _shared_string_xlsx(text, column="批次"):
    """An .xlsx whose `column` cell of row 2 is a shared string holding `text` (bomb300.xlsx of the trial:
    a 312 KB upload whose shared string unpacks to 300 MB)."""
    import io
    import zipfile

    rows = [with_cell(column, "PLACEHOLDER"), good_row(2)]
    plain = zipfile.ZipFile(io.BytesIO(xlsx_bytes(rows)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in plain.infolist():
            member = plain.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                member = re.sub(rb'<c r="([A-Z]+2)" t="inlineStr"><is><t>PLACEHOLDER</t></is></c>',
                                rb'<c r="\1" t="s"><v>0</v></c>', member)
                assert b't="s"' in member
            elif info.filename == "[Content_Types].xml":
                member = member.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            elif info.filename == "xl/_rels/workbook.xml.rels":
                member = member.replace(b"</Relationships>", b'<Relationship Id="rIdSS" Type="http://schemas.openxmlformats.org/'
                                        b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                                        b"</Relationships>")
            target.writestr(info, member)
        with target.open("xl/sharedStrings.xml", "w") as shared:
            shared.write(b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
                         b'spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>')
            piece = text[:1 << 20].encode()
            for _ in range(len(text) // len(text[:1 << 20])):
                shared.write(piece)
            shared.write(b"</t></si></sst>")
    return out.getvalue()


@pytest.mark.parametrize("reader", ["calamine", "openpyxl"])
@pytest.mark.parametrize("column", ["批次", "企业名称", "统一社会信用代码", "有效期起"])
def test_a_huge_shared_string_is_reported_without_being_read_whole(monkeypatch, reader, column):
    """The 8 MB cell is measured while the file is unpacked, never held: its row is reported with its length."""
    if reader == "openpyxl":
        monkeypatch.setattr(importer, "CALAMINE_MAX_CELLS", 0)
    read_whole = []
    real_text = importer._text
    monkeypatch.setattr(importer, "_text", lambda value, field: read_whole.append(len(str(value))) or real_text(value, field))
    data = _shared_string_xlsx("甲" * (8 << 20), column)
    assert len(data) < 200_000
    entries, problems, total, rejected, _ = validate(data)
    limit = importer.CELL_LIMITS_BY_COLUMN[column]
    assert (total, rejected, [entry["credit_code"] for entry in entries]) == (2, 1, [credit_code(2)])
    assert reasons(problems) == {(2, column): f"{column}不能超过 {limit} 个字（现为 {8 << 20} 个）"}
    assert max(read_whole) < importer.LONG_TEXT_BYTES


def test_a_long_text_the_size_excel_can_hold_is_read_as_usual():
    data = _shared_string_xlsx("甲" * 32_767)
    _, problems, *_ = validate(data)
    assert reasons(problems) == {(2, "批次"): "批次不能超过 50 个字（现为 32767 个）"}


@pytest.mark.parametrize("text", ["甲&<\"" * 100_000, "B" * 300_000, "𠇔" * 70_000])
def test_a_long_inline_text_is_measured_in_characters(text):
    rows = [with_cell("企业名称", "PLACEHOLDER"), good_row(2), with_cell("批次", "PLACEHOLDER2", 3)]
    data = replace_in_xlsx(replace_in_xlsx(xlsx_bytes(rows), "PLACEHOLDER2", text + "x"), "PLACEHOLDER", text)
    entries, problems, *_ = validate(data)
    assert [entry["credit_code"] for entry in entries] == [credit_code(2)]
    assert reasons(problems) == {(2, "企业名称"): f"企业名称不能超过 200 个字（现为 {len(text)} 个）",
                                 (4, "批次"): f"批次不能超过 50 个字（现为 {len(text) + 1} 个）"}


@pytest.mark.parametrize("shift", range(13))
def test_a_long_text_is_counted_exactly_wherever_the_chunks_cut_it(shift):
    """An entity (&amp;) or a character cut by the 1 MiB chunk boundary is counted once."""
    import io

    xml = b"<a><t>" + ("甲&amp;&lt;x" * 250_000).encode() + b"</t><t>ok</t></a>"  # 13 bytes, 4 characters a time

    class Chunks(io.BytesIO):
        def read(self, size=-1):
            return super().read(size + shift if size == 1 << 20 else size)

    out = io.BytesIO()
    importer._copy_shortening(Chunks(xml), out, "M:")
    assert out.getvalue() == b"<a><t>M:1000000</t><t>ok</t></a>"


def test_a_header_typed_in_full_width_is_found():
    header = ["ｎａｍｅ", "统一社会信用代码＊", "所在地区（代码或名称）", "称号：", "批次", "ｖａｌｉｄ＿ｆｒｏｍ", "有效期止"]
    entries, problems, *_ = validate(xlsx_bytes([good_row(1)], header=header))
    assert problems == [] and len(entries) == 1


def test_the_shortcut_for_plain_cells_keeps_what_the_text_rules_keep():
    """Every character the shortcut lets through alone is one Text.clean keeps as it is."""
    from schemas.text import Text

    field = Text(max_length=10)
    for code in range(0x10000):
        char = chr(code)
        if char != " " and importer._PLAIN.fullmatch(char):
            assert field.clean(f"甲{char}乙") == f"甲{char}乙" and field.clean(char) == char, hex(code)
