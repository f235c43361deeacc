"""Reading attendance: live board, my attendance, the class sheet, code images and projector links."""

import io

import openpyxl
from bson import ObjectId

from tests.conftest import bearer


def _board(client, klass, token):
    return client.get(f"/api/v1/sessions/{klass.session_id}/board", headers=bearer(token))


def _mobile(trainee):
    serial = int(trainee.name[2:])
    return f"139{serial:08d}"


def test_board_counts_and_missing_with_full_phones_for_the_supervisor(client, db, checkin_class, class_code, scan,
                                                                       move_session):
    present, late, missing = checkin_class.trainees
    scan(present.token, class_code(checkin_class))
    move_session(checkin_class.session_id, -15)
    scan(late.token, class_code(checkin_class))
    board = _board(client, checkin_class, checkin_class.supervisor)
    assert board.status_code == 200
    assert board.json["counts"] == {"expected": 3, "checked_in": 2, "present": 1, "late": 1, "on_leave": 0,
                                    "absent": 0, "missing": 1}
    [row] = board.json["missing"]
    assert row["name"] == missing.name and row["mobile"] == _mobile(missing)
    assert row["registration_id"] == missing.registration_id and row["region_name"] == "广东省"


def test_board_shows_leave_as_on_leave_not_missing(client, db, checkin_class):
    db["leave_requests"].insert_one({"class_id": ObjectId(checkin_class.id),
                                     "user_id": ObjectId(checkin_class.trainees[0].user_id), "state": "approved", "type": "sick",
                                     "claimed_session_ids": [ObjectId(checkin_class.session_id)]})
    counts = _board(client, checkin_class, checkin_class.supervisor).json["counts"]
    assert (counts["on_leave"], counts["missing"]) == (1, 2)


def test_board_for_province_staff_is_masked_and_limited_to_their_region(client, make_staff, checkin_class):
    beijing = make_staff("province_staff", region_code="110000")
    board = _board(client, checkin_class, beijing).json
    assert board["counts"]["expected"] == 2
    assert {m["region_code"] for m in board["missing"]} == {"110000"}
    for row in board["missing"]:
        assert row["mobile"] != _mobile(next(t for t in checkin_class.trainees if t.name == row["name"]))
        assert "****" in row["mobile"]


def test_board_for_admins_is_masked(client, admin_token, checkin_class):
    board = _board(client, checkin_class, admin_token).json
    assert board["counts"]["expected"] == 3 and all("****" in m["mobile"] for m in board["missing"])


def test_board_refused_to_trainees_and_unknown_sessions(client, checkin_class):
    assert _board(client, checkin_class, checkin_class.trainees[0].token).status_code == 403
    unknown = client.get(f"/api/v1/sessions/{ObjectId()}/board", headers=bearer(checkin_class.supervisor))
    assert unknown.status_code == 404 and unknown.json["code"] == "SESSION_NOT_FOUND"
    malformed = client.get("/api/v1/sessions/nope/board", headers=bearer(checkin_class.supervisor))
    assert malformed.status_code == 404 and malformed.json["code"] == "NOT_FOUND"  # not an id: no such URL


def test_my_attendance_session_by_session(client, checkin_class, class_code, scan):
    trainee = checkin_class.trainees[0]
    scan(trainee.token, class_code(checkin_class))
    mine = client.get(f"/api/v1/classes/{checkin_class.id}/my-attendance", headers=bearer(trainee.token)).json
    assert [s["status"] for s in mine["sessions"]] == ["present", "not_started"]
    assert mine["sessions"][0]["checked_in_at"].endswith("+08:00")
    # The check-in shows on its session; it joins the figures when the session's window closes.
    assert (mine["sessions_held"], mine["attended"], mine["attendance_rate"]) == (0, 0, None)
    other = client.get(f"/api/v1/classes/{checkin_class.id}/my-attendance",
                        headers=bearer(checkin_class.trainees[1].token)).json
    assert [s["status"] for s in other["sessions"]] == ["open", "not_started"]


