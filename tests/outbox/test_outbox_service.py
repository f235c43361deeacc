"""Outbox: messages go out through the fake WeChat; failures retry and never undo anything."""

import datetime as dt

from service.outbox import service as outbox
from service.outbox.repository import OUTBOX
from service.users import repository as users


VALUES = {"thing1": "第一期 专精特新发展专题班", "phrase2": "已推荐", "thing3": "请在小程序中查看详情"}


def _user(person):
    return users.upsert_by_openid(openid=f"oFAKE-{person}")


def test_dispatch_sends_due_messages(ctx, db, fake_wechat):
    user = _user("msg-ok")
    outbox.enqueue(user_id=user["_id"], template="registration_decision", values={"thing1": "x", "phrase2": "已推荐"})
    assert outbox.dispatch_due() == {"sent": 1, "retry": 0, "failed": 0}
    sent = fake_wechat.messages[-1]
    assert sent["touser"] == "oFAKE-msg-ok"
    assert sent["template_id"] == "TPL_REGISTRATION_DECISION"
    assert db[OUTBOX].find_one()["status"] == "sent"
    assert outbox.dispatch_due() == {"sent": 0, "retry": 0, "failed": 0}


def test_busy_wechat_is_retried_later(ctx, db):
    user = _user("msg-busy")
    outbox.enqueue(user_id=user["_id"], template="registration_decision", values=VALUES)
    assert outbox.dispatch_due() == {"sent": 0, "retry": 1, "failed": 0}
    message = db[OUTBOX].find_one()
    assert message["status"] == "pending" and message["attempts"] == 1
    assert message["next_attempt_at"] > dt.datetime.now(dt.timezone.utc)
    assert outbox.dispatch_due() == {"sent": 0, "retry": 0, "failed": 0}  # not due yet


def test_refused_subscription_is_final(ctx, db):
    user = _user("msg-refuse")
    outbox.enqueue(user_id=user["_id"], template="registration_decision", values=VALUES)
    assert outbox.dispatch_due() == {"sent": 0, "retry": 0, "failed": 1}
    assert db[OUTBOX].find_one()["last_error"].startswith("43101")


def test_dedupe_key_makes_enqueue_idempotent(ctx, db):
    user = _user("msg-dedupe")
    for _ in range(3):
        outbox.enqueue(user_id=user["_id"], template="registration_decision", values=VALUES, dedupe_key="k1")
    assert db[OUTBOX].count_documents({}) == 1


def test_a_failing_send_does_not_undo_the_decision(client, db, app):
    """Registration decisions succeed even when WeChat refuses the notification."""
    from tests.conftest import bearer
    from tests.factories import create_class, create_programme, profile_body
    from service.staff import service as staff_service

    with app.app_context():
        _, code = staff_service.create(name="admin", role="admin")
    admin = client.post("/api/v1/auth/wx-login", json={"code": "outbox-admin.1"}).json["token"]
    client.post("/api/v1/auth/bind", json={"binding_code": code}, headers=bearer(admin))
    programme = create_programme(client, admin)
    klass = create_class(client, admin, programme["id"], publish=True)
    trainee = client.post("/api/v1/auth/wx-login", json={"code": "trainee-busy.1"}).json["token"]
    client.put("/api/v1/trainee/profile", json=profile_body(serial=90), headers=bearer(trainee))
    rid = client.post("/api/v1/registrations", json={"class_id": klass["id"]}, headers=bearer(trainee)).json["id"]
    client.post(f"/api/v1/registrations/{rid}/submit", headers=bearer(trainee))
    decided = client.post(f"/api/v1/registrations/{rid}/decision", json={"action": "recommend"},
                          headers=bearer(admin))
    assert decided.status_code == 200
    with app.app_context():
        assert outbox.dispatch_due()["retry"] == 1
    assert db["registrations"].find_one()["state"] == "recommended"


def test_worker_round(app, db):
    from service.worker import run_once

    with app.app_context():
        user = _user("msg-worker")
        outbox.enqueue(user_id=user["_id"], template="class_notice", values=VALUES)
    assert run_once(app)["outbox"]["sent"] == 1
