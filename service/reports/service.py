"""Class report, region-year KPIs (notice 243 附件5, training rows) and the trainee archive (培训档案)."""

from flask import current_app

from service.classes import rules as class_rules
from service.classes import service as classes
from service.completion.service import held_sessions
from service.core import regions
from service.core.auth import ensure_region
from service.core.db import utcnow
from service.core.errors import NotFound
from service.leave.states import STATE_LABELS as LEAVE_STATE_LABELS
from service.leave.states import TYPE_LABELS as LEAVE_TYPE_LABELS
from service.ratings import service as ratings
from service.registrations.states import LABELS as REGISTRATION_LABELS
from service.reports import repository
from service.reports.scope import class_scope


def _share(part, whole):
    return round(part / whole, 4) if whole else None


# ---- class report ------------------------------------------------------------------------

def class_report(*, identity, class_id):
    """Enrolment, attendance, lateness, leave, satisfaction and completion of one class."""
    class_doc = classes.get_or_raise(class_id=class_id)
    scope = class_scope(identity, class_doc)
    match = scope.match()
    now = utcnow()

    enrolment = repository.enrolment_by_region(class_id, match)
    quotas = class_doc.get("quotas") or {}
    by_region = [{"region_code": g["_id"], "region_name": regions.name_of(g["_id"]),
                  "places": (quotas.get(g["_id"]) or {}).get("places", 0), "applied": g["applied"],
                  "admitted": g["admitted"], "confirmed": g["confirmed"]} for g in enrolment]
    confirmed = sum(r["confirmed"] for r in by_region)

    held_ids = {s["_id"] for s in held_sessions(class_doc, now)}
    counted = repository.attendance_by_session(class_id, match)
    per_session, totals = [], {"present": 0, "late": 0, "absent": 0, "excused": 0}
    for session in class_doc.get("sessions") or []:
        group = counted.get(session["_id"], {})
        row = {k: group.get(k, 0) for k in totals}
        held = session["_id"] in held_ids
        attended = row["present"] + row["late"]
        per_session.append({"session_id": session["_id"], "title": session["title"],
                            "teacher": session.get("teacher"), "starts_at": session["starts_at"], "held": held,
                            "expected": confirmed, **row,
                            "attendance_rate": _share(attended, confirmed) if held else None,
                            "late_rate": _share(row["late"], confirmed) if held else None})
        if held:
            for key in totals:
                totals[key] += row[key]
    expected = confirmed * len(held_ids)
    attendance = {"sessions_total": len(per_session), "sessions_held": len(held_ids), "expected": expected,
                  **totals, "attended": totals["present"] + totals["late"],
                  "attendance_rate": _share(totals["present"] + totals["late"], expected),
                  "late_rate": _share(totals["late"], expected), "sessions": per_session}

    leave_groups = repository.leave_by_type(class_id, match)
    leave = {"requests": sum(g["requests"] for g in leave_groups),
             "trainees": len({u for g in leave_groups for u in g["users"]}),
             "excused_records": totals["excused"],
             "by_type": [{"type": g["_id"], "label": LEAVE_TYPE_LABELS.get(g["_id"], g["_id"]),
                          "requests": g["requests"]} for g in sorted(leave_groups, key=lambda g: g["_id"] or "")]}

    certificates = repository.certificates_by_status({"class_id": class_id, **match})
    return {
        "class": {"id": class_id, "name": class_doc["name"], "institution": class_doc.get("institution"),
                  "year": class_doc.get("year"), "start_date": class_doc["start_date"],
                  "end_date": class_doc["end_date"], "status": class_doc["status"],
                  "class_hours": class_rules.class_hours(class_doc)},
        "region_codes": sorted(scope.region_codes) if scope.region_codes is not None else None,
        "generated_at": now,
        "enrolment": {"confirmed": confirmed, "applied": sum(r["applied"] for r in by_region),
                      "places": sum((quotas.get(r) or {}).get("places", 0)
                                    for r in (scope.region_codes if scope.region_codes is not None else quotas)),
                      "by_region": by_region},
        "attendance": attendance,
        "leave": leave,
        "satisfaction": ratings.summary(class_doc=class_doc, region_codes=scope.region_codes,
                                        with_comments=scope.comments),
        "completion": {"certificates_issued": certificates.get("valid", 0),
                       "certificates_revoked": certificates.get("revoked", 0),
                       "completion_rate": _share(certificates.get("valid", 0), confirmed)},
    }


