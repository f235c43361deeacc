"""The class attendance sheet as Excel (written streaming through service.core.excel) holds exactly
the JSON sheet's rows, stored hostile names included, as text cells."""

import io

import openpyxl
from bson import ObjectId

from service.attendance import roster
from tests.conftest import bearer

STATUS_CELLS = {"present": "已签到", "late": "迟到", "absent": "缺勤", "excused": "请假", "cancelled": "已取消", None: ""}
REGION_NAMES = {"110000": "北京市", "440000": "广东省"}


def test_the_excel_sheet_is_the_json_sheet_cell_for_cell(app, client, db, ended_class, mark):
    klass = ended_class(trainees=3)
    mark(klass, 0, 0, "present")
    mark(klass, 1, 0, "late")
    mark(klass, 2, 1, "absent")
    names = {klass.trainees[0].registration_id: "=HYPERLINK(\"http://x.invalid\")",
             klass.trainees[1].registration_id: "#N/A", klass.trainees[2].registration_id: "-李\x0b四"}
    for registration_id, name in names.items():
        db.registrations.update_one({"_id": ObjectId(registration_id)}, {"$set": {"snapshot.name": name}})
    with app.app_context():
        roster.invalidate()
    headers = bearer(klass.supervisor)
    data = client.get(f"/api/v1/classes/{klass.id}/attendance-sheet", headers=headers).json
    response = client.get(f"/api/v1/classes/{klass.id}/attendance-sheet.xlsx", headers=headers)
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data))["考勤表"]
    rows = list(sheet.iter_rows())
    expected = [[r["name"].replace("\x0b", ""), REGION_NAMES[r["region_code"]]]
                + [STATUS_CELLS[s] for s in r["statuses"]]
                + [data["sessions_held"], r["attended"], r["present"], r["late"], r["absent"], r["excused"],
                   "" if r["attendance_rate"] is None else f"{r['attendance_rate']:.1%}"] for r in data["trainees"]]
    assert [[c.value if c.value is not None else "" for c in row] for row in rows[1:]] == expected
    assert len(expected) == 3 and {row[0] for row in expected} == {"=HYPERLINK(\"http://x.invalid\")", "#N/A", "-李四"}
    name_cells = [row[0] for row in rows[1:]]
    assert all(c.data_type == "s" for c in name_cells)
    assert [c.quotePrefix for c in name_cells] == [c.value.startswith(("=", "-")) for c in name_cells]
