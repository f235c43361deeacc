"""Console login: one-time requests (2 minutes), confirmation by staff, console sessions.

A session is a random secret in an HttpOnly cookie; MongoDB holds only its hash, the user id,
a CSRF token and the idle expiry. Every request through a session resolves the user's staff
accounts afresh (service.auth.service.identity_for_user), so a deactivated account or a removed
role ends the console for every process at once, and the console gets exactly the identity the
bearer-token path would give the same person: the API's rules apply unchanged.
"""

import contextlib
import datetime as dt
import hashlib
import hmac
import re
import secrets

from flask import current_app
from pymongo.errors import PyMongoError

from service.attendance import qr
from service.auth.service import identity_for_user
from service.console_login import repository
from service.core.auth import STAFF_ROLES
from service.core.db import utcnow
from service.core.errors import Forbidden, NotFound, RuleViolation, Unauthorized

QR_PREFIX = "lingjun-console-login:"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Writing last_seen_at on every request would double the console's writes for nothing: the
# idle expiry is 8 hours, a minute of slack is invisible.
_TOUCH_EVERY = dt.timedelta(seconds=60)


# 128 random bits from `secrets`, as 32 hex characters: an id cannot be guessed from another one
# (an ObjectId is a per-process prefix and a counter: staff could confirm a neighbour's request).
_ID_BYTES = 16
_ID_PATTERN = re.compile(r"[0-9a-f]{32}")


def new_login_id():
    return secrets.token_hex(_ID_BYTES)


def parse_login_id(value):
    """The request id from a URL; CONSOLE_LOGIN_NOT_FOUND for anything that cannot be one."""
    if not isinstance(value, str) or not _ID_PATTERN.fullmatch(value):
        raise _not_found()
    return value


def _not_found():
    return NotFound("CONSOLE_LOGIN_NOT_FOUND", "登录请求不存在，请在电脑上刷新二维码")


