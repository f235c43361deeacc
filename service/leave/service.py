"""The trainee's side of leave (请假): preview, ask, withdraw, cancel, report back early (销假)."""

import datetime as dt

from service.attendance import service as attendance
from service.classes import rules as class_rules
from service.classes import service as classes
from service.completion import service as completion
from service.core.db import utcnow
from service.core.errors import Conflict, Forbidden, NotFound, RuleViolation
from service.core.timeutil import beijing_midnight
from service.leave import notify, repository
from service.leave.states import APPROVED, CANCELLED, RETURNED_EARLY, STATE_LABELS, SUBMITTED, WITHDRAWN
from service.outbox import service as outbox
from service.registrations import repository as registrations
from service.trainees import repository as trainee_files


def history_entry(*, by, from_state, to_state, comment=None, at=None):
    return {"at": at or utcnow(), "by": by, "from": from_state, "to": to_state, "comment": comment}


def confirmed_registration(*, user_id, class_id):
    registration = registrations.confirmed_for(class_id=class_id, user_id=user_id)
    if registration is None:
        raise Forbidden("NOT_ENROLLED", "只有确认参训本班的学员才能请假")
    return registration


def _class_bounds(class_doc):
    start = beijing_midnight(dt.date.fromisoformat(class_doc["start_date"]))
    end = beijing_midnight(dt.date.fromisoformat(class_doc["end_date"]) + dt.timedelta(days=1))
    return start, end


def covered_sessions(class_doc, starts_at, ends_at):
    """Sessions that overlap [starts_at, ends_at), in timetable order (a cancelled one needs no leave)."""
    return sorted((s for s in class_rules.scheduled_sessions(class_doc)
                   if s["starts_at"] < ends_at and s["ends_at"] > starts_at),
                  key=lambda s: s["starts_at"])


def _check_range(class_doc, starts_at, ends_at):
    if ends_at <= starts_at:
        raise RuleViolation("LEAVE_TIMES_INVALID", "结束时间须晚于开始时间", errors={"ends_at": ["结束时间须晚于开始时间"]})
    first, last = _class_bounds(class_doc)
    if starts_at < first or ends_at > last:
        raise RuleViolation("LEAVE_OUTSIDE_CLASS",
                            f"请假时间须在培训期间内（{class_doc['start_date']} 至 {class_doc['end_date']}）")
    covered = covered_sessions(class_doc, starts_at, ends_at)
    if not covered:
        raise RuleViolation("LEAVE_COVERS_NO_SESSION", "该时间段内没有课程，无需请假")
    return covered


def _held_range(leave):
    """The time a live request holds: its range, or up to the return for 销假."""
    return leave["starts_at"], leave.get("returned_at") or leave["ends_at"]


def _check_not_overlapping(*, class_id, user_id, starts_at, ends_at):
    for leave in repository.live_for_trainee(class_id=class_id, user_id=user_id):
        held_from, held_until = _held_range(leave)
        if held_from < ends_at and held_until > starts_at:
            raise Conflict("LEAVE_OVERLAP", "与您已提交或已批准的请假时间重叠，请先撤回或修改原申请",
                           extra={"leave_request_id": str(leave["_id"])})


def _check_not_attended(*, user_id, covered):
    attended = attendance.attended_session_ids(user_id=user_id, session_ids=[s["_id"] for s in covered])
    if attended:
        titles = "、".join(s["title"] for s in covered if s["_id"] in attended)
        raise RuleViolation("LEAVE_COVERS_ATTENDED", f"已签到的课程不能请假：{titles}")


