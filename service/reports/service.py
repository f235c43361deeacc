"""Class report, region-year KPIs and the all-regions table (notice 243 附件5, training rows), and the
trainee archive (培训档案)."""

from collections import Counter

import pymongo
from flask import current_app

from service.attendance import rates
from service.attendance import repository as attendance_repository
from service.completion import repository as completion_repository
from service.classes import rules as class_rules
from service.classes import service as classes
from service.core import regions
from service.core.auth import ensure_region
from service.core.db import utcnow
from service.core.timeutil import beijing_date
from service.core.errors import NotFound
from service.core.shares import share
from service.leave import repository as leave_repository
from service.leave.states import STATE_LABELS as LEAVE_STATE_LABELS
from service.leave.states import TYPE_LABELS as LEAVE_TYPE_LABELS
from service.ratings import repository as ratings_repository
from service.ratings import service as ratings
from service.registrations.states import LABELS as REGISTRATION_LABELS
from service.registrations import repository as registrations_repository
from service.reports import repository, summaries
from service.reports.scope import class_scope


# ---- class report ------------------------------------------------------------------------

def class_report(*, identity, class_id):
    """Enrolment, attendance, lateness, leave, satisfaction and completion of one class."""
    class_doc = classes.get_or_raise(class_id=class_id)
    scope = class_scope(identity, class_doc)
    match = scope.match()
    now = utcnow()

    enrolment = registrations_repository.class_enrolment_by_region(class_id, match)
    quotas = class_doc.get("quotas") or {}
    by_region = [{"region_code": g["_id"], "region_name": regions.name_of(g["_id"]),
                  "places": (quotas.get(g["_id"]) or {}).get("places", 0), "applied": g["applied"],
                  "admitted": g["admitted"], "confirmed": g["confirmed"]} for g in enrolment]
    confirmed = sum(r["confirmed"] for r in by_region)

    attendance = attendance_summary(class_doc, attendance_repository.counts_by_session(class_doc, match), confirmed, now)

    leave_groups = leave_repository.approved_by_type(class_id, match)
    leave = {"requests": sum(g["requests"] for g in leave_groups),
             "trainees": len({u for g in leave_groups for u in g["users"]}),
             "excused_records": attendance["excused"],
             "by_type": [{"type": g["_id"], "label": LEAVE_TYPE_LABELS.get(g["_id"], g["_id"]),
                          "requests": g["requests"]} for g in sorted(leave_groups, key=lambda g: g["_id"] or "")]}

    certificates = completion_repository.counts_by_status({"class_id": class_id, **match})
    return {
        "class": {"id": class_id, "name": class_doc["name"], "institution": class_doc.get("institution"),
                  "year": class_doc.get("year"), "start_date": class_doc["start_date"],
                  "end_date": class_doc["end_date"], "status": class_doc["status"],
                  "class_hours": class_rules.class_hours(class_doc)},
        "region_codes": sorted(scope.region_codes) if scope.region_codes is not None else None,
        "generated_at": now,
        # People, once each, even one who applied in two regions (profile moved between submissions).
        "enrolment": {"confirmed": confirmed, "applied": len({u for g in enrolment for u in g["user_ids"]}),
                      "places": sum((quotas.get(r) or {}).get("places", 0)
                                    for r in (scope.region_codes if scope.region_codes is not None else quotas)),
                      "by_region": by_region},
        "attendance": attendance,
        "leave": leave,
        "satisfaction": ratings.summary(class_doc=class_doc, region_codes=scope.region_codes,
                                        with_comments=scope.comments),
        "completion": {"certificates_issued": certificates.get("valid", 0),
                       "certificates_revoked": certificates.get("revoked", 0),
                       "completion_rate": share(certificates.get("valid", 0), confirmed)},
    }


def attendance_summary(class_doc, counted, confirmed, now):
    """The class report's attendance: counted is {session_id: {status: count}} of the trainees in
    scope, confirmed their number; rates over the sessions held so far (service.attendance.rates)."""
    held_ids = set(rates.held_ids(class_doc, now))
    per_session = []
    for session in class_doc.get("sessions") or []:
        cancelled = class_rules.is_cancelled(session)
        group = {} if cancelled else counted.get(session["_id"], {})
        row = {k: group.get(k, 0) for k in ("present", "late", "absent", "excused")}
        held = session["_id"] in held_ids
        per_session.append({"session_id": session["_id"], "title": session["title"],
                            "teacher": session.get("teacher"), "starts_at": session["starts_at"], "held": held,
                            "cancelled": cancelled, "expected": 0 if cancelled else confirmed, **row,
                            "attendance_rate": rates.session_rate(row["present"] + row["late"], confirmed)
                            if held else None,
                            "late_rate": rates.session_rate(row["late"], confirmed) if held else None})
    return {"sessions_total": len(rates.scheduled_ids(class_doc)),
            **rates.class_so_far(counted, class_doc, now, confirmed), "sessions": per_session}


