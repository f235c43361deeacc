"""What an import reports as it runs and after it ends (finding q19 F1, F9): `rows_total` is the
file's last row number, so a finished import reads rows_read == rows_total; the bounded row-level
report (the first faults listed, all counted) grows with `rejected` while it runs and is kept when
it fails; `error` has the shape the OpenAPI document gives it."""

import csv
import io
import threading
import zipfile

import jsonschema_rs
import pytest
from openpyxl import Workbook

from service.registry import importer, repository, service
from tests.registry.helpers import HEADER, failing_on_call, good_row, import_registry, xlsx_bytes
from tests.registry.test_registry_background_import import get, post


# ---- F1: rows_total --------------------------------------------------------------------------

def _sheet_xml(rows, cut_at):
    """Sheet XML of `rows` one-cell rows, padded so that the row tag nearest `cut_at` starts 5
    bytes before it (`<row ` | `r="N" ...>`: a chunk boundary there cuts the tag)."""
    body = [f'<row r="{n}" spans="1:1"><c r="A{n}" t="inlineStr"><is><t>{"企业" * 60}{n}</t></is></c></row>'
            for n in range(1, rows + 1)]
    head = '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/' \
           'spreadsheetml/2006/main"><sheetData>'
    xml = (head + "".join(body) + "</sheetData></worksheet>").encode()
    tag = xml.rfind(b"<row ", 0, cut_at)
    padding = cut_at - 5 - tag
    if padding < 0:
        padding += len(body[0].encode())
    return xml.replace(b"<sheetData>", b" " * padding + b"<sheetData>", 1)


@pytest.mark.parametrize("chunk", [None, 7, 100, 4096], ids=["1MiB", "7", "100", "4096"])
def test_each_row_tag_is_counted_once_wherever_the_chunks_cut_it(monkeypatch, chunk):
    """A `<row r="…">` cut by a chunk boundary was counted in both chunks: 150,004 rows for a file
    of 150,003, 1,048,585 for a sheet of 1,048,576."""
    if chunk:
        monkeypatch.setattr(importer, "SCAN_CHUNK_BYTES", chunk)
    xml = _sheet_xml(4000, 1 << 20)
    assert len(xml) > 1 << 20
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", xml)
    with zipfile.ZipFile(buffer) as archive:
        shape = importer._scan_sheet_xml(archive, "xl/worksheets/sheet1.xml")
    assert (shape.rows, shape.last_row) == (4000, 4000)


def _write_only_xlsx(rows):
    """As the finding's file was made: openpyxl write-only (no <dimension>)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("chunk", [13, 1 << 20])
def test_a_finished_import_reads_every_row_it_counted(client, admin_token, monkeypatch, chunk):
    monkeypatch.setattr(importer, "SCAN_CHUNK_BYTES", chunk, raising=False)
    report = import_registry(client, admin_token, _write_only_xlsx([good_row(s) for s in range(1, 31)])).json
    assert report["state"] == "done" and report["inserted"] == 30
    assert report["progress"] == {"rows_read": 31, "rows_total": 31}


def test_a_csv_counts_records_not_lines(client, admin_token):
    """A quoted cell holding a line break (a name typed on two lines): one record, two lines."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    rows = [good_row(1, name="北京精工\n科技有限公司"), good_row(2), good_row(3, name="第一行\r\n第二行\r\n第三行")]
    for row in rows:
        writer.writerow([value.isoformat() if hasattr(value, "isoformat") else value for value in row])
    report = import_registry(client, admin_token, buffer.getvalue().encode("utf-8-sig"), filename="名录.csv").json
    assert report["state"] == "done" and report["inserted"] == 3
    assert report["progress"] == {"rows_read": 4, "rows_total": 4}


