"""Issue 16 follow-ups found by QA: closed state seen by every process, completion over held sessions,
retries, leave and check-in, offline upload details, small input rules."""

from bson import ObjectId

from service.attendance.repository import SESSION_CHECKINS
from service.core.db import utcnow
from tests.conftest import bearer


def test_board_and_projector_see_a_closing_made_by_another_process_at_once(client, db, checkin_class):
    session_id = checkin_class.session_id
    headers = bearer(checkin_class.supervisor)
    link = client.post(f"/api/v1/sessions/{session_id}/projector-link", headers=headers).json
    state_path = link["url"].removeprefix("http://localhost").replace("/checkin?", "/checkin/state?")
    # This process has read "open" (and would keep it for ROSTER_CACHE_SECONDS) ...
    assert client.get(f"/api/v1/sessions/{session_id}/board", headers=headers).json["closed"] is False
    assert client.get(state_path).json["closed"] is False
    # ... when another worker closes the session.
    db[SESSION_CHECKINS].insert_one({"_id": ObjectId(session_id), "closed_at": utcnow(), "closed_by": None})
    for _ in range(3):
        assert client.get(f"/api/v1/sessions/{session_id}/board", headers=headers).json["closed"] is True
        assert client.get(state_path).json["closed"] is True


def test_completion_counts_the_sessions_held_like_the_sheet_and_the_excel_agrees(client, db, make_checkin_class,
                                                                               move_session, set_class, class_code,
                                                                               scan):
    import io

    import openpyxl

    from tests.attendance.test_session_states_api import _four_sessions, _put_mark

    klass = make_checkin_class(trainees=2)
    sa, sb, sc, sd = _four_sessions(db, klass, move_session)
    set_class(klass.id)
    keen = klass.trainees[0]
    for session_id in (sa, sb):
        _put_mark(client, klass, session_id, keen, "present")
    _put_mark(client, klass, sc, keen, "late")  # SC still running, SD open: neither is held yet
    assert scan(keen.token, class_code(klass, 3)).status_code == 200
    headers = bearer(klass.supervisor)
    sheet = client.get(f"/api/v1/classes/{klass.id}/attendance-sheet", headers=headers).json
    sheet_row = next(r for r in sheet["trainees"] if r["name"] == keen.name)
    report = client.get(f"/api/v1/classes/{klass.id}/completion", headers=headers).json
    row = next(r for r in report["rows"] if r["name"] == keen.name)
    assert report["final"] is False
    assert (row["sessions_total"], row["sessions_held"]) == (4, 2)
    assert (row["attended"], row["present"], row["late"], row["absent"], row["excused"]) == (2, 2, 0, 0, 0)
    assert (row["attended"], row["attendance_rate_so_far"]) == (sheet_row["attended"], sheet_row["attendance_rate"])
    assert row["attended_so_far"] == 2 and row["attendance_rate"] == 0.5 and row["attendance_rate_so_far"] == 1.0
    message = next(f["message"] for f in row["failed"] if f["condition"] == "attendance_rate")
    assert "目前" in message and "低于" not in message and "还有 2 节课" in message

    excel = client.get(f"/api/v1/classes/{klass.id}/completion.xlsx", headers=headers)
    sheet_rows = list(openpyxl.load_workbook(io.BytesIO(excel.data))["结业名单"].iter_rows(values_only=True))
    cells = dict(zip(sheet_rows[0], next(r for r in sheet_rows[1:] if r[1] == keen.name)))
    assert (cells["课程节数"], cells["已上节数"], cells["出勤节数"], cells["按时签到"], cells["迟到"]) == (4, 2, 2, 2, 0)
    assert (cells["出勤率"], cells["目前出勤率"]) == ("50.0%", "100.0%")


from tests.attendance.test_network_drops_api import clock  # noqa: E402,F401  (fixture)


def test_a_retry_is_answered_as_its_first_attempt_was_whatever_that_answer_was(client, checkin_class, class_code,
                                                                              scan, mark, clock):
    trainee, marked = checkin_class.trainees[:2]
    code = class_code(checkin_class)
    assert scan(trainee.token, code, nonce="first-scan-0001").json["result"] == "checked_in"
    second = scan(trainee.token, code, nonce="second-scan-0002")  # scanned again; this answer gets lost
    assert second.status_code == 200 and second.json["result"] == "already_checked_in"
    mark(checkin_class, 1, 0, "absent")
    refused = scan(marked.token, code, nonce="marked-scan-0003")
    assert refused.status_code == 409 and refused.json["code"] == "ALREADY_MARKED"

    clock(35)  # the code has expired; both retry with the same body
    retried = scan(trainee.token, code, nonce="second-scan-0002")
    assert retried.status_code == 200, retried.json
    assert retried.json == second.json
    retried_refusal = scan(marked.token, code, nonce="marked-scan-0003")
    assert retried_refusal.status_code == 409 and retried_refusal.json["code"] == "ALREADY_MARKED"
    # A nonce never answered stays a new attempt with an expired code.
    assert scan(trainee.token, code, nonce="third-scan-0004").json["code"] == "CODE_EXPIRED"
    assert scan(marked.token, code, nonce="other-scan-0005").json["code"] == "CODE_EXPIRED"


