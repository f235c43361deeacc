"""Demo data for `lingjun serve --demo`: a programme year alive at whatever hour the demo starts.

Built relative to the moment it runs, through the services (so every rule holds on it): the
seed replays the year's history with `service.core.timeutil.replaying` — classes set up weeks
ago, registrations submitted before their deadline and reviewed, trainees checking in inside
each session's window, ratings after each session, certificates after the class. It leaves:

- class 2 (第2期) in progress: yesterday's sessions held and closed, a session whose check-in is
  open now (it began 20 minutes ago) and the next one later today; 44 confirmed trainees of
  Beijing, Guangdong, Zhejiang and Sichuan, most checked in (some late), one on approved leave,
  one leave request waiting for demo-staff-bj;
- class 1 (第1期) finished a month ago: attendance, session and class ratings (some below the 90%
  satisfaction line), completion worked out and certificates issued;
- class 3 (第3期) open for registration: submissions waiting for demo-staff-bj and demo-staff-gd,
  one returned with a reason;
- classes 4-10 later in the year.

`serve --demo` seeds a fresh database each time (service.cli drops the demo database first),
so the demo is always relative to its start; `seed()` on a database that already holds the demo
adds nothing.
"""

import datetime as dt

from service.attendance import service as attendance
from service.attendance import tokens
from service.auth import service as auth
from service.classes import service as classes
from service.completion import certificates
from service.core.db import utcnow
from service.core.timeutil import BEIJING, UTC, replaying
from service.demo import people
from service.leave import review as leave_review
from service.leave import service as leave
from service.programmes import repository as programmes_repo
from service.programmes import service as programmes
from service.ratings import service as ratings
from service.registrations import review as registration_review
from service.registrations import repository as registrations_repo
from service.registrations import service as registrations
from service.staff import service as staff
from service.trainees import service as trainees
from service.users import repository as users_repo
from schemas.trainees import ProfileInputSchema

# person -> (staff role, region, display name); log in with code "<person>" or "<person>.<n>".
DEMO_STAFF = {
    "demo-admin": ("admin", None, "人才交流中心 管理员"),
    "demo-staff-bj": ("province_staff", "110000", "北京市中小企业局 工作人员"),
    "demo-staff-gd": ("province_staff", "440000", "广东省中小企业局 工作人员"),
    "demo-supervisor": ("supervisor", None, "班主任 王老师"),
}
DEMO_TRAINEES = {"demo-trainee-1": "confirmed in the running class (第2期), region 110000",
                 "demo-trainee-2": "registration for 第3期 submitted, waiting for demo-staff-bj",
                 "demo-trainee-3": "new: no profile, no registration"}
DEMO_PROGRAMME_NAME = "中小企业经营管理领军人才培训（演示）"
RUNNING_CLASS, FINISHED_CLASS, OPEN_CLASS = 1, 0, 2  # indexes into the year's classes

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
REGION_GROUPS = [["110000", "440000", "320000", "370000"], ["110000", "440000", "330000", "510000"],
                 ["110000", "440000", "310000", "440300"], ["370000", "370200", "410000", "420000"],
                 ["510000", "500000", "520000", "530000"], ["210000", "210200", "220000", "230000"],
                 ["350000", "350200", "360000", "340000"], ["610000", "620000", "630000", "640000", "650000", "660000"],
                 ["140000", "150000", "110000", "120000"], ["430000", "420000", "440000", "450000"]]
TOPICS = ["专精特新发展", "数字化赋能", "融通创新", "战略与治理", "科技创新与知识产权",
          "资本运作与上市", "质量品牌", "国际化经营", "绿色低碳发展", "合规管理"]