def test_my_attendance_refuses_a_trainee_not_in_the_class(client, login, make_checkin_class):
    """The example of the re-check (F12): a confirmed trainee of another class was shown this class's
    timetable with its session "open", and then refused at the check-in."""
    this_class, other_class = make_checkin_class(), make_checkin_class()
    for token in (other_class.trainees[0].token, login("never-registered"), other_class.supervisor):
        answer = client.get(f"/api/v1/classes/{this_class.id}/my-attendance", headers=bearer(token))
        assert answer.status_code == 403 and answer.json["code"] == "NOT_ENROLLED", answer.json
        assert answer.json["message"] == "您不是本班已确认参训的学员"
    unknown = client.get(f"/api/v1/classes/{ObjectId()}/my-attendance", headers=bearer(this_class.trainees[0].token))
    assert unknown.status_code == 404 and unknown.json["code"] == "CLASS_NOT_FOUND"


def test_my_attendance_of_a_withdrawn_trainee_shows_what_was_recorded(app, client, db, checkin_class, class_code,
                                                                        scan):
    checked_in, never_scanned = checkin_class.trainees[:2]
    scan(checked_in.token, class_code(checkin_class))
    for trainee in (checked_in, never_scanned):
        db["registrations"].update_one({"_id": ObjectId(trainee.registration_id)}, {"$set": {"state": "withdrawn"}})
    with app.app_context():  # the roster is kept per process for a while: the withdrawal reaches it now
        from service.attendance import roster

        roster.invalidate()
    mine = client.get(f"/api/v1/classes/{checkin_class.id}/my-attendance", headers=bearer(checked_in.token))
    assert mine.status_code == 200 and mine.json["sessions"][0]["status"] == "present"
    gone = client.get(f"/api/v1/classes/{checkin_class.id}/my-attendance", headers=bearer(never_scanned.token))
    assert gone.status_code == 403 and gone.json["code"] == "NOT_ENROLLED"


def test_attendance_sheet_matrix_rates_and_excel(client, db, checkin_class, class_code, scan, move_session):
    present, late, absent = checkin_class.trainees
    scan(present.token, class_code(checkin_class))
    move_session(checkin_class.session_id, -15)
    scan(late.token, class_code(checkin_class))
    client.post(f"/api/v1/sessions/{checkin_class.session_id}/close", headers=bearer(checkin_class.supervisor))
    move_session(checkin_class.session_id, -120, length_minutes=60)  # now held
    sheet = client.get(f"/api/v1/classes/{checkin_class.id}/attendance-sheet", headers=bearer(checkin_class.supervisor))
    assert sheet.status_code == 200
    assert sheet.json["sessions_held"] == 1 and len(sheet.json["sessions"]) == 2
    rows = {r["name"]: r for r in sheet.json["trainees"]}
    assert rows[present.name]["statuses"] == ["present", None] and rows[present.name]["attendance_rate"] == 1.0
    assert rows[late.name]["statuses"] == ["late", None] and rows[late.name]["late"] == 1
    assert rows[absent.name]["statuses"] == ["absent", None] and rows[absent.name]["attendance_rate"] == 0.0

    excel = client.get(f"/api/v1/classes/{checkin_class.id}/attendance-sheet.xlsx",
                       headers=bearer(checkin_class.supervisor))
    assert excel.status_code == 200
    sheet_rows = list(openpyxl.load_workbook(io.BytesIO(excel.data)).active.values)
    assert sheet_rows[0][:2] == ("姓名", "地区") and sheet_rows[0][-1] == "出勤率"
    by_name = {r[0]: r for r in sheet_rows[1:]}
    assert by_name[present.name][2] == "已签到" and by_name[present.name][-1] == "100.0%"
    assert by_name[late.name][2] == "迟到" and by_name[absent.name][2] == "缺勤" and by_name[absent.name][-1] == "0.0%"


def test_sheet_scope(client, make_staff, checkin_class):
    guangdong = make_staff("province_staff", region_code="440000")
    rows = client.get(f"/api/v1/classes/{checkin_class.id}/attendance-sheet", headers=bearer(guangdong)).json["trainees"]
    assert [r["region_code"] for r in rows] == ["440000"]
    refused = client.get(f"/api/v1/classes/{checkin_class.id}/attendance-sheet",
                         headers=bearer(checkin_class.trainees[0].token))
    assert refused.status_code == 403


