"""Subscribe messages about leave, all through the outbox: a failed send is retried by the worker
and never blocks or undoes the decision that caused it."""

from service.outbox import service as outbox
from service.staff import repository as staff_accounts

# Phrases (phrase keys: at most 5 Chinese characters, from core.subscribe.PHRASES).
_STATE_WORDS = {"approved": "已批准", "rejected": "未批准", "cancelled": "已取消", "returned_early": "已销假"}


def _range(leave):
    """The leave period for a `time` key: core.subscribe writes it as WeChat wants (… 08:30~12:00)."""
    return (leave["starts_at"], leave["ends_at"])


def decision_message(leave, comment=None):
    """The trainee's message about the decision on `leave` (as it is, or is about to be)."""
    return {"user_id": leave["user_id"], "template": "leave_decision", "page": f"pages/leave/detail?id={leave['_id']}",
            "values": {"thing1": leave["class_name"], "phrase2": _STATE_WORDS[leave["state"]], "time3": _range(leave),
                       "thing4": comment or "请在小程序中查看详情"},
            "dedupe_key": f"leave:{leave['_id']}:decision"}


def trainee_of_decision(leave, comment=None):
    outbox.enqueue(**decision_message(leave, comment))


def _supervisor_user_ids(class_id):
    return [a["user_id"] for a in staff_accounts.supervisors_of(class_id) if a.get("active") and a.get("user_id")]


def change_messages(leave):
    """报备: the messages telling the class's supervisors of an approved, cancelled or returned leave."""
    return [{"user_id": user_id, "template": "class_notice", "page": f"pages/leave/detail?id={leave['_id']}",
             "values": {"thing1": f"{leave['trainee_name']}请假{_STATE_WORDS[leave['state']]}", "time2": _range(leave),
                        "thing3": leave["class_name"]},
             "dedupe_key": f"leave:{leave['_id']}:class:{leave['state']}:{user_id}"}
            for user_id in _supervisor_user_ids(leave["class_id"])]


def class_of_change(leave):
    for message in change_messages(leave):
        outbox.enqueue(**message)


def staff_of_pending(leave, staff_user_ids):
    for user_id in staff_user_ids:
        outbox.enqueue(
            user_id=user_id, template="leave_pending", page=f"pages/leave/review?id={leave['_id']}",
            values={"thing1": f"{leave['trainee_name']}的请假待审批", "time2": _range(leave),
                    "thing3": leave["class_name"]},
            dedupe_key=f"leave:{leave['_id']}:reminder:{user_id}")
