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
