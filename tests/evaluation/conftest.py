"""A small hand-computed world for the 附件5 scoring and the 附1-2 plan, written straight into the database.

Year 2026, region 北京 110000 (and 广东 440000 beside it):
  class P1 published, 3 Beijing places, all four content areas, timetable in the future (not held);
  class P2 finished, 2 Beijing + 4 Guangdong places, content 经营管理 and 专精特新发展 only, one session
       held and closed;
  class P3 draft with Beijing places (not in any plan); class P4 published, Guangdong only.
  Beijing registrations: r1 confirmed P2 (enterprise G1), r2 confirmed P2 (G2, position missing: archive
       incomplete), r3 submitted P1 (not reviewed yet), r4 rejected P1 (reviewed).
  Guangdong: r5 confirmed P2 (enterprise H1).
  小巨人 valid in 2026: Beijing G1..G5 (G6 expired 2025) -> 2 of 5 trained = 40%; Guangdong H1 -> 1/1.
  Class ratings of Beijing trainees: five ratings, 20 scores, 18 of them 4 or 5 -> exactly 90%.
"""

import dataclasses
import datetime as dt

import pytest
from bson import ObjectId

YEAR = 2026
UTC = dt.timezone.utc


@dataclasses.dataclass
class World:
    p1: ObjectId
    p2: ObjectId
    p3: ObjectId
    p4: ObjectId
    registrations: dict


def _history(*steps):
    at = dt.datetime(2026, 3, 1, tzinfo=UTC)
    return [{"at": at + dt.timedelta(days=i), "by": None, "from": a, "to": b, "reason": None}
            for i, (a, b) in enumerate(steps)]


CONFIRMED = _history((None, "draft"), ("draft", "submitted"), ("submitted", "recommended"),
                     ("recommended", "admitted"), ("admitted", "confirmed"))
SUBMITTED = _history((None, "draft"), ("draft", "submitted"))
REJECTED = _history((None, "draft"), ("draft", "submitted"), ("submitted", "rejected"))


def _snapshot(name, credit_code, position="董事长"):
    return {"name": name, "id_number_masked": "110105********0011", "mobile_masked": "139****0001",
            "position": position, "enterprise": {"name": f"{name}的企业", "credit_code": credit_code}}


@pytest.fixture
def world(db):
    now = dt.datetime.now(UTC).replace(microsecond=0)
    p1, p2, p3, p4 = ObjectId(), ObjectId(), ObjectId(), ObjectId()
    held = ObjectId()
    past, future = now - dt.timedelta(days=20), now + dt.timedelta(days=40)

    def klass(_id, name, status, start, quotas, areas, sessions):
        return {"_id": _id, "name": name, "institution": "清华大学经济管理学院", "year": YEAR, "status": status,
                "start_date": start.date().isoformat(), "end_date": (start + dt.timedelta(days=3)).date().isoformat(),
                "content_areas": areas, "quotas": {code: {"places": n, "used": 0} for code, n in quotas.items()},
                "sessions": sessions, "version": 1}

    def session(_id, start, area):
        return {"_id": _id, "title": f"{area}专题", "teacher": "张教授", "content_area": area,
                "starts_at": start, "ends_at": start + dt.timedelta(hours=2)}

    db.classes.insert_many([
        klass(p1, "第一期 综合班", "published", future, {"110000": 3},
              ["科学理论", "形势政策", "经营管理", "专精特新发展"],
              [session(ObjectId(), future, "科学理论"), session(ObjectId(), future + dt.timedelta(hours=3), "形势政策")]),
        klass(p2, "第二期 数字化专题班", "finished", past, {"110000": 2, "440000": 4}, ["经营管理", "专精特新发展"],
              [session(held, past, "经营管理")]),
        klass(p3, "第三期 草稿班", "draft", future, {"110000": 5}, ["科学理论", "形势政策"], []),
        klass(p4, "广东专场", "published", future, {"440000": 5}, ["科学理论", "形势政策"], []),
    ])
    db.session_checkins.insert_one({"_id": held, "class_id": p2, "closed_at": past + dt.timedelta(hours=3),
                                    "closed_by": None})
    regs = {}

    def registration(key, name, class_id, region, state, history, credit_code, position="董事长"):
        regs[key] = ObjectId()
        db.registrations.insert_one({
            "_id": regs[key], "class_id": class_id, "user_id": ObjectId(), "year": YEAR, "region_code": region,
            "state": state, "history": history, "credit_code": credit_code, "enterprise_name": f"{name}的企业",
            "snapshot": _snapshot(name, credit_code, position), "created_at": history[0]["at"],
            "submitted_at": history[1]["at"], "version": 1})
        if state == "confirmed":
            db.attendance.insert_one({"session_id": held, "class_id": class_id, "user_id": ObjectId(),
                                      "registration_id": regs[key], "region_code": region, "status": "present"})

    registration("r1", "张伟", p2, "110000", "confirmed", CONFIRMED, "G1")
    registration("r2", "李娜", p2, "110000", "confirmed", CONFIRMED, "G2", position="")
    registration("r3", "王强", p1, "110000", "submitted", SUBMITTED, "G3")
    registration("r4", "赵敏", p1, "110000", "rejected", REJECTED, "N1")
    registration("r5", "陈明", p2, "440000", "confirmed", CONFIRMED, "H1")

    def enterprise(code, region, valid_from="2025-01-01", valid_until="2027-12-31"):
        db.enterprises.insert_one({"credit_code": code, "title": "小巨人", "region_code": region, "name": code,
                                   "valid_from": valid_from, "valid_until": valid_until})

    for code in ("G1", "G2", "G3", "G4", "G5"):
        enterprise(code, "110000")
    enterprise("G6", "110000", valid_until="2025-12-31")
    enterprise("H1", "440000")
    dims = ("course_design", "faculty", "organisation", "effect")
    for scores in ((5, 5, 5, 5), (5, 5, 5, 5), (5, 4, 4, 4), (3, 5, 5, 5), (5, 5, 3, 4)):
        db.ratings.insert_one({"class_id": p2, "year": YEAR, "region_code": "110000", "kind": "class",
                               "scores": dict(zip(dims, scores)), "suggestions": ""})
    db.ratings.insert_one({"class_id": p2, "year": YEAR, "region_code": "440000", "kind": "class",
                           "scores": dict(zip(dims, (5, 5, 5, 5))), "suggestions": ""})
    return World(p1=p1, p2=p2, p3=p3, p4=p4, registrations=regs)
