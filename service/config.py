"""Configuration: built-in defaults, then the environment, then an explicit mapping."""

import math
import os

# Values that are fine on a laptop and never acceptable in production.
DEV_SECRET_KEY = "dev-secret-key-change-me"
DEV_DATA_KEY = "dev-data-key-change-me"
DEV_CHECKIN_URL_PREFIX = "https://lingjun.example.cn/q/checkin/"
REAL_WECHAT_API_BASE = "https://api.weixin.qq.com/"


class DefaultConfig:
    APP_ENV = "development"
    MONGODB_URI = None  # None: start the embedded database
    MONGODB_DB = "lingjun"
    EMBEDDED_DATA_DIR = "./var/mongo"
    # An embedded database that dies under `lingjun serve` is started again this many times per
    # outage (0: never; service/core/embedded.py).
    EMBEDDED_RESTART_ATTEMPTS = 5
    SECRET_KEY = DEV_SECRET_KEY
    DATA_KEY = DEV_DATA_KEY
    WECHAT_APPID = ""
    WECHAT_SECRET = ""
    WECHAT_API_BASE = REAL_WECHAT_API_BASE
    WECHAT_TIMEOUT_SECONDS = 5
    TOKEN_TTL_HOURS = 72
    # Resolved tokens are kept, and changed tokens re-read, per process this often
    # (service/core/identity_cache.py, service/auth/signed.py).
    IDENTITY_CACHE_SECONDS = 20
    BINDING_CODE_TTL_HOURS = 72
    # A wx-login code sent again this long after it logged in (a retry after a dropped answer)
    # gets a token of the same account rather than WX_CODE_USED (WeChat codes live 5 minutes).
    LOGIN_RETRY_SECONDS = 300
    MONGODB_SERVER_SELECTION_TIMEOUT_MS = 5000
    MONGODB_SOCKET_TIMEOUT_MS = 10000
    # Rate limits (service/core/ratelimit.py), Flask-Limiter notation, counted in MongoDB so every
    # process and host shares them. Failures only where a crowd shares one address or one person
    # retries honestly: a whole class checking in behind one NAT address is never limited.
    RATELIMIT_LOGIN_FAILURES = "30 per 10 minutes"  # failed wx-login codes, per IP address
    RATELIMIT_BINDING_FAILURES = "10 per hour"  # wrong staff binding codes, per user
    RATELIMIT_CHECKIN_FAILURES = "20 per 10 minutes"  # wrong/expired check-in codes, per user and session
    RATELIMIT_CERTIFICATE_FAILURES = "30 per 10 minutes"  # unknown certificate number/code, per IP address
    RATELIMIT_LEGACY_CHECK_CODE_FAILURES = "5 per day"  # unknown with a short (8-hex) code, per certificate number
    RATELIMIT_ID_NUMBER_CONFLICTS = "5 per day"  # 409 ID_NUMBER_IN_USE answers, per user
    RATELIMIT_ID_NUMBER_CONFLICTS_PER_IP = "20 per hour"  # the same answers, per IP address (many accounts)
    RATELIMIT_UPLOADS = "30 per hour"  # attachment uploads, per user
    RATELIMIT_PHONE_EXCHANGES = "5 per day"  # getPhoneNumber exchanges cost the operator money, per user
    RATELIMIT_CONSOLE_LOGINS = "60 per 10 minutes"  # new console QR login requests, per IP address (a whole office)
    RATELIMIT_ENABLED = True
    # Reverse proxies in front of the service that append to X-Forwarded-For (0: use the socket's address).
    TRUSTED_PROXY_COUNT = 0
    # Uploaded images (service/core/uploads.py): refused when decoding would take more than this many
    # bytes of memory (width x height x bands x bytes per band), stored at most this long on a side.
    UPLOAD_MAX_DECODED_BYTES = 100_000_000
    UPLOAD_MAX_IMAGE_SIDE = 2000
    # Subscribe-message template ids by purpose (set the real ids from the WeChat console).
    WECHAT_TEMPLATES = {
        "registration_decision": "TPL_REGISTRATION_DECISION",
        "leave_decision": "TPL_LEAVE_DECISION",
        "class_notice": "TPL_CLASS_NOTICE",
        "leave_pending": "TPL_LEAVE_PENDING",
        "attendance_warning": "TPL_ATTENDANCE_WARNING",
    }
    # Leave: remind the region's staff of a request still pending after this many hours.
    LEAVE_REMINDER_HOURS = 24
    # Completion rule default (a class may override): share of class hours a trainee may miss on leave.
    COMPLETION_MAX_EXCUSED_SHARE = 0.1
    # Completion rule defaults (an organizer may change them per class): attendance rate
    # ((present + late) / sessions) at least this, and the class rating submitted.
    COMPLETION_MIN_ATTENDANCE_RATE = 0.8
    COMPLETION_REQUIRE_CLASS_RATING = True
    # Ratings close this many days after the class's last day; below this satisfaction a
    # session, teacher or dimension is flagged (notice 243: service satisfaction >= 90%).
    RATING_CLOSE_DAYS = 7
    SATISFACTION_THRESHOLD = 0.9
    # Region KPI: share of the region's 小巨人 enterprises trained (notice 243 附件5 threshold).
    LITTLE_GIANT_SHARE_THRESHOLD = 0.3
    # Base of the links the service hands out (certificate verification QR, projector page);
    # never the request's Host. Required in production; `lingjun serve` uses its own address.
    PUBLIC_BASE_URL = ""
    WORKER_INTERVAL_SECONDS = 20  # background jobs: outbox, closing ended sessions
    # Check-in codes: the class code rotates every 15 s and is accepted one step late;
    # the trainee's personal code rotates every 45 s.
    CHECKIN_CODE_SECONDS = 15
    CHECKIN_CODE_GRACE_STEPS = 1
    PERSONAL_CODE_SECONDS = 45
    # A check-in retried after a network timeout (same nonce and code) is answered for this long
    # after its class code expired; a supervisor's offline scans are accepted this long after the scan.
    CHECKIN_RETRY_SECONDS = 120
    OFFLINE_UPLOAD_HOURS = 24
    OFFLINE_CLOCK_DRIFT_SECONDS = 60
    # The class code on the projector is a URL under this prefix (扫普通链接二维码打开小程序: the
    # prefix is registered in the mini-program's admin); WeChat opens the mini-program with it.
    CHECKIN_URL_PREFIX = DEV_CHECKIN_URL_PREFIX
    PROJECTOR_LINK_HOURS = 12
    # Per-process caches on the check-in hot path (seconds).
    ROSTER_CACHE_SECONDS = 60
    # A registry list request that finds the list's read model stale waits this long for its
    # rebuild (started in the background), then answers the list as it was (service.registry.listing).
    REGISTRY_LIST_BUILD_WAIT_SECONDS = 2.0
    # Staff console (/console/): a QR login request lives this long; a session ends after this
    # many hours without a request, or at logout.
    CONSOLE_LOGIN_SECONDS = 120
    CONSOLE_IDLE_HOURS = 8
    PAGE_SIZE_DEFAULT = 20
    PAGE_SIZE_MAX = 100
    LOG_LEVEL = "INFO"


