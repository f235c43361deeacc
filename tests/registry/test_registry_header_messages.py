"""When no header is found the import says what was searched and what to do (issue 19 F11): a header
below the first 10 rows, a workbook whose header is on another sheet, a file without any."""

import io

from openpyxl import Workbook

from service.registry.repository import ENTERPRISES
from tests.registry.helpers import HEADER, csv_bytes, good_row, import_registry, xlsx_bytes

WANTED = "企业名称、统一社会信用代码、所在地区、称号、有效期起、有效期止（批次可选）"


def header_error(client, admin_token, data, filename="名录.xlsx"):
    report = import_registry(client, admin_token, data, filename).json
    assert report["state"] == "failed" and report["error"]["code"] == "REGISTRY_HEADER_INVALID", report
    return report["error"]["message"]


def test_header_on_row_12_says_where_it_is_and_what_to_do(client, db, admin_token):
    # header_row12.xlsx of the trial: 11 title lines, the header on row 12.
    preamble = [[f"第六批专精特新“小巨人”企业名单（说明第 {line} 行）"] for line in range(1, 12)]
    message = header_error(client, admin_token, xlsx_bytes([good_row(1)], preamble=preamble))
    assert message == ("在第一个工作表“Sheet”的前 10 行（空行不计）中没有找到表头，应有列名：" + WANTED
                       + "。第 12 行像是表头：请删除它上面多余的行，使表头位于前 10 行内，再重新导入")
    assert db[ENTERPRISES].count_documents({}) == 0


def test_header_on_another_sheet_names_that_sheet(client, db, admin_token):
    # wrongsheet.xlsx of the trial: sheet 1 "说明" with one sentence, the list on sheet 2.
    workbook = Workbook()
    workbook.active.title = "说明"
    workbook.active.append(["本表为第六批专精特新“小巨人”企业名单，请勿修改表头。"])
    listing = workbook.create_sheet("名单")
    listing.append(HEADER)
    listing.append(good_row(1))
    buffer = io.BytesIO()
    workbook.save(buffer)
    message = header_error(client, admin_token, buffer.getvalue())
    assert message == ("在第一个工作表“说明”的前 10 行（空行不计）中没有找到表头，应有列名：" + WANTED
                       + "。表头在工作表“名单”中：只读取第一个工作表，请把“名单”移到最前面（或删除其他工作表）后重新导入")
    assert db[ENTERPRISES].count_documents({}) == 0


def test_no_header_anywhere_says_what_was_searched(client, admin_token):
    message = header_error(client, admin_token, xlsx_bytes([["甲", "乙"], ["1", "2"]], header=["列1", "列2"]))
    assert message == ("在第一个工作表“Sheet”的前 10 行（空行不计）中没有找到表头，应有列名：" + WANTED
                       + "。请在第一行填写这些列名（可下载导入模板）后重新导入")


def test_a_csv_says_the_file_not_a_sheet(client, admin_token):
    data = "名单\n".encode() * 11 + csv_bytes([good_row(1)], encoding="utf-8")
    message = header_error(client, admin_token, data, filename="名录.csv")
    assert message.startswith("在文件的前 10 行（空行不计）中没有找到表头")
    assert "第 12 行像是表头" in message


def test_missing_columns_are_still_named(client, admin_token):
    header = ["企业名称", "统一社会信用代码", "称号", "有效期起"]
    message = header_error(client, admin_token, xlsx_bytes([good_row(1)[:2] + ["小巨人", "2024-07-01"]], header=header))
    assert message == "表头缺少以下列：所在地区、有效期止"
