"""The state changes both sides of registration make (the trainee's service.py and the staff's
review.py): one place, so neither side imports the other."""

import contextlib

from pymongo.errors import PyMongoError

from service.classes import repository as classes_repo
from service.core.db import utcnow
from service.core.errors import Conflict, NotFound
from service.registrations import repository


def history_entry(*, by, from_state, to_state, reason=None):
    return {"at": utcnow(), "by": by, "from": from_state, "to": to_state, "reason": reason}


def move(registration, *, to_state, by, reason=None, set_fields=None, unset=None):
    """One state change with its history entry, only from the state and version we read."""
    update = {"$set": {"state": to_state, "updated_at": utcnow(), **(set_fields or {})},
              "$push": {"history": history_entry(by=by, from_state=registration["state"], to_state=to_state,
                                                 reason=reason)}}
    if unset:
        update["$unset"] = {field: "" for field in unset}
    moved = repository.move(registration=registration, update=update)
    if moved is None:
        raise Conflict("REGISTRATION_CHANGED", "报名状态已变化，请刷新后重试")
    return moved


def get_or_raise(*, registration_id):
    registration = repository.get(registration_id)
    if registration is None:
        raise NotFound("REGISTRATION_NOT_FOUND", "报名记录不存在")
    return registration


def end(registration, *, to_state, by, reason=None):
    """Move to a final state; a counted place goes back to the region's quota.

    Two documents change (the class's quota, the registration) and MongoDB has no transaction
    here: the place is given back first and put back if the move then fails (someone decided
    first, the database failed), so a failed request leaves both as they were and can be sent
    again. Both quota steps are per registration, so a repeat changes nothing twice."""
    place = {"class_id": registration["class_id"], "region_code": registration.get("region_code"),
             "registration_id": registration["_id"]}
    if registration.get("counted"):
        classes_repo.release_quota_place(**place)
    try:
        return move(registration, to_state=to_state, by=by, reason=reason,
                    set_fields={"counted": False}, unset=("withdrawal_request",))
    except Exception:
        if registration.get("counted"):
            with contextlib.suppress(PyMongoError):  # the original failure is the answer
                classes_repo.take_quota_place(**place, even_if_full=True)
        raise
