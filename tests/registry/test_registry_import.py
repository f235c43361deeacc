"""Registry import through the HTTP API: good rows in, every bad row reported, re-import idempotent."""

import datetime as dt
import io

import pytest

from service.registry.repository import ENTERPRISES, REGISTRY_IMPORTS
from tests.conftest import bearer
from tests.factories import credit_code
from tests.registry.helpers import csv_bytes, good_row, import_registry, xlsx_bytes

URL = "/api/v1/registry/imports"


def upload(client, token, data, filename="名录.xlsx"):
    return import_registry(client, token, data, filename)


def bad_checksum(code):
    return code[:-1] + ("0" if code[-1] != "0" else "1")


def mixed_rows():
    return [
        good_row(1),                                                                  # row 2
        good_row(2)[:1] + [bad_checksum(credit_code(2))] + good_row(2)[2:],          # row 3
        good_row(3)[:2] + ["999999"] + good_row(3)[3:],                               # row 4
        good_row(4, title="优秀企业"),                                                 # row 5
        good_row(5)[:5] + ["2024-13-01", dt.date(2027, 6, 30)],                        # row 6
        good_row(6, valid_from=dt.date(2027, 1, 1), valid_until=dt.date(2024, 1, 1)),  # row 7
        good_row(1, name="北京精工科技有限公司（重复）"),                                # row 8
        good_row(8, name=""),                                                         # row 9
        ["深圳微电子有限公司", credit_code(9, "440300"), "广东省", "单项冠军", "", "2024/7/1", "2027/6/30"],  # row 10
    ]


def test_mixed_file_imports_good_rows_and_reports_each_bad_row(client, db, admin_token):
    response = upload(client, admin_token, xlsx_bytes(mixed_rows()))
    assert response.status_code == 200, response.json
    report = response.json
    assert (report["total"], report["inserted"], report["updated"], report["unchanged"], report["rejected"]) == \
        (9, 2, 0, 0, 7)
    assert report["file_kind"] == "xlsx" and report["file_name"] == "名录.xlsx"
    reasons = {(bad["row"], bad["column"]): bad["reason"] for bad in report["bad_rows"]}
    assert sorted(reasons) == [(3, "统一社会信用代码"), (4, "所在地区"), (5, "称号"), (6, "有效期起"),
                               (7, "有效期止"), (8, "统一社会信用代码"), (9, "企业名称")]
    assert "校验位不正确" in reasons[(3, "统一社会信用代码")]
    assert "999999" in reasons[(4, "所在地区")] and "不在地区列表中" in reasons[(4, "所在地区")]
    assert "优秀企业" in reasons[(5, "称号")]
    assert "2024-13-01" in reasons[(6, "有效期起")]
    assert "早于" in reasons[(7, "有效期止")]
    assert reasons[(8, "统一社会信用代码")] == "与第 2 行重复（统一社会信用代码和称号相同）"
    assert reasons[(9, "企业名称")] == "企业名称为空"

    stored = {doc["credit_code"]: doc for doc in db[ENTERPRISES].find()}
    assert set(stored) == {credit_code(1), credit_code(9, "440300")}
    first = stored[credit_code(1)]
    assert (first["name"], first["region_code"], first["title"], first["batch"], first["valid_from"],
            first["valid_until"]) == ("北京精工科技有限公司1", "110000", "小巨人", "第六批", "2024-07-01", "2027-06-30")
    shenzhen = stored[credit_code(9, "440300")]
    assert (shenzhen["region_code"], shenzhen["title"], shenzhen["batch"], shenzhen["valid_from"]) == \
        ("440000", "单项冠军", None, "2024-07-01")
    assert db[REGISTRY_IMPORTS].count_documents({}) == 1


def test_reimport_changes_nothing(client, db, admin_token):
    data = xlsx_bytes([good_row(serial) for serial in range(1, 31)])
    first = upload(client, admin_token, data).json
    assert (first["inserted"], first["updated"], first["unchanged"]) == (30, 0, 0)
    before = {doc["_id"]: doc for doc in db[ENTERPRISES].find()}
    again = upload(client, admin_token, data).json
    assert (again["total"], again["inserted"], again["updated"], again["unchanged"], again["rejected"]) == \
        (30, 0, 0, 30, 0)
    assert {doc["_id"]: doc for doc in db[ENTERPRISES].find()} == before
    assert db[REGISTRY_IMPORTS].count_documents({}) == 2


