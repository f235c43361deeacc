"""Rotating signed check-in codes.

Class code (shown on the projector, scanned by trainees), at most 32 characters so it also
fits the `scene` of a WeChat mini-program code:
    "C" + base64url(session ObjectId, 16) + base36(time step, 6) + base64url(HMAC[:6], 8)  = 31
Personal code (shown by a trainee, scanned by the supervisor), bound to the registration:
    "P" + base64url(registration ObjectId, 16) + base36(time step, 6) + base64url(HMAC[:6], 8)

The HMAC key is derived from SECRET_KEY; the step is unix time // period. A code is accepted
for its own step and `grace` steps after it, so one shown just before rotation still works.
"""

import base64
import functools
import hashlib
import hmac
import time
from urllib.parse import unquote

from bson import ObjectId
from flask import current_app

CLASS, PERSONAL = "C", "P"
_STEP_WIDTH = 6


class CodeError(Exception):
    """reason: 'invalid' (malformed or forged) or 'expired'. An expired code was genuine:
    `object_id` is what it was issued for and `expired_at` (unix time) when it stopped being accepted."""

    def __init__(self, reason, object_id=None, expired_at=None):
        super().__init__(reason)
        self.reason, self.object_id, self.expired_at = reason, object_id, expired_at


def _key(kind):
    return _derived_key(current_app.config["SECRET_KEY"], kind)


@functools.lru_cache(maxsize=16)
def _derived_key(secret_key, kind):
    return hmac.new(secret_key.encode(), f"lingjun-checkin-{kind}".encode(), hashlib.sha256).digest()


def _b36(number):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rem = divmod(number, 36)
        out = digits[rem] + out
    return out.rjust(_STEP_WIDTH, "0")


def _mac(kind, object_id, step):
    digest = hmac.new(_key(kind), f"{object_id}:{step}".encode(), hashlib.sha256).digest()[:6]
    return base64.urlsafe_b64encode(digest).decode()


def _period(kind):
    cfg = current_app.config
    return cfg["CHECKIN_CODE_SECONDS"] if kind == CLASS else cfg["PERSONAL_CODE_SECONDS"]


def current_step(kind, now=None):
    return int((now if now is not None else time.time()) // _period(kind))


def issue(kind, object_id, now=None):
    """The code for `object_id` right now, and the unix time it stops being shown."""
    step = current_step(kind, now)
    oid = base64.urlsafe_b64encode(ObjectId(object_id).binary).decode()
    code = f"{kind}{oid}{_b36(step)}{_mac(kind, ObjectId(object_id), step)}"
    return code, (step + 1) * _period(kind)


def class_code_url(code):
    """The class code as shown on the projector and in the QR images: an https URL under
    CHECKIN_URL_PREFIX (registered in the mini-program's admin, 扫普通链接二维码打开小程序), so
    WeChat's own scanner opens the check-in page with it (as `q`)."""
    return current_app.config["CHECKIN_URL_PREFIX"] + code


def from_scan(scanned):
    """The bare code of what was scanned: the code itself, its URL, or the URL still
    percent-encoded as WeChat hands it over in `q`. Anything else comes back unchanged (and then
    fails verification as invalid). String operations only: this runs on every check-in."""
    scanned = scanned.strip()  # scanners and pasted text add spaces or a line break around it
    if scanned[:8] == "https%3A" or scanned[:8] == "https%3a":
        scanned = unquote(scanned)
    prefix = current_app.config["CHECKIN_URL_PREFIX"]
    if scanned.startswith(prefix):
        return scanned[len(prefix):]
    return scanned


def verify(kind, code, now=None):
    """Return the ObjectId a valid, unexpired code was issued for; raise CodeError otherwise."""
    if not isinstance(code, str) or len(code) != 1 + 16 + _STEP_WIDTH + 8 or code[0] != kind:
        raise CodeError("invalid")
    try:
        object_id = ObjectId(base64.urlsafe_b64decode(code[1:17]))
        step = int(code[17:17 + _STEP_WIDTH], 36)
    except (ValueError, TypeError):
        raise CodeError("invalid") from None
    # Bytes: compare_digest raises TypeError on a str with non-ASCII characters (a scanned code
    # is whatever the camera read).
    if not hmac.compare_digest(code[17 + _STEP_WIDTH:].encode(), _mac(kind, object_id, step).encode()):
        raise CodeError("invalid")
    current = current_step(kind, now)
    if step > current + 1:  # issued in the future: clocks never drift that far
        raise CodeError("invalid")
    grace = current_app.config["CHECKIN_CODE_GRACE_STEPS"] if kind == CLASS else 1
    if current - step > grace:
        raise CodeError("expired", object_id, (step + 1 + grace) * _period(kind))
    return object_id
