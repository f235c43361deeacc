"""Registry rules at the service level: reading cells, the race with another import, validity look-ups."""

import datetime as dt

import pytest
from bson import ObjectId

from service.registry import importer, repository, service
from service.registry.repository import ENTERPRISES
from tests.factories import credit_code
from tests.registry.helpers import HEADER, csv_bytes, good_row, xlsx_bytes

pytestmark = pytest.mark.usefixtures("ctx")


def run(data):
    """Queue the file and run it as the worker does; the import document after."""
    queued = service.import_file(data=data, file_name="名录.xlsx", imported_by=ObjectId())
    assert service.run_next_import() == queued["_id"]
    return repository.get_report(queued["_id"])


def validate(data):
    return importer.validate_rows(importer.read_rows(data))


def test_header_below_a_title_line_and_english_keys():
    preamble = [["第六批专精特新“小巨人”企业名单"], []]
    entries, problems, total, rejected, _ = validate(xlsx_bytes([good_row(1)], preamble=preamble))
    assert (len(entries), problems, total, rejected) == (1, [], 1, 0)
    header = ["name", "credit_code", "region_code", "title", "batch", "valid_from", "valid_until"]
    entries, problems, *_ = validate(csv_bytes([good_row(2)], header=header))
    assert problems == [] and entries[0]["credit_code"] == credit_code(2)


def test_row_numbers_follow_the_sheet_with_blank_rows_skipped():
    rows = [good_row(1), [None] * 7, good_row(2, title="金牌企业")]
    entries, problems, total, rejected, _ = validate(xlsx_bytes(rows, preamble=[["名单"]]))
    # preamble row 1, header row 2, data rows 3 and (after the blank row 4) 5.
    assert (len(entries), total, rejected) == (1, 2, 1)
    assert [(p["row"], p["column"]) for p in problems] == [(5, "称号")]


@pytest.mark.parametrize("value", [dt.datetime(2024, 7, 1), dt.date(2024, 7, 1), "2024-07-01", "2024/7/1",
                                   "2024.7.1", "2024年7月1日", "20240701", "2024-07-01 00:00:00", 45474])
def test_date_forms(value):
    row = good_row(1)
    row[5] = value
    entries, problems, *_ = validate(xlsx_bytes([row]))
    assert problems == []
    assert entries[0]["valid_from"] == "2024-07-01"


@pytest.mark.parametrize("value", ["2024-02-30", "下个月", "1900-01-01", "7/1/2024"])
def test_bad_dates(value):
    row = good_row(1)
    row[6] = value
    _, problems, *_ = validate(xlsx_bytes([row]))
    assert [(p["row"], p["column"]) for p in problems] == [(2, "有效期止")]


@pytest.mark.parametrize("value, reason", [
    (123456789012345678.0, "存成了数字"), ("91110000MA0000001", "应为18位"), ("91110000MA0000001I", "不使用字母 I"),
    ("91110000MA000000!X", "只能包含数字和大写字母"), ("", "为空"),
])
def test_bad_credit_codes(value, reason):
    row = good_row(1)
    row[1] = value
    _, problems, *_ = validate(xlsx_bytes([row]))
    assert len(problems) == 1 and reason in problems[0]["reason"]


def test_credit_code_is_normalised():
    row = good_row(1)
    row[1] = " " + credit_code(1).lower() + " "
    entries, problems, *_ = validate(csv_bytes([row]))
    assert problems == [] and entries[0]["credit_code"] == credit_code(1)


@pytest.mark.parametrize("value, code", [("440000", "440000"), (440000, "440000"), ("广东省", "440000"),
                                         ("广东", "440000"), ("深圳市", "440300"), ("内蒙古", "150000"),
                                         ("新疆生产建设兵团", "660000")])
def test_region_by_code_or_name(value, code):
    row = good_row(1)
    row[2] = value
    entries, problems, *_ = validate(xlsx_bytes([row]))
    assert problems == [] and entries[0]["region_code"] == code


def test_one_row_with_several_faults_is_one_rejected_row():
    row = ["", "x", "火星", "金牌", "", "", ""]
    entries, problems, total, rejected, _ = validate(xlsx_bytes([row, good_row(1)]))
    assert (len(entries), total, rejected) == (1, 2, 1)
    assert {p["column"] for p in problems} == set(HEADER) - {"批次"}
    assert all(p["row"] == 2 for p in problems)


def test_reported_problems_are_capped(monkeypatch):
    monkeypatch.setattr(importer, "MAX_REPORTED_PROBLEMS", 3)
    rows = [good_row(serial, title="金牌") for serial in range(1, 6)]
    _, problems, total, rejected, truncated = validate(xlsx_bytes(rows))
    assert (len(problems), total, rejected, truncated) == (3, 5, 5, True)


def test_zip_bomb_refused(monkeypatch):
    from service.core.errors import RuleViolation

    monkeypatch.setattr(importer, "MAX_XLSX_UNPACKED_BYTES", 1000)
    with pytest.raises(RuleViolation) as refused:
        importer.read_rows(xlsx_bytes([good_row(1)]))
    assert refused.value.code == "REGISTRY_FILE_TOO_LARGE"


def test_another_import_writing_first_is_settled_by_the_unique_index(db, monkeypatch):
    rows = [good_row(serial) for serial in range(1, 6)]
    assert run(xlsx_bytes(rows))["inserted"] == 5
    # Pretend our read saw nothing (another import wrote these meanwhile): the inserts meet the
    # unique index and fall back to upserts, which count what really changed.
    monkeypatch.setattr(repository, "entries_for", lambda codes: {})
    rows[0] = good_row(1, valid_until=dt.date(2029, 6, 30))
    rows.append(good_row(6))
    report = run(xlsx_bytes(rows))
    assert (report["inserted"], report["updated"], report["unchanged"], report["rejected"]) == (1, 1, 4, 0)
    assert db[ENTERPRISES].count_documents({}) == 6
    assert db[ENTERPRISES].find_one({"credit_code": credit_code(1)})["valid_until"] == "2029-06-30"


def test_find_valid_title_after_import():
    run(xlsx_bytes([good_row(1), good_row(2, title="单项冠军")]))
    find = service.find_valid_title
    assert find(credit_code=credit_code(1), title="小巨人", on_date=dt.date(2024, 7, 1))["name"] == "北京精工科技有限公司1"
    assert find(credit_code=credit_code(1), title="小巨人", on_date=dt.date(2027, 6, 30)) is not None
    assert find(credit_code=credit_code(1), title="小巨人", on_date=dt.date(2024, 6, 30)) is None
    assert find(credit_code=credit_code(1), title="小巨人", on_date=dt.date(2027, 7, 1)) is None
    assert find(credit_code=credit_code(2), title="小巨人", on_date=dt.date(2025, 1, 1)) is None
    assert find(credit_code=credit_code(2), title="单项冠军", on_date=dt.date(2025, 1, 1)) is not None


def test_save_sample_is_idempotent(db):
    entry = {"credit_code": credit_code(5), "title": "小巨人", "name": "样例企业", "region_code": "110000",
             "batch": "第五批", "valid_from": "2023-07-01", "valid_until": "2026-06-30"}
    assert service.save_sample([entry]) == {"inserted": 1, "updated": 0, "unchanged": 0}
    assert service.save_sample([entry]) == {"inserted": 0, "updated": 0, "unchanged": 1}
    assert db[ENTERPRISES].count_documents({}) == 1