# ---- region-year KPIs ------------------------------------------------------------------------

def _check_region(identity, region_code):
    # The route admits organizers and province staff only; ensure_region limits staff to their region.
    if not regions.is_valid(region_code):
        raise NotFound("REGION_NOT_FOUND", "地区不存在")
    ensure_region(identity, region_code)


def region_kpis(*, identity, region_code, year):
    """The training rows of the regional performance table (附件5) for one region and year."""
    _check_region(identity, region_code)
    config = current_app.config
    now = utcnow()
    summary, incomplete_rows = repository.region_registrations(region_code, year)
    class_ids = summary["class_ids"]
    class_docs = repository.classes_by_id(class_ids, {"name": 1, "status": 1, "sessions._id": 1, "sessions.starts_at": 1,
                                                      "sessions.ends_at": 1, "sessions.checkin": 1,
                                                      "checkin_settings": 1})
    held_per_class = {cid: [s["_id"] for s in held_sessions(doc, now)] for cid, doc in class_docs.items()}
    # Closing a session records every trainee confirmed at that moment, and confirmation closes
    # before the class starts: a closed session cannot lack a trainee's record. Only classes with
    # a session over but not closed yet (the closing job runs every few seconds) are counted
    # trainee by trainee; reading every record of a region's year would not scale.
    closed = repository.closed_session_ids(class_ids) if class_ids else set()
    missing = {}  # registration id -> (row, [what is missing])
    for row in incomplete_rows:
        missing[row["_id"]] = (row, [k for k, ok in (("profile", row["profile_complete"]), ("review", row["reviewed"]))
                                     if not ok])
    for cid, held in held_per_class.items():
        if not set(held) - closed:
            continue
        records = repository.attendance_counts_by_registration(region_code, cid)
        for registration in repository.confirmed_in_class(region_code, cid):
            if records.get(registration["_id"], 0) < len(held):
                row = {"_id": registration["_id"], "class_id": cid, "name": registration["snapshot"].get("name")}
                missing.setdefault(registration["_id"], (row, []))[1].append("attendance")
    incomplete = [{"registration_id": rid, "name": row.get("name"),
                   "class_name": class_docs.get(row["class_id"], {}).get("name"), "missing": what}
                  for rid, (row, what) in sorted(missing.items(), key=lambda kv: (kv[1][0].get("name") or "", kv[0]))]
    confirmed_count = summary["confirmed"]
    giants = repository.little_giants(region_code, str(year), summary["credit_codes"])
    satisfaction = repository.class_rating_satisfaction({"region_code": region_code, "year": year},
                                                        list(ratings.DIMENSIONS))
    scores = satisfaction["ratings"] * len(ratings.DIMENSIONS)
    satisfied = sum(satisfaction.get(d, 0) for d in ratings.DIMENSIONS)
    completed = repository.certificates_by_status({"region_code": region_code, "year": year}).get("valid", 0)

    held_classes = [cid for cid, doc in class_docs.items() if doc["status"] != "cancelled" and held_per_class[cid]]
    giant_share = _share(giants["trained"], giants["total"])
    satisfaction_rate = _share(satisfied, scores)
    kpis = {
        "region_code": region_code, "region_name": regions.name_of(region_code), "year": year, "generated_at": now,
        "classes_held": len(held_classes),
        "classes_with_trainees": len(class_docs),
        "trainees_trained": summary["trainees"],
        "trainees_completed": completed,
        "little_giants": {"trained": giants["trained"], "in_registry": giants["total"], "share": giant_share,
                          "threshold": config["LITTLE_GIANT_SHARE_THRESHOLD"],
                          "meets": giant_share is not None and giant_share >= config["LITTLE_GIANT_SHARE_THRESHOLD"]},
        "review": {"reviewed": summary["reviewed"], "to_review": summary["reviewed"] + summary["pending"],
                   "pending": summary["pending"],
                   "share": _share(summary["reviewed"], summary["reviewed"] + summary["pending"])},
        "archives": {"trainees": confirmed_count, "complete": confirmed_count - len(incomplete),
                     "share": _share(confirmed_count - len(incomplete), confirmed_count), "incomplete": incomplete},
        "satisfaction": {"class_ratings": satisfaction["ratings"], "rate": satisfaction_rate,
                         "threshold": config["SATISFACTION_THRESHOLD"],
                         "meets": satisfaction_rate is not None and satisfaction_rate >= config["SATISFACTION_THRESHOLD"]},
    }
    return kpis


