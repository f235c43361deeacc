"""A small fake WeChat HTTP server for tests and the offline demo.

It answers the endpoints the service calls the way WeChat does, errors included.
Login codes (see README "Fake WeChat"):
  "<person>" or "<person>.<anything>"  -> openid "oFAKE-<person>", unionid "uFAKE-<person>"
                                           (no unionid when <person> starts with "nounion")
  a code already used                   -> 40163 code been used
  "invalid..."                          -> 40029 invalid code
  "ratelimit..."                        -> 45011 rate limited
  "busy..."                             -> -1 system busy
  "riskyuser..."                        -> 40226 high-risk user blocked (any other refusal)
Phone codes: "phone-13912345678" -> that number; "phone-852-61234567" -> that number with country
code 852; "invalid..." -> 40029; other -> 13800138000.
Subscribe messages to an openid ending in "-refuse" -> 43101; ending in "-busy" -> -1; an openid not starting with "o" -> 40003;
no template id -> 40037; a page that is not a mini-program path -> 41030; a `data` value breaking its key
type's rule (core.subscribe.check, WeChat's rules) -> 47003 "argument invalid! data.<key>.value invalid".
"""

import io
import itertools
import re
import secrets
import threading

import qrcode
from flask import Flask, jsonify, request
from werkzeug.serving import WSGIRequestHandler, make_server

from service.core import subscribe

_PAGE = re.compile(r"^[A-Za-z0-9_\-/.]+(\?\S*)?$")

FAKE_APPID = "wxfake00000000000"
FAKE_SECRET = "fake-wechat-secret"


def _err(code, msg):
    return jsonify({"errcode": code, "errmsg": msg})


def _reserved_error(code):
    for prefix, (errcode, msg) in {
        "invalid": (40029, "invalid code"),
        "ratelimit": (45011, "api minute-quota reach limit  mustslower  retry next minute"),
        "busy": (-1, "system error"),
        "riskyuser": (40226, "risky user"),
    }.items():
        if code.startswith(prefix):
            return _err(errcode, msg)
    return None


class _QuietHandler(WSGIRequestHandler):
    # Request lines carry login codes and the app secret: keep them out of logs.
    def log_request(self, *args, **kwargs):
        pass


class FakeWeChat:
    """State of the fake plus the server thread; inspect `messages` etc. from tests."""

    def __init__(self, appid=FAKE_APPID, secret=FAKE_SECRET):
        self.appid = appid
        self.secret = secret
        self.lock = threading.Lock()
        self.used_codes = set()
        self.tokens = set()
        self.token_fetches = 0
        self.messages = []
        self.refused_messages = []
        self.phone_exchanges = 0
        self.wxacode_requests = []
        self._counter = itertools.count(1)
        self._server = None
        self.app = self._build_app()

    # -- HTTP --------------------------------------------------------------------------
    def _build_app(self):
        app = Flask("fake_wechat")
        fake = self

        def check_token():
            if request.args.get("access_token") not in fake.tokens:
                return _err(40001, "invalid credential, access_token is invalid or not latest")
            return None

        @app.get("/cgi-bin/token")
        def token():
            if request.args.get("appid") != fake.appid or request.args.get("secret") != fake.secret:
                return _err(40125, "invalid appsecret")
            with fake.lock:
                fake.token_fetches += 1
                value = f"FAKE_ACCESS_TOKEN_{next(fake._counter)}_{secrets.token_hex(8)}"
                fake.tokens.add(value)
            return jsonify({"access_token": value, "expires_in": 7200})

        @app.get("/sns/jscode2session")
        def jscode2session():
            if request.args.get("appid") != fake.appid or request.args.get("secret") != fake.secret:
                return _err(40125, "invalid appsecret")
            code = request.args.get("js_code", "")
            if not code:
                return _err(41008, "missing code")
            reserved = _reserved_error(code)
            if reserved is not None:
                return reserved
            with fake.lock:
                if code in fake.used_codes:
                    return _err(40163, "code been used")
                fake.used_codes.add(code)
            person = code.split(".", 1)[0]
            body = {"openid": f"oFAKE-{person}", "session_key": secrets.token_urlsafe(16)}
            if not person.startswith("nounion"):
                body["unionid"] = f"uFAKE-{person}"
            return jsonify(body)

        @app.post("/wxa/business/getuserphonenumber")
        def phone_number():
            refused = check_token()
            if refused is not None:
                return refused
            code = (request.get_json(force=True, silent=True) or {}).get("code", "")
            reserved = _reserved_error(code) if code else _err(41001, "missing code")
            if reserved is not None:
                return reserved
            with fake.lock:
                fake.phone_exchanges += 1
            phone = code[len("phone-"):] if code.startswith("phone-") else "13800138000"
            country, _, pure = phone.rpartition("-")
            country = country or "86"
            return jsonify({"errcode": 0, "errmsg": "ok", "phone_info": {
                "phoneNumber": pure if country == "86" else f"+{country}{pure}", "purePhoneNumber": pure,
                "countryCode": country,
                "watermark": {"timestamp": 0, "appid": fake.appid}}})

        @app.post("/cgi-bin/message/subscribe/send")
        def subscribe_send():
            refused = check_token()
            if refused is not None:
                return refused
            body = request.get_json(force=True, silent=True) or {}
            touser = body.get("touser", "")
            if touser.endswith("-refuse"):
                return _err(43101, "user refuse to accept the msg")
            if touser.endswith("-busy"):
                return _err(-1, "system error")
            if not touser.startswith("o"):  # real openids start with "o"
                return _err(40003, "invalid openid")
            if not body.get("template_id"):
                return _err(40037, "invalid template_id")
            if body.get("page") and not _PAGE.match(body["page"]):
                return _err(41030, "invalid page")
            faults = subscribe.check(body.get("data"))
            if faults:
                key = next(iter(faults))
                with fake.lock:
                    fake.refused_messages.append({**body, "faults": faults})
                return _err(47003, f"argument invalid! data.{key}.value invalid")
            with fake.lock:
                fake.messages.append(body)
            return jsonify({"errcode": 0, "errmsg": "ok", "msgid": next(fake._counter)})

        @app.post("/wxa/getwxacodeunlimit")
        def wxacode_unlimited():
            refused = check_token()
            if refused is not None:
                return refused
            body = request.get_json(force=True, silent=True) or {}
            scene = body.get("scene", "")
            if not scene or len(scene) > 32:
                return _err(40169, "invalid length for scene, or the data is not json string")
            with fake.lock:
                fake.wxacode_requests.append(body)
            buf = io.BytesIO()
            qrcode.make(f"fake-wxacode:{body.get('page') or ''}?scene={scene}").save(buf, format="PNG")
            return buf.getvalue(), 200, {"Content-Type": "image/png"}

        return app

    # -- lifecycle ---------------------------------------------------------------------
    def start(self, port=0):
        self._server = make_server("127.0.0.1", port, self.app, threaded=True,
                                   request_handler=_QuietHandler)
        thread = threading.Thread(target=self._server.serve_forever, name="fake-wechat", daemon=True)
        thread.start()
        return self

    @property
    def api_base(self):
        return f"http://127.0.0.1:{self._server.server_port}/"

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server = None
