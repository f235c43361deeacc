"""Issue 16 §3: a check-in retried after a timeout, and personal-code scans uploaded after a site
visit without signal."""

import datetime as dt
import time as real_time
import types

import pytest
from bson import ObjectId

from service.attendance import tokens
from service.attendance.repository import ATTENDANCE
from tests.conftest import bearer


@pytest.fixture
def clock(monkeypatch):
    """clock(seconds): the check-in code clock (and the retry window's) runs `seconds` ahead."""

    def ahead(seconds):
        fake = types.SimpleNamespace(time=lambda: real_time.time() + seconds)
        monkeypatch.setattr("service.attendance.tokens.time", fake)
        monkeypatch.setattr("service.attendance.service.time", fake)

    return ahead


def test_retry_with_the_same_nonce_after_the_code_expired_gets_the_same_answer(client, db, checkin_class, class_code,
                                                                                scan, clock):
    trainee, other = checkin_class.trainees[:2]
    code = class_code(checkin_class)
    first = scan(trainee.token, code, nonce="retry-nonce-0001")
    assert first.status_code == 200 and first.json["result"] == "checked_in"

    clock(35)  # the answer was lost; the mini-program retries 35 s later with the same body
    retried = scan(trainee.token, code, nonce="retry-nonce-0001")
    assert retried.status_code == 200, retried.json
    assert retried.json["result"] == "checked_in" and retried.json["record"] == first.json["record"]
    assert db[ATTENDANCE].count_documents({"user_id": ObjectId(trainee.user_id)}) == 1

    # A new nonce with the expired code is a new attempt: refused, for the same trainee and for another.
    again = scan(trainee.token, code, nonce="retry-nonce-0002")
    assert again.status_code == 422 and again.json["code"] == "CODE_EXPIRED"
    stranger = scan(other.token, code, nonce="retry-nonce-0003")
    assert stranger.status_code == 422 and stranger.json["code"] == "CODE_EXPIRED"
    assert db[ATTENDANCE].count_documents({"user_id": ObjectId(other.user_id)}) == 0
    without = scan(trainee.token, code)
    assert without.status_code == 422 and without.json["code"] == "CODE_EXPIRED"

    clock(30 + 120 + 20)  # past the retry window (2 minutes after the code expired)
    late = scan(trainee.token, code, nonce="retry-nonce-0001")
    assert late.status_code == 422 and late.json["code"] == "CODE_EXPIRED"


def test_retry_window_is_a_setting(app, checkin_class, class_code, scan, clock):
    app.config["CHECKIN_RETRY_SECONDS"] = 10
    code = class_code(checkin_class)
    expired_at = (int(code[17:23], 36) + 2) * app.config["CHECKIN_CODE_SECONDS"]  # own step + 1 grace step
    token = checkin_class.trainees[0].token
    assert scan(token, code, nonce="retry-nonce-0001").status_code == 200
    clock(expired_at - real_time.time() + 5)
    assert scan(token, code, nonce="retry-nonce-0001").status_code == 200
    clock(expired_at - real_time.time() + 15)
    assert scan(token, code, nonce="retry-nonce-0001").json["code"] == "CODE_EXPIRED"


# ---- offline upload ---------------------------------------------------------------------------

def _now():
    return dt.datetime.now(dt.timezone.utc)


def _personal_code(app, trainee, at):
    with app.app_context():
        return tokens.issue(tokens.PERSONAL, ObjectId(trainee.registration_id), now=at.timestamp())[0]


def _item(app, trainee, scanned_at, nonce, code_at=None):
    return {"code": _personal_code(app, trainee, code_at or scanned_at), "scanned_at": scanned_at.isoformat(),
            "nonce": nonce}


def _upload(client, klass, items, token=None):
    return client.post(f"/api/v1/sessions/{klass.session_id}/checkins/offline", json={"items": items},
                       headers=bearer(token or klass.supervisor))


