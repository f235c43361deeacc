"""The check-in answer is written out by hand (schemas.attendance.checkin_answer) for speed: it must
stay exactly what CheckinResultSchema, which the OpenAPI document shows, would produce."""

from bson import ObjectId

from schemas.attendance import CheckinResultSchema, checkin_answer
from service.attendance.repository import ATTENDANCE
from tests.conftest import bearer
from tests.fixtures.checkin import FAR_AWAY


def _records_of_every_kind(client, db, klass, class_code, scan, mark, set_class, move_session):
    """Stored records made by a scan, a flagged far-away scan, a supervisor's mark and closing."""
    set_class(klass.id, **{"checkin_settings.out_of_range": "flag"})
    assert scan(klass.trainees[0].token, class_code(klass), nonce="answer-01").status_code == 200
    assert scan(klass.trainees[1].token, class_code(klass), **FAR_AWAY).status_code == 200
    mark(klass, 2, 0, "late")
    move_session(klass.session_ids[1], -1)  # begun: closing a session before its start is refused
    closed = client.post(f"/api/v1/sessions/{klass.session_ids[1]}/close", headers=bearer(klass.supervisor))
    assert closed.status_code == 200, closed.json
    records = list(db[ATTENDANCE].find({"session_id": {"$in": [ObjectId(s) for s in klass.session_ids[:2]]}}))
    assert {r["method"] for r in records} == {"class_code", "manual", "close"}
    assert any(r.get("flags") == ["out_of_range"] for r in records)
    assert any(r.get("remark") for r in records) and any(r["checked_in_at"] is None for r in records)
    return records


def test_written_out_answer_equals_the_schema_dump(client, db, checkin_class, class_code, scan, mark, set_class,
                                                   move_session):
    records = _records_of_every_kind(client, db, checkin_class, class_code, scan, mark, set_class, move_session)
    schema = CheckinResultSchema()
    for record in records:
        for result in ({"result": "checked_in", "record": record},
                       {"result": "already_checked_in", "record": record, "trainee_name": "张三"},
                       {"result": "checked_in", "record": {k: v for k, v in record.items() if k != "remark"}}):
            assert checkin_answer(result) == schema.dump(result)


def test_api_answer_equals_the_schema_dump_of_the_stored_record(client, db, checkin_class, class_code, scan):
    trainee = checkin_class.trainees[0]
    answer = scan(trainee.token, class_code(checkin_class), nonce="answer-02").json
    stored = db[ATTENDANCE].find_one({"user_id": ObjectId(trainee.user_id)})
    assert answer == CheckinResultSchema().dump({"result": "checked_in", "record": stored})
