"""The approvers' and the class's side of leave: inbox, decision, acknowledgement, reminders."""

import datetime as dt
from collections import Counter

from flask import current_app

from service.attendance import repository as attendance_repo
from service.attendance import service as attendance
from service.classes import repository as classes_repo
from service.core.auth import PROVINCE_STAFF
from service.core.db import utcnow
from service.core.errors import Conflict, Forbidden, NotFound, RuleViolation
from service.leave import notify, repository
from service.leave.service import RELEASED, history_entry
from service.leave.states import APPROVED, REJECTED, RETURNED_EARLY, SUBMITTED
from service.outbox import service as outbox
from service.staff import repository as staff_accounts


def _may_decide(identity, leave):
    return identity.is_admin or (PROVINCE_STAFF in identity.roles and leave["region_code"] in identity.region_codes)


def readable_or_raise(*, identity, leave_id):
    """Owner, organizers, the region's staff and the class's supervisors; 403 for other staff."""
    leave = repository.get(leave_id)
    if leave is None:
        raise NotFound("LEAVE_NOT_FOUND", "请假申请不存在")
    if leave["user_id"] == identity.user_id or _may_decide(identity, leave) or identity.supervises(leave["class_id"]):
        return leave
    if PROVINCE_STAFF in identity.roles or identity.has_any(("supervisor",)):
        raise Forbidden("OUT_OF_SCOPE", "只能查看本地区或您负责班级的请假")
    raise NotFound("LEAVE_NOT_FOUND", "请假申请不存在")


def decide(*, identity, leave_id, action, comment=None):
    """Approve or reject a submitted request; the first decision wins."""
    leave = repository.get(leave_id)
    if leave is None:
        raise NotFound("LEAVE_NOT_FOUND", "请假申请不存在")
    if not _may_decide(identity, leave):
        raise Forbidden("OUT_OF_SCOPE", "只能审批本地区学员的请假")
    if action == "reject" and not comment:
        raise RuleViolation("COMMENT_REQUIRED", "不批准时请填写意见", errors={"comment": ["请填写意见"]})
    to_state = APPROVED if action == "approve" else REJECTED

    def excuse(moved):
        """Sessions already closed as absent become excused (recorded in their history); idempotent."""
        return attendance.apply_leave(user_id=moved["user_id"], excuse_session_ids=moved["claimed_session_ids"],
                                      by=identity.user_id, reason="请假已批准")

    if leave["state"] != SUBMITTED:
        # The same approval sent again after the database failed between the decision and the
        # attendance records: finish the records (the decision stands). Otherwise it is a repeat.
        if (leave["state"] == to_state == APPROVED and leave.get("decided_by") == identity.user_id
                and excuse(leave)):
            return leave
        raise Conflict("LEAVE_ALREADY_DECIDED", "该请假申请已处理，请刷新后查看", extra={"state": leave["state"]})
    now = utcnow()

    def commit():
        # The state and version we read are in the filter: of two staff deciding at once, one matches.
        moved = repository.transition(
            leave_id=leave_id, from_state=SUBMITTED, version=leave["version"], to_state=to_state,
            entry=history_entry(by=identity.user_id, from_state=SUBMITTED, to_state=to_state, comment=comment, at=now),
            extra_set={"decided_at": now, "decided_by": identity.user_id, "decision_comment": comment,
                       **(RELEASED if to_state == REJECTED else {})})
        if moved is None:
            current = repository.get(leave_id)
            raise Conflict("LEAVE_ALREADY_DECIDED", "该请假申请已由他人处理，请刷新后查看",
                           extra={"state": current["state"] if current else None})
        return moved

    # The decision, the trainee's message and (approved) the supervisors' are made together.
    decided = {**leave, "state": to_state}
    messages = (notify.change_messages(decided) if to_state == APPROVED else []) + [
        notify.decision_message(decided, comment)]
    return outbox.announced(commit, messages, after=excuse if to_state == APPROVED else None)


