"""Index set-up: declared indexes created, retired ones dropped (also when another process did)."""

import pymongo.collection

from service.core.db import ensure_indexes


def _create_retired_attendance_indexes(db):
    db.attendance.create_index([("class_id", 1), ("user_id", 1)], name="class_trainee")
    db.attendance.create_index([("user_id", 1), ("class_id", 1)], name="report_user_class")
    db.attendance.create_index([("region_code", 1), ("class_id", 1), ("registration_id", 1)],
                               name="report_region_class")


def test_retired_attendance_indexes_are_dropped_and_the_unique_one_kept(app, db):
    _create_retired_attendance_indexes(db)

    ensure_indexes(db)

    indexes = db.attendance.index_information()
    assert set(indexes) == {"_id_", "one_per_session_trainee"}
    assert indexes["one_per_session_trainee"]["unique"] is True
    ensure_indexes(db)  # nothing left to drop: no error
    assert set(db.attendance.index_information()) == set(indexes)


def test_an_index_dropped_meanwhile_by_another_process_is_not_an_error(app, db, monkeypatch):
    _create_retired_attendance_indexes(db)
    listed = db.attendance.index_information()
    db.attendance.drop_index("class_trainee")  # "the other process", after our listing
    monkeypatch.setattr(pymongo.collection.Collection, "index_information",
                        lambda self: listed if self.name == "attendance" else {})

    ensure_indexes(db)

    monkeypatch.undo()
    assert set(db.attendance.index_information()) == {"_id_", "one_per_session_trainee"}
