"""The trainee's side of registration: draft, submit, withdraw, confirm."""

from pymongo.errors import DuplicateKeyError

from service.classes import service as classes
from service.core.db import utcnow
from service.core.errors import Conflict, NotFound, RuleViolation
from service.programmes import service as programmes
from service.registrations import checks, repository
# The state changes shared with the staff side (review.py) live in transitions.py; named here too.
from service.registrations.transitions import end, get_or_raise, history_entry, move  # noqa: F401
from service.registrations.states import (ADMITTED, CONFIRMED, DRAFT, OPEN, RETURNED, SUBMITTED,
                                          TRAINEE_WITHDRAW_FROM, WITHDRAWN)
from service.trainees import repository as profiles
from service.trainees import service as trainee_profiles

# Profile fields copied into the registration when it is submitted: later edits of the
# profile do not change what the province reviewed.
SNAPSHOT_FIELDS = ("name", "gender", "birth_date", "id_card_kind", "id_number_masked", "id_number_enc",
                   "mobile_masked", "mobile_enc", "email", "political_status", "ethnicity", "position", "management_years",
                   "address", "education", "social_positions", "honours", "enterprise")


def shown_to(registration, identity):
    """The registration as `identity` may read it.

    The masked ID number (110105********1234) hides exactly the 8 birth-date digits, so whoever reads
    it beside the birth date has the whole number back. Only the trainee (it is theirs) and organizers
    (who may export full numbers for certificates) see the birth date; province staff and class
    supervisors see the masked number alone, and no age either (an age that ticks over tells the
    birthday). The table is in miniprogram-api.md, "Who sees which personal data".
    """
    snapshot = registration.get("snapshot")
    if not snapshot or identity.is_admin or registration.get("user_id") == identity.user_id:
        return registration
    return {**registration, "snapshot": {**snapshot, "birth_date": None}}


def attachments_of(registration, identity):
    """The registration's files (kind, name, type, size) for those who may download them at
    /api/v1/attachments/{id} (the owner, organizers, the region's staff: service.trainees.access);
    None for anyone else (a class supervisor). A file deleted since is left out."""
    if registration["user_id"] != identity.user_id and not identity.covers_region(registration.get("region_code")):
        return None
    infos = (profiles.attachment_info(a) for a in registration.get("attachment_ids") or ())
    return [trainee_profiles.attachment_view(info) for info in infos if info is not None]


def own_or_raise(*, registration_id, user_id):
    registration = get_or_raise(registration_id=registration_id)
    if registration["user_id"] != user_id:
        raise NotFound("REGISTRATION_NOT_FOUND", "报名记录不存在")
    return registration


def _check_attachments(attachment_ids, user_id):
    for attachment_id in attachment_ids:
        info = profiles.attachment_info(attachment_id)
        if info is None or info["metadata"]["owner_id"] != user_id:
            raise RuleViolation("ATTACHMENT_NOT_FOUND", "所选文件不存在", errors={"attachment_ids": ["文件不存在"]})


def create_draft(*, user_id, class_id, attachment_ids=(), note=""):
    """Start a registration for a published class (one open registration per class)."""
    class_doc = classes.get_or_raise(class_id=class_id)
    if class_doc["status"] != "published":
        raise RuleViolation("CLASS_NOT_OPEN", "该班次当前不接受报名")
    _check_attachments(attachment_ids, user_id)
    doc = {"user_id": user_id, "class_id": class_id, "programme_id": class_doc["programme_id"],
           "year": class_doc["year"], "state": DRAFT, "counted": False, "attachment_ids": list(attachment_ids),
           "note": note, "region_code": None, "history": [history_entry(by=user_id, from_state=None, to_state=DRAFT)],
           "version": 1, "created_at": utcnow(), "updated_at": utcnow()}
    try:
        return repository.insert(doc)
    except DuplicateKeyError:
        raise Conflict("TRAINEE_ALREADY_REGISTERED", "您已报名该班次，请在“我的报名”中查看") from None


def edit(*, registration_id, user_id, changes):
    """Change attachments or note; only a draft or a returned registration."""
    registration = own_or_raise(registration_id=registration_id, user_id=user_id)
    if registration["state"] not in (DRAFT, RETURNED):
        raise RuleViolation("REGISTRATION_LOCKED", "报名已提交，不能修改；如需修改请联系地方主管部门退回")
    if "attachment_ids" in changes:
        _check_attachments(changes["attachment_ids"], user_id)
    moved = repository.move(registration=registration, update={"$set": {**changes, "updated_at": utcnow()}})
    if moved is None:
        raise Conflict("REGISTRATION_CHANGED", "报名状态已变化，请刷新后重试")
    return moved


