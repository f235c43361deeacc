"""Nothing half-written (issue 14 §3) for closing a session: the close and the absent records are
two writes. If the database fails on the records, the answer is 503 and the same request sent
again writes the missing records once and answers the close; a close with nothing left to write
stays 409 SESSION_ALREADY_CLOSED."""

import datetime as dt

from bson import ObjectId

from service.attendance.repository import ATTENDANCE, SESSION_CHECKINS
from tests.conftest import bearer
from tests.fixtures.faults import assert_unavailable


def test_close_whose_records_fail_is_finished_by_sending_it_again(client, db, checkin_class, class_code, scan,
                                                                   fail_write):
    assert scan(checkin_class.trainees[0].token, class_code(checkin_class)).status_code == 200
    url = f"/api/v1/sessions/{checkin_class.session_id}/close"
    session = {"session_id": ObjectId(checkin_class.session_id)}
    with fail_write(2):  # 1 the close, 2 the absent records
        assert_unavailable(client.post(url, headers=bearer(checkin_class.supervisor)))
    assert db[SESSION_CHECKINS].find_one({"_id": ObjectId(checkin_class.session_id)})["closed_at"] is not None
    assert db[ATTENDANCE].count_documents(session) == 1  # only the scan
    again = client.post(url, headers=bearer(checkin_class.supervisor))
    assert again.status_code == 200, again.json
    assert (again.json["marked"], again.json["absent"]) == (2, 2)
    assert db[ATTENDANCE].count_documents(session) == 3
    repeat = client.post(url, headers=bearer(checkin_class.supervisor))
    assert repeat.status_code == 409 and repeat.json["code"] == "SESSION_ALREADY_CLOSED"
    assert db[ATTENDANCE].count_documents(session) == 3


def test_close_whose_first_write_fails_changes_nothing(client, db, checkin_class, fail_write):
    url = f"/api/v1/sessions/{checkin_class.session_id}/close"
    with fail_write(1):
        assert_unavailable(client.post(url, headers=bearer(checkin_class.supervisor)))
    assert db[SESSION_CHECKINS].find_one({"_id": ObjectId(checkin_class.session_id), "closed_at": {"$ne": None}}) is None
    assert db[ATTENDANCE].count_documents({"session_id": ObjectId(checkin_class.session_id)}) == 0
    assert client.post(url, headers=bearer(checkin_class.supervisor)).json["absent"] == 3


def test_offline_batch_cut_by_a_fault_is_finished_by_uploading_it_again(app, client, db, checkin_class, fail_write):
    """An offline upload writes one record per scan. A fault after some were written answers 503
    for the whole batch; the device uploads the same batch again (same nonces): the scans written
    before are answered as the first time, the others are written now, one record each."""
    from tests.attendance.test_network_drops_api import _item, _now, _upload

    now = _now()
    items = [_item(app, trainee, now - dt.timedelta(minutes=3 - index), f"offline-fault-{index}")
             for index, trainee in enumerate(checkin_class.trainees)]
    session = {"session_id": ObjectId(checkin_class.session_id)}
    with fail_write(2, commands=["insert"]):  # the second scan's record
        assert_unavailable(_upload(client, checkin_class, items))
    written = list(db[ATTENDANCE].find(session))
    assert [r["nonce"] for r in written] == ["offline-fault-0"]  # the first scan only
    again = _upload(client, checkin_class, items)
    assert again.status_code == 200, again.json
    assert [(r["nonce"], r["result"]) for r in again.json["results"]] == [
        (f"offline-fault-{index}", "checked_in") for index in range(3)]
    records = list(db[ATTENDANCE].find(session))
    assert sorted(r["user_id"] for r in records) == sorted(ObjectId(t.user_id) for t in checkin_class.trainees)
    assert sorted(r["nonce"] for r in records) == [f"offline-fault-{index}" for index in range(3)]
    assert again.json["results"][0]["record"]["id"] == str(written[0]["_id"])
    repeated = _upload(client, checkin_class, items)  # and once more: nothing new
    assert [r["result"] for r in repeated.json["results"]] == ["checked_in"] * 3
    assert db[ATTENDANCE].count_documents(session) == 3
