"""Demo data for `lingjun serve --demo`, in the 2024 shape of notice 333.

Staff bound to fake-WeChat logins, trainees, one published programme year with 10 classes
of 4 days (~80 places each over several regions, 2–3 sessions a day), and a registry sample.
Idempotent: running it again leaves one copy of everything.
"""

import datetime as dt

from service.classes import service as classes
from service.core.db import collection, utcnow
from service.core.timeutil import BEIJING
from service.programmes import repository as programmes_repo
from service.programmes import service as programmes
from service.staff import repository as staff_repo
from service.users import repository as users_repo

# person -> (staff role, region, display name); log in with code "<person>" or "<person>.<n>".
DEMO_STAFF = {
    "demo-admin": ("admin", None, "人才交流中心 管理员"),
    "demo-staff-bj": ("province_staff", "110000", "北京市中小企业局 工作人员"),
    "demo-staff-gd": ("province_staff", "440000", "广东省中小企业局 工作人员"),
    "demo-supervisor": ("supervisor", None, "班主任 王老师"),
}
DEMO_TRAINEES = ["demo-trainee-1", "demo-trainee-2", "demo-trainee-3"]
DEMO_PROGRAMME_NAME = "中小企业经营管理领军人才培训（演示）"

INSTITUTIONS = ["清华大学经济管理学院", "北京大学光华管理学院", "浙江大学管理学院", "复旦大学管理学院",
                "中山大学管理学院", "南京大学商学院", "西安交通大学管理学院", "中国人民大学商学院",
                "上海交通大学安泰经济与管理学院", "武汉大学经济与管理学院"]
VENUES = [("清华大学舜德楼", "北京市海淀区清华大学", 40.0003, 116.3265),
          ("北京大学光华楼", "北京市海淀区颐和园路5号", 39.9928, 116.3055),
          ("浙江大学紫金港校区", "浙江省杭州市西湖区余杭塘路866号", 30.3076, 120.0862),
          ("复旦大学李达三楼", "上海市杨浦区国顺路670号", 31.2997, 121.5040),
          ("中山大学岭南学院", "广东省广州市海珠区新港西路135号", 23.0966, 113.2990),
          ("南京大学安中楼", "江苏省南京市鼓楼区汉口路22号", 32.0560, 118.7790),
          ("西安交通大学曲江校区", "陕西省西安市雁塔区雁翔路99号", 34.2290, 108.9850),
          ("中国人民大学明德商学楼", "北京市海淀区中关村大街59号", 39.9700, 116.3170),
          ("上海交通大学徐汇校区", "上海市徐汇区华山路1954号", 31.2010, 121.4360),
          ("武汉大学经管院", "湖北省武汉市武昌区八一路299号", 30.5400, 114.3600)]
# Region groups; each class takes one group (joint classes across regions, 跨区域联合组班).
REGION_GROUPS = [["110000", "120000", "130000", "440000"], ["310000", "320000", "330000", "330200"],
                 ["440000", "440300", "450000", "460000"], ["370000", "370200", "410000", "420000"],
                 ["510000", "500000", "520000", "530000"], ["210000", "210200", "220000", "230000"],
                 ["350000", "350200", "360000", "340000"], ["610000", "620000", "630000", "640000", "650000", "660000"],
                 ["140000", "150000", "110000", "120000"], ["430000", "420000", "440000", "450000"]]
TOPICS = ["专精特新发展", "数字化赋能", "融通创新", "战略与治理", "科技创新与知识产权",
          "资本运作与上市", "质量品牌", "国际化经营", "绿色低碳发展", "合规管理"]
DAY_PLAN = [("09:00", "11:30", "lecture", "科学理论"), ("14:00", "16:30", "site_visit", "专精特新发展"),
            ("19:00", "20:30", "discussion", "经营管理")]


def _demo_user(person):
    return users_repo.upsert_by_openid(openid=f"oFAKE-{person}", unionid=f"uFAKE-{person}")


def _seed_people():
    lines = ["Demo logins (POST /api/v1/auth/wx-login {\"code\": \"<person>.<anything>\"}):"]
    for person, (role, region_code, name) in DEMO_STAFF.items():
        user = _demo_user(person)
        collection(users_repo.USERS).update_one({"_id": user["_id"]}, {"$set": {"name": name}})
        if not collection(staff_repo.STAFF).find_one({"user_id": user["_id"], "role": role}):
            staff_repo.insert({"name": name, "role": role, "region_code": region_code, "class_ids": [],
                               "active": True, "user_id": user["_id"], "bound_at": utcnow(),
                               "created_at": utcnow(), "created_by": None})
        lines.append(f"  {person:<18} {role}{' ' + region_code if region_code else ''}")
    for person in DEMO_TRAINEES:
        _demo_user(person)
        lines.append(f"  {person:<18} trainee")
    return lines


