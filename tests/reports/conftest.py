"""A small hand-computed world for the reports, written straight into the database.

Year 2026. Class A (three sessions, all over; quotas 110000 and 440000), class B (one session
to come), class C (year 2025). Every figure the tests expect is worked out in the docstrings
of the tests from the rows below.
"""

import dataclasses
import datetime as dt

import pytest
from bson import ObjectId

YEAR = 2026
UTC = dt.timezone.utc


@dataclasses.dataclass
class World:
    class_a: ObjectId
    class_b: ObjectId
    class_c: ObjectId
    sessions: list
    users: dict  # name -> user id
    registrations: dict  # key -> registration id


def _history(*steps):
    at = dt.datetime(2026, 3, 1, tzinfo=UTC)
    return [{"at": at + dt.timedelta(days=i), "by": None, "from": a, "to": b, "reason": None}
            for i, (a, b) in enumerate(steps)]


CONFIRMED = _history((None, "draft"), ("draft", "submitted"), ("submitted", "recommended"),
                     ("recommended", "admitted"), ("admitted", "confirmed"))


def _snapshot(name, credit_code, position="董事长"):
    return {"name": name, "id_number_masked": "110105********0011", "mobile_masked": "139****0001",
            "position": position, "enterprise": {"name": f"{name}的企业", "credit_code": credit_code}}


