"""The staff side: province review (推荐/退回/不通过) and organizer admission (录取/候补/不录取)."""

import contextlib
import logging
import re

from pymongo.errors import PyMongoError

from service.classes import repository as classes_repo
from service.classes import service as classes
from service.core.auth import ADMIN, PROVINCE_STAFF, SUPERVISOR, ensure_region
from service.core.db import utcnow
from service.core.errors import AppError, Forbidden, NotFound, RuleViolation
from service.outbox import service as outbox
from service.programmes import service as programmes
from service.registrations import checks, repository
from service.registrations.transitions import end, get_or_raise, move
from service.registrations.states import (ADMITTED, LABELS, ORGANIZER_ACTIONS, PHRASES, PROVINCE_ACTIONS,
                                          RECOMMENDED, WITHDRAWN)

MAX_BULK = 100
log = logging.getLogger(__name__)


# ---- reading ---------------------------------------------------------------------------

def can_read(identity, registration):
    return (registration["user_id"] == identity.user_id or identity.is_admin
            or (PROVINCE_STAFF in identity.roles and registration.get("region_code") in identity.region_codes)
            or identity.supervises(registration["class_id"]))


def readable_or_raise(*, registration_id, identity):
    registration = repository.get(registration_id)
    # 404 for someone else's registration: do not confirm it exists.
    if registration is None or not can_read(identity, registration):
        raise NotFound("REGISTRATION_NOT_FOUND", "报名记录不存在")
    return registration


def scope_query(identity, *, class_id=None, region_code=None, state=None):
    """The registrations a staff member may list, as a MongoDB filter."""
    query = {"state": {"$ne": "draft"}}
    if identity.is_admin:
        if region_code:
            query["region_code"] = region_code
    elif PROVINCE_STAFF in identity.roles:
        if region_code:
            ensure_region(identity, region_code)
            query["region_code"] = region_code
        else:
            query["region_code"] = {"$in": list(identity.region_codes)}
    elif SUPERVISOR in identity.roles:
        if class_id is None or class_id not in identity.class_ids:
            raise Forbidden("OUT_OF_SCOPE", "只能查看您负责班级的报名")
        if region_code:
            query["region_code"] = region_code
    else:
        raise Forbidden("ROLE_REQUIRED", "您没有权限查看报名列表")
    if class_id:
        query["class_id"] = class_id
    if state:
        query["state"] = state
    return query


def list_for_review(*, identity, class_id=None, region_code=None, state=None, name=None, enterprise=None,
                    little_giant=None, page=1, page_size=20):
    """A page of the registrations in `identity`'s scope, oldest submission first.

    Filters: `name` (part of the trainee's name), `enterprise` (part of the enterprise name or its
    whole credit code), `little_giant` (a valid 小巨人 title on the class's start date, as the
    `little_giant_valid` check says: read from the registry now, so it is not stored on the registration)."""
    query = scope_query(identity, class_id=class_id, region_code=region_code, state=state)
    if name:
        query["snapshot.name"] = {"$regex": re.escape(name)}
    if enterprise:
        query["$or"] = [{"enterprise_name": {"$regex": re.escape(enterprise)}},
                        {"credit_code": enterprise.upper()}]
    if little_giant is not None:
        giants = checks.little_giant_registration_ids(repository.class_and_credit_codes(query))
        query["_id"] = {"$in" if little_giant else "$nin": giants}
    items, total = repository.find(query, skip=(page - 1) * page_size, limit=page_size)
    return {"items": [with_checks(r) for r in items], "total": total, "page": page, "page_size": page_size}


def with_checks(registration):
    class_doc = classes.get_or_raise(class_id=registration["class_id"])
    programme = programmes.get_or_raise(programme_id=registration["programme_id"])
    return {**registration, "checks": checks.review_figures(registration, programme=programme, class_doc=class_doc)}


# ---- deciding --------------------------------------------------------------------------

def _announced(registration, *, to_state, reason, change):
    """Run `change()` (the decision's writes) with the trainee's notice: both are made or neither
    (service.outbox.service.announced)."""
    class_doc = classes.get_or_raise(class_id=registration["class_id"])
    notice = {"user_id": registration["user_id"], "template": "registration_decision",
              "page": f"pages/registration/detail?id={registration['_id']}",
              "values": {"thing1": class_doc["name"], "phrase2": PHRASES[to_state],
                         "thing3": reason or "请在小程序中查看详情"},
              # The notice of the registration's next version: the one `change` makes.
              "dedupe_key": f"registration:{registration['_id']}:v{registration['version'] + 1}"}
    return outbox.announced(change, [notice])


