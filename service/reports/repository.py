"""What the reports read that no owner answers: reports only read, and every pipeline over a
collection lives with that collection's owner (registrations, attendance, leave, completion and
ratings repositories, with the indexes serving them; COLLECTION_OWNERS in service/core/db.py)."""

from service.classes import repository as classes_repo


def classes_by_id(class_ids, projection):
    return {c["_id"]: c for c in classes_repo.by_ids(class_ids, projection)}