def test_offline_scans_count_at_their_scan_time_each_with_its_own_answer(app, client, db, checkin_class,
                                                                         move_session):
    move_session(checkin_class.session_id, -20)  # began 20 min ago: late after 10 min
    on_time, late, forged = checkin_class.trainees
    now = _now()
    window_opened = now - dt.timedelta(minutes=50)
    items = [
        _item(app, on_time, now - dt.timedelta(minutes=15), "offline-0001"),
        _item(app, late, now - dt.timedelta(minutes=2), "offline-0002"),
        # Code made 20 minutes before the scan: not valid at scanned_at.
        _item(app, forged, now - dt.timedelta(minutes=1), "offline-0003", code_at=now - dt.timedelta(minutes=21)),
        # Scanned before the window opened.
        _item(app, forged, window_opened - dt.timedelta(minutes=5), "offline-0004"),
        # In the future.
        _item(app, forged, now + dt.timedelta(minutes=5), "offline-0005", code_at=now),
        # A code made after the claimed scan time (the scan time was moved back).
        _item(app, forged, now - dt.timedelta(minutes=12), "offline-0006", code_at=now),
    ]
    answer = _upload(client, checkin_class, items)
    assert answer.status_code == 200, answer.json
    results = answer.json["results"]
    assert [r["nonce"] for r in results] == [i["nonce"] for i in items]
    assert [(r["result"], r["code"]) for r in results] == [
        ("checked_in", None), ("checked_in", None), ("refused", "CODE_EXPIRED"), ("refused", "SCAN_OUTSIDE_WINDOW"),
        ("refused", "SCANNED_AT_IN_FUTURE"), ("refused", "CODE_INVALID")]
    assert results[0]["record"]["status"] == "present" and results[1]["record"]["status"] == "late"
    assert results[0]["record"]["method"] == "offline" and results[0]["record"]["flags"] == ["offline"]
    assert results[0]["trainee_name"] == on_time.name
    assert all(r["message"] for r in results[2:])
    assert db[ATTENDANCE].count_documents({"user_id": ObjectId(forged.user_id)}) == 0

    # The same upload again (the answer was lost) is answered the same; nothing new is written.
    repeated = _upload(client, checkin_class, items)
    assert repeated.json == answer.json
    assert db[ATTENDANCE].count_documents({"session_id": ObjectId(checkin_class.session_id)}) == 2

    board = client.get(f"/api/v1/sessions/{checkin_class.session_id}/board", headers=bearer(checkin_class.supervisor))
    assert {(f["kind"], f["names"][0]) for f in board.json["flags"]} == {("offline", on_time.name),
                                                                          ("offline", late.name)}


def test_offline_upload_too_late_is_refused(app, client, checkin_class):
    app.config["OFFLINE_UPLOAD_HOURS"] = 0
    answer = _upload(client, checkin_class, [_item(app, checkin_class.trainees[0], _now() - dt.timedelta(minutes=1),
                                                   "offline-0001")])
    assert answer.status_code == 200
    assert [(r["result"], r["code"]) for r in answer.json["results"]] == [("refused", "UPLOAD_TOO_LATE")]


def test_offline_upload_only_by_the_class_supervisor(app, client, db, make_staff, checkin_class):
    other_class = make_staff("supervisor", class_ids=[])  # supervises no class (a class id must exist)
    items = [_item(app, checkin_class.trainees[0], _now() - dt.timedelta(minutes=1), "offline-0001")]
    refused = _upload(client, checkin_class, items, token=other_class)
    assert refused.status_code == 403 and refused.json["code"] == "OUT_OF_SCOPE"
    trainee = _upload(client, checkin_class, items, token=checkin_class.trainees[0].token)
    assert trainee.status_code == 403 and trainee.json["code"] == "ROLE_REQUIRED"  # as the guide says
    assert db[ATTENDANCE].count_documents({}) == 0
    empty = _upload(client, checkin_class, [])
    assert empty.status_code == 422


def test_offline_scan_turns_an_absence_from_closing_into_present_and_leaves_excused_alone(app, client, db,
                                                                                         checkin_class, mark):
    came, excused, _ = checkin_class.trainees
    scanned = _now() - dt.timedelta(minutes=3)
    mark(checkin_class, 1, 0, "excused")
    closed = client.post(f"/api/v1/sessions/{checkin_class.session_id}/close", headers=bearer(checkin_class.supervisor))
    assert closed.status_code == 200 and closed.json["absent"] == 2
    answer = client.post(f"/api/v1/sessions/{checkin_class.session_id}/checkins/offline",
                         json={"device_id": "d-supervisor-1", "items": [_item(app, came, scanned, "offline-0001"),
                                                                         _item(app, excused, scanned, "offline-0002")]},
                         headers=bearer(checkin_class.supervisor))
    came_result, excused_result = answer.json["results"]
    assert came_result["result"] == "checked_in" and came_result["record"]["status"] == "present"
    record = db[ATTENDANCE].find_one({"user_id": ObjectId(came.user_id)})
    assert record["status"] == "present" and record["method"] == "offline"
    assert record["device_id"] == "d-supervisor-1"  # the upload's device, also when correcting a closing absence
    assert [(h["from"], h["to"], h["reason"]) for h in record["history"]] == [(None, "absent", "close"),
                                                                              ("absent", "present", "offline_scan")]
    assert record["checked_in_at"] == scanned.replace(microsecond=scanned.microsecond // 1000 * 1000)
    assert (excused_result["result"], excused_result["code"]) == ("refused", "ALREADY_MARKED")
    assert excused_result["record"]["status"] == "excused"
    assert db[ATTENDANCE].find_one({"user_id": ObjectId(excused.user_id)})["status"] == "excused"
    # Uploaded again: the same answers, one history entry.
    assert _upload(client, checkin_class, [_item(app, came, scanned, "offline-0001")]).json["results"][0] == came_result
    assert len(db[ATTENDANCE].find_one({"user_id": ObjectId(came.user_id)})["history"]) == 2