def _impact(class_doc, *, user_id, covered, exclude_id=None):
    hours = class_rules.hours_by_session(class_doc)
    total = sum(hours.values())
    held_before = set()
    for leave in repository.live_for_trainee(class_id=class_doc["_id"], user_id=user_id):
        if leave["_id"] != exclude_id:
            held_before.update(leave.get("claimed_session_ids") or [])
    this = {s["_id"] for s in covered}
    # A session cancelled after it was claimed has no class hours any more (hours.get).
    share = sum(hours.get(s, 0) for s in held_before | this) / total if total else 0
    limit = completion.rule_of(class_doc)["max_excused_share"]
    return {
        "sessions": [{"session_id": s["_id"], "title": s["title"], "starts_at": s["starts_at"],
                      "ends_at": s["ends_at"], "class_hours": hours[s["_id"]]} for s in covered],
        "class_hours": round(sum(hours[s] for s in this), 1),
        "class_hours_total": round(total, 1),
        "leave_class_hours_before": round(sum(hours.get(s, 0) for s in held_before), 1),
        "leave_share_after": round(share, 4),
        "max_leave_share": limit,
        "completion_at_risk": share > limit,
    }


def _validate(*, user_id, class_id, starts_at, ends_at):
    confirmed_registration(user_id=user_id, class_id=class_id)
    class_doc = classes.get_or_raise(class_id=class_id)
    covered = _check_range(class_doc, starts_at, ends_at)
    _check_not_overlapping(class_id=class_id, user_id=user_id, starts_at=starts_at, ends_at=ends_at)
    _check_not_attended(user_id=user_id, covered=covered)
    return class_doc, covered


def preview(*, user_id, class_id, starts_at, ends_at):
    """Which sessions a range covers and what it does to completion; refuses what create would."""
    class_doc, covered = _validate(user_id=user_id, class_id=class_id, starts_at=starts_at, ends_at=ends_at)
    return _impact(class_doc, user_id=user_id, covered=covered)


def _check_proof(proof_attachment_id, user_id):
    if proof_attachment_id is None:
        return
    info = trainee_files.attachment_info(proof_attachment_id)
    if info is None or info["metadata"]["owner_id"] != user_id:
        raise RuleViolation("ATTACHMENT_NOT_FOUND", "证明材料不存在，请重新上传",
                            errors={"proof_attachment_id": ["文件不存在"]})


def create(*, user_id, class_id, type, starts_at, ends_at, reason, proof_attachment_id=None):
    """Ask for leave; it goes to the province staff of the trainee's region."""
    registration = confirmed_registration(user_id=user_id, class_id=class_id)
    class_doc, covered = _validate(user_id=user_id, class_id=class_id, starts_at=starts_at, ends_at=ends_at)
    _check_proof(proof_attachment_id, user_id)
    now = utcnow()
    session_ids = [s["_id"] for s in covered]
    doc = {"class_id": class_id, "user_id": user_id, "registration_id": registration["_id"],
           "region_code": registration["region_code"], "trainee_name": registration["snapshot"]["name"],
           "class_name": class_doc["name"], "type": type, "starts_at": starts_at, "ends_at": ends_at,
           "reason": reason, "proof_attachment_id": proof_attachment_id, "session_ids": session_ids,
           "claimed_session_ids": session_ids, "claim_active": True, "state": SUBMITTED,
           "history": [history_entry(by=user_id, from_state=None, to_state=SUBMITTED, at=now)],
           "acknowledgements": [], "reminded_at": None, "version": 1, "created_at": now, "updated_at": now}
    try:
        return repository.insert(doc)
    except repository.SessionAlreadyClaimed:
        # Two requests for the same sessions at the same moment: the index lets one through.
        raise Conflict("LEAVE_OVERLAP", "与您已提交或已批准的请假时间重叠，请先撤回或修改原申请") from None


def own_or_raise(*, leave_id, user_id):
    leave = repository.get(leave_id)
    if leave is None or leave["user_id"] != user_id:
        raise NotFound("LEAVE_NOT_FOUND", "请假申请不存在")
    return leave


def move(leave, *, to_state, by, comment=None, extra_set=None):
    """One transition from the state and version we read; a concurrent change is a conflict."""
    moved = repository.transition(leave_id=leave["_id"], from_state=leave["state"], version=leave["version"],
                                  to_state=to_state, entry=history_entry(by=by, from_state=leave["state"],
                                                                         to_state=to_state, comment=comment),
                                  extra_set=extra_set)
    if moved is None:
        raise Conflict("LEAVE_CHANGED", "请假申请已被处理或修改，请刷新后查看")
    return moved


