"""Queue subscribe messages and send the due ones through the WeChat gateway."""

import datetime as dt
import logging

from flask import current_app
from pymongo.errors import DuplicateKeyError

from service.core.db import utcnow
from service.core.wechat import WeChatError, get_gateway
from service.outbox import repository
from service.users import repository as users

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = dt.timedelta(minutes=2)


def enqueue(*, user_id, template, data, page=None, dedupe_key=None):
    """Queue a subscribe message for a user; `dedupe_key` makes the enqueue idempotent."""
    template_id = current_app.config["WECHAT_TEMPLATES"].get(template, template)
    doc = {"user_id": user_id, "template": template, "template_id": template_id, "data": data, "page": page,
           "status": "pending", "attempts": 0, "next_attempt_at": utcnow(), "created_at": utcnow(),
           "dedupe_key": dedupe_key}
    try:
        return repository.insert(doc)
    except DuplicateKeyError:
        return None


def _backoff(attempts):
    return dt.timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def dispatch_due(*, limit=100):
    """Send up to `limit` due messages; returns counts by outcome."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    gateway = get_gateway()
    for _ in range(limit):
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
            # 43101: the user did not subscribe; retrying will not help.
            final = exc.errcode == 43101 or message["attempts"] >= MAX_ATTEMPTS
            repository.mark(message["_id"], status="failed" if final else "pending",
                            last_error=f"{exc.errcode} {exc.errmsg}",
                            next_attempt_at=utcnow() + _backoff(message["attempts"]))
            counts["failed" if final else "retry"] += 1
            continue
        repository.mark(message["_id"], status="sent", sent_at=utcnow())
        counts["sent"] += 1
    return counts