def _recommend(registration, *, by):
    """Take a quota place for the registration (one conditional update), then record the
    recommendation. If the record fails (someone decided first, the database failed), a place
    this request took is given back; if even that fails, sending the request again finds the
    place already held by this registration and does not count it twice."""
    place = {"class_id": registration["class_id"], "region_code": registration["region_code"],
             "registration_id": registration["_id"]}
    taken = classes_repo.take_quota_place(**place)
    if taken is None:
        raise RuleViolation("QUOTA_FULL", "本地区该班次名额已满，无法推荐；可联系组织方调整名额")
    try:
        return move(registration, to_state=RECOMMENDED, by=by,
                    set_fields={"counted": True, "recommended_at": utcnow()})
    except Exception:
        if taken == classes_repo.TAKEN:
            with contextlib.suppress(PyMongoError):  # the original failure is the answer
                classes_repo.release_quota_place(**place)
        raise


def _offer_place_to_waitlist(registration, *, by):
    """An admitted trainee left: admit the region's first waitlisted registration."""
    candidate = repository.first_waitlisted(class_id=registration["class_id"], region_code=registration["region_code"])
    if candidate is None:
        return None
    reason = "您已递补录取，请及时确认参训"
    try:
        return _announced(candidate, to_state=ADMITTED, reason=reason, change=lambda: move(
            candidate, to_state=ADMITTED, by=by, reason="递补录取", set_fields={"admitted_at": utcnow()}))
    except AppError:
        return None


def decide(*, registration_id, action, identity, reason=None):
    """Apply one staff decision; the trainee is notified through the outbox."""
    registration = get_or_raise(registration_id=registration_id)
    if action in PROVINCE_ACTIONS and registration["state"] == "submitted":
        table, role = PROVINCE_ACTIONS, PROVINCE_STAFF
    elif action in ORGANIZER_ACTIONS:
        table, role = ORGANIZER_ACTIONS, ADMIN
    else:  # the schema admits only actions of the two tables
        table, role = PROVINCE_ACTIONS, PROVINCE_STAFF
    if role == PROVINCE_STAFF:
        if not can_read(identity, registration) or not (identity.is_admin or PROVINCE_STAFF in identity.roles):
            raise Forbidden("OUT_OF_SCOPE", "只能审核本地区企业的报名")
        ensure_region(identity, registration["region_code"])
    elif not identity.is_admin:
        raise Forbidden("ROLE_REQUIRED", "录取由组织方（人才交流中心）决定")
    from_states, to_state, reason_required = table[action]
    if registration["state"] not in from_states:
        raise RuleViolation("REGISTRATION_STATE_INVALID",
                            f"报名当前为“{LABELS[registration['state']]}”，不能{ACTION_NAMES[action]}")
    if reason_required and not reason:
        raise RuleViolation("REASON_REQUIRED", "请填写原因", errors={"reason": ["请填写原因"]})
    if action == "approve_withdrawal" and not registration.get("withdrawal_request"):
        raise RuleViolation("WITHDRAWAL_NOT_REQUESTED", "学员未申请退出")
    by = identity.user_id
    if action == "recommend":
        change = lambda: _recommend(registration, by=by)  # noqa: E731
    elif to_state in ("rejected", "cancelled", WITHDRAWN):
        change = lambda: end(registration, to_state=to_state, by=by, reason=reason or (  # noqa: E731
            registration.get("withdrawal_request") or {}).get("reason"))
    else:
        change = lambda: move(registration, to_state=to_state, by=by, reason=reason,  # noqa: E731
                              set_fields={f"{to_state}_at": utcnow()})
    decided = _announced(registration, to_state=to_state, reason=reason, change=change)
    if registration["state"] in (ADMITTED, "confirmed") and to_state in (WITHDRAWN, "cancelled"):
        try:
            _offer_place_to_waitlist(registration, by=by)
        except PyMongoError as exc:
            # The decision is made and whole; the freed place stays open for an organizer to fill.
            log.warning("waitlist not offered the freed place: %s", type(exc).__name__)
    return decided


ACTION_NAMES = {"recommend": "推荐", "return": "退回", "reject": "不通过", "admit": "录取", "waitlist": "列入候补",
                "cancel": "取消", "approve_withdrawal": "批准退出"}


def decide_many(*, registration_ids, action, identity, reason=None):
    """Decide several registrations; each succeeds or fails on its own."""
    if len(registration_ids) > MAX_BULK:
        message = f"一次最多处理 {MAX_BULK} 条"
        raise RuleViolation("BULK_TOO_LARGE", message, errors={"registration_ids": [message]})
    results = []
    for registration_id in dict.fromkeys(registration_ids):
        try:
            decided = decide(registration_id=registration_id, action=action, identity=identity, reason=reason)
            results.append({"id": registration_id, "ok": True, "state": decided["state"]})
        except AppError as exc:
            results.append({"id": registration_id, "ok": False, "code": exc.code, "message": exc.message})
    return {"results": results, "succeeded": sum(r["ok"] for r in results),
            "failed": sum(not r["ok"] for r in results)}
