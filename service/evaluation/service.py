"""Performance targets (绩效目标), the 附件5 self-evaluation of the training rows, the 附1-2 class plan
and the 附1-3 trainee forms (notice 243: 工企业函〔2024〕243号).

The figures come from the region-year KPIs of service.reports; this module adds the targets, the
scoring and the lists of what is missing.
"""

from service.classes import repository as classes_repo
from service.classes import service as classes
from service.core import crypto, regions
from service.core.auth import ensure_region
from service.core.db import utcnow
from service.core.errors import Conflict, Forbidden, NotFound
from service.evaluation import repository, scoring
from service.evaluation.exports import PHOTO_STORED
from service.registrations import repository as registrations_repo
from service.reports import service as reports
from service.reports.scope import class_scope
from service.staff import repository as staff_repo
from service.trainees import service as trainees

TARGET_FIELDS = ("little_giant_share", "little_giants", "classes", "satisfaction")


def _check_region(identity, region_code):
    if not regions.is_valid(region_code):
        raise NotFound("REGION_NOT_FOUND", "地区不存在")
    ensure_region(identity, region_code)


# ---- targets ---------------------------------------------------------------------------------

def _targets_view(region_code, year, doc):
    doc = doc or {}
    return {"region_code": region_code, "region_name": regions.name_of(region_code), "year": year,
            **{field: doc.get(field) for field in TARGET_FIELDS},
            "version": doc.get("version", 0), "updated_by": doc.get("updated_by"),
            "updated_by_name": doc.get("updated_by_name"), "updated_at": doc.get("updated_at"),
            "history": doc.get("history", [])}


def get_targets(*, identity, region_code, year):
    """The region's targets for the year with every earlier version; all values null (version 0) before
    anyone set them."""
    _check_region(identity, region_code)
    return _targets_view(region_code, year, repository.get(region_code, year))


def set_targets(*, identity, region_code, year, version, **values):
    """Set the targets, as of `version` (0: the first time). 409 TARGETS_CHANGED when someone changed
    them since they were read."""
    _check_region(identity, region_code)
    now = utcnow()
    values = {field: values[field] for field in TARGET_FIELDS}
    by_name = staff_repo.name_of_user(identity.user_id)
    entry = {**values, "version": version + 1, "by": identity.user_id, "by_name": by_name, "at": now}
    if version == 0:
        try:
            doc = repository.insert({"region_code": region_code, "year": year, **values, "version": 1,
                                     "created_by": identity.user_id, "created_at": now,
                                     "updated_by": identity.user_id, "updated_by_name": by_name,
                                     "updated_at": now, "history": [entry]})
        except repository.AlreadyExists:
            doc = None
    else:
        doc = repository.replace_values(region_code=region_code, year=year, version=version,
                                        values={**values, "updated_by_name": by_name}, history_entry=entry,
                                        updated_by=identity.user_id, updated_at=now)
    if doc is None:
        raise Conflict("TARGETS_CHANGED", "绩效目标已被他人修改，请刷新后重试")
    return _targets_view(region_code, year, doc)


# ---- self-evaluation (附件5, training rows) ----------------------------------------------------

PLAN_FIELDS = {"name": 1, "start_date": 1, "end_date": 1, "institution": 1, "content_areas": 1, "quotas": 1,
               "status": 1, "sessions.content_area": 1}


def _content_gaps(class_docs):
    return [gap for gap in map(scoring.content_gap, class_docs) if gap is not None]


def _evaluation(kpis, targets, plan):
    gaps = _content_gaps(plan)
    rows = scoring.training_rows(kpis=kpis, targets=targets, plan_classes=len(plan), content_gaps=gaps)
    points, complete = scoring.total(rows)
    return rows, gaps, {"base_points": scoring.TRAINING_TOTAL, "points": points, "complete": complete}


def region_evaluation(*, identity, region_code, year):
    """The training rows of 附件5 scored for one region and year, with what is missing."""
    kpis = reports.region_kpis(identity=identity, region_code=region_code, year=year)  # checks the scope
    targets = repository.get(region_code, year)
    plan = classes_repo.planned_in_year(year, region_code=region_code, projection=PLAN_FIELDS)
    rows, gaps, total = _evaluation(kpis, targets, plan)
    waiting = registrations_repo.awaiting_review(year=year, region_code=region_code,
                                                 projection={"class_id": 1, "snapshot.name": 1, "submitted_at": 1})
    names = {c["_id"]: c["name"] for c in classes_repo.by_ids({r["class_id"] for r in waiting}, {"name": 1})}
    return {
        "region_code": region_code, "region_name": kpis["region_name"], "year": year,
        "generated_at": kpis["generated_at"], "targets": _targets_view(region_code, year, targets),
        "rows": rows, "total": total,
        "missing": {
            "classes_without_required_content": gaps,
            "unreviewed_registrations": [
                {"registration_id": r["_id"], "name": (r.get("snapshot") or {}).get("name"),
                 "class_id": r["class_id"], "class_name": names.get(r["class_id"]),
                 "submitted_at": r.get("submitted_at")} for r in waiting],
            "incomplete_archives": kpis["archives"]["incomplete"],
        },
    }