def test_a_trainee_on_leave_who_checks_in_came_back_early_and_board_counts_partition_expected(
        client, db, checkin_class, class_code, scan):
    back_early, away, _ = checkin_class.trainees
    for trainee in (back_early, away):
        db["leave_requests"].insert_one({"class_id": ObjectId(checkin_class.id), "user_id": ObjectId(trainee.user_id),
                                         "state": "approved", "type": "sick",
                                         "claimed_session_ids": [ObjectId(checkin_class.session_id)]})
    scanned = scan(back_early.token, class_code(checkin_class))
    assert scanned.status_code == 200 and scanned.json["record"]["status"] == "present"
    counts = client.get(f"/api/v1/sessions/{checkin_class.session_id}/board",
                        headers=bearer(checkin_class.supervisor)).json["counts"]
    assert (counts["expected"], counts["checked_in"], counts["on_leave"], counts["absent"], counts["missing"]) \
        == (3, 1, 1, 0, 1)
    assert counts["checked_in"] + counts["on_leave"] + counts["absent"] + counts["missing"] == counts["expected"]


def test_every_record_method_is_in_the_openapi_description_and_the_guide(client):
    spec = client.get("/api/v1/openapi.json").json
    described = " ".join(str(schema.get("properties", {}).get("method", {}).get("description", ""))
                         for schema in spec["components"]["schemas"].values())
    from pathlib import Path

    guide = Path(__file__).resolve().parents[2].joinpath("miniprogram-api.md").read_text(encoding="utf-8")
    for method in ("class_code", "personal_code", "offline", "manual", "close", "leave"):
        assert method in described and f"`{method}`" in guide


def test_small_input_rules_of_check_in(app, client, db, checkin_class, class_code, scan, mark, admin_token):
    import datetime as dt

    from tests.attendance.test_network_drops_api import _item, _upload

    first, second, third = checkin_class.trainees
    nul = scan(first.token, class_code(checkin_class), nonce="abcdefgh\x00ijk")
    assert nul.status_code == 422 and nul.json["code"] == "VALIDATION_ERROR"
    padded = scan(first.token, f"  {class_code(checkin_class)}\n", nonce="padded-scan-0001")
    assert padded.status_code == 200 and padded.json["record"]["status"] == "present"
    assert "remark" in padded.json["record"]
    # An excused (or absent) mark clears the check-in time of the record it corrects.
    mark(checkin_class, 0, 0, "excused")
    assert db["attendance"].find_one({"user_id": ObjectId(first.user_id)})["checked_in_at"] is None
    # A device clock 30 s ahead is tolerated (OFFLINE_CLOCK_DRIFT_SECONDS); 5 minutes ahead is not.
    now = dt.datetime.now(dt.timezone.utc)
    results = _upload(client, checkin_class, [_item(app, second, now + dt.timedelta(seconds=30), "drift-000001",
                                                    code_at=now),
                                              _item(app, third, now + dt.timedelta(minutes=5), "drift-000002",
                                                    code_at=now)]).json["results"]
    assert [(r["result"], r["code"]) for r in results] == [("checked_in", None), ("refused", "SCANNED_AT_IN_FUTURE")]


def test_a_cancelled_session_has_no_class_code_and_nobody_missing(client, admin_token, checkin_class, move_session):
    later = checkin_class.session_ids[1]
    cancelled = client.post(f"/api/v1/classes/{checkin_class.id}/sessions/{later}/cancel",
                            json={"reason": "授课老师生病"}, headers=bearer(admin_token))
    assert cancelled.status_code == 200
    move_session(later, -10, 60)
    headers = bearer(checkin_class.supervisor)
    for path in ("checkin-code", "checkin-code.png", "checkin-code.svg"):
        refused = client.get(f"/api/v1/sessions/{later}/{path}", headers=headers)
        assert refused.status_code == 422 and refused.json["code"] == "SESSION_CANCELLED", path
    board = client.get(f"/api/v1/sessions/{later}/board", headers=headers).json
    assert board["cancelled"] is True and board["missing"] == [] and board["counts"]["missing"] == 0
