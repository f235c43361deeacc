"""Login (wx-login), logout, bearer-token resolution and staff binding."""

import datetime as dt
import hmac
import logging

from flask import current_app

from service.auth import repository as tokens
from service.auth import signed
from service.core import identity_cache
from service.core.auth import TRAINEE, Identity, hash_token
from service.core.errors import RuleViolation, ServiceUnavailable, Unauthorized
from service.core.db import utcnow
from service.core.wechat import CODE_USED, INVALID_CODE, RATE_LIMITED, WeChatError, get_gateway
from service.staff import repository as staff_accounts
from service.users import repository as users

log = logging.getLogger(__name__)


def _wechat_login_error(exc):
    if exc.errcode == INVALID_CODE:
        return RuleViolation("WX_CODE_INVALID", "登录凭证无效，请重新打开小程序", status=400)
    if exc.errcode == CODE_USED:
        return RuleViolation("WX_CODE_USED", "登录凭证已使用，请重新登录", status=400)
    if exc.errcode == RATE_LIMITED:
        return ServiceUnavailable("WECHAT_RATE_LIMITED", "微信登录繁忙，请稍后重试")
    if exc.unavailable:
        return ServiceUnavailable("WECHAT_UNAVAILABLE", "暂时无法连接微信，请稍后重试")
    log.warning("wechat login refused with errcode %s", exc.errcode)
    return RuleViolation("WX_LOGIN_FAILED", "微信登录失败，请重新打开小程序", status=400)


def wx_login(*, code):
    """Exchange a wx.login() code for a bearer token; create the user on first login.

    Idempotent for LOGIN_RETRY_SECONDS: a code WeChat accepted here is remembered (an HMAC digest of
    it, with the openid), so the same code sent again, a phone retrying after a dropped answer,
    gets a new token of the same account instead of WX_CODE_USED (which would also count as a
    failed login against the whole classroom's address)."""
    digest = _code_digest(code)
    try:
        session = get_gateway().code_to_session(code)
    except WeChatError as exc:
        remembered = tokens.remembered_code(digest) if exc.errcode == CODE_USED else None
        if remembered is None:
            raise _wechat_login_error(exc) from None
        session = {"openid": remembered["openid"], "unionid": remembered.get("unionid"), "retried": True}
    else:
        if not session.get("openid"):
            raise ServiceUnavailable("WECHAT_UNAVAILABLE", "暂时无法连接微信，请稍后重试")
        # Remembered before anything else is written: a retry after a failure further on still works.
        tokens.remember_code(code_digest=digest, openid=session["openid"], unionid=session.get("unionid"),
                             expires_at=utcnow() + dt.timedelta(seconds=current_app.config["LOGIN_RETRY_SECONDS"]))
    user = users.upsert_by_openid(openid=session["openid"], unionid=session.get("unionid"))
    if not session.get("retried"):  # the session_key of the first exchange stands
        users.store_session_key(user_id=user["_id"], session_key=session.get("session_key", ""))
    token = _issue_token(user_id=user["_id"], staff=bool(staff_accounts.active_for_user(user["_id"])))
    return {**token, "user": profile(user_id=user["_id"])}


def _code_digest(code):
    return hmac.new(current_app.config["SECRET_KEY"].encode(), f"wx-login:{code}".encode(), "sha256").hexdigest()


def _issue_token(*, user_id, staff):
    # Whole seconds: the expiry written in the token and the stored one are the same instant.
    expires_at = (utcnow() + dt.timedelta(hours=current_app.config["TOKEN_TTL_HOURS"])).replace(microsecond=0)
    token = signed.issue(user_id=user_id, expires_at=expires_at, staff=staff)
    tokens.insert(token_hash=hash_token(token), user_id=user_id, expires_at=expires_at, staff=staff)
    return {"token": token, "token_type": "Bearer", "expires_at": expires_at}


def logout(*, token_hash):
    """Revoke the caller's token."""
    expires_at = tokens.revoke(token_hash)
    if expires_at is not None:
        signed.note_changed({token_hash: expires_at})
    identity_cache.forget(token_hash)


def identity_for_token(*, token, token_hash):
    """Resolve a bearer token to an Identity, or raise 401.

    A trainee token is checked on its signature (no database read, the check-in path); a staff
    token, or any token changed since issue, reads its token and staff accounts on every request
    and is never cached, so a deactivation, unbinding or logout made through any process refuses it
    on the very next request everywhere (staff tokens are few, their requests rare)."""
    trainee = signed.trainee_user(token)
    if trainee is not None and not signed.has_changed(token_hash):
        return Identity(user_id=trainee[0], roles=frozenset({TRAINEE}))
    cached = identity_cache.get(token_hash)
    if cached is not None:
        return cached
    stored = tokens.find_valid(token_hash)
    if stored is None:
        raise Unauthorized("TOKEN_INVALID", "登录已过期，请重新登录")
    if stored.get("staff") is not False:
        return identity_for_user(stored["user_id"])
    identity = Identity(user_id=stored["user_id"], roles=frozenset({TRAINEE}))
    identity_cache.put(token_hash, expires_at=stored["expires_at"], identity=identity)
    return identity


def identity_for_user(user_id):
    roles, regions, classes = {TRAINEE}, set(), set()
    for account in staff_accounts.active_for_user(user_id):
        roles.add(account["role"])
        if account.get("region_code"):
            regions.add(account["region_code"])
        classes.update(account.get("class_ids") or ())
    return Identity(user_id=user_id, roles=frozenset(roles), region_codes=frozenset(regions),
                    class_ids=frozenset(classes))


def profile(*, user_id):
    """What /me shows: the user, their roles and scopes (never the session_key)."""
    user = users.get(user_id)
    identity = identity_for_user(user_id)
    return {
        "id": user["_id"],
        "roles": sorted(identity.roles),
        "region_codes": sorted(identity.region_codes),
        "class_ids": sorted(identity.class_ids),
        # A staff member is known by the name on their staff account once bound to it.
        "name": staff_accounts.name_of_user(user_id) or user.get("name"),
        "has_unionid": bool(user.get("unionid")),
        "created_at": user["created_at"],
    }


def binding_code_hash(code):
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, code.strip().upper().encode(), "sha256").hexdigest()


def bind(*, user_id, binding_code):
    """Bind the caller's WeChat identity to the staff account holding this one-time code.

    Returns the profile and a new staff token: every process reads a staff token's roles from the
    database, so the new token carries the staff roles everywhere at once (the mini-program
    replaces its token with it; the old one turns staff only as other processes learn of it)."""
    code_hash = binding_code_hash(binding_code)
    account = staff_accounts.claim_binding(code_hash=code_hash, user_id=user_id)
    if account is None:
        # The same person sending the same code again after the database failed between binding
        # and issuing the token: finish it. Anyone else, or an unknown code, is refused.
        account = staff_accounts.bound_by_code(code_hash=code_hash, user_id=user_id)
    if account is None:
        raise RuleViolation("BINDING_CODE_INVALID", "绑定码无效、已使用或已过期，请向管理员重新获取",
                            status=400)
    return {**profile(user_id=user_id), **_issue_token(user_id=user_id, staff=True)}
