"""Trainees scanning the class code: the happy path, every refusal, repeats and races."""

import threading
import time

from bson import ObjectId

from service.attendance import tokens
from service.attendance.repository import ATTENDANCE
from tests.conftest import bearer
from tests.fixtures.checkin import FAR_AWAY


def _records(db, klass, session_index=0):
    return list(db[ATTENDANCE].find({"session_id": ObjectId(klass.session_ids[session_index])}))


def _code_at(app, session_id, seconds_ago):
    with app.app_context():
        return tokens.issue(tokens.CLASS, ObjectId(session_id), now=time.time() - seconds_ago)[0]


def test_on_time_scan_records_present_with_device_ip_and_distance(db, checkin_class, class_code, scan):
    trainee = checkin_class.trainees[0]
    response = scan(trainee.token, class_code(checkin_class), nonce="n-00000001", device_id="dev-A")
    assert response.status_code == 200, response.json
    assert response.json["result"] == "checked_in"
    record = response.json["record"]
    assert record["status"] == "present" and record["session_id"] == checkin_class.session_id
    assert record["checked_in_at"].endswith("+08:00")
    [stored] = _records(db, checkin_class)
    assert stored["user_id"] == ObjectId(trainee.user_id)
    assert stored["device_id"] == "dev-A" and stored["ip"] == "127.0.0.1"
    assert stored["distance_m"] < 50 and stored["flags"] == []


def test_scan_after_late_threshold_is_late(db, checkin_class, class_code, scan, move_session):
    move_session(checkin_class.session_id, -15)  # default: late after 10 minutes
    response = scan(checkin_class.trainees[0].token, class_code(checkin_class))
    assert response.status_code == 200 and response.json["record"]["status"] == "late"


def test_repeat_scan_answers_existing_record(db, checkin_class, class_code, scan):
    token = checkin_class.trainees[0].token
    first = scan(token, class_code(checkin_class), nonce="first-nonce")
    again = scan(token, class_code(checkin_class), nonce="second-nonce")
    assert again.status_code == 200
    assert again.json["result"] == "already_checked_in"
    assert again.json["record"]["checked_in_at"] == first.json["record"]["checked_in_at"]
    assert len(_records(db, checkin_class)) == 1


def test_same_nonce_retried_gets_the_same_answer(db, checkin_class, class_code, scan):
    token = checkin_class.trainees[0].token
    first = scan(token, class_code(checkin_class), nonce="retry-nonce-1")
    retried = scan(token, class_code(checkin_class), nonce="retry-nonce-1")
    assert first.json == retried.json and retried.json["result"] == "checked_in"
    assert len(_records(db, checkin_class)) == 1


