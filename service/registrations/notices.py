"""Admission notice (入学通知书): JSON and a PNG the phone can save."""

import hashlib
import hmac

from flask import current_app

from service.classes import rules as class_rules
from service.classes import service as classes
from service.core.db import utcnow
from service.core.errors import RuleViolation
from service.core.images import Page
from service.core.timeutil import BEIJING
from service.registrations.states import CONFIRMED

WHAT_TO_BRING = ["本人有效身份证件", "入学通知书（本页截图即可）", "个人名片若干", "笔记本电脑（研讨课使用）", "符合季节的正装"]


def checkin_reference(registration_id):
    """A short stable reference the personal check-in code is bound to (shown on the notice)."""
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), str(registration_id).encode(), hashlib.sha256)
    return digest.hexdigest()[:10].upper()


def admission_notice(registration):
    if registration["state"] != CONFIRMED:
        raise RuleViolation("NOTICE_NOT_AVAILABLE", "确认参训后才能查看入学通知书")
    class_doc = classes.get_or_raise(class_id=registration["class_id"])
    first = class_doc["sessions"][0] if class_doc.get("sessions") else None
    return {
        "registration_id": registration["_id"],
        "title": "入学通知书",
        "trainee_name": registration["snapshot"]["name"],
        "enterprise_name": registration.get("enterprise_name"),
        "class_name": class_doc["name"],
        "institution": class_doc["institution"],
        "start_date": class_doc["start_date"],
        "end_date": class_doc["end_date"],
        "venue": {k: class_doc["venue"].get(k) for k in ("name", "address", "latitude", "longitude")},
        "report_at": class_rules.effective_checkin(class_doc, first)["checkin_opens_at"] if first else None,
        "what_to_bring": WHAT_TO_BRING,
        "checkin_reference": checkin_reference(registration["_id"]),
        "supervisors": [s["name"] for s in classes.supervisors(class_doc["_id"])],
        "issued_at": registration.get("confirmed_at") or utcnow(),
    }


def admission_notice_png(registration):
    notice = admission_notice(registration)
    page = Page()
    page.title("入学通知书")
    page.line(f"{notice['trainee_name']} 同志：")
    page.line(f"您已被录取参加“{notice['class_name']}”，并已确认参训。请按时报到。")
    page.line(f"培训机构：{notice['institution']}")
    page.line(f"培训时间：{notice['start_date']} 至 {notice['end_date']}")
    page.line(f"培训地点：{notice['venue']['name']}  {notice['venue'].get('address') or ''}")
    if notice["report_at"]:
        page.line(f"报到签到：{notice['report_at'].astimezone(BEIJING):%Y-%m-%d %H:%M} 起")
    page.line("请携带：" + "、".join(notice["what_to_bring"]), size=22)
    if notice["supervisors"]:
        page.line("班主任：" + "、".join(notice["supervisors"]), size=22)
    page.line(f"签到码编号：{notice['checkin_reference']}", size=24, fill=(90, 90, 90))
    page.qr(f"lingjun:registration:{notice['registration_id']}:{notice['checkin_reference']}",
            caption="工业和信息化部人才交流中心")
    return page.png()