def test_code_images(client, fake_wechat, checkin_class):
    headers = bearer(checkin_class.supervisor)
    png = client.get(f"/api/v1/sessions/{checkin_class.session_id}/checkin-code.png", headers=headers)
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG") and png.headers["Cache-Control"] == "no-store"
    svg = client.get(f"/api/v1/sessions/{checkin_class.session_id}/checkin-code.svg", headers=headers)
    assert svg.status_code == 200 and b"<svg" in svg.data
    code = client.get(f"/api/v1/sessions/{checkin_class.session_id}/checkin-code", headers=headers).json
    assert len(code["code"]) <= 32 and 0 < code["refresh_in_seconds"] <= 15
    wxa = client.get(f"/api/v1/sessions/{checkin_class.session_id}/checkin-code/wxacode.png", headers=headers)
    assert wxa.status_code == 200 and wxa.data.startswith(b"\x89PNG")
    sent = fake_wechat.wxacode_requests[-1]
    assert sent["page"] == "pages/checkin/index" and len(sent["scene"]) <= 32 and sent["scene"].startswith("C")


def test_projector_link_opens_the_page_and_refuses_tampering(client, checkin_class, make_checkin_class):
    link = client.post(f"/api/v1/sessions/{checkin_class.session_id}/projector-link",
                       headers=bearer(checkin_class.supervisor))
    assert link.status_code == 201 and link.json["expires_at"].endswith("+08:00")
    path = link.json["url"].removeprefix("http://localhost")
    page = client.get(path)
    assert page.status_code == 200 and "签到" in page.get_data(as_text=True)
    state = client.get(path.replace("/checkin?", "/checkin/state?"))
    assert state.status_code == 200 and state.json["code"].startswith("C") and state.json["counts"]["expected"] == 3
    tampered = client.get(path[:-2] + ("xy" if not path.endswith("xy") else "zw"))
    assert tampered.status_code == 401 and tampered.json["code"] == "PROJECTOR_LINK_INVALID"
    other = make_checkin_class(trainees=1, name="第二期")
    wrong_session = client.get(path.replace(checkin_class.session_id, other.session_id))
    assert wrong_session.status_code == 401


def test_projector_link_expires(app, client, checkin_class):
    link = client.post(f"/api/v1/sessions/{checkin_class.session_id}/projector-link",
                       headers=bearer(checkin_class.supervisor)).json
    app.config["PROJECTOR_LINK_HOURS"] = -1
    response = client.get(link["url"].removeprefix("http://localhost"))
    assert response.status_code == 401 and response.json["code"] == "PROJECTOR_LINK_EXPIRED"


def test_board_keeps_absent_trainees_with_phones_after_closing_and_lists_the_late(client, checkin_class, class_code,
                                                                                 scan, move_session):
    present, late, missing = checkin_class.trainees
    scan(present.token, class_code(checkin_class))
    move_session(checkin_class.session_id, -15)
    scan(late.token, class_code(checkin_class))
    board = _board(client, checkin_class, checkin_class.supervisor).json
    assert board["absent"] == []
    [late_row] = board["late"]
    assert late_row["name"] == late.name and late_row["mobile"] == _mobile(late) and late_row["checked_in_at"]

    closed = client.post(f"/api/v1/sessions/{checkin_class.session_id}/close", headers=bearer(checkin_class.supervisor))
    assert closed.status_code == 200 and closed.json["absent"] == 1
    board = _board(client, checkin_class, checkin_class.supervisor).json
    assert board["closed"] and board["missing"] == [] and board["counts"]["absent"] == 1
    [absent_row] = board["absent"]
    assert absent_row["name"] == missing.name and absent_row["mobile"] == _mobile(missing)
    assert absent_row["registration_id"] == missing.registration_id and absent_row["remark"] is None
    assert [r["name"] for r in board["late"]] == [late.name]

    # A correction after closing with a reason is still possible; the trainee leaves the absent list.
    corrected = client.put(f"/api/v1/sessions/{checkin_class.session_id}/attendance/{missing.registration_id}",
                           json={"status": "late", "reason": "路上堵车，9:40 到场，现场核实"},
                           headers=bearer(checkin_class.supervisor))
    assert corrected.status_code == 200, corrected.json
    board = _board(client, checkin_class, checkin_class.supervisor).json
    assert board["absent"] == [] and sorted(r["name"] for r in board["late"]) == sorted([late.name, missing.name])


def test_board_absent_list_is_masked_for_admins(client, admin_token, checkin_class):
    client.post(f"/api/v1/sessions/{checkin_class.session_id}/close", headers=bearer(checkin_class.supervisor))
    board = _board(client, checkin_class, admin_token).json
    assert len(board["absent"]) == 3 and all("****" in m["mobile"] for m in board["absent"])
