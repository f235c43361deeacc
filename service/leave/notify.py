"""Subscribe messages about leave, all through the outbox: a failed send is retried by the worker
and never blocks or undoes the decision that caused it."""

from service.core.timeutil import BEIJING
from service.outbox import service as outbox
from service.staff import repository as staff_accounts

_STATE_WORDS = {"approved": "已批准", "rejected": "未批准", "cancelled": "已取消", "returned_early": "已销假"}


def _range(leave):
    starts, ends = leave["starts_at"].astimezone(BEIJING), leave["ends_at"].astimezone(BEIJING)
    return f"{starts:%m-%d %H:%M}至{ends:%m-%d %H:%M}"


def trainee_of_decision(leave, comment=None):
    outbox.enqueue(
        user_id=leave["user_id"], template="leave_decision", page=f"pages/leave/detail?id={leave['_id']}",
        data={"thing1": {"value": leave["class_name"][:20]}, "phrase2": {"value": _STATE_WORDS[leave["state"]]},
              "time3": {"value": _range(leave)[:20]}, "thing4": {"value": (comment or "请在小程序中查看详情")[:20]}},
        dedupe_key=f"leave:{leave['_id']}:decision")


def _supervisor_user_ids(class_id):
    return [a["user_id"] for a in staff_accounts.supervisors_of(class_id) if a.get("active") and a.get("user_id")]


def class_of_change(leave):
    """报备: the class's supervisors learn of an approved, cancelled or returned leave."""
    for user_id in _supervisor_user_ids(leave["class_id"]):
        outbox.enqueue(
            user_id=user_id, template="class_notice", page=f"pages/leave/detail?id={leave['_id']}",
            data={"thing1": {"value": f"{leave['trainee_name']}请假{_STATE_WORDS[leave['state']]}"[:20]},
                  "time2": {"value": _range(leave)[:20]}, "thing3": {"value": leave["class_name"][:20]}},
            dedupe_key=f"leave:{leave['_id']}:class:{leave['state']}:{user_id}")


def staff_of_pending(leave, staff_user_ids):
    for user_id in staff_user_ids:
        outbox.enqueue(
            user_id=user_id, template="leave_pending", page=f"pages/leave/review?id={leave['_id']}",
            data={"thing1": {"value": f"{leave['trainee_name']}的请假待审批"[:20]},
                  "time2": {"value": _range(leave)[:20]}, "thing3": {"value": leave["class_name"][:20]}},
            dedupe_key=f"leave:{leave['_id']}:reminder:{user_id}")
