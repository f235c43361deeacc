"""Permanent WeChat errors end a message at once with its reason; transient ones retry with backoff."""

import datetime as dt

import pytest

from service.outbox import service as outbox
from service.outbox.repository import OUTBOX
from service.users import repository as users

VALUES = {"thing1": "第一期 专精特新发展专题班", "phrase2": "已批准",
          "time3": (dt.datetime(2026, 12, 2, 0, 30, tzinfo=dt.timezone.utc),
                    dt.datetime(2026, 12, 2, 4, 0, tzinfo=dt.timezone.utc)),
          "thing4": "请在小程序中查看详情"}


def _user(openid):
    return users.upsert_by_openid(openid=openid)


def test_a_well_built_message_is_accepted_by_the_fake_that_checks_wechat_rules(ctx, db, fake_wechat):
    user = _user("oFAKE-rules-ok")
    outbox.enqueue(user_id=user["_id"], template="leave_decision", values=VALUES)
    assert outbox.dispatch_due() == {"sent": 1, "retry": 0, "failed": 0}
    assert fake_wechat.messages[-1]["data"]["time3"] == {"value": "2026年12月2日 08:30~12:00"}


def test_stored_values_wechat_refuses_end_at_once_with_47003(ctx, db, fake_wechat):
    # Rows queued before the builder: a time cut mid-value and a phrase with punctuation.
    user = _user("oFAKE-rules-old")
    db[OUTBOX].insert_one({
        "user_id": user["_id"], "template": "leave_decision", "template_id": "TPL_LEAVE_DECISION",
        "data": {"thing1": {"value": "第一期"}, "phrase2": {"value": "已录取，待"},
                 "time3": {"value": "12-02 08:30至12-02 12"}},
        "page": None, "status": "pending", "attempts": 0, "created_at": dt.datetime.now(dt.timezone.utc),
        "next_attempt_at": dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)})
    assert outbox.dispatch_due() == {"sent": 0, "retry": 0, "failed": 1}
    message = db[OUTBOX].find_one()
    assert message["status"] == "failed" and message["attempts"] == 1
    assert message["last_error"].startswith("47003")
    assert message["failure_reason"] == "模板参数不符合微信规则"
    assert set(fake_wechat.refused_messages[-1]["faults"]) == {"phrase2", "time3"}


@pytest.mark.parametrize("openid, template, page, errcode, reason", [
    ("oFAKE-perm-refuse", "leave_decision", None, 43101, "用户未订阅或已拒收该消息"),
    ("not-an-openid", "leave_decision", None, 40003, "接收者 openid 不正确"),
    ("oFAKE-perm-tpl", "", None, 40037, "模板 ID 不正确"),
    ("oFAKE-perm-page", "leave_decision", "pages/leave detail?id=1", 41030, "跳转页面路径不正确"),
])
def test_permanent_errors_end_the_message_at_once(ctx, db, openid, template, page, errcode, reason):
    user = _user(openid)
    outbox.enqueue(user_id=user["_id"], template=template, values=VALUES, page=page)
    assert outbox.dispatch_due() == {"sent": 0, "retry": 0, "failed": 1}
    message = db[OUTBOX].find_one()
    assert message["attempts"] == 1 and message["last_error"].startswith(str(errcode))
    assert message["failure_reason"] == reason


def test_transient_errors_retry_with_growing_backoff_then_give_up(ctx, db):
    user = _user("oFAKE-transient-busy")
    outbox.enqueue(user_id=user["_id"], template="leave_decision", values=VALUES)
    delays = []
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        db[OUTBOX].update_one({}, {"$set": {"next_attempt_at": dt.datetime.now(dt.timezone.utc)}})
        before = dt.datetime.now(dt.timezone.utc)
        counts = outbox.dispatch_due()
        message = db[OUTBOX].find_one()
        if attempt < outbox.MAX_ATTEMPTS:
            assert counts == {"sent": 0, "retry": 1, "failed": 0}
            delays.append((message["next_attempt_at"] - before).total_seconds())
    assert counts == {"sent": 0, "retry": 0, "failed": 1}
    assert message["failure_reason"] == f"重试 {outbox.MAX_ATTEMPTS} 次仍未发送成功"
    assert delays == sorted(delays) and delays[0] < 60 < delays[-1]


def test_a_value_that_cannot_fit_is_not_sent_and_does_not_raise(ctx, db, fake_wechat, caplog):
    user = _user("oFAKE-unfit")
    outbox.enqueue(user_id=user["_id"], template="registration_decision",
                   values={"thing1": "第一期", "phrase2": "已录取，待确认参训"})
    message = db[OUTBOX].find_one()
    assert message["status"] == "failed" and message["last_error"].startswith("phrase2")
    assert "已录取" not in caplog.text  # the value is not logged
    sent_before = len(fake_wechat.messages)
    assert outbox.dispatch_due() == {"sent": 0, "retry": 0, "failed": 0}
    assert len(fake_wechat.messages) == sent_before