@pytest.fixture
def world(db, client, login):
    now = dt.datetime.now(UTC).replace(microsecond=0)
    class_a, class_b, class_c = ObjectId(), ObjectId(), ObjectId()
    s1, s2, s3 = ObjectId(), ObjectId(), ObjectId()
    start_a = now - dt.timedelta(days=30)
    sessions_a = [{"_id": sid, "title": title, "teacher": teacher, "starts_at": start_a + dt.timedelta(hours=h),
                   "ends_at": start_a + dt.timedelta(hours=h + 2)}
                  for sid, title, teacher, h in ((s1, "新发展格局", "张教授", 0), (s2, "数字化转型", "李教授", 4),
                                                 (s3, "专精特新之路", "张教授", 24))]
    later = now + dt.timedelta(days=10)
    db.classes.insert_many([
        {"_id": class_a, "name": "第一期 专精特新发展专题班", "institution": "清华大学经济管理学院", "year": YEAR,
         "status": "finished", "start_date": start_a.date().isoformat(),
         "end_date": (start_a + dt.timedelta(days=2)).date().isoformat(), "sessions": sessions_a,
         "quotas": {"110000": {"places": 3, "used": 3}, "440000": {"places": 2, "used": 1}}, "version": 1},
        {"_id": class_b, "name": "第二期 数字化赋能专题班", "institution": "浙江大学", "year": YEAR, "status": "published",
         "start_date": later.date().isoformat(), "end_date": later.date().isoformat(),
         "sessions": [{"_id": ObjectId(), "title": "开班", "teacher": "王教授", "starts_at": later,
                       "ends_at": later + dt.timedelta(hours=2)}],
         "quotas": {"110000": {"places": 2, "used": 1}}, "version": 1},
        {"_id": class_c, "name": "2025年 领军人才培训班", "institution": "北京大学", "year": YEAR - 1, "status": "archived",
         "start_date": (now - dt.timedelta(days=400)).date().isoformat(),
         "end_date": (now - dt.timedelta(days=398)).date().isoformat(), "sessions": [],
         "quotas": {"110000": {"places": 2, "used": 1}}, "version": 1},
    ])
    # u1 is a real logged-in user so the trainee can read their own archive.
    trainee_token = login("report-trainee-u1")
    u1 = ObjectId(client.get("/api/v1/me", headers={"Authorization": f"Bearer {trainee_token}"}).json["id"])
    users = {"张伟": u1, "李娜": ObjectId(), "王强": ObjectId(), "赵敏": ObjectId(), "钱进": ObjectId(),
             "孙丽": ObjectId(), "周杰": ObjectId(), "吴刚": ObjectId()}
    regs = {}

    def registration(key, name, class_id, region, state, history, credit_code, year=YEAR, **extra):
        regs[key] = ObjectId()
        db.registrations.insert_one({
            "_id": regs[key], "class_id": class_id, "user_id": users[name], "year": year, "region_code": region,
            "state": state, "history": history, "credit_code": credit_code, "enterprise_name": f"{name}的企业",
            "snapshot": extra.pop("snapshot", _snapshot(name, credit_code)), "created_at": history[0]["at"],
            "submitted_at": history[1]["at"] if len(history) > 1 else None, "version": 1, **extra})

    registration("r1", "张伟", class_a, "110000", "confirmed", CONFIRMED, "G1", completed=True)
    registration("r2", "李娜", class_a, "110000", "confirmed", CONFIRMED, "N1")
    registration("r3", "王强", class_a, "440000", "confirmed", CONFIRMED, "G2")
    registration("r4", "赵敏", class_a, "110000", "submitted", _history((None, "draft"), ("draft", "submitted")), "N2")
    registration("r5", "钱进", class_a, "110000", "rejected",
                 _history((None, "draft"), ("draft", "submitted"), ("submitted", "rejected")), "N3")
    registration("r6", "孙丽", class_a, "110000", "withdrawn",
                 _history((None, "draft"), ("draft", "submitted"), ("submitted", "withdrawn")), "N4")
    registration("r7", "吴刚", class_a, "110000", "draft", _history((None, "draft")), "N5")
    registration("r8", "周杰", class_b, "110000", "confirmed", CONFIRMED, "G3",
                 snapshot=_snapshot("周杰", "G3", position=""))
    registration("r9", "张伟", class_c, "110000", "confirmed", CONFIRMED, "G1", year=YEAR - 1)

    def attendance(name, key, session_id, status, region="110000"):
        db.attendance.insert_one({"session_id": session_id, "class_id": class_a, "user_id": users[name],
                                  "registration_id": regs[key], "region_code": region, "status": status})

    # s1 and s2 were closed (closing records everyone); s3 is over but not closed yet.
    db.session_checkins.insert_many([{"_id": sid, "class_id": class_a, "closed_at": now - dt.timedelta(days=29),
                                      "closed_by": None} for sid in (s1, s2)])
    for session_id, status in ((s1, "present"), (s2, "present"), (s3, "late")):
        attendance("张伟", "r1", session_id, status)
    for session_id, status in ((s1, "present"), (s2, "absent"), (s3, "excused")):
        attendance("李娜", "r2", session_id, status)
    for session_id, status in ((s1, "late"), (s2, "present")):  # no record for s3
        attendance("王强", "r3", session_id, status, region="440000")

    def leave(name, region, type_, state, session_ids):
        db.leave_requests.insert_one({"class_id": class_a, "user_id": users[name], "region_code": region,
                                      "type": type_, "state": state, "session_ids": session_ids,
                                      "starts_at": start_a, "ends_at": start_a + dt.timedelta(hours=2),
                                      "created_at": start_a - dt.timedelta(days=1)})

    leave("李娜", "110000", "sick", "approved", [s3])
    leave("王强", "440000", "personal", "returned_early", [s3])
    leave("张伟", "110000", "personal", "rejected", [s2])
    leave("李娜", "110000", "personal", "withdrawn", [s2])

    def rating(region, **fields):
        db.ratings.insert_one({"_id": ObjectId(), "class_id": class_a, "year": YEAR, "region_code": region, **fields})

    rating("110000", kind="session", session_id=s1, teacher="张教授", stars=5, comment="很受启发")
    rating("110000", kind="session", session_id=s1, teacher="张教授", stars=4, comment="")
    rating("440000", kind="session", session_id=s1, teacher="张教授", stars=3, comment="案例偏少")
    rating("110000", kind="session", session_id=s2, teacher="李教授", stars=5, comment="")
    rating("110000", kind="session", session_id=s2, teacher="李教授", stars=5, comment="")
    rating("110000", kind="class", scores={"course_design": 5, "faculty": 5, "organisation": 5, "effect": 5},
           suggestions="增加参访")
    rating("440000", kind="class", scores={"course_design": 4, "faculty": 3, "organisation": 4, "effect": 4},
           suggestions="")
    for kind, target, session_id in (("session", f"session:{s1}", s1), ("session", f"session:{s2}", s2),
                                     ("class", f"class:{class_a}", None)):
        db.rating_receipts.insert_one({"user_id": u1, "target": target, "kind": kind, "class_id": class_a,
                                       "session_id": session_id, "rating_ref": "v1:opaque"})

    issued = now - dt.timedelta(days=20)
    db.certificates.insert_many([
        {"number": "LJ202600001", "status": "valid", "class_id": class_a, "registration_id": regs["r1"],
         "user_id": u1, "region_code": "110000", "year": YEAR, "name": "张伟", "issued_on": issued.date().isoformat(),
         "issued_at": issued, "class_name": "第一期 专精特新发展专题班"},
        {"number": "LJ202600002", "status": "revoked", "class_id": class_a, "registration_id": regs["r2"],
         "user_id": users["李娜"], "region_code": "110000", "year": YEAR, "name": "李娜",
         "issued_on": issued.date().isoformat(), "issued_at": issued, "revoke_reason": "出勤不足",
         "class_name": "第一期 专精特新发展专题班"},
    ])

    def enterprise(code, region, title, valid_from, valid_until):
        db.enterprises.insert_one({"credit_code": code, "title": title, "region_code": region, "name": code,
                                   "valid_from": valid_from, "valid_until": valid_until})

    enterprise("G1", "110000", "小巨人", "2024-01-01", "2026-12-31")
    enterprise("G3", "110000", "小巨人", "2026-01-01", "2028-12-31")
    enterprise("G4", "110000", "小巨人", "2025-01-01", "2025-06-30")  # expired before 2026
    enterprise("G5", "110000", "小巨人", "2026-07-01", "2029-06-30")  # not trained
    enterprise("N1", "110000", "高新技术企业", "2024-01-01", "2027-12-31")
    enterprise("G2", "440000", "小巨人", "2023-01-01", "2026-12-31")
    world = World(class_a=class_a, class_b=class_b, class_c=class_c, sessions=[s1, s2, s3], users=users,
                  registrations=regs)
    world.trainee_token = trainee_token
    return world
