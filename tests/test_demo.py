"""`serve --demo` data: the 2024 shape, seeded once however often it runs."""

from service import demo
from service.classes.repository import CLASSES


def test_demo_seed_is_realistic_and_idempotent(ctx, db):
    demo.seed()
    demo.seed()
    classes = list(db[CLASSES].find())
    assert len(classes) == 10
    for klass in classes:
        assert sum(q["places"] for q in klass["quotas"].values()) == 80
        assert len(klass["quotas"]) >= 4
        days = {s["starts_at"].date() for s in klass["sessions"]}
        assert 2 * 4 <= len(klass["sessions"]) <= 3 * 4
        assert len(days) == 4
    assert db["staff_accounts"].count_documents({}) == len(demo.DEMO_STAFF)
    assert db["programmes"].count_documents({}) == 1
    supervisor = db["staff_accounts"].find_one({"role": "supervisor"})
    assert len(supervisor["class_ids"]) == 1