def _require_state(leave, *states):
    if leave["state"] not in states:
        raise RuleViolation("LEAVE_STATE_INVALID", f"该请假当前为“{STATE_LABELS[leave['state']]}”，不能进行此操作",
                            extra={"state": leave["state"]})


RELEASED = {"claimed_session_ids": [], "claim_active": False}


def withdraw(*, leave_id, user_id, comment=None):
    """Withdraw a request nobody has decided yet."""
    leave = own_or_raise(leave_id=leave_id, user_id=user_id)
    _require_state(leave, SUBMITTED)
    return move(leave, to_state=WITHDRAWN, by=user_id, comment=comment, extra_set=RELEASED)


def _end_leave(leave, *, to_state, user_id, comment, extra_set, released, reason):
    """Cancel or return early: the move, the supervisors' messages (both or neither, see
    service.outbox.service.announced) and then the released sessions' records (excused ->
    absent). The released ids are kept on the request (`released_session_ids`): if the records
    step fails, the same request sent again finishes it (`_finish_release`)."""

    def release_records(moved):
        return attendance.apply_leave(user_id=user_id, release_session_ids=released, by=user_id, reason=reason)

    return outbox.announced(
        lambda: move(leave, to_state=to_state, by=user_id, comment=comment,
                     extra_set={**extra_set, "released_session_ids": released}),
        notify.change_messages({**leave, "state": to_state}), after=release_records)


def _finish_release(leave, *, to_state, user_id, reason):
    """The same cancel / return sent again after the database failed before the records step:
    finish it and answer the request; None when there was nothing left to do (a repeat)."""
    if leave["state"] == to_state and attendance.apply_leave(
            user_id=user_id, release_session_ids=leave.get("released_session_ids") or [], by=user_id, reason=reason):
        return leave
    return None


def cancel(*, leave_id, user_id, comment=None):
    """Cancel an approved leave before it starts: its sessions count again."""
    leave = own_or_raise(leave_id=leave_id, user_id=user_id)
    finished = _finish_release(leave, to_state=CANCELLED, user_id=user_id, reason="请假已取消")
    if finished is not None:
        return finished
    _require_state(leave, APPROVED)
    if utcnow() >= leave["starts_at"]:
        raise RuleViolation("LEAVE_ALREADY_STARTED", "请假已开始，不能取消；如已返回课堂请办理销假")
    return _end_leave(leave, to_state=CANCELLED, user_id=user_id, comment=comment, extra_set=RELEASED,
                      released=leave["claimed_session_ids"], reason="请假已取消")


def return_early(*, leave_id, user_id, comment=None):
    """销假: back before the leave ends; sessions from now on count again."""
    leave = own_or_raise(leave_id=leave_id, user_id=user_id)
    finished = _finish_release(leave, to_state=RETURNED_EARLY, user_id=user_id, reason="已销假")
    if finished is not None:
        return finished
    _require_state(leave, APPROVED)
    now = utcnow()
    if now < leave["starts_at"]:
        raise RuleViolation("LEAVE_NOT_STARTED", "请假尚未开始，如不再需要请假请直接取消")
    if now >= leave["ends_at"]:
        raise RuleViolation("LEAVE_ALREADY_ENDED", "请假已结束，无需销假")
    class_doc = classes.get_or_raise(class_id=leave["class_id"])
    starts = {s["_id"]: s["starts_at"] for s in class_doc.get("sessions", [])}
    # A session that has not started when the trainee is back is attended as usual.
    kept = [sid for sid in leave["claimed_session_ids"] if sid in starts and starts[sid] < now]
    released = [sid for sid in leave["claimed_session_ids"] if sid not in kept]
    return _end_leave(leave, to_state=RETURNED_EARLY, user_id=user_id, comment=comment,
                      extra_set={"claimed_session_ids": kept, "claim_active": bool(kept), "returned_at": now},
                      released=released, reason="已销假")


def list_mine(*, user_id, class_id=None):
    query = {"user_id": user_id}
    if class_id is not None:
        query["class_id"] = class_id
    items, _ = repository.find(query, sort=(("created_at", -1), ("_id", -1)))
    return items