def test_fifty_concurrent_scans_of_one_trainee_make_one_record(app, db, checkin_class, class_code):
    code = class_code(checkin_class)
    token = checkin_class.trainees[0].token
    barrier = threading.Barrier(50)
    answers = [None] * 50

    def scan_once(index):
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/checkins", json={"code": code, "latitude": 40.0004, "longitude": 116.3266,
                                                         "nonce": f"nonce-{index:04d}"}, headers=bearer(token))
        answers[index] = (response.status_code, response.json["result"])

    threads = [threading.Thread(target=scan_once, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {status for status, _ in answers} == {200}
    assert sorted(result for _, result in answers).count("checked_in") == 1
    assert len(_records(db, checkin_class)) == 1


def test_forged_code_is_refused_and_nothing_written(db, checkin_class, class_code, scan):
    code = class_code(checkin_class)
    forged = code[:-1] + ("A" if code[-1] != "A" else "B")
    for bad in (forged, "C" + "x" * 30, "not-a-code"):
        response = scan(checkin_class.trainees[0].token, bad)
        assert response.status_code == 422 and response.json["code"] == "CODE_INVALID", bad
        assert response.json["message"] == "无效的签到码"
    assert _records(db, checkin_class) == []


def test_code_signed_with_another_secret_is_forged(app, db, checkin_class, scan):
    with app.app_context():
        secret = app.config["SECRET_KEY"]
        app.config["SECRET_KEY"] = "someone-elses-secret"
        try:
            foreign = tokens.issue(tokens.CLASS, ObjectId(checkin_class.session_id))[0]
        finally:
            app.config["SECRET_KEY"] = secret
    response = scan(checkin_class.trainees[0].token, foreign)
    assert response.json["code"] == "CODE_INVALID"


def test_replayed_expired_code_is_refused(app, db, checkin_class, scan):
    replayed = _code_at(app, checkin_class.session_id, seconds_ago=60)  # 4 steps of 15 s ago
    response = scan(checkin_class.trainees[0].token, replayed)
    assert response.status_code == 422 and response.json["code"] == "CODE_EXPIRED"
    assert _records(db, checkin_class) == []


def test_code_of_the_previous_step_still_works(app, checkin_class, scan):
    # Shown just before the rotation: the grace step keeps it valid.
    just_rotated = _code_at(app, checkin_class.session_id, seconds_ago=15)
    assert scan(checkin_class.trainees[0].token, just_rotated).status_code == 200


def test_code_of_another_session_is_refused(client, db, checkin_class, class_code):
    other_session_code = class_code(checkin_class, session_index=1)
    response = client.post(f"/api/v1/sessions/{checkin_class.session_id}/checkins",
                           json={"code": other_session_code}, headers=bearer(checkin_class.trainees[0].token))
    assert response.status_code == 422 and response.json["code"] == "CODE_OTHER_SESSION"
    assert _records(db, checkin_class) == [] and _records(db, checkin_class, 1) == []


def test_session_endpoint_accepts_its_own_code(client, checkin_class, class_code):
    response = client.post(f"/api/v1/sessions/{checkin_class.session_id}/checkins",
                           json={"code": class_code(checkin_class), "latitude": 40.0004, "longitude": 116.3266},
                           headers=bearer(checkin_class.trainees[0].token))
    assert response.status_code == 200 and response.json["result"] == "checked_in"


def test_trainee_not_confirmed_in_the_class_is_refused(db, login, checkin_class, make_checkin_class, class_code,
                                                       scan):
    stranger = login("stranger")
    response = scan(stranger, class_code(checkin_class))
    assert response.status_code == 403 and response.json["code"] == "NOT_ENROLLED"
    other_class = make_checkin_class(trainees=1, name="第二期")
    response = scan(other_class.trainees[0].token, class_code(checkin_class))
    assert response.json["code"] == "NOT_ENROLLED"
    assert _records(db, checkin_class) == []


def test_withdrawn_trainee_cannot_check_in(app, db, checkin_class, class_code, scan):
    trainee = checkin_class.trainees[0]
    db["registrations"].update_one({"_id": ObjectId(trainee.registration_id)}, {"$set": {"state": "withdrawn"}})
    with app.app_context():
        from service.attendance import roster

        roster.invalidate()
    assert scan(trainee.token, class_code(checkin_class)).json["code"] == "NOT_ENROLLED"


def test_trainee_confirmed_after_the_roster_was_cached_checks_in_at_once(app, db, checkin_class, class_code, scan):
    late = checkin_class.trainees[2]
    registration = {"_id": ObjectId(late.registration_id)}
    db["registrations"].update_one(registration, {"$set": {"state": "admitted"}})
    with app.app_context():
        from service.attendance import roster

        roster.invalidate()
    assert scan(checkin_class.trainees[0].token, class_code(checkin_class)).status_code == 200  # roster cached
    assert scan(late.token, class_code(checkin_class)).json["code"] == "NOT_ENROLLED"
    db["registrations"].update_one(registration, {"$set": {"state": "confirmed"}})  # no cache reset

    response = scan(late.token, class_code(checkin_class))

    assert response.status_code == 200 and response.json["result"] == "checked_in"
    assert response.json["record"]["registration_id"] == late.registration_id


def test_before_the_window_opens(db, checkin_class, class_code, scan):
    response = scan(checkin_class.trainees[0].token, class_code(checkin_class, session_index=1))
    assert response.status_code == 422 and response.json["code"] == "CHECKIN_NOT_OPEN"
    assert response.json["opens_at"].endswith("+08:00")
    assert _records(db, checkin_class, 1) == []


def test_after_the_window_closed(db, checkin_class, class_code, scan, move_session):
    code = class_code(checkin_class)
    move_session(checkin_class.session_id, -120, length_minutes=60)
    response = scan(checkin_class.trainees[0].token, code)
    assert response.status_code == 422 and response.json["code"] == "CHECKIN_CLOSED"
    assert _records(db, checkin_class) == []


def test_far_from_the_venue_is_refused_with_the_distance(db, checkin_class, class_code, scan):
    response = scan(checkin_class.trainees[0].token, class_code(checkin_class), **FAR_AWAY)
    assert response.status_code == 422 and response.json["code"] == "OUT_OF_RANGE"
    assert 3200 < response.json["distance_m"] < 3400
    assert "3" in response.json["message"] and "米" in response.json["message"]
    assert _records(db, checkin_class) == []


def test_no_location_when_the_class_refuses_out_of_range(db, checkin_class, class_code, scan):
    response = scan(checkin_class.trainees[0].token, class_code(checkin_class), latitude=..., longitude=...)
    assert response.status_code == 422 and response.json["code"] == "LOCATION_REQUIRED"
    assert _records(db, checkin_class) == []


def test_flag_setting_records_and_flags_far_check_ins(client, db, checkin_class, class_code, scan, set_class):
    set_class(checkin_class.id, **{"checkin_settings.out_of_range": "flag"})
    far = scan(checkin_class.trainees[0].token, class_code(checkin_class), **FAR_AWAY)
    assert far.status_code == 200 and far.json["record"]["flags"] == ["out_of_range"]
    blind = scan(checkin_class.trainees[1].token, class_code(checkin_class), latitude=..., longitude=...)
    assert blind.status_code == 200 and blind.json["record"]["flags"] == ["no_location"]
    board = client.get(f"/api/v1/sessions/{checkin_class.session_id}/board", headers=bearer(checkin_class.supervisor))
    [flag] = [f for f in board.json["flags"] if f["kind"] == "out_of_range"]
    assert flag["names"] == [checkin_class.trainees[0].name] and flag["distance_m"] > 3000


def test_venue_without_coordinates_needs_no_location(checkin_class, class_code, scan, set_class):
    set_class(checkin_class.id, **{"venue.latitude": None, "venue.longitude": None})
    response = scan(checkin_class.trainees[0].token, class_code(checkin_class), latitude=..., longitude=...)
    assert response.status_code == 200 and response.json["record"]["flags"] == []


def test_one_device_for_several_trainees_is_flagged_not_blocked(client, checkin_class, class_code, scan):
    for trainee in checkin_class.trainees[:2]:
        assert scan(trainee.token, class_code(checkin_class), device_id="shared-phone").status_code == 200
    scan(checkin_class.trainees[2].token, class_code(checkin_class), device_id="own-phone")
    board = client.get(f"/api/v1/sessions/{checkin_class.session_id}/board", headers=bearer(checkin_class.supervisor))
    [flag] = [f for f in board.json["flags"] if f["kind"] == "shared_device"]
    assert flag["device_id"] == "shared-phone"
    assert sorted(flag["names"]) == sorted(t.name for t in checkin_class.trainees[:2])
    assert board.json["counts"]["checked_in"] == 3


def test_bad_input_is_422_with_field_errors(client, checkin_class):
    response = client.post("/api/v1/checkins", json={"latitude": 200}, headers=bearer(checkin_class.trainees[0].token))
    assert response.status_code == 422
    assert {"code", "latitude"} <= set(response.json["errors"])


def test_check_in_needs_login(client, checkin_class, class_code):
    response = client.post("/api/v1/checkins", json={"code": class_code(checkin_class)})
    assert response.status_code == 401