# ---- region-year KPIs ------------------------------------------------------------------------

def _check_region(identity, region_code):
    # The route admits organizers and province staff only; ensure_region limits staff to their region.
    if not regions.is_valid(region_code):
        raise NotFound("REGION_NOT_FOUND", "地区不存在")
    ensure_region(identity, region_code)


# The classes' fields the KPIs read: status and what decides which sessions were held.
KPI_CLASS_FIELDS = {"name": 1, "status": 1, "sessions._id": 1, "sessions.starts_at": 1, "sessions.ends_at": 1,
                    "sessions.checkin": 1, "sessions.cancelled": 1, "checkin_settings": 1}


def _attendance_gaps(held, region_match):
    """Confirmed registrations (archive fields) lacking a record for a session their class held.

    Closing a session records every trainee confirmed at that moment, and confirmation closes
    before the class starts: a closed session cannot lack a trainee's record. Only classes with a
    session over but not closed yet (the closing job runs every few seconds) are counted trainee
    by trainee; reading every record of a year would not scale.
    """
    closed = attendance_repository.closed_session_ids(sid for session_ids in held.values() for sid in session_ids)
    gaps = []
    for class_id, session_ids in held.items():
        if not set(session_ids) - closed:
            continue
        records = attendance_repository.counts_by_registration(session_ids, region_match)
        gaps += [row for row in registrations_repository.archive_rows(class_id, region_match)
                 if records.get(row["_id"], 0) < len(session_ids)]
    return gaps


def _incomplete_archives(rows, gaps, class_docs):
    missing = {}  # registration id -> (row, [what is missing])
    for row in rows + gaps:
        missing.setdefault(row["_id"], (row, [k for k, ok in (("profile", row["profile_complete"]),
                                                              ("review", row["reviewed"])) if not ok]))
    for row in gaps:
        missing[row["_id"]][1].append("attendance")
    return [{"registration_id": rid, "name": row.get("name"),
             "class_name": class_docs.get(row["class_id"], {}).get("name"), "missing": what}
            for rid, (row, what) in sorted(missing.items(), key=lambda kv: (kv[1][0].get("name") or "", kv[0]))]


def _stored_counts(*, year, region_code=None):
    """What the KPIs count that does not change with time, per region: of `region_code`, or of
    every region (the same handful of pipelines grouped by region either way). Returns
    ({region: counts (plain BSON values: the read model stores them)}, the region's incomplete
    archives (only for one region))."""
    region_match = {} if region_code is None else {"region_code": region_code}
    by_region, incomplete_rows = registrations_repository.kpi_counts_by_region(
        year, region_match, with_incomplete=region_code is not None)
    giants = registrations_repository.little_giants_by_region(year, region_match)
    completed = completion_repository.valid_by_region(year, region_match)
    satisfaction = ratings.overall_by({"year": year, **region_match}, group_by="$region_code")
    counts = {}
    for code in [region_code] if region_code is not None else sorted(regions.all_regions()):
        figures = by_region.get(code, {})
        rated = satisfaction.get(code, {})
        counts[code] = {
            "class_ids": sorted(figures.get("class_ids", ())),
            "trainees": figures.get("trainees", 0), "completed": completed.get(code, 0),
            "giants_trained": giants.get(code, {}).get("trained", 0),
            "giants_in_registry": giants.get(code, {}).get("in_registry", 0),
            "reviewed": figures.get("reviewed", 0), "pending": figures.get("pending", 0),
            "confirmed": figures.get("confirmed", 0), "incomplete": figures.get("incomplete", 0),
            "class_ratings": rated.get("class_ratings", 0), "satisfied_scores": rated.get("satisfied_scores", 0),
            "scores": rated.get("scores", 0),
        }
    return counts, incomplete_rows