def test_changed_valid_until_counts_one_update(client, db, admin_token):
    rows = [good_row(serial) for serial in range(1, 6)]
    upload(client, admin_token, xlsx_bytes(rows))
    rows[2] = good_row(3, valid_until=dt.date(2028, 6, 30))
    report = upload(client, admin_token, xlsx_bytes(rows)).json
    assert (report["inserted"], report["updated"], report["unchanged"]) == (0, 1, 4)
    assert db[ENTERPRISES].count_documents({}) == 5
    assert db[ENTERPRISES].find_one({"credit_code": credit_code(3)})["valid_until"] == "2028-06-30"


def test_same_enterprise_two_titles_are_two_entries(client, db, admin_token):
    rows = [good_row(1), good_row(1, title="高新技术企业")]
    report = upload(client, admin_token, xlsx_bytes(rows)).json
    assert (report["inserted"], report["rejected"]) == (2, 0)
    assert db[ENTERPRISES].count_documents({"credit_code": credit_code(1)}) == 2


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_csv_in_utf8_with_bom_and_gb18030(client, db, admin_token, encoding):
    rows = [good_row(1), good_row(2, region="440000")[:2] + ["广东", "专精特新“小巨人”企业", "第五批",
                                                               "2023/7/1", "2026/6/30"]]
    response = upload(client, admin_token, csv_bytes(rows, encoding=encoding), filename="名录.csv")
    assert response.status_code == 200, response.json
    assert (response.json["file_kind"], response.json["inserted"], response.json["rejected"]) == ("csv", 2, 0)
    second = db[ENTERPRISES].find_one({"credit_code": credit_code(2, "440000")})
    assert (second["name"], second["region_code"], second["title"], second["valid_from"]) == \
        ("北京精工科技有限公司2", "440000", "小巨人", "2023-07-01")


def test_kind_is_detected_by_content_not_name(client, admin_token):
    as_csv = upload(client, admin_token, xlsx_bytes([good_row(1)]), filename="list.csv")
    assert as_csv.status_code == 200 and as_csv.json["file_kind"] == "xlsx"
    as_xlsx = upload(client, admin_token, csv_bytes([good_row(2)]), filename="list.xlsx")
    assert as_xlsx.status_code == 200 and as_xlsx.json["file_kind"] == "csv"


@pytest.mark.parametrize("data, code", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "REGISTRY_FILE_TYPE_INVALID"),
    (b"%PDF-1.7\n\x00\x01binary", "REGISTRY_FILE_TYPE_INVALID"),
    (b"PK\x03\x04not really a zip", "REGISTRY_FILE_TYPE_INVALID"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old excel", "REGISTRY_FILE_TYPE_INVALID"),
    (b"   \n", "REGISTRY_FILE_EMPTY"),
    # a PDF of plain text has no NUL byte and decodes as text: told by its signature
    (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
     "REGISTRY_FILE_TYPE_INVALID"),
    # Excel's Unicode text saved without a byte-order mark, little- and big-endian
    (csv_bytes([good_row(1)], encoding="utf-16-le"), "REGISTRY_FILE_ENCODING"),
    (csv_bytes([good_row(1)], encoding="utf-16-be"), "REGISTRY_FILE_ENCODING"),
    # traditional Chinese Big5: GB 18030 would decode it to other characters (a header fault)
    (csv_bytes([["台灣精密有限公司", credit_code(1), "北京市", "小巨人", "", "2024-07-01", "2027-06-30"]],
               header=["企業名稱", "統一社會信用代碼", "所在地區", "稱號", "批次", "有效期起", "有效期止"],
               encoding="big5"), "REGISTRY_FILE_ENCODING"),
])
def test_non_spreadsheets_are_refused_and_nothing_written(client, db, admin_token, data, code):
    response = upload(client, admin_token, data, filename="名录.xlsx")
    assert response.status_code == 422
    assert response.json["code"] == code
    assert response.json["message"]
    assert db[ENTERPRISES].count_documents({}) == 0
    assert db[REGISTRY_IMPORTS].count_documents({}) == 0


def failed(response, code):
    """A fault found while reading (in the worker): the import failed with `code`, nothing written."""
    assert response.status_code == 200, response.json
    assert response.json["state"] == "failed" and response.json["error"]["code"] == code, response.json
    assert response.json["error"]["message"]
    return response.json["error"]


def test_a_file_without_a_header_fails(client, db, admin_token):
    failed(upload(client, admin_token, b"hello,world\n1,2\n", filename="名录.xlsx"), "REGISTRY_HEADER_INVALID")
    assert db[ENTERPRISES].count_documents({}) == 0