def seconds_up_to(limit):
    """A duration in seconds from the environment: a finite number from 0 to `limit` ("2", "0.5")."""

    def seconds(raw):
        value = float(raw)
        if not math.isfinite(value) or not 0 <= value <= limit:
            raise ValueError(raw)
        return value

    seconds.kind = f"a number of seconds from 0 to {limit}"
    return seconds


# Settings read from the environment; everything else comes only from DefaultConfig
# or the mapping passed to create_app (tests).
ENV_SETTINGS = {
    "APP_ENV": str,
    "MONGODB_URI": str,
    "MONGODB_DB": str,
    "EMBEDDED_DATA_DIR": str,
    "EMBEDDED_RESTART_ATTEMPTS": int,
    "SECRET_KEY": str,
    "DATA_KEY": str,
    "WECHAT_APPID": str,
    "WECHAT_SECRET": str,
    "WECHAT_API_BASE": str,
    "TOKEN_TTL_HOURS": int,
    "IDENTITY_CACHE_SECONDS": int,
    "BINDING_CODE_TTL_HOURS": int,
    "LOGIN_RETRY_SECONDS": int,
    "LOG_LEVEL": str,
    "WORKER_INTERVAL_SECONDS": int,
    "CHECKIN_CODE_SECONDS": int,
    "CHECKIN_CODE_GRACE_STEPS": int,
    "PERSONAL_CODE_SECONDS": int,
    "CHECKIN_RETRY_SECONDS": int,
    "OFFLINE_UPLOAD_HOURS": int,
    "OFFLINE_CLOCK_DRIFT_SECONDS": int,
    "CHECKIN_URL_PREFIX": str,
    "PROJECTOR_LINK_HOURS": int,
    "ROSTER_CACHE_SECONDS": int,
    # A request waits at most this long: well inside gunicorn's 60 s worker timeout.
    "REGISTRY_LIST_BUILD_WAIT_SECONDS": seconds_up_to(30),
    "RATING_CLOSE_DAYS": int,
    "PUBLIC_BASE_URL": str,
    "LEAVE_REMINDER_HOURS": int,
    "RATELIMIT_LOGIN_FAILURES": str,
    "RATELIMIT_CONSOLE_LOGINS": str,
    "RATELIMIT_BINDING_FAILURES": str,
    "RATELIMIT_CHECKIN_FAILURES": str,
    "RATELIMIT_CERTIFICATE_FAILURES": str,
    "RATELIMIT_LEGACY_CHECK_CODE_FAILURES": str,
    "RATELIMIT_ID_NUMBER_CONFLICTS": str,
    "RATELIMIT_ID_NUMBER_CONFLICTS_PER_IP": str,
    "RATELIMIT_UPLOADS": str,
    "RATELIMIT_PHONE_EXCHANGES": str,
    "TRUSTED_PROXY_COUNT": int,
    "UPLOAD_MAX_DECODED_BYTES": int,
    "UPLOAD_MAX_IMAGE_SIDE": int,
}