def _with_time(stored, *, now, region_code=None):
    """The KPIs' counts: `stored` ({region: _stored_counts}) with what depends on the time (which
    classes held a session, which archives lack a record of a session not closed yet) computed
    now from the classes. Returns ({region: counts}, gaps, class documents)."""
    region_match = {} if region_code is None else {"region_code": region_code}
    class_docs = repository.classes_by_id({cid for one in stored.values() for cid in one["class_ids"]},
                                          KPI_CLASS_FIELDS)
    held = {cid: [s["_id"] for s in class_rules.held_sessions(doc, now)] for cid, doc in class_docs.items()}
    held_classes = {cid for cid, doc in class_docs.items() if doc["status"] != "cancelled" and held[cid]}
    gaps = _attendance_gaps(held, region_match)
    # A gap in attendance makes incomplete an archive the registration alone would not.
    gaps_only = Counter(row["region_code"] for row in gaps if row["reviewed"] and row["profile_complete"])
    counts = {}
    for code, one in stored.items():
        class_ids = set(one["class_ids"]) & set(class_docs)
        counts[code] = {**{k: v for k, v in one.items() if k not in ("class_ids", "incomplete")},
                        "class_ids": class_ids, "held_class_ids": class_ids & held_classes,
                        "complete": one["confirmed"] - one["incomplete"] - gaps_only[code]}
    return counts, gaps, class_docs


# Above this many regions to count again, one all-regions pass is cheaper than region after region.
RECOUNT_ALL_ABOVE = 12


def _count_regions(year, codes):
    """{region: stored counts} of `codes`, counted now: one all-regions pass when many, else region by region."""
    if len(codes) > RECOUNT_ALL_ABOVE:
        everything = _stored_counts(year=year)[0]
        return {code: everything[code] for code in codes}
    return {code: _stored_counts(year=year, region_code=code)[0][code] for code in codes}


def _national_stored_counts(year):
    """Every region's stored counts through the read model (service.reports.summaries): rows
    still at their regions' current versions are read, the others counted again and kept."""
    codes = sorted(regions.all_regions())
    seen = summaries.versions(year, codes)  # before counting: a write meanwhile leaves a newer version
    counts = summaries.stored(year, seen)
    fresh = _count_regions(year, [code for code in codes if code not in counts])
    summaries.store(year, fresh, seen)
    counts.update(fresh)
    return {code: counts[code] for code in codes}


# The worker counts a region again once its row is this old, well before a request would refuse
# it (summaries.MAX_AGE): even under load a full count (~80 s at load 10) ends in time.
REFRESH_AFTER = summaries.MAX_AGE / 2
COUNT_TIMEOUT_SECONDS = 600


def read_model_years(now=None):
    """The years the worker keeps counted: last, this and next programme year (Asia/Shanghai);
    registration for next year opens before the new year. Older years are counted on request."""
    this_year = beijing_date(now or utcnow()).year
    return [this_year - 1, this_year, this_year + 1]


def refresh_read_model(*, years=None, now=None):
    """The worker's step for the all-regions table (a request then never counts a national year
    cold): each year's regions whose row is missing, behind its versions or older than
    REFRESH_AFTER are counted again and stored, by the same pipelines and the same version
    protocol as a request (summaries). Returns {year: regions counted}."""
    codes = sorted(regions.all_regions())
    counted = {}
    # A national pass is one aggregation of ~10-80 s on the embedded server: past the socket
    # timeout requests live with (MONGODB_SOCKET_TIMEOUT_MS, 10 s), so the worker's reads get their own.
    with pymongo.timeout(COUNT_TIMEOUT_SECONDS):
        for year in years if years is not None else read_model_years(now):
            seen = summaries.versions(year, codes)
            valid = summaries.stored(year, seen, max_age=REFRESH_AFTER)
            missing = [code for code in codes if code not in valid]
            if missing:
                summaries.store(year, _count_regions(year, missing), seen)
            counted[year] = len(missing)
    return counted


def _added(counts):
    """Counts of several regions together: classes as sets (a class has trainees of many regions), the rest summed."""
    total = {}
    for one in counts:
        for key, value in one.items():
            total[key] = total.get(key, set()) | value if isinstance(value, set) else total.get(key, 0) + value
    return total


