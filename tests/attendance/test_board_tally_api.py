"""The projector page reads a session's tally (one small document), not its records; the board reads
the fields it shows of the records. Right after a check-in, a mark, a closing or a leave approval
both answer what a count of the records says; a check-in's count is written by its process's
flusher at once, once per record (issue "National scale", §4)."""

import datetime as dt
import time

from bson import ObjectId

from service.attendance import repository
from service.attendance.repository import ATTENDANCE, SESSION_TALLIES
from tests.conftest import bearer


def _board(client, klass):
    return client.get(f"/api/v1/sessions/{klass.session_id}/board", headers=bearer(klass.supervisor)).json


def _state_path(client, klass):
    link = client.post(f"/api/v1/sessions/{klass.session_id}/projector-link", headers=bearer(klass.supervisor)).json
    return link["url"].removeprefix("http://localhost").replace("/checkin?", "/checkin/state?")


def _tally(db, klass):
    found = db[SESSION_TALLIES].find_one({"_id": ObjectId(klass.session_id)}, {"_id": 0, "recounted_at": 0})
    return {status: n for status, n in (found or {}).items() if n}


def test_projector_and_board_move_right_after_each_check_in(client, db, db_reads, checkin_class, class_code, scan):
    state = _state_path(client, checkin_class)
    assert client.get(state).json["counts"]["checked_in"] == 0
    for done, trainee in enumerate(checkin_class.trainees, start=1):
        assert scan(trainee.token, class_code(checkin_class)).json["result"] == "checked_in"
        db_reads.clear()
        projector = client.get(state).json
        assert db_reads.of(ATTENDANCE) == []  # the projector does not read the session's records
        board = _board(client, checkin_class)
        assert board["counts"] == projector["counts"]
        assert (projector["counts"]["checked_in"], projector["counts"]["missing"]) == (done, 3 - done)
    assert _tally(db, checkin_class) == {"present": 3}


def test_a_check_in_is_counted_by_its_process_without_a_poll(client, db, checkin_class, class_code, scan):
    """Another process's poll sees it within FLUSH_GATHER_SECONDS plus a write."""
    assert scan(checkin_class.trainees[0].token, class_code(checkin_class)).status_code == 200
    deadline = time.monotonic() + 5
    while _tally(db, checkin_class) != {"present": 1} and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _tally(db, checkin_class) == {"present": 1}


def test_second_scans_and_retries_are_counted_once(client, db, checkin_class, class_code, scan):
    trainee = checkin_class.trainees[0]
    code = class_code(checkin_class)
    answers = [scan(trainee.token, code, nonce="retry-nonce-1") for _ in range(3)]
    answers.append(scan(trainee.token, code, nonce="second-scan-2"))
    assert [a.json["result"] for a in answers] == ["checked_in"] * 3 + ["already_checked_in"]
    assert client.get(_state_path(client, checkin_class)).json["counts"]["checked_in"] == 1
    assert _tally(db, checkin_class) == {"present": 1}


def test_marks_and_corrections_show_at_once(client, db, checkin_class, class_code, scan, mark):
    state = _state_path(client, checkin_class)
    scan(checkin_class.trainees[0].token, class_code(checkin_class))
    assert client.get(state).json["counts"]["checked_in"] == 1
    mark(checkin_class, 0, 0, "absent")  # a correction of a check-in
    mark(checkin_class, 1, 0, "late")  # a trainee without a record
    mark(checkin_class, 1, 0, "late")  # the same again: nothing moves
    counts = client.get(state).json["counts"]
    assert (counts["checked_in"], counts["late"], counts["absent"], counts["missing"]) == (1, 1, 1, 1)
    assert counts == _board(client, checkin_class)["counts"]
    assert _tally(db, checkin_class) == {"late": 1, "absent": 1}


def test_closing_counts_everyone_left_absent(client, db, checkin_class, class_code, scan, move_session):
    state = _state_path(client, checkin_class)
    scan(checkin_class.trainees[0].token, class_code(checkin_class))
    assert client.get(state).json["counts"]["missing"] == 2
    move_session(checkin_class.session_id, -20)
    closed = client.post(f"/api/v1/sessions/{checkin_class.session_id}/close", headers=bearer(checkin_class.supervisor))
    assert closed.status_code == 200
    projector = client.get(state).json
    assert projector["closed"] is True
    counts = projector["counts"]
    assert (counts["checked_in"], counts["absent"], counts["missing"]) == (1, 2, 0)
    assert projector["counts"] == _board(client, checkin_class)["counts"]


def test_records_written_before_the_tally_existed_are_counted_at_the_first_poll(client, db, checkin_class, class_code,
                                                                                 scan):
    for trainee in checkin_class.trainees[:2]:
        scan(trainee.token, class_code(checkin_class))
    repository.flush_counts()
    db[SESSION_TALLIES].delete_many({})  # as before this version: records, no tally
    counts = client.get(_state_path(client, checkin_class)).json["counts"]
    assert (counts["checked_in"], counts["missing"]) == (2, 1)
    assert _tally(db, checkin_class) == {"present": 2}


def test_a_trainee_on_leave_who_checked_in_counts_as_checked_in(client, db, checkin_class, class_code, scan):
    back_early, away = checkin_class.trainees[:2]
    for trainee in (back_early, away):
        db["leave_requests"].insert_one({"class_id": ObjectId(checkin_class.id), "user_id": ObjectId(trainee.user_id),
                                         "state": "approved", "type": "sick",
                                         "claimed_session_ids": [ObjectId(checkin_class.session_id)],
                                         "created_at": dt.datetime.now(dt.timezone.utc)})
    scan(back_early.token, class_code(checkin_class))
    counts = client.get(_state_path(client, checkin_class)).json["counts"]
    assert (counts["checked_in"], counts["on_leave"], counts["missing"]) == (1, 1, 1)
    assert counts == _board(client, checkin_class)["counts"]


def test_a_lost_count_is_mended_by_a_poll_within_the_recount_period(client, db, checkin_class, class_code, scan):
    """A process that died between a check-in's insert and its flush leaves the tally short: the
    poll after RECOUNT_SECONDS counts the records again, and only one poll stores its count."""
    state = _state_path(client, checkin_class)
    for trainee in checkin_class.trainees[:2]:
        assert scan(trainee.token, class_code(checkin_class)).json["result"] == "checked_in"
    assert client.get(state).json["counts"]["checked_in"] == 2
    session = ObjectId(checkin_class.session_id)
    # The count of the second check-in lost with its process:
    db[SESSION_TALLIES].update_one({"_id": session}, {"$inc": {"present": -1}})
    assert client.get(state).json["counts"]["checked_in"] == 1  # within the period: the tally as it is
    old = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=repository.RECOUNT_SECONDS + 5)
    db[SESSION_TALLIES].update_one({"_id": session}, {"$set": {"recounted_at": old}})
    assert client.get(state).json["counts"]["checked_in"] == 2
    stored = db[SESSION_TALLIES].find_one({"_id": session})
    assert stored["present"] == 2 and stored["recounted_at"] > old.replace(microsecond=0)
