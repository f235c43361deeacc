"""What a class looks like to a caller: quotas with places left, sessions with check-in times."""

from service.classes import rules
from service.core import regions
from service.core.timeutil import beijing_date
from service.staff import names


def quota_rows(class_doc):
    return [{"region_code": code, "region_name": regions.name_of(code), "places": q["places"],
             "used": q["used"], "left": max(q["places"] - q["used"], 0)}
            for code, q in sorted(class_doc.get("quotas", {}).items())]


def places_left(class_doc, region_code):
    quota = class_doc.get("quotas", {}).get(region_code) if region_code else None
    if quota is None:
        return None
    return {"region_code": region_code, "region_name": regions.name_of(region_code),
            "places": quota["places"], "left": max(quota["places"] - quota["used"], 0)}


def session_view(class_doc, session):
    return {**session, **rules.effective_checkin(class_doc, session),
            "status": "cancelled" if rules.is_cancelled(session) else "scheduled",
            "cancelled": names.with_by_names([session["cancelled"]])[0] if session.get("cancelled") else None,
            "date": beijing_date(session["starts_at"]).isoformat(),
            "class_hours": rules.session_hours(session, rules.minutes_per_class_hour(class_doc))}


def timetable(class_doc):
    return {"class_id": class_doc["_id"], "class_hours": rules.class_hours(class_doc),
            "sessions": [session_view(class_doc, s) for s in class_doc.get("sessions", [])]}


def summary(class_doc, *, region_code=None):
    return {**class_doc, "regions": sorted(class_doc.get("quotas", {})),
            "places_left": places_left(class_doc, region_code),
            "class_hours": rules.class_hours(class_doc), "session_count": len(rules.scheduled_sessions(class_doc))}


def detail(class_doc, *, region_code=None, supervisors=()):
    view = summary(class_doc, region_code=region_code)
    view.update(
        quotas=quota_rows(class_doc),
        sessions=timetable(class_doc)["sessions"],
        checkin_settings={**rules.CHECKIN_DEFAULTS, **(class_doc.get("checkin_settings") or {})},
        supervisors=[{"staff_id": s["_id"], "name": s["name"], "bound": s.get("user_id") is not None}
                     for s in supervisors],
    )
    return view


def quota_table(class_doc, *, only_region=None):
    rows = [r for r in quota_rows(class_doc) if only_region is None or r["region_code"] in only_region]
    return {"class_id": class_doc["_id"], "capacity": class_doc["capacity"],
            "total_places": sum(r["places"] for r in rows), "total_used": sum(r["used"] for r in rows),
            "quotas": rows}