def _hash(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def _idle():
    return dt.timedelta(hours=current_app.config["CONSOLE_IDLE_HOURS"])


def _staff_only():
    return Forbidden("CONSOLE_STAFF_ONLY", "仅工作人员（组织方、地区工作人员、班主任）可以登录管理后台")


def create(*, user_agent=""):
    """A new pending login request: {id, poll_secret, qr_text, qr_svg, expires_at}.

    The poll secret stays in the browser that asked: only it can turn the confirmation into a
    session (the id alone, which the QR shows to anyone in the room, is not enough)."""
    poll_secret = secrets.token_urlsafe(24)
    now = utcnow()
    doc = repository.insert_login({
        "_id": new_login_id(), "status": repository.PENDING, "poll_hash": _hash(poll_secret),
        # Shown beside the QR and on the phone before confirming: a QR passed on from elsewhere
        # (a chat, a fake page) has no desk screen showing the same digits.
        "check_code": f"{secrets.randbelow(10_000):04d}",
        "user_agent": (user_agent or "")[:200], "created_at": now,
        "expires_at": now + dt.timedelta(seconds=current_app.config["CONSOLE_LOGIN_SECONDS"])})
    text = f"{QR_PREFIX}{doc['_id']}"
    return {"id": doc["_id"], "poll_secret": poll_secret, "qr_text": text, "qr_svg": qr.svg(text),
            "check_code": doc["check_code"], "expires_at": doc["expires_at"], "status": doc["status"]}


def _get_or_raise(login_id):
    doc = repository.get_login(login_id)
    if doc is None:
        raise _not_found()
    return doc


def _status(doc):
    if doc["status"] != repository.USED and doc["expires_at"] <= utcnow():
        return "expired"
    return doc["status"]


def _refuse(doc):
    status = _status(doc)
    if status == "expired":
        raise RuleViolation("CONSOLE_LOGIN_EXPIRED", "登录二维码已过期，请在电脑上刷新后重新扫码", status=410)
    raise RuleViolation("CONSOLE_LOGIN_USED", "该登录二维码已使用，请在电脑上刷新后重新扫码", status=409)


def describe(*, login_id, identity):
    """What the mini-program shows before confirming: status, times, the browser, the check code.

    A request someone else confirmed is shown to nobody but that person (CONSOLE_LOGIN_USED): who
    logged in where, and from which browser, is not for other staff to read."""
    if not identity.has_any(STAFF_ROLES):
        raise _staff_only()
    doc = _get_or_raise(login_id)
    if doc["status"] != repository.PENDING and doc.get("user_id") != identity.user_id:
        _refuse(doc)
    return {"id": doc["_id"], "status": _status(doc), "created_at": doc["created_at"],
            "expires_at": doc["expires_at"], "user_agent": doc.get("user_agent", ""),
            "check_code": doc.get("check_code")}


def confirm(*, login_id, identity):
    """A staff member confirms the request shown on the desk's screen (once, before expiry)."""
    if not identity.has_any(STAFF_ROLES):
        raise _staff_only()
    doc = repository.confirm_login(login_id=login_id, user_id=identity.user_id)
    if doc is None:
        _refuse(_get_or_raise(login_id))
    return describe(login_id=login_id, identity=identity)


def exchange(*, login_id, poll_secret, user_agent=""):
    """The waiting console asks: (None, status) while pending, else (session secret, session).

    The confirmed request is consumed in one conditional update: a second exchange, a copied
    request id without the poll secret, or an expired request gets no session."""
    doc = _get_or_raise(login_id)
    if not hmac.compare_digest(doc["poll_hash"], _hash(poll_secret or "")):
        raise _not_found()
    if _status(doc) == repository.PENDING:
        return None, {"status": repository.PENDING, "expires_at": doc["expires_at"]}
    used = repository.use_login(login_id=login_id, poll_hash=doc["poll_hash"])
    if used is None:
        _refuse(_get_or_raise(login_id))
    identity = identity_for_user(used["user_id"])
    if not identity.has_any(STAFF_ROLES):  # deactivated between confirmation and now
        raise _staff_only()
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    try:
        session = repository.insert_session({
            "_id": _hash(secret), "user_id": used["user_id"], "csrf_token": secrets.token_urlsafe(24),
            "login_id": login_id, "user_agent": (user_agent or "")[:200],
            "created_at": now, "last_seen_at": now, "expires_at": now + _idle()})
    except PyMongoError:
        # No session was made: the request goes back to confirmed, so the console's next poll
        # (the same request again) gets its session instead of CONSOLE_LOGIN_USED.
        with contextlib.suppress(PyMongoError):  # the original failure is the answer
            repository.unuse_login(login_id=login_id, used_at=used["used_at"])
        raise
    return secret, session


def session_for(secret):
    """The live session for this cookie value (sliding its idle expiry), or None."""
    if not secret:
        return None
    session = repository.find_session(_hash(secret))
    if session is None:
        return None
    now = utcnow()
    if now - session["last_seen_at"] >= _TOUCH_EVERY:
        repository.touch_session(session_hash=session["_id"], last_seen_at=now, expires_at=now + _idle())
    return session


def console_user(secret):
    """(session, Identity) of a live console session held by a staff member, else None.
    A user no longer holding an active staff account loses the session here, at once."""
    session = session_for(secret)
    if session is None:
        return None
    identity = identity_for_user(session["user_id"])
    if not identity.has_any(STAFF_ROLES):
        repository.delete_session(session["_id"])
        return None
    return session, identity


def identity_for_session(*, secret, method, csrf_header):
    """The caller's Identity from a console session cookie, or raise.

    Unsafe methods must carry the session's CSRF token in X-CSRF-Token (the cookie is also
    SameSite=Strict: two locks)."""
    found = console_user(secret)
    if found is None:
        raise Unauthorized("CONSOLE_SESSION_ENDED", "登录已失效，请重新扫码登录")
    session, identity = found
    if method not in SAFE_METHODS and not hmac.compare_digest(
            (csrf_header or "").encode(), session["csrf_token"].encode()):
        raise Forbidden("CSRF_TOKEN_INVALID", "页面已过期，请刷新页面后重试")
    return identity


def logout(*, secret):
    """End this console session at once (every process reads the same collection)."""
    if secret:
        repository.delete_session(_hash(secret))


COOKIE_NAME = "lingjun_console"


def resolve_request():
    """Fallback resolver for core.auth: the console session cookie of a request without a bearer
    token; None when the request carries no such cookie."""
    from flask import request

    secret = request.cookies.get(COOKIE_NAME)
    if secret is None:
        return None
    return identity_for_session(secret=secret, method=request.method,
                                csrf_header=request.headers.get("X-CSRF-Token"))