def test_trailing_blank_rows_leave_rows_read_below_rows_total(client, admin_token):
    """Documented: formatted blank rows at the end are in rows_total, never read as rows."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(good_row(1))
    for number in range(3, 8):
        sheet.cell(row=number, column=1).number_format = "@"  # formatted, empty
    sheet.cell(row=7, column=1).value = None
    sheet.cell(row=7, column=1).style = "Normal"
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = import_registry(client, admin_token, buffer.getvalue()).json
    assert report["state"] == "done" and report["progress"]["rows_read"] == 2
    assert report["progress"]["rows_total"] >= 2


# ---- F9: the row-level report while running and after a failure --------------------------------

def _faulty_rows(count, start=1):
    return [good_row(serial, name="") for serial in range(start, start + count)]  # one fault each


def test_faults_are_listed_and_counted_as_the_import_goes(client, app, db, admin_token, monkeypatch):
    monkeypatch.setattr(service, "IMPORT_BATCH_ROWS", 2)
    rows = [good_row(1), good_row(2, name=""), good_row(3), good_row(4, name=""), good_row(5)]
    posted = post(client, admin_token, xlsx_bytes(rows)).json
    polled = []
    original = repository.save_entries

    def poll_then_write(**kwargs):
        report = get(client, admin_token, posted["id"])
        polled.append((report["rejected"], report["bad_rows_total"], [bad["row"] for bad in report["bad_rows"]]))
        return original(**kwargs)

    monkeypatch.setattr(repository, "save_entries", poll_then_write)
    with app.app_context():
        service.run_next_import()
    assert polled == [(0, 0, []), (1, 1, [3]), (2, 2, [3, 5])]
    done = get(client, admin_token, posted["id"])
    assert (done["rejected"], done["bad_rows_total"], [bad["row"] for bad in done["bad_rows"]]) == (2, 2, [3, 5])


def test_too_many_rows_keeps_the_report_of_the_rows_read(client, app, admin_token, monkeypatch):
    """The finding's 1,048,575 faulty rows: failed REGISTRY_TOO_MANY_ROWS with 200,000 rejected and
    no reason; here 12 allowed, 15 sent, the first 3 faults listed."""
    monkeypatch.setattr(service, "IMPORT_BATCH_ROWS", 2)
    monkeypatch.setattr(importer, "MAX_ROWS", 12)
    monkeypatch.setattr(importer, "MAX_REPORTED_PROBLEMS", 3)
    report = import_registry(client, admin_token, xlsx_bytes(_faulty_rows(15))).json
    assert report["state"] == "failed" and report["error"]["code"] == "REGISTRY_TOO_MANY_ROWS"
    assert report["error"]["required_columns"] is None
    assert report["rejected"] == report["total"] == report["bad_rows_total"] == 12  # six whole batches
    assert [bad["row"] for bad in report["bad_rows"]] == [2, 3, 4] and report["bad_rows_truncated"] is True
    assert all(bad["reason"] == "企业名称为空" for bad in report["bad_rows"])


def test_an_interrupted_import_keeps_its_report(client, app, admin_token, monkeypatch):
    monkeypatch.setattr(service, "IMPORT_BATCH_ROWS", 2)
    stop = threading.Event()
    original = repository.save_entries
    calls = []

    def stop_after_second(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            stop.set()
        return original(**kwargs)

    monkeypatch.setattr(repository, "save_entries", stop_after_second)
    rows = [good_row(1), good_row(2, name=""), good_row(3), good_row(4, name="")] + \
        [good_row(serial) for serial in range(5, 12)]
    posted = post(client, admin_token, xlsx_bytes(rows)).json
    with app.app_context():
        service.run_next_import(stop=stop)
    report = get(client, admin_token, posted["id"])
    assert report["error"]["code"] == "REGISTRY_IMPORT_INTERRUPTED"
    assert (report["total"], report["inserted"], report["rejected"], report["bad_rows_total"]) == (4, 2, 2, 2)
    assert [bad["row"] for bad in report["bad_rows"]] == [3, 5]


def test_a_write_failing_keeps_the_faults_of_its_batch(client, app, admin_token, monkeypatch):
    monkeypatch.setattr(service, "IMPORT_BATCH_ROWS", 2)
    monkeypatch.setattr(repository, "save_entries",
                        failing_on_call(repository.save_entries, 2, ConnectionError("database gone")))
    rows = [good_row(1), good_row(2), good_row(3, name=""), good_row(4), good_row(5)]
    report = import_registry(client, admin_token, xlsx_bytes(rows)).json
    assert report["state"] == "failed" and report["error"]["code"] == "REGISTRY_IMPORT_FAILED"
    # The batch whose write failed (rows 4-5) was checked: its fault is listed, its good row not written.
    assert (report["total"], report["inserted"], report["rejected"], report["bad_rows_total"]) == (4, 2, 1, 1)
    assert [bad["row"] for bad in report["bad_rows"]] == [4]


# ---- F9: error's shape, as the OpenAPI document gives it ----------------------------------------

def _nullable_to_json_schema(node):
    """OpenAPI 3.0's `nullable: true` as JSON Schema (`type: [t, "null"]`)."""
    if isinstance(node, dict):
        node = {key: _nullable_to_json_schema(value) for key, value in node.items()}
        if node.pop("nullable", False) and "type" in node:
            node["type"] = [node["type"], "null"]
        return node
    if isinstance(node, list):
        return [_nullable_to_json_schema(item) for item in node]
    return node


@pytest.fixture
def error_schema(client):
    """RegistryImportError itself, not the `anyOf` around it (its second branch, any object or
    null, took every answer)."""
    return _nullable_to_json_schema(client.get("/api/v1/openapi.json").json["components"]["schemas"]
                                    ["RegistryImportError"])


def test_every_failed_imports_error_matches_its_schema(client, app, admin_token, monkeypatch, error_schema):
    header_invalid = import_registry(client, admin_token, xlsx_bytes([good_row(1)], header=["名称", "代码"])).json
    assert header_invalid["error"]["code"] == "REGISTRY_HEADER_INVALID"
    assert header_invalid["error"]["required_columns"] == ["企业名称", "统一社会信用代码", "所在地区", "称号", "有效期起",
                                                           "有效期止"]
    monkeypatch.setattr(repository, "save_entries", lambda **kwargs: (_ for _ in ()).throw(ConnectionError("gone")))
    failed = import_registry(client, admin_token, xlsx_bytes([good_row(2)])).json
    assert failed["error"]["code"] == "REGISTRY_IMPORT_FAILED"
    stop = threading.Event()
    stop.set()
    posted = post(client, admin_token, xlsx_bytes([good_row(3)])).json
    with app.app_context():
        claimed = repository.claim_next(now=service.utcnow())
        run = service.ImportRun(claimed, stop=stop)
        with pytest.raises(service.ImportStopped):
            run.run()
        run.fail(service.INTERRUPTED)
    interrupted = get(client, admin_token, posted["id"])
    for report in (header_invalid, failed, interrupted):
        jsonschema_rs.validate(error_schema, report["error"])
        assert set(report["error"]) == {"code", "message", "required_columns"}
    assert failed["error"]["required_columns"] is None and interrupted["error"]["required_columns"] is None