def submit(*, registration_id, user_id):
    """Submit (or resubmit after `returned`) before the deadline; checks the programme rules."""
    registration = own_or_raise(registration_id=registration_id, user_id=user_id)
    if registration["state"] not in (DRAFT, RETURNED):
        raise RuleViolation("REGISTRATION_STATE_INVALID", "该报名已提交，无需重复提交")
    class_doc = classes.get_or_raise(class_id=registration["class_id"])
    now = utcnow()
    if class_doc["status"] != "published":
        raise RuleViolation("CLASS_NOT_OPEN", "该班次当前不接受报名")
    if class_doc.get("registration_opens_at") and now < class_doc["registration_opens_at"]:
        raise RuleViolation("REGISTRATION_NOT_OPEN", "报名尚未开始，请在报名开始后提交")
    if now >= class_doc["registration_deadline"]:
        raise RuleViolation("DEADLINE_PASSED", "报名已截止（开班前一周截止），如有疑问请联系地方主管部门")
    profile = profiles.get(user_id)
    missing = trainee_profiles.missing_for_submit(profile)
    if missing:
        raise RuleViolation("PROFILE_INCOMPLETE", f"请先完善个人信息：{'、'.join(missing)}",
                            errors={"profile": missing})
    enterprise = profile["enterprise"]
    region_code = enterprise["region_code"]
    if region_code not in class_doc["quotas"]:
        raise RuleViolation("REGION_NO_QUOTA", "该班次没有为贵企业所在地区分配名额，请选择其他班次")
    programme = programmes.get_or_raise(programme_id=class_doc["programme_id"])
    checks.enforce_programme_rules(programme=programme, class_doc=class_doc, credit_code=enterprise["credit_code"],
                                   id_number_hash=profile["id_number_hash"], registration_id=registration["_id"])
    snapshot = {field: profile.get(field) for field in SNAPSHOT_FIELDS}
    try:
        return move(registration, to_state=SUBMITTED, by=user_id, set_fields={
            "snapshot": snapshot, "region_code": region_code, "credit_code": enterprise["credit_code"],
            "enterprise_name": enterprise["name"], "id_number_hash": profile["id_number_hash"],
            "enterprise_key": checks.enterprise_key(programme, enterprise["credit_code"]), "submitted_at": now})
    except DuplicateKeyError:
        # Another trainee of the same enterprise submitted at the same moment: the index decided.
        raise checks.enterprise_taken() from None


def withdraw(*, registration_id, user_id, reason=None):
    """Withdraw before admission (frees a counted quota place)."""
    registration = own_or_raise(registration_id=registration_id, user_id=user_id)
    if registration["state"] not in TRAINEE_WITHDRAW_FROM:
        if registration["state"] in (ADMITTED, CONFIRMED):
            raise RuleViolation("WITHDRAWAL_NEEDS_APPROVAL", "已录取的报名需申请退出，由组织方审批")
        raise RuleViolation("REGISTRATION_STATE_INVALID", "该报名当前不能撤回")
    return end(registration, to_state=WITHDRAWN, by=user_id, reason=reason)


def request_withdrawal(*, registration_id, user_id, reason):
    """Ask to withdraw after admission; an organizer decides."""
    registration = own_or_raise(registration_id=registration_id, user_id=user_id)
    if registration["state"] not in (ADMITTED, CONFIRMED):
        raise RuleViolation("REGISTRATION_STATE_INVALID", "只有已录取的报名需要申请退出，未录取的可直接撤回")
    if registration.get("withdrawal_request"):
        raise RuleViolation("WITHDRAWAL_ALREADY_REQUESTED", "已提交退出申请，请等待组织方处理")
    moved = repository.move(registration=registration, update={
        "$set": {"withdrawal_request": {"at": utcnow(), "reason": reason}, "updated_at": utcnow()}})
    if moved is None:
        raise Conflict("REGISTRATION_CHANGED", "报名状态已变化，请刷新后重试")
    return moved


def confirm(*, registration_id, user_id):
    """Confirm participation (确认参训) after admission, before the confirmation deadline."""
    registration = own_or_raise(registration_id=registration_id, user_id=user_id)
    if registration["state"] != ADMITTED:
        raise RuleViolation("REGISTRATION_STATE_INVALID", "只有已录取的报名可以确认参训")
    class_doc = classes.get_or_raise(class_id=registration["class_id"])
    if utcnow() >= class_doc["confirmation_deadline"]:
        raise RuleViolation("CONFIRMATION_CLOSED", "确认参训已截止，请联系地方主管部门")
    return move(registration, to_state=CONFIRMED, by=user_id, set_fields={"confirmed_at": utcnow()})


def list_mine(*, user_id):
    registrations, _ = repository.find({"user_id": user_id}, sort=(("created_at", -1),))
    return registrations


def open_states():
    return OPEN
