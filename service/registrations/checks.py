"""Qualification checks (资格审核): refusals at submit time and the figures staff review."""

import datetime as dt

from service.classes import service as classes_service
from service.core.errors import RuleViolation
from service.core.identifiers import InvalidIdentifier, parse_credit_code
from service.registrations import repository
from service.registrations.states import ACTIVE
from service.registry import service as registry

LITTLE_GIANT = "小巨人"


def enterprise_key(programme, credit_code):
    """One enterprise, one class, one person per programme year (when the programme says so)."""
    if programme.get("one_enterprise_per_year", True):
        return f"{programme['_id']}:{credit_code}"
    return None


def little_giant_title(credit_code, class_doc):
    return registry.find_valid_title(credit_code=credit_code, title=LITTLE_GIANT,
                                     on_date=dt.date.fromisoformat(class_doc["start_date"]))


def little_giant_registration_ids(rows):
    """Ids of the rows ({_id, class_id, credit_code}) whose enterprise holds a valid 小巨人 title on
    its class's start date: `little_giant_title` for many registrations with one registry read."""
    start_dates = {}
    for class_id in {row["class_id"] for row in rows}:
        start_dates[class_id] = classes_service.get_or_raise(class_id=class_id)["start_date"]
    validity = registry.title_validity(credit_codes=[r["credit_code"] for r in rows if r.get("credit_code")],
                                       title=LITTLE_GIANT)
    ids = []
    for row in rows:
        valid = validity.get(row.get("credit_code"))
        if valid and valid[0] <= start_dates[row["class_id"]] <= valid[1]:
            ids.append(row["_id"])
    return ids


def has_completed_before(id_number_hash):
    return repository.count({"id_number_hash": id_number_hash, "completed": True}) > 0


def enforce_programme_rules(*, programme, class_doc, credit_code, id_number_hash, registration_id):
    """The refusals a trainee gets on submit, each with its own code and what to do."""
    if programme.get("require_little_giant") and little_giant_title(credit_code, class_doc) is None:
        raise RuleViolation("NOT_LITTLE_GIANT",
                            "本班仅限有效期内的国家级专精特新“小巨人”企业报名；如企业已获认定，请联系地方主管部门核实名录")
    if programme.get("exclude_prior_trainees") and has_completed_before(id_number_hash):
        raise RuleViolation("PRIOR_TRAINEE", "您已参加过领军人才培训并结业，按规定不能再次报名")
    key = enterprise_key(programme, credit_code)
    if key and repository.count({"enterprise_key": key, "state": {"$in": list(ACTIVE)},
                                 "_id": {"$ne": registration_id}}):
        raise enterprise_taken()


def enterprise_taken():
    return RuleViolation("ENTERPRISE_ALREADY_REGISTERED",
                         "贵企业本年度已有人报名培训（每个企业每年限报一个班、一人），如需更换请先撤回原报名", status=409)


def _valid_credit_code(code):
    try:
        return parse_credit_code(code) == code
    except InvalidIdentifier:
        return False


def review_figures(registration, *, programme, class_doc):
    """What province staff see beside each registration."""
    enterprise = registration.get("snapshot", {}).get("enterprise") or {}
    credit_code = enterprise.get("credit_code", "")
    title = little_giant_title(credit_code, class_doc) if credit_code else None
    key = registration.get("enterprise_key")
    quota = class_doc.get("quotas", {}).get(registration.get("region_code")) or {"places": 0, "used": 0}
    return {
        "credit_code_valid": bool(credit_code) and _valid_credit_code(credit_code),
        "little_giant_required": bool(programme.get("require_little_giant")),
        "little_giant_valid": title is not None,
        "little_giant_valid_until": title.get("valid_until") if title else None,
        "other_active_registrations_of_enterprise": repository.count(
            {"enterprise_key": key, "state": {"$in": list(ACTIVE)}, "_id": {"$ne": registration["_id"]}}) if key else 0,
        "prior_training": has_completed_before(registration["id_number_hash"]) if registration.get(
            "id_number_hash") else False,
        "quota_places": quota["places"],
        "quota_left": max(quota["places"] - quota["used"], 0),
    }