def national_evaluation(*, year):
    """Every region's training score for the year (organizers): points per row and in total."""
    table = reports.national_kpis(year=year)
    targets = repository.of_year(year)
    plan = classes_repo.planned_in_year(year, projection=PLAN_FIELDS)
    result = []
    for kpis in table["regions"]:
        code = kpis["region_code"]
        mine = [c for c in plan if ((c.get("quotas") or {}).get(code) or {}).get("places", 0) > 0]
        rows, _, total = _evaluation(kpis, targets.get(code), mine)
        result.append({"region_code": code, "region_name": kpis["region_name"], "targets_set": code in targets,
                       "rows": [{"key": r["key"], "points": r["points"], "actual_text": r["actual_text"],
                                 "rule": r["rule"]} for r in rows],
                       "total": total})
    return {"year": year, "generated_at": table["generated_at"], "regions": result}


# ---- class plan (附1-2) -------------------------------------------------------------------------

def class_plan(*, identity, year, region_code=None):
    """The classes of the year in which the region has places (all classes for organizers without a
    region), with the region's places and confirmed trainees."""
    if region_code is None:
        if not identity.is_admin:
            raise Forbidden("ROLE_REQUIRED", "只有组织方可以查看全部地区的班次计划")
    else:
        _check_region(identity, region_code)
    plan = classes_repo.planned_in_year(year, region_code=region_code, projection=PLAN_FIELDS)
    confirmed = registrations_repo.confirmed_counts([c["_id"] for c in plan], region_code=region_code)
    rows = []
    for number, class_doc in enumerate(plan, start=1):
        quotas = class_doc.get("quotas") or {}
        codes = [region_code] if region_code is not None else sorted(quotas)
        rows.append({
            "number": number, "class_id": class_doc["_id"], "class_name": class_doc["name"],
            "start_date": class_doc["start_date"], "end_date": class_doc["end_date"],
            "period": period(class_doc["start_date"], class_doc["end_date"], year),
            "content_areas": class_doc.get("content_areas") or [], "institution": class_doc.get("institution"),
            "places": sum((quotas.get(code) or {}).get("places", 0) for code in codes),
            "confirmed": sum(n for (cid, code), n in confirmed.items() if cid == class_doc["_id"]),
        })
    return {"year": year, "region_code": region_code,
            "region_name": regions.name_of(region_code) if region_code else "全部地区",
            "title": f"（{year}）年度专精特新“小巨人”培训班次计划", "classes": rows}


def period(start_date, end_date, year):
    """"2026-03-02", "2026-03-05" -> "3月2日—3月5日" (the 时间 column of 附1-2, year `year`). A class
    that starts or ends in another calendar year says the years: "2026年12月28日—2027年1月3日"."""
    (y1, m1, d1), (y2, m2, d2) = (tuple(map(int, d.split("-"))) for d in (start_date, end_date))
    if y1 == y2 == year:
        return f"{m1}月{d1}日—{m2}月{d2}日"
    return f"{y1}年{m1}月{d1}日—{y2}年{m2}月{d2}日"


# ---- trainee forms (附1-3) ----------------------------------------------------------------------

def sees_full_identity(identity):
    """Full ID number and mobile on the form: organizers only, as everywhere else (the roster's
    certificate export); province staff and supervisors get the masked forms, which is also what the
    per-role masking of the real-data issue (#13) decided for them."""
    return identity.is_admin


def trainee_forms(*, identity, class_id, region_code=None):
    """The class's confirmed trainees (of the caller's regions, or of `region_code`) as the form's
    fields, with their photos. 403 OUT_OF_SCOPE for a class or region outside the caller's scope."""
    class_doc = classes.get_or_raise(class_id=class_id)
    if region_code is not None and not regions.is_valid(region_code):
        raise NotFound("REGION_NOT_FOUND", "地区不存在")
    scope = class_scope(identity, class_doc)
    region_codes = scope.region_codes
    if region_code is not None:
        if region_codes is not None and region_code not in region_codes:
            raise Forbidden("OUT_OF_SCOPE", "只能导出本地区或本人负责班级的学员信息")
        region_codes = {region_code}
    registrations = registrations_repo.confirmed_in_class(class_id, region_codes=region_codes)
    forms = []
    for registration in registrations:
        person = registration.get("snapshot") or {}
        full = sees_full_identity(identity)
        forms.append({
            "registration_id": registration["_id"], "region_code": registration["region_code"],
            "region_name": regions.name_of(registration["region_code"]),
            **{key: person.get(key) for key in ("name", "gender", "political_status", "ethnicity", "email",
                                                 "position", "management_years", "address")},
            "id_number": _revealed(person, "id_number", full), "mobile": _revealed(person, "mobile", full),
            "education": person.get("education") or [], "social_positions": person.get("social_positions") or [],
            "honours": person.get("honours") or [], "enterprise": person.get("enterprise") or {},
            "photo": trainees.photo(user_id=registration["user_id"],
                                    attachment_ids=registration.get("attachment_ids") or (), fit=PHOTO_STORED),
        })
    return {"class": class_doc, "region_code": region_code if region_code is not None else (
        next(iter(region_codes)) if region_codes is not None and len(region_codes) == 1 else None), "forms": forms}


def _revealed(person, field, full):
    if full and person.get(f"{field}_enc"):
        return crypto.decrypt(person[f"{field}_enc"])
    return person.get(f"{field}_masked")