def acknowledge(*, identity, leave_id, note):
    """A class supervisor notes that the class has the leave (报备已收到)."""
    leave = repository.get(leave_id)
    if leave is None:
        raise NotFound("LEAVE_NOT_FOUND", "请假申请不存在")
    if not identity.supervises(leave["class_id"]):
        raise Forbidden("OUT_OF_SCOPE", "只能处理您负责班级的请假")
    if leave["state"] not in (APPROVED, RETURNED_EARLY):
        raise RuleViolation("LEAVE_STATE_INVALID", "只能确认已批准的请假", extra={"state": leave["state"]})
    return repository.push_acknowledgement(leave_id=leave_id, acknowledgement={
        "by": identity.user_id, "at": utcnow(), "note": note})


def _scope_query(identity, *, region_code=None, class_id=None):
    query = {}
    if identity.is_admin:
        if region_code:
            query["region_code"] = region_code
    elif PROVINCE_STAFF in identity.roles:
        if region_code and region_code not in identity.region_codes:
            raise Forbidden("OUT_OF_SCOPE", "只能查看本地区的请假")
        query["region_code"] = region_code or {"$in": sorted(identity.region_codes)}
    elif identity.class_ids:
        if class_id is not None and not identity.supervises(class_id):
            raise Forbidden("OUT_OF_SCOPE", "只能查看您负责班级的请假")
        query["class_id"] = {"$in": sorted(identity.class_ids)}
    else:
        raise Forbidden("ROLE_REQUIRED", "您没有权限进行此操作")
    if class_id is not None:
        query["class_id"] = class_id
    return query


def _trainee_figures(items):
    """Attendance so far and leave already taken, per (class, trainee) of the listed requests."""
    pairs = {(i["class_id"], i["user_id"]) for i in items}
    if not pairs:
        return {}
    figures = {pair: {"attendance": Counter(), "leave_taken": 0} for pair in pairs}
    users = list({u for _, u in pairs})
    classes = list({c for c, _ in pairs})
    class_docs = classes_repo.by_ids(classes, {"sessions._id": 1, "sessions.cancelled": 1})
    for row in attendance_repo.status_counts(class_docs, user_ids=users):
        key = (row["_id"]["c"], row["_id"]["u"])
        if key in figures:
            figures[key]["attendance"][row["_id"]["s"]] = row["n"]
    for row in repository.taken_counts(user_ids=users, class_ids=classes):
        key = (row["_id"]["c"], row["_id"]["u"])
        if key in figures:
            figures[key]["leave_taken"] = row["n"]
    return figures


def inbox(*, identity, state=SUBMITTED, region_code=None, class_id=None, page=1, page_size=20):
    """Requests in the caller's scope, oldest first, with each trainee's attendance and leave so far."""
    query = _scope_query(identity, region_code=region_code, class_id=class_id)
    if state:
        query["state"] = state
    items, total = repository.find(query, skip=(page - 1) * page_size, limit=page_size)
    figures = _trainee_figures(items)
    for item in items:
        f = figures[(item["class_id"], item["user_id"])]
        item["attendance_so_far"] = {s: f["attendance"].get(s, 0) for s in ("present", "late", "absent", "excused")}
        # The trainee's other approved requests in this class: a request is never its own precedent
        # (approving it must not turn "此前请假 0" into 1 on the same row).
        item["leave_taken"] = f["leave_taken"] - (1 if item["state"] in repository.EXCUSING_STATES else 0)
    return {"items": items, "page": page, "page_size": page_size, "total": total}


def remind_pending(*, now=None):
    """One reminder to the region's staff for each request pending longer than LEAVE_REMINDER_HOURS."""
    now = now or utcnow()
    due = now - dt.timedelta(hours=current_app.config["LEAVE_REMINDER_HOURS"])
    reminded = 0
    for leave in repository.pending_older_than(due):
        claimed = repository.mark_reminded(leave_id=leave["_id"], now=now)
        if claimed is None:
            continue  # decided or reminded meanwhile
        notify.staff_of_pending(claimed, [a["user_id"] for a in staff_accounts.province_staff_of(claimed["region_code"])])
        reminded += 1
    return reminded