TEACHERS = ["王教授", "李教授", "赵研究员", "陈教授"]
AREAS = ["科学理论", "形势政策", "经营管理", "专精特新发展"]
DAY_PLAN = [("09:00", "11:30"), ("14:00", "16:30"), ("19:00", "20:30")]
# Trainees of the running class per region (44 in all) and of the finished class (28).
RUNNING_TRAINEES = {"110000": 12, "440000": 12, "330000": 10, "510000": 10}
FINISHED_TRAINEES = {"110000": 8, "440000": 8, "320000": 6, "370000": 6}
OPEN_SESSION_STARTED_MINUTES = 20  # the open session began this long before the demo started
LEAVE_REASON_APPROVED = "公司董事会临时会议，须本人出席"
LEAVE_REASON_PENDING = "家中老人住院，需陪同检查"
RETURN_REASON = "营业执照扫描件不清晰，请重新上传后再提交"


class _Demo:
    """The seed's working state: the moment it started, the people, the classes."""

    def __init__(self, now):
        self.now = now.astimezone(UTC).replace(second=0, microsecond=0)
        self.today = self.now.astimezone(BEIJING).date()
        self.rng = people.rng_for(2024)
        self.users = {}  # person -> user id
        self.staff_accounts = {}  # person -> staff account
        self.serial = 0  # trainee number across classes: unique ID numbers, enterprises, logins
        self.classes = []
        self.open_session = self.next_session = None

    def at(self, moment):
        """Replay the services as if it were `moment` (never later than the real start)."""
        return replaying(min(moment, self.now))

    def beijing(self, day, hhmm):
        hour, minute = map(int, hhmm.split(":"))
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BEIJING).astimezone(UTC)

    def identity(self, person):
        return auth.identity_for_user(self.users[person])


def _user(person):
    # What a first fake-WeChat login with code "<person>" creates (service.core.fake_wechat).
    return users_repo.upsert_by_openid(openid=f"oFAKE-{person}", unionid=f"uFAKE-{person}")["_id"]


def _seed_staff(demo):
    for person, (role, region_code, name) in DEMO_STAFF.items():
        account, code = staff.create(name=name, role=role, region_code=region_code)
        demo.users[person] = _user(person)
        auth.bind(user_id=demo.users[person], binding_code=code)
        demo.staff_accounts[person] = account


def _trainee(demo, region_code, person=None):
    """A new trainee with a complete profile; returns the login person name."""
    index = demo.serial
    demo.serial += 1
    person = person or f"demo-t{index:03d}"
    demo.users[person] = _user(person)
    form = ProfileInputSchema().load(people.trainee(index, region_code, demo.rng))
    trainees.save(user_id=demo.users[person], **form)
    return person


def _sessions(demo, number, start):
    """The timetable: 2-3 sessions a day; the running class has today's two sessions around now."""
    plan = []
    for day_offset in range(4):
        day = start + dt.timedelta(days=day_offset)
        if number == RUNNING_CLASS and day == demo.today:
            opens = demo.now - dt.timedelta(minutes=OPEN_SESSION_STARTED_MINUTES)
            plan.append((opens, opens + dt.timedelta(minutes=100)))
            later = opens + dt.timedelta(minutes=120)
            plan.append((later, later + dt.timedelta(minutes=90)))
            continue
        times = DAY_PLAN if day_offset % 2 == 0 else DAY_PLAN[:2]
        plan.extend((demo.beijing(day, begin), demo.beijing(day, end)) for begin, end in times)
    return [{"title": f"{TOPICS[number]}（第{index + 1}讲）", "teacher": TEACHERS[index % len(TEACHERS)],
             "content_area": AREAS[index % len(AREAS)], "kind": "site_visit" if index % 5 == 3 else "lecture",
             "location": "合作企业生产基地" if index % 5 == 3 else "", "starts_at": begin, "ends_at": end,
             "checkin": {}} for index, (begin, end) in enumerate(plan)]


def _class_start(demo, number):
    if number == FINISHED_CLASS:
        return demo.today - dt.timedelta(days=30)
    if number == RUNNING_CLASS:
        return demo.today - dt.timedelta(days=1)
    return demo.today + dt.timedelta(days=35 + 21 * (number - OPEN_CLASS))


