"""Short-lived signed links to the projector page (opened by a supervisor from the mini-program)."""

import datetime as dt

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from service.core.errors import Unauthorized

_SALT = "lingjun-projector-link"


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def make_link(*, session_id, user_id):
    token = _serializer().dumps({"s": str(session_id), "u": str(user_id)})
    hours = current_app.config["PROJECTOR_LINK_HOURS"]
    expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=hours)
    return f"/console/sessions/{session_id}/checkin?t={token}", expires


def read_link(token, session_id):
    """The user id the link was made for; 401 when forged, expired or for another session."""
    try:
        data = _serializer().loads(token or "", max_age=current_app.config["PROJECTOR_LINK_HOURS"] * 3600)
    except SignatureExpired:
        raise Unauthorized("PROJECTOR_LINK_EXPIRED", "投屏链接已过期，请在小程序中重新打开") from None
    except BadSignature:
        raise Unauthorized("PROJECTOR_LINK_INVALID", "投屏链接无效") from None
    if data.get("s") != str(session_id):
        raise Unauthorized("PROJECTOR_LINK_INVALID", "投屏链接无效")
    return data["u"]