def test_missing_columns_are_named(client, db, admin_token):
    header = ["企业名称", "统一社会信用代码", "称号", "有效期起"]
    error = failed(upload(client, admin_token, xlsx_bytes([good_row(1)[:2] + ["小巨人", "2024-07-01"]],
                                                          header=header)), "REGISTRY_HEADER_INVALID")
    assert "所在地区" in error["message"] and "有效期止" in error["message"]
    assert "所在地区" in error["required_columns"]
    assert db[ENTERPRISES].count_documents({}) == 0


def test_missing_file_is_a_validation_error(client, admin_token):
    response = client.post(URL, headers=bearer(admin_token), content_type="multipart/form-data", data={})
    assert response.status_code == 422
    assert "file" in response.json["errors"]


def test_oversized_upload_refused_before_reading(client, db, admin_token, monkeypatch):
    from service.registry import importer

    monkeypatch.setattr(importer, "MAX_FILE_BYTES", 1000)
    response = upload(client, admin_token, xlsx_bytes([good_row(serial) for serial in range(1, 50)]))
    assert response.status_code == 413
    assert response.json["code"] == "REGISTRY_FILE_TOO_LARGE"
    assert db[ENTERPRISES].count_documents({}) == 0


def test_too_many_rows_refused(client, db, admin_token, monkeypatch):
    from service.registry import importer

    monkeypatch.setattr(importer, "MAX_ROWS", 3)
    failed(upload(client, admin_token, xlsx_bytes([good_row(serial) for serial in range(1, 6)])),
           "REGISTRY_TOO_MANY_ROWS")
    # Found while reading: the rows of the batches before were written (none here: one batch).
    assert db[ENTERPRISES].count_documents({}) == 0


@pytest.mark.parametrize("role", [None, "supervisor", "province_staff"])
def test_only_organizers_import(client, db, login, make_staff, role):
    token = make_staff(role, region_code="110000" if role == "province_staff" else None) if role else login("t")
    response = upload(client, token, xlsx_bytes([good_row(1)]))
    assert response.status_code == 403
    assert response.json["code"] == "ROLE_REQUIRED"
    assert db[ENTERPRISES].count_documents({}) == 0 and db[REGISTRY_IMPORTS].count_documents({}) == 0


def test_import_needs_login(client, db):
    response = client.post(URL, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(xlsx_bytes([good_row(1)])), "a.xlsx")})
    assert response.status_code == 401
    assert db[ENTERPRISES].count_documents({}) == 0


def test_files_above_the_app_wide_body_limit_are_read(client, db, admin_token, app):
    # 13 MB is over the app's 12 MB request limit but within the registry's 20 MB.
    data = (b"x" * 99 + b"\n") * 130_000
    assert len(data) > app.config["MAX_CONTENT_LENGTH"]
    failed(upload(client, admin_token, data, filename="big.csv"), "REGISTRY_HEADER_INVALID")


@pytest.mark.parametrize("sent, kept", [
    ("/home/张伟/桌面/名录.xlsx", "名录.xlsx"),
    ("../../etc/名录.xlsx", "名录.xlsx"),
    ("名录\u202excod.xlsx", "名录xcod.xlsx"),
    ("名\x0b录\x00.xlsx", "名录.xlsx"),
    ("名" * 300 + ".xlsx", "名" * 120),
])
def test_uploaded_file_name_is_kept_clean(client, db, admin_token, sent, kept):
    response = upload(client, admin_token, xlsx_bytes([good_row(1)]), filename=sent)
    assert response.status_code == 200, response.json
    assert response.json["file_name"] == kept
    assert db[REGISTRY_IMPORTS].find_one()["file_name"] == kept


def test_control_characters_are_cleaned_alike_in_xlsx_and_csv(client, db, admin_token):
    """Excel keeps a vertical tab as `_x000B_` in the .xlsx, a CSV as the character: both store
    "钱 多多", so importing the other format of the same list changes nothing."""
    as_xlsx = upload(client, admin_token, xlsx_bytes([good_row(1, name="钱_x000B_多多_x0001_有限公司")]))
    assert as_xlsx.status_code == 200, as_xlsx.json
    assert db[ENTERPRISES].find_one()["name"] == "钱 多多 有限公司"
    as_csv = upload(client, admin_token, csv_bytes([good_row(1, name="钱\x0b多多\x01有限公司")]), filename="名录.csv")
    assert as_csv.status_code == 200, as_csv.json
    assert (as_csv.json["inserted"], as_csv.json["updated"], as_csv.json["unchanged"]) == (0, 0, 1)