def _seed_year(demo):
    admin = demo.users["demo-admin"]
    with demo.at(demo.now - dt.timedelta(days=90)):
        programme = programmes.create(created_by=admin, year=demo.today.year, name=DEMO_PROGRAMME_NAME,
                                      kind="national", topic=None, require_little_giant=False,
                                      exclude_prior_trainees=False, one_enterprise_per_year=True)
        programmes.change_status(programme_id=programme["_id"], status="published", changed_by=admin)
        for number in range(10):
            start = _class_start(demo, number)
            deadline = dt.datetime.combine(start - dt.timedelta(days=7), dt.time(), tzinfo=BEIJING)
            regions = REGION_GROUPS[number]
            places = [80 // len(regions)] * len(regions)
            places[0] += 80 - sum(places)
            name, address, lat, lng = VENUES[number]
            klass = classes.create(
                created_by=admin, programme_id=programme["_id"],
                name=f"第{number + 1}期 {TOPICS[number]}专题班", institution=INSTITUTIONS[number],
                content_areas=list(AREAS), start_date=start, end_date=start + dt.timedelta(days=3),
                venue={"name": name, "address": address, "latitude": lat, "longitude": lng,
                       "checkin_radius_m": 500},
                capacity=80, allow_quota_above_capacity=False,
                registration_opens_at=deadline - dt.timedelta(days=30), registration_deadline=deadline,
                confirmation_deadline=None,
                quotas=[{"region_code": r, "places": p} for r, p in zip(regions, places)],
                # Out of range is flagged, not refused: the demo is tried far from the venue.
                checkin_settings={"out_of_range": "flag"}, minutes_per_class_hour=45)
            for session in _sessions(demo, number, start):
                klass, _ = classes.add_session(class_id=klass["_id"], changed_by=admin, session=session)
            klass = classes.change_status(class_id=klass["_id"], status="published", changed_by=admin)
            if number in (FINISHED_CLASS, RUNNING_CLASS):
                supervisor = demo.staff_accounts["demo-supervisor"]["_id"]
                klass = classes.assign_supervisors(class_id=klass["_id"], staff_ids=[supervisor], changed_by=admin)
            demo.classes.append(klass)
    return programme


def _reviewer(region_code):
    return {"110000": "demo-staff-bj", "440000": "demo-staff-gd"}.get(region_code, "demo-admin")


def _enrol(demo, klass, per_region, named=()):
    """Trainees register, their province recommends, the organizer admits, they confirm; in the
    weeks before the registration deadline. Returns [(person, registration)]."""
    start = dt.date.fromisoformat(klass["start_date"])
    deadline = klass["registration_deadline"]
    enrolled = []
    named = list(named)
    with demo.at(deadline - dt.timedelta(days=20)):
        for region_code, count in per_region.items():
            for _ in range(count):
                person = named.pop(0) if named and region_code == "110000" else None
                person = _trainee(demo, region_code, person)
                draft = registrations.create_draft(user_id=demo.users[person], class_id=klass["_id"])
                submitted = registrations.submit(registration_id=draft["_id"], user_id=demo.users[person])
                enrolled.append((person, submitted))
    with demo.at(deadline - dt.timedelta(days=15)):
        for person, registration in enrolled:
            registration_review.decide(registration_id=registration["_id"], action="recommend",
                                       identity=demo.identity(_reviewer(registration["region_code"])))
    with demo.at(deadline - dt.timedelta(days=10)):
        for person, registration in enrolled:
            registration_review.decide(registration_id=registration["_id"], action="admit",
                                       identity=demo.identity("demo-admin"))
    with demo.at(deadline - dt.timedelta(days=5)):
        confirmed = [(person, registrations.confirm(registration_id=registration["_id"], user_id=demo.users[person]))
                     for person, registration in enrolled]
    with demo.at(demo.beijing(start, "07:30")):
        _advance(demo, klass, "in_progress")
    return confirmed


def _advance(demo, klass, status):
    # The attendance feature may move a class along by itself; only the missing step is taken.
    current = classes.get_or_raise(class_id=klass["_id"])["status"]
    if current != status:
        classes.change_status(class_id=klass["_id"], status=status, changed_by=demo.users["demo-admin"])


def _check_in(demo, klass, session, person, minutes_after_start):
    """The trainee scans the class code `minutes_after_start` after the session began."""
    with demo.at(session["starts_at"] + dt.timedelta(minutes=minutes_after_start)):
        code, _ = tokens.issue(tokens.CLASS, session["_id"])
        venue = klass["venue"]
        attendance.check_in_with_class_code(
            user_id=demo.users[person], code=code, session_id=session["_id"],
            latitude=venue["latitude"] + 0.0004 * demo.rng.random(), longitude=venue["longitude"],
            device_id=f"demo-device-{person}")


def _attend(demo, klass, session, enrolled, *, absent=(), late_share=0.1, skip=()):
    """Most trainees check in before the start, some late, `absent` not at all."""
    for person, _ in enrolled:
        if person in absent or person in skip:
            continue
        late = demo.rng.random() < late_share
        minutes = demo.rng.randint(11, 19) if late else demo.rng.randint(-25, 9)
        _check_in(demo, klass, session, person, minutes)


def _close(demo, session):
    with demo.at(session["ends_at"] + dt.timedelta(minutes=1)):
        attendance.close(session_id=session["_id"], by=None)


def _seed_finished_class(demo):
    klass = demo.classes[FINISHED_CLASS]
    enrolled = _enrol(demo, klass, FINISHED_TRAINEES)
    often_absent = enrolled[3][0]  # misses half the class: no certificate
    no_rating = enrolled[-1][0]  # never rates the class: no certificate
    for number, session in enumerate(klass["sessions"]):
        absent = {often_absent} if number % 2 else set()
        if number == 5:
            absent.add(enrolled[10][0])
        _attend(demo, klass, session, enrolled, absent=absent)
        _close(demo, session)
        with demo.at(session["ends_at"] + dt.timedelta(minutes=30)):
            for position, (person, _) in enumerate(enrolled):
                if person in absent or position % 4 == 3:
                    continue
                # The third session's teacher disappointed: about a third below 4 stars (flagged).
                stars = 3 if number == 2 and position % 3 == 0 else (5 if position % 5 else 4)
                ratings.rate_session(user_id=demo.users[person], session_id=session["_id"], stars=stars,
                                     comment="案例很实用" if stars == 5 and position % 7 == 0 else "")
    last_end = max(s["ends_at"] for s in klass["sessions"])
    with demo.at(last_end + dt.timedelta(hours=1)):
        for position, (person, _) in enumerate(enrolled):
            if person == no_rating:
                continue
            # Organisation satisfied 6 in 7 (below 90%: flagged), the rest well above.
            ratings.rate_class(user_id=demo.users[person], class_id=klass["_id"],
                               course_design=5 if position % 4 else 4, faculty=5,
                               organisation=3 if position % 7 == 0 else 4, effect=4 + position % 2,
                               suggestions="希望增加企业参访" if position % 6 == 0 else "")
        _advance(demo, klass, "finished")
    with demo.at(last_end + dt.timedelta(days=2)):
        issued = certificates.issue(class_id=klass["_id"], issued_by=demo.users["demo-admin"])
    return issued


def _seed_running_class(demo):
    klass = demo.classes[RUNNING_CLASS]
    enrolled = _enrol(demo, klass, RUNNING_TRAINEES, named=["demo-trainee-1"])
    sessions = sorted(classes.get_or_raise(class_id=klass["_id"])["sessions"], key=lambda s: s["starts_at"])
    held = [s for s in sessions if s["ends_at"] <= demo.now]
    demo.open_session = next(s for s in sessions if s["starts_at"] <= demo.now < s["ends_at"])
    demo.next_session = sessions[sessions.index(demo.open_session) + 1]
    by_region = {}
    for person, registration in enrolled:
        by_region.setdefault(registration["region_code"], []).append(person)
    for number, session in enumerate(held):
        _attend(demo, klass, session, enrolled, absent={by_region["510000"][number % 3]})
        _close(demo, session)
    # A Guangdong trainee is away for today's open session: asked yesterday evening, approved.
    on_leave = by_region["440000"][1]
    with demo.at(demo.open_session["starts_at"] - dt.timedelta(hours=14)):
        request = leave.create(user_id=demo.users[on_leave], class_id=klass["_id"], type="official",
                               starts_at=demo.open_session["starts_at"], ends_at=demo.open_session["ends_at"],
                               reason=LEAVE_REASON_APPROVED)
    with demo.at(demo.open_session["starts_at"] - dt.timedelta(hours=13)):
        leave_review.decide(identity=demo.identity("demo-staff-gd"), leave_id=request["_id"], action="approve",
                            comment="同意，请向班主任报备")
    # Today's open session: 24 checked in (4 of them late); the rest, demo-trainee-1 included, not yet.
    arrivals = [p for p, _ in enrolled if p not in ("demo-trainee-1", on_leave)]
    for position, person in enumerate(arrivals[:24]):
        minutes = demo.rng.randint(11, OPEN_SESSION_STARTED_MINUTES - 1) if position % 6 == 5 \
            else demo.rng.randint(-25, 9)
        _check_in(demo, klass, demo.open_session, person, minutes)
    # A Beijing trainee asks for leave from the next session: waiting for demo-staff-bj.
    pending_person = by_region["110000"][2]
    with demo.at(demo.now - dt.timedelta(minutes=5)):
        leave.create(user_id=demo.users[pending_person], class_id=klass["_id"], type="personal",
                     starts_at=demo.next_session["starts_at"], ends_at=demo.next_session["ends_at"],
                     reason=LEAVE_REASON_PENDING)
    return enrolled


def _seed_open_class(demo):
    """Registrations for class 3 waiting for the Beijing and Guangdong staff; one returned."""
    klass = demo.classes[OPEN_CLASS]
    submitted = []
    with demo.at(demo.now - dt.timedelta(days=1)):
        for region_code, persons in (("110000", ["demo-trainee-2", None, None, None]), ("440000", [None, None, None])):
            for person in persons:
                person = _trainee(demo, region_code, person)
                draft = registrations.create_draft(user_id=demo.users[person], class_id=klass["_id"])
                submitted.append(registrations.submit(registration_id=draft["_id"], user_id=demo.users[person]))
    with demo.at(demo.now - dt.timedelta(hours=3)):
        registration_review.decide(registration_id=submitted[-1]["_id"], action="return",
                                   identity=demo.identity("demo-staff-gd"), reason=RETURN_REASON)
    return submitted


def seed(*, now=None):
    """Build the demo year relative to `now` (default: the clock); return what to try, as text.

    Expects a fresh database (`serve --demo` drops its own first); finding the demo programme
    already there, it adds nothing and describes what is there.
    """
    demo = _Demo(now or utcnow())
    existing = programmes_repo.by_name(DEMO_PROGRAMME_NAME)
    if existing is None:
        _seed_staff(demo)
        for person in DEMO_TRAINEES:
            demo.users[person] = _user(person)
        _seed_year(demo)
        _seed_finished_class(demo)
        _seed_running_class(demo)
        _seed_open_class(demo)
        from service.registry import service as registry
        registry.save_sample(_registry_sample(demo.today) + _trained_giants(demo))
    return summary()


def _registry_sample(today):
    """A few recognised enterprises per region of the demo classes (valid credit codes)."""
    from stdnum.cn import uscc

    entries = []
    regions = sorted({code for group in REGION_GROUPS for code in group})
    for index, region_code in enumerate(regions):
        # 1, 4, 7 or 10 小巨人 nobody of the demo trained, by region: with the trained ones
        # (_trained_giants) the coverage KPI falls on both sides of its 30% line.
        titles = ["小巨人"] * (1 + 3 * (index % 4)) + ["单项冠军", "高新技术企业"]
        for serial, title in enumerate(titles):
            base = f"91{region_code}MA{index:04d}{serial:03d}"[:17]
            entries.append({"name": f"演示精密制造有限公司{index:02d}-{serial}",
                            "credit_code": base + uscc.calc_check_digit(base),
                            "region_code": region_code, "title": title, "batch": "第五批",
                            "valid_from": (today - dt.timedelta(days=400)).isoformat(),
                            "valid_until": (today + dt.timedelta(days=700)).isoformat()})
    return entries


def _trained_giants(demo):
    """The registry's side of the 小巨人 coverage KPI (notice 243 附件5, 30%): some enterprises of the
    demo's confirmed trainees are 小巨人 in the registry, so coverage = trained giants / giants in the
    registry shows real figures per region. How many differs by region (every 2nd to every 5th
    trainee's enterprise), and each region also has one untrained 小巨人 (above), so some regions meet
    the 30% line and some miss it."""
    from service.registrations import repository as registrations_repo

    regions = sorted({code for group in REGION_GROUPS for code in group})
    seen, entries = {}, []
    for klass in demo.classes:
        for registration in registrations_repo.confirmed_in_class(
                klass["_id"], projection={"credit_code": 1, "region_code": 1, "enterprise_name": 1}):
            region_code, key = registration["region_code"], registration.get("credit_code")
            if not key or key in seen:
                continue
            seen[key] = region_code
            nth = sum(1 for code in seen.values() if code == region_code)
            step = 2 + (regions.index(region_code) if region_code in regions else 0) % 4
            if nth % step:
                continue
            entries.append({"name": registration.get("enterprise_name") or "演示精密制造有限公司", "credit_code": key,
                            "region_code": region_code, "title": "小巨人", "batch": "第五批",
                            "valid_from": (demo.today - dt.timedelta(days=400)).isoformat(),
                            "valid_until": (demo.today + dt.timedelta(days=700)).isoformat()})
    return entries


def running_class():
    """The class in progress (第2期), as stored."""
    programme = programmes_repo.by_name(DEMO_PROGRAMME_NAME)
    return classes.repository.in_programme_named(programme["_id"], "^第2期")


def open_session(now=None):
    """The running class's session whose check-in window holds `now`, or None."""
    from service.classes import rules

    now = now or utcnow()
    klass = running_class()
    for session in klass["sessions"]:
        window = rules.effective_checkin(klass, session)
        if window["checkin_opens_at"] <= now <= window["checkin_closes_at"]:
            return session
    return None


def summary(base_url="http://127.0.0.1:8000"):
    """What to try, for the console: logins, the open session and its projector link, the docs."""
    from service.attendance import projector

    klass = running_class()
    session = open_session()
    lines = ["Demo logins: POST /api/v1/auth/wx-login {\"code\": \"<person>.<anything>\"} (each code works once)"]
    for person, (role, region_code, _) in DEMO_STAFF.items():
        lines.append(f"  {person:<18} {role}{' ' + region_code if region_code else ''}")
    for person, state in DEMO_TRAINEES.items():
        lines.append(f"  {person:<18} trainee: {state}")
    lines.append(f"Running class {klass['name']} (class id {klass['_id']}), "
                 f"{registrations_repo.count({'class_id': klass['_id'], 'state': 'confirmed'})}"
                 " confirmed trainees")
    if session is not None:
        supervisor = users_repo.by_openid("oFAKE-demo-supervisor")
        url, expires = projector.make_link(session_id=session["_id"], user_id=supervisor["_id"])
        starts = session["starts_at"].astimezone(BEIJING)
        lines.append(f"Check-in open now: “{session['title']}” (session id {session['_id']}, "
                     f"began {starts:%H:%M} Beijing time)")
        lines.append(f"  projector page: {base_url}{url}")
    lines.append(f"API docs: {base_url}/api/v1/docs   front-end guide: miniprogram-api.md   "
                 "five-minute tour: README.md")
    return "\n".join(lines)