def _kpi_row(region_code, region_name, counts):
    config = current_app.config
    giant_share = share(counts["giants_trained"], counts["giants_in_registry"])
    satisfaction_rate = ratings.rate(counts["satisfied_scores"], counts["scores"])
    to_review = counts["reviewed"] + counts["pending"]
    return {
        "region_code": region_code, "region_name": region_name,
        "classes_held": len(counts["held_class_ids"]),
        "classes_with_trainees": len(counts["class_ids"]),
        "trainees_trained": counts["trainees"],
        "trainees_completed": counts["completed"],
        "little_giants": {"trained": counts["giants_trained"], "in_registry": counts["giants_in_registry"],
                          "share": giant_share, "threshold": config["LITTLE_GIANT_SHARE_THRESHOLD"],
                          "meets": giant_share is not None and giant_share >= config["LITTLE_GIANT_SHARE_THRESHOLD"]},
        "review": {"reviewed": counts["reviewed"], "to_review": to_review, "pending": counts["pending"],
                   "share": share(counts["reviewed"], to_review)},
        "archives": {"trainees": counts["confirmed"], "complete": counts["complete"],
                     "share": share(counts["complete"], counts["confirmed"])},
        # The counts behind the rate travel too: the 附件5 scoring compares them exactly (service.evaluation).
        "satisfaction": {"class_ratings": counts["class_ratings"], "rate": satisfaction_rate,
                         "satisfied_scores": counts["satisfied_scores"], "scores": counts["scores"],
                         "threshold": config["SATISFACTION_THRESHOLD"],
                         "meets": satisfaction_rate is not None and satisfaction_rate >= config["SATISFACTION_THRESHOLD"]},
    }


def region_kpis(*, identity, region_code, year):
    """The training rows of the regional performance table (附件5) for one region and year."""
    _check_region(identity, region_code)
    now = utcnow()
    seen = summaries.versions(year, [region_code])
    stored, incomplete_rows = _stored_counts(year=year, region_code=region_code)
    summaries.store(year, stored, seen)  # the all-regions table reuses this count
    counts, gaps, class_docs = _with_time(stored, now=now, region_code=region_code)
    row = _kpi_row(region_code, regions.name_of(region_code), counts[region_code])
    row["archives"]["incomplete"] = _incomplete_archives(incomplete_rows, gaps, class_docs)
    return {**row, "year": year, "generated_at": now}


NATIONAL_NAME = "全国"


def national_kpis(*, year, recount=False):
    """Every region's row of the performance table (附件5) for a year, and the national total (organizers).
    Through the read model (service.reports.summaries); `recount` counts every region afresh
    without it (what the read model must always equal)."""
    now = utcnow()
    stored = _stored_counts(year=year)[0] if recount else _national_stored_counts(year)
    counts, _, _ = _with_time(stored, now=now)
    return {"year": year, "generated_at": now,
            "regions": [_kpi_row(code, regions.name_of(code), one) for code, one in counts.items()],
            "national": _kpi_row(None, NATIONAL_NAME, _added(counts.values()))}


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


def _registration_label(state):
    """A registration state as staff read it (registrations.states.LABELS); None stays None."""
    return None if state is None else REGISTRATION_LABELS.get(state, state)


def trainee_archive(*, identity, registration_id):
    """One trainee's training archive: registrations with history, attendance, leave, ratings given
    (how many, not what), certificates."""
    from service.registrations import service as registrations

    anchor = registrations.get_or_raise(registration_id=registration_id)
    scope_match = _archive_scope(identity, anchor)
    user_id = anchor["user_id"]
    found = registrations_repository.applied_of_trainee(user_id, scope_match)
    class_ids = [r["class_id"] for r in found]
    class_docs = repository.classes_by_id(class_ids, {"name": 1, "institution": 1, "start_date": 1, "end_date": 1,
                                                      "year": 1, "sessions": 1})
    attendance = attendance_repository.figures_of_trainee(user_id, class_docs.values())
    leave = leave_repository.of_trainee_in_classes(user_id, class_ids)
    given = ratings_repository.receipts_given(user_id, class_ids)
    certificates = completion_repository.of_trainee_in_classes(user_id, class_ids)
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
            "history": [{"at": h["at"], "from": h.get("from"), "to": h.get("to"), "reason": h.get("reason"),
                         "from_label": _registration_label(h.get("from")), "to_label": _registration_label(h.get("to"))}
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
    return {"registration_id": anchor["_id"], "user_id": user_id, "name": snapshot.get("name"), "gender": snapshot.get("gender"),
            "id_number": snapshot.get("id_number_masked"), "mobile": snapshot.get("mobile_masked"),
            "position": snapshot.get("position"), "enterprise_name": latest.get("enterprise_name"),
            "credit_code": latest.get("credit_code"), "registrations": entries}
