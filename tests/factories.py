"""Request bodies and API shortcuts shared by feature tests."""

import datetime as dt

from schemas.base import BEIJING
from tests.conftest import bearer


def beijing_today():
    return dt.datetime.now(BEIJING).date()


def programme_body(**overrides):
    return {"year": beijing_today().year, "name": "2026年中小企业经营管理领军人才培训", "kind": "national",
            **overrides}


def class_body(programme_id, start_in_days=30, days=4, **overrides):
    start = beijing_today() + dt.timedelta(days=start_in_days)
    return {
        "programme_id": programme_id,
        "name": "第一期 专精特新发展专题班",
        "institution": "清华大学经济管理学院",
        "content_areas": ["科学理论", "形势政策", "经营管理", "专精特新发展"],
        "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=days - 1)).isoformat(),
        "venue": {"name": "清华大学舜德楼", "address": "北京市海淀区清华大学", "latitude": 40.0003,
                  "longitude": 116.3265, "checkin_radius_m": 300},
        "capacity": 80,
        "quotas": [{"region_code": "110000", "places": 10}, {"region_code": "440000", "places": 10}],
        **overrides,
    }


def session_body(class_start_date, day=0, start="09:00", end="11:30", **overrides):
    day_date = dt.date.fromisoformat(class_start_date) + dt.timedelta(days=day)
    return {"title": "新发展格局下的企业战略", "teacher": "张教授", "content_area": "形势政策", "kind": "lecture",
            "starts_at": f"{day_date.isoformat()}T{start}:00+08:00",
            "ends_at": f"{day_date.isoformat()}T{end}:00+08:00", **overrides}


def create_programme(client, admin_token, publish=True, **overrides):
    response = client.post("/api/v1/programmes", json=programme_body(**overrides), headers=bearer(admin_token))
    assert response.status_code == 201, response.json
    programme = response.json
    if publish:
        published = client.post(f"/api/v1/programmes/{programme['id']}/status", json={"status": "published"},
                                headers=bearer(admin_token))
        assert published.status_code == 200, published.json
        programme = published.json
    return programme


def create_class(client, admin_token, programme_id, publish=False, **overrides):
    response = client.post("/api/v1/classes", json=class_body(programme_id, **overrides),
                           headers=bearer(admin_token))
    assert response.status_code == 201, response.json
    klass = response.json
    if publish:
        published = client.post(f"/api/v1/classes/{klass['id']}/status", json={"status": "published"},
                                headers=bearer(admin_token))
        assert published.status_code == 200, published.json
        klass = published.json
    return klass


def id_number(birth="19700101", sequence=1, male=True, area="110105"):
    """A valid 18-digit ID number (居民身份证号码): male when the 17th digit is odd."""
    seventeenth = sequence * 2 + (1 if male else 0)
    base = f"{area}{birth}{seventeenth:03d}"[:17]
    from stdnum.cn import ric

    return base + ric.calc_check_digit(base + "0")


def credit_code(serial=1, region="110000"):
    """A valid unified social credit code (GB 32100)."""
    from stdnum.cn import uscc

    base = f"91{region}MA{serial:07d}"[:17]
    return base + uscc.calc_check_digit(base)


def profile_body(serial=1, region_code="110000", male=True, **overrides):
    return {
        "name": "张伟", "gender": "male" if male else "female",
        "id_number": id_number(sequence=serial, male=male), "mobile": f"139{serial:08d}",
        "email": "zhangwei@example.com", "political_status": "中共党员", "ethnicity": "汉族",
        "position": "董事长", "management_years": 15, "address": "北京市朝阳区建国路1号",
        "education": [{"school": "清华大学", "start": "1988-09", "end": "1992-07", "major": "机械工程",
                       "degree": "学士"}],
        "social_positions": ["市工商联常委"], "honours": ["优秀企业家"],
        "enterprise": {"name": f"北京精工科技有限公司{serial}", "credit_code": credit_code(serial, region_code),
                       "region_code": region_code, "website": "https://example.com", "listed": False,
                       "ipo_plan": {"stage": "tutoring", "board": "star"}, "titles": ["小巨人", "高新技术企业"]},
        **overrides,
    }