# ---- trainee archive ----------------------------------------------------------------------

def _archive_scope(identity, registration):
    """The registrations of this trainee the caller may see, as a filter; 404 when none."""
    if identity.is_admin or registration["user_id"] == identity.user_id:
        return {}
    if identity.covers_region(registration.get("region_code")):
        return {"region_code": {"$in": sorted(identity.region_codes)}}
    if identity.supervises(registration["class_id"]):
        return {"class_id": {"$in": list(identity.class_ids)}}
    raise NotFound("REGISTRATION_NOT_FOUND", "报名记录不存在")


def trainee_archive(*, identity, registration_id):
    """One trainee's training archive: registrations with history, attendance, leave, ratings given
    (how many, not what), certificates."""
    from service.registrations import service as registrations

    anchor = registrations.get_or_raise(registration_id=registration_id)
    scope_match = _archive_scope(identity, anchor)
    user_id = anchor["user_id"]
    found = repository.registrations_of(user_id, scope_match)
    class_ids = [r["class_id"] for r in found]
    class_docs = repository.classes_by_id(class_ids, {"name": 1, "institution": 1, "start_date": 1, "end_date": 1,
                                                      "year": 1, "sessions": 1})
    attendance = repository.attendance_of(user_id, class_ids)
    leave = repository.leave_of(user_id, class_ids)
    given = repository.ratings_given(user_id, class_ids)
    certificates = repository.certificates_of(user_id, class_ids)
    latest = found[-1] if found else anchor
    snapshot = latest.get("snapshot") or {}
    entries = []
    for registration in found:
        class_doc = class_docs.get(registration["class_id"], {})
        titles = {s["_id"]: s for s in class_doc.get("sessions") or []}
        counts = attendance.get(registration["class_id"], {})
        records = sorted(counts.get("records", []), key=lambda r: titles.get(r["session_id"], {}).get("starts_at") or utcnow())
        entries.append({
            "registration_id": registration["_id"], "class_id": registration["class_id"],
            "class_name": class_doc.get("name"), "institution": class_doc.get("institution"),
            "year": registration.get("year"), "start_date": class_doc.get("start_date"),
            "end_date": class_doc.get("end_date"), "state": registration["state"],
            "state_label": REGISTRATION_LABELS.get(registration["state"], registration["state"]),
            "region_code": registration.get("region_code"), "enterprise_name": registration.get("enterprise_name"),
            "submitted_at": registration.get("submitted_at"), "completed": bool(registration.get("completed")),
            "history": [{"at": h["at"], "from": h.get("from"), "to": h.get("to"), "reason": h.get("reason")}
                        for h in registration.get("history") or []],
            "attendance": {"present": counts.get("present", 0), "late": counts.get("late", 0),
                           "absent": counts.get("absent", 0), "excused": counts.get("excused", 0),
                           "sessions": [{"session_id": r["session_id"],
                                         "title": titles.get(r["session_id"], {}).get("title"),
                                         "starts_at": titles.get(r["session_id"], {}).get("starts_at"),
                                         "status": r["status"]} for r in records]},
            "leave": [{"type": item.get("type"), "type_label": LEAVE_TYPE_LABELS.get(item.get("type"), item.get("type")),
                       "starts_at": item.get("starts_at"), "ends_at": item.get("ends_at"), "state": item["state"],
                       "state_label": LEAVE_STATE_LABELS.get(item["state"], item["state"])}
                      for item in leave if item["class_id"] == registration["class_id"]],
            "ratings_given": {"sessions": given.get((registration["class_id"], "session"), 0),
                              "class": given.get((registration["class_id"], "class"), 0)},
            "certificates": [{"number": c["number"], "issued_on": c["issued_on"], "status": c["status"],
                              "revoke_reason": c.get("revoke_reason")}
                             for c in certificates if c["class_id"] == registration["class_id"]],
        })
    return {"user_id": user_id, "name": snapshot.get("name"), "gender": snapshot.get("gender"),
            "id_number": snapshot.get("id_number_masked"), "mobile": snapshot.get("mobile_masked"),
            "position": snapshot.get("position"), "enterprise_name": latest.get("enterprise_name"),
            "credit_code": latest.get("credit_code"), "registrations": entries}
