"""WeChat gateway: every call to WeChat goes through wechatpy, against WECHAT_API_BASE.

The real WeChat and the fake one (service/core/fake_wechat.py) speak the same HTTP,
so tests and the demo exercise this exact path.
"""

import datetime as dt
import logging

import requests
from flask import current_app
from pymongo import IndexModel
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from service.core.db import collection, declare_indexes, utcnow

log = logging.getLogger(__name__)

ACCESS_TOKENS = "wechat_access_tokens"
declare_indexes(ACCESS_TOKENS, IndexModel("expires_at", expireAfterSeconds=0))

# WeChat error codes we act on.
SYSTEM_BUSY = -1
INVALID_CODE = 40029
CODE_USED = 40163
RATE_LIMITED = 45011

# Refresh the shared access token this long before WeChat would expire it.
TOKEN_SAFETY_MARGIN = dt.timedelta(minutes=5)


class WeChatError(Exception):
    """WeChat answered with an error code (or could not be reached: errcode None)."""

    def __init__(self, errcode, errmsg=""):
        super().__init__(f"wechat error {errcode}")
        self.errcode = errcode
        self.errmsg = errmsg

    @property
    def unavailable(self):
        """Unreachable, busy or rate limited: worth retrying later."""
        return self.errcode in (None, SYSTEM_BUSY, RATE_LIMITED)


class MongoSessionStorage(SessionStorage):
    """wechatpy session storage in MongoDB so all worker processes share one access token."""

    def get(self, key, default=None):
        doc = collection(ACCESS_TOKENS).find_one({"_id": key, "expires_at": {"$gt": utcnow()}})
        return doc["value"] if doc else default

    def set(self, key, value, ttl=None):
        ttl = dt.timedelta(seconds=ttl or 7200) - TOKEN_SAFETY_MARGIN
        collection(ACCESS_TOKENS).replace_one(
            {"_id": key}, {"_id": key, "value": value, "expires_at": utcnow() + ttl}, upsert=True)

    def delete(self, key):
        collection(ACCESS_TOKENS).delete_one({"_id": key})


class _Client(WeChatClient):
    """wechatpy's client pointed at a configurable API base (the fake in tests and the demo)."""

    def __init__(self, api_base, appid, secret, timeout):
        self.API_BASE_URL = api_base + "cgi-bin/"
        super().__init__(appid, secret, session=MongoSessionStorage(), timeout=timeout)
        self.api_base = api_base
        self.wxa.API_BASE_URL = api_base

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=self.api_base + "cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


class WeChatGateway:
    """The four WeChat capabilities the service uses."""

    def __init__(self, api_base, appid, secret, timeout=5):
        self.api_base = api_base
        self.appid = appid
        self.secret = secret
        self.timeout = timeout

    def _client(self):
        return _Client(self.api_base, self.appid, self.secret, self.timeout)

    def _call(self, fn):
        try:
            return fn(self._client())
        except WeChatClientException as exc:
            raise WeChatError(exc.errcode, exc.errmsg) from None
        except requests.RequestException:
            log.warning("wechat unreachable at %s", self.api_base)
            raise WeChatError(None, "unreachable") from None

    def code_to_session(self, code):
        """jscode2session: {openid, session_key, unionid?}."""
        # jscode2session takes appid+secret, not an access token; passing access_token=None
        # stops wechatpy from fetching one first (requests drops None parameters).
        return self._call(lambda c: c.get(
            "sns/jscode2session", api_base_url=self.api_base,
            params={"appid": self.appid, "secret": self.secret, "js_code": code,
                    "grant_type": "authorization_code", "access_token": None}))

    def get_phone_number(self, code):
        """getPhoneNumber code -> phone_info (the code flow, not the old encrypted data)."""
        result = self._call(lambda c: c.post(
            "wxa/business/getuserphonenumber", api_base_url=self.api_base, data={"code": code}))
        return result["phone_info"]

    def send_subscribe_message(self, openid, template_id, data, page=None):
        return self._call(lambda c: c.wxa.send_subscribe_message(openid, template_id, data, page=page))

    def get_unlimited_code(self, scene, page=None, width=430):
        """Mini-program code (wxacode.getUnlimited) as PNG bytes."""
        def call(c):
            res = c.wxa.get_wxa_code_unlimited(scene, width=width, page=page)
            if isinstance(res, dict):  # wechatpy returns the dict when WeChat answered JSON
                raise WeChatError(res.get("errcode"), res.get("errmsg", ""))
            return res.content
        return self._call(call)


def get_gateway():
    cfg = current_app.config
    return WeChatGateway(cfg["WECHAT_API_BASE"], cfg["WECHAT_APPID"], cfg["WECHAT_SECRET"],
                         cfg["WECHAT_TIMEOUT_SECONDS"])