class ConfigError(RuntimeError):
    """The service refuses to start with this configuration; `problems` has one line each."""

    def __init__(self, problems, heading="APP_ENV=production refused"):
        self.problems = list(problems)
        self.heading = heading
        super().__init__(f"{heading}: " + "; ".join(self.problems))


def load(overrides=None):
    """Merge defaults, environment and explicit overrides into one dict."""
    settings = {k: v for k, v in vars(DefaultConfig).items() if k.isupper()}
    unreadable = []
    for name, cast in ENV_SETTINGS.items():
        raw = os.environ.get(name)
        if raw not in (None, ""):
            try:
                settings[name] = cast(raw)
            except ValueError:
                unreadable.append(f"{name}={raw!r} is not {getattr(cast, 'kind', 'a whole number')}")
    if unreadable:
        raise ConfigError(unreadable, heading="settings refused")
    settings.update(overrides or {})
    if settings["WECHAT_API_BASE"] and not settings["WECHAT_API_BASE"].endswith("/"):
        settings["WECHAT_API_BASE"] += "/"
    check_rate_limits(settings)
    check_production(settings)
    return settings


def check_rate_limits(settings):
    """Every RATELIMIT_* string must parse (`limits` notation), or the service refuses to start."""
    from limits import parse

    for name, value in settings.items():
        if name.startswith("RATELIMIT_") and name != "RATELIMIT_ENABLED":
            try:
                parse(value)
            except ValueError:
                raise ConfigError([f"{name}={value!r} is not a rate limit such as '30 per 10 minutes'"],
                                  heading="settings refused") from None


def is_fake_wechat(api_base):
    host = api_base.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return host in ("127.0.0.1", "localhost", "::1", "[::1]") or host.startswith("127.")


def production_problems(settings):
    """Every reason production cannot run with these settings (all of them, not the first)."""
    if settings["APP_ENV"] != "production":
        return []
    problems = []
    if settings["SECRET_KEY"] in (DEV_SECRET_KEY, "") or len(settings["SECRET_KEY"]) < 32:
        problems.append("SECRET_KEY is the development default or shorter than 32 characters: set a random one")
    if settings["DATA_KEY"] in (DEV_DATA_KEY, "") or len(settings["DATA_KEY"]) < 32:
        problems.append("DATA_KEY is the development default or shorter than 32 characters: set a random one")
    if not settings["WECHAT_APPID"]:
        problems.append("WECHAT_APPID is not set: use the mini-program's AppID")
    if not settings["WECHAT_SECRET"]:
        problems.append("WECHAT_SECRET is not set: use the mini-program's AppSecret")
    if is_fake_wechat(settings["WECHAT_API_BASE"]):
        problems.append(f"WECHAT_API_BASE points at the fake WeChat ({settings['WECHAT_API_BASE']}): unset it")
    prefix = settings["CHECKIN_URL_PREFIX"]
    if prefix == DEV_CHECKIN_URL_PREFIX or not prefix.startswith("https://") or \
            prefix.split("://", 1)[1].rstrip("/").count("/") == 0:
        problems.append("CHECKIN_URL_PREFIX must be the https URL prefix (with a path) registered for "
                        "扫普通链接二维码打开小程序, not the development example")
    if not settings["MONGODB_URI"]:
        problems.append("MONGODB_URI is not set (the embedded database is for development only): "
                        "point it at the MongoDB replica set")
    if not settings["PUBLIC_BASE_URL"].startswith("https://"):
        problems.append("PUBLIC_BASE_URL is not set to the service's https:// address "
                        "(certificate QR codes and projector links are built on it)")
    if settings.get("DEMO"):
        problems.append("--demo seeds demo people and runs the fake WeChat: drop --demo in production")
    return problems


def check_production(settings):
    """Refuse to run production with development secrets or the fake WeChat; name each problem."""
    problems = production_problems(settings)
    if problems:
        raise ConfigError(problems)