def _session_at(day, hhmm):
    hour, minute = map(int, hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BEIJING).astimezone(dt.timezone.utc)


def _seed_classes(admin_id):
    existing = collection(programmes_repo.PROGRAMMES).find_one({"name": DEMO_PROGRAMME_NAME})
    if existing:
        return existing, collection(classes.repository.CLASSES).count_documents({"programme_id": existing["_id"]})
    today = dt.datetime.now(BEIJING).date()
    programme = programmes.create(created_by=admin_id, year=today.year, name=DEMO_PROGRAMME_NAME, kind="national",
                                  topic=None, require_little_giant=False, exclude_prior_trainees=False,
                                  one_enterprise_per_year=True)
    programmes.change_status(programme_id=programme["_id"], status="published", changed_by=admin_id)
    for number in range(10):
        # Class 1 runs today (to try check-in); the others follow every three weeks.
        start = today if number == 0 else today + dt.timedelta(days=14 + 21 * number)
        deadline = dt.datetime.combine(start - dt.timedelta(days=7), dt.time(), tzinfo=BEIJING)
        regions = REGION_GROUPS[number]
        places = [80 // len(regions)] * len(regions)
        places[0] += 80 - sum(places)
        name, address, lat, lng = VENUES[number]
        klass = classes.create(
            created_by=admin_id, programme_id=programme["_id"],
            name=f"第{number + 1}期 {TOPICS[number]}专题班", institution=INSTITUTIONS[number],
            content_areas=["科学理论", "形势政策", "经营管理", "专精特新发展"],
            start_date=start, end_date=start + dt.timedelta(days=3),
            venue={"name": name, "address": address, "latitude": lat, "longitude": lng, "checkin_radius_m": 500},
            capacity=80, allow_quota_above_capacity=False,
            registration_opens_at=deadline - dt.timedelta(days=30), registration_deadline=deadline,
            confirmation_deadline=None,
            quotas=[{"region_code": r, "places": p} for r, p in zip(regions, places)],
            checkin_settings={}, minutes_per_class_hour=45)
        for day_offset in range(4):
            day = start + dt.timedelta(days=day_offset)
            plan = DAY_PLAN if day_offset % 2 == 0 else DAY_PLAN[:2]
            for index, (begin, end, kind, area) in enumerate(plan):
                klass, _ = classes.add_session(class_id=klass["_id"], changed_by=admin_id, session={
                    "title": f"{TOPICS[number]}（第{day_offset + 1}天 第{index + 1}讲）",
                    "teacher": ["王教授", "李教授", "赵研究员"][index], "content_area": area, "kind": kind,
                    "location": "" if kind != "site_visit" else "合作企业生产基地",
                    "starts_at": _session_at(day, begin), "ends_at": _session_at(day, end), "checkin": {}})
        classes.change_status(class_id=klass["_id"], status="published", changed_by=admin_id)
        if number == 0:
            classes.change_status(class_id=klass["_id"], status="in_progress", changed_by=admin_id)
            supervisor = collection(staff_repo.STAFF).find_one({"role": "supervisor", "name": DEMO_STAFF[
                "demo-supervisor"][2]})
            staff_repo.set_class_supervisors(class_id=klass["_id"], staff_ids=[supervisor["_id"]])
    return programme, 10


def _registry_sample():
    """A few recognised enterprises per region of the demo classes (valid credit codes)."""
    from stdnum.cn import uscc

    today = dt.datetime.now(BEIJING).date()
    entries = []
    regions = sorted({code for group in REGION_GROUPS for code in group})
    for index, region_code in enumerate(regions):
        for serial, title in enumerate(("小巨人", "单项冠军", "高新技术企业")):
            base = f"91{region_code}MA{index:04d}{serial:03d}"[:17]
            entries.append({"name": f"演示精密制造有限公司{index:02d}-{serial}", "credit_code": base + uscc.calc_check_digit(base),
                            "region_code": region_code, "title": title, "batch": "第五批",
                            "valid_from": (today - dt.timedelta(days=400)).isoformat(),
                            "valid_until": (today + dt.timedelta(days=700)).isoformat()})
    return entries


def seed():
    """Create the demo people, programme year and classes; return a human-readable summary."""
    from service.registry import service as registry

    lines = _seed_people()
    sample = _registry_sample()
    registry.save_sample(sample)
    lines.append(f"Enterprise registry sample: {len(sample)} entries")
    admin = collection(users_repo.USERS).find_one({"openid": "oFAKE-demo-admin"})
    programme, class_count = _seed_classes(admin["_id"])
    lines.append(f"Programme year {programme['year']} “{programme['name']}” with {class_count} classes "
                 "(class 1 runs today, supervised by demo-supervisor)")
    return "\n".join(lines)
