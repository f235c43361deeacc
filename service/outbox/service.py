"""Queue subscribe messages and send the due ones through the WeChat gateway."""

import contextlib
import datetime as dt
import logging
import uuid

from flask import current_app
from pymongo.errors import DuplicateKeyError, PyMongoError

from service.core import subscribe
from service.core.db import utcnow
from service.core.wechat import WeChatError, get_gateway
from service.outbox import repository
from service.users import repository as users

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
HOLD = dt.timedelta(seconds=60)  # a held message goes out by itself after this (see enqueue)
LEASE = dt.timedelta(minutes=2)

# WeChat errors that no retry can cure: the message ends at once, with its reason.
PERMANENT_ERRORS = {
    43101: "用户未订阅或已拒收该消息",
    47003: "模板参数不符合微信规则",
    40003: "接收者 openid 不正确",
    40037: "模板 ID 不正确",
    41030: "跳转页面路径不正确",
}


def enqueue(*, user_id, template, values=None, data=None, page=None, dedupe_key=None, held=False):
    """Queue a subscribe message for a user; `dedupe_key` makes the enqueue idempotent.

    held: the message is written *before* the change it announces and waits (HOLD) until
    `release`; if the change fails, `discard` takes it back (use `announced`, which does both). So a change
    and its message are made both or neither, without a transaction (issue 14 §3). A release
    that fails costs only the wait.

    values: {key: plain value} built to WeChat's rules by core.subscribe (text, datetimes,
    (start, end) pairs...); `data` ({key: {"value": v}}) is accepted and rebuilt the same way.
    A value that cannot fit its key type is not sent: the message is stored as failed with the
    reason, and the decision that caused it goes on.
    """
    template_id = current_app.config["WECHAT_TEMPLATES"].get(template, template)
    raw = dict(values or {})
    raw.update({key: item.get("value") if isinstance(item, dict) else item for key, item in (data or {}).items()})
    status, failure = "pending", None
    try:
        built = subscribe.build(raw)
        if not built:
            raise subscribe.MessageValueError("data", "empty")
    except subscribe.MessageValueError as exc:
        # The key names the fault; the value (personal text) stays out of the log.
        log.error("subscribe message %s not queued: %s %s", template, exc.key, exc.reason)
        built, status, failure = {}, "failed", f"{exc.key}: {exc.reason}"
    doc = {"user_id": user_id, "template": template, "template_id": template_id, "data": built, "page": page,
           "status": status, "attempts": 0, "next_attempt_at": utcnow() + (HOLD if held else dt.timedelta(0)),
           "created_at": utcnow(), "dedupe_key": dedupe_key}
    if failure:
        doc.update(last_error=failure, failure_reason="消息内容不符合微信规则，未发送")
    try:
        return repository.insert(doc)
    except DuplicateKeyError:
        return None


def announced(commit, messages, *, after=None):
    """Run `commit()` (the one write that makes a change) with the `messages` announcing it
    ([enqueue keyword arguments, each with a `dedupe_key`]) queued held before it, released once
    it is made, taken back if it fails: the change and its messages are made both or neither.
    `after(result)` runs once the change is made (steps that follow from it); if it fails, the
    messages still go out and the error is the answer: those steps must be idempotent, so that
    the request can be sent again to finish them. Returns commit()'s result."""
    # Each request holds its messages under keys of its own: of two requests racing to make the
    # same change, the loser takes back only its own, and the winner's get their real key on release.
    attempt = uuid.uuid4().hex
    queued = []
    try:
        for message in messages:
            held_key = f"{message['dedupe_key']}#held:{attempt}"
            enqueue(**{**message, "dedupe_key": held_key}, held=True)
            queued.append((held_key, message["dedupe_key"]))
        result = commit()
    except Exception:
        for held_key, _ in queued:
            with contextlib.suppress(PyMongoError):  # the original failure is the answer
                discard(held_key)
        raise
    for held_key, key in queued:
        release(held_key, key)
    if after is not None:
        after(result)
    return result


def release(held_key, dedupe_key):
    """The change a held message announces is made: send it now, under its real `dedupe_key` (if a
    message with that key exists already, the held one is dropped). Best effort: if the database
    fails here the message still goes out when its hold ends."""
    try:
        try:
            repository.release_held(held_key, now=utcnow(), dedupe_key=dedupe_key)
        except DuplicateKeyError:
            repository.delete_held(held_key, now=utcnow())
    except PyMongoError as exc:
        log.warning("held message not released (it goes out after its hold): %s", type(exc).__name__)


def discard(dedupe_key):
    """The change a held message announces failed: take the message back (it was never sent)."""
    repository.delete_held(dedupe_key, now=utcnow())


def _backoff(attempts):
    return dt.timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def dispatch_due(*, limit=100, stop=None):
    """Send up to `limit` due messages, or until `stop` (a threading.Event) is set: a stopping
    service sends no further message, the rest stay queued. Returns counts by outcome."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    gateway = get_gateway()
    for _ in range(limit):
        if stop is not None and stop.is_set():
            break
        message = repository.claim_due(lease_until=utcnow() + LEASE)
        if message is None:
            break
        user = users.get(message["user_id"])
        if not user or not user.get("openid"):
            repository.mark(message["_id"], status="failed", last_error="user has no openid")
            counts["failed"] += 1
            continue
        try:
            gateway.send_subscribe_message(user["openid"], message["template_id"], message["data"],
                                           page=message.get("page"))
        except WeChatError as exc:
            permanent = PERMANENT_ERRORS.get(exc.errcode)
            final = permanent is not None or message["attempts"] >= MAX_ATTEMPTS
            fields = {"status": "failed" if final else "pending", "last_error": f"{exc.errcode} {exc.errmsg}",
                      "next_attempt_at": utcnow() + _backoff(message["attempts"])}
            if final:
                fields["failure_reason"] = permanent or f"重试 {MAX_ATTEMPTS} 次仍未发送成功"
            repository.mark(message["_id"], **fields)
            counts["failed" if final else "retry"] += 1
            continue
        repository.mark(message["_id"], status="sent", sent_at=utcnow())
        counts["sent"] += 1
    return counts
