"""Rate limits shared by every process: Flask-Limiter on the `limits` package's MongoDB storage.

Counters live in the application's own MongoDB database (collection `rate_limit_counters`), so N
gunicorn workers on M hosts count as one. Each limit is a setting in Flask-Limiter's notation
("30 per 10 minutes"); see the README. A refused request answers 429 `TOO_MANY_REQUESTS` in the
error shape with `Retry-After` (seconds).

Strategy: fixed window (one counter document per key, one atomic `find_one_and_update`). The
`limits` MongoDB storage was tried against the embedded SecantusDB server: its fixed-window and
moving-window operations work there; the sliding-window counter answers "internal server error"
(a `find_one_and_update` pipeline adding milliseconds to a date), so that strategy is not used.

Two parts are our own, and only because the stock storage opens its own `MongoClient` from a URI
and keeps it for the life of the storage object: `AppMongoDBStorage` reads the process's client
(made after a fork, see service/core/db.py) and the current app's database (tests give every
test its own), and does not close the shared client when it is collected.
"""

import contextlib
import copy
import functools
import logging
import math
import time

from flask import current_app, g, jsonify, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from limits import parse
from limits.storage import MongoDBStorage
from pymongo import IndexModel
from werkzeug.middleware.proxy_fix import ProxyFix

from schemas.base import ErrorSchema
from service.core.db import collection, declare_indexes, mongo
from service.core.errors import AppError, error_body

COUNTERS = "rate_limit_counters"
WINDOWS = "rate_limit_windows"
# What the stock storage creates on first use, declared like every other index.
declare_indexes(COUNTERS, IndexModel("expireAt", expireAfterSeconds=0, name="expire_ttl"))
declare_indexes(WINDOWS, IndexModel("expireAt", expireAfterSeconds=0, name="expire_ttl"))

DEFAULT_MESSAGE = "操作太频繁，请稍后再试"


class AppMongoDBStorage(MongoDBStorage):
    """`limits`' MongoDB storage on the app's MongoClient and database (see the module docstring)."""

    STORAGE_SCHEME = ["lingjun-mongodb"]

    def __init__(self, uri, **options):
        super().__init__(uri, counter_collection_name=COUNTERS, window_collection_name=WINDOWS, **options)

    @property
    def storage(self):
        return mongo.client_for(current_app.config)

    @property
    def counters(self):
        return collection(COUNTERS)

    @property
    def windows(self):
        return collection(WINDOWS)

    def __del__(self):
        pass  # the client is the process's, not this object's


def client_ip():
    """The caller's address. Behind TRUSTED_PROXY_COUNT proxies ProxyFix has set it from
    X-Forwarded-For; a header the client wrote itself is never trusted (it would reset the count)."""
    return request.remote_addr or "unknown"


def user_key():
    from service.core.auth import current_identity  # the decorators run after @require

    return str(current_identity().user_id)


limiter = Limiter(key_func=client_ip, storage_uri="lingjun-mongodb://app", strategy="fixed-window",
                  headers_enabled=False)


RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before calling again",
                               "schema": {"type": "integer", "minimum": 1}}}


def documented(view):
    """Declare `429 TOO_MANY_REQUESTS` with `Retry-After` among the operation's OpenAPI answers.

    Stored the way flask-smorest's `alt_response` stores it (`_apidoc`, copied up by the decorators
    above), so `limit()` documents what it enforces; views limited inside their body (the
    `failures` block) carry it as a decorator."""
    view._apidoc = copy.deepcopy(getattr(view, "_apidoc", {}))
    view._apidoc.setdefault("response", {}).setdefault("responses", {}).setdefault(429, []).append(
        {"schema": ErrorSchema(), "description": "TOO_MANY_REQUESTS: rate limit reached, wait Retry-After seconds",
         "headers": RETRY_AFTER, "content_type": None})
    return view


def limit(setting, *, key_func, message, failure_status=None):
    """Decorator: the limit in config `setting` for the view, per `key_func()`.

    Without `failure_status` every request counts: Flask-Limiter hits the counter before the view,
    atomically, and refuses past the limit.

    With `failure_status` only responses with that status (or, with "marked", the requests that
    called `note_failure()`) count, and every request is refused once the count is reached. The
    count is one atomic `hit` after the failure (`limits` answers False once over): a failure past
    the limit becomes 429 however many arrive at once. (Flask-Limiter's `deduct_when` reads the
    count before the request and writes it after: 40 parallel failures against a limit of 30 got
    37 answers through.) A success is never counted, so a crowd's good requests are never held up.
    """
    if failure_status is None:
        limited = limiter.limit(lambda: current_app.config[setting], key_func=key_func, error_message=message,
                                scope=setting)
        return lambda view: documented(limited(view))

    def decorate(view):
        @functools.wraps(view)
        def limited(*args, **kwargs):
            keys = (setting, key_func())
            refuse_when_spent(setting, *keys[1:], message=message)
            try:
                answer = view(*args, **kwargs)
            except AppError as exc:
                if exc.status == failure_status:
                    count_failure(setting, *keys[1:], message=message)
                raise
            if failure_status == "marked" and g.get("rate_limit_failure"):
                count_failure(setting, *keys[1:], message=message)
            return answer
        return documented(limited)
    return decorate


def note_failure():
    """Count this answer against the view's failure limit although its status is a success."""
    g.rate_limit_failure = True


class TooManyRequests(AppError):
    status = 429
    code = "TOO_MANY_REQUESTS"
    message = DEFAULT_MESSAGE

    def __init__(self, message=None, *, retry_after):
        super().__init__(message=message)
        self.retry_after = retry_after


def _refuse(item, keys, message):
    reset_at = limiter.limiter.get_window_stats(item, *keys).reset_time
    raise TooManyRequests(message, retry_after=_seconds_until(reset_at))


def count_failure(setting, *key_parts, message=DEFAULT_MESSAGE):
    """Count one failure against the limit in config `setting`; raise TooManyRequests once it is
    exceeded. For paths where a success must not touch the database (check-in): nothing is read
    before the request, the counter is written only when the request has already failed."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return
    item = parse(current_app.config[setting])
    keys = (setting, *map(str, key_parts))
    if not limiter.limiter.hit(item, *keys):
        _refuse(item, keys, message)


def refuse_when_spent(setting, *key_parts, message=DEFAULT_MESSAGE):
    """Raise TooManyRequests if the limit in config `setting` is already used up for these keys;
    counts nothing (one read). For a failure limit that must refuse before the answer is worked
    out: checked only after a failure, a right guess past the limit would still be answered."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return
    item = parse(current_app.config[setting])
    keys = (setting, *map(str, key_parts))
    if not limiter.limiter.test(item, *keys):
        _refuse(item, keys, message)


@contextlib.contextmanager
def failures(setting, *key_parts, codes, message=DEFAULT_MESSAGE):
    """Within the block, an AppError whose code is in `codes` counts as one failure
    (`count_failure`); past the limit it becomes 429. A success costs nothing."""
    try:
        yield
    except AppError as exc:
        if exc.code in codes:
            count_failure(setting, *key_parts, message=message)
        raise


def _seconds_until(reset_at):
    return max(1, math.ceil(reset_at - time.time()))


def _rate_limit_exceeded(exc):
    current = limiter.current_limit
    retry_after = _seconds_until(current.reset_at) if current else 60
    response = jsonify(error_body(TooManyRequests.code, exc.description or DEFAULT_MESSAGE))
    response.status_code = 429
    response.headers["Retry-After"] = str(retry_after)
    return response


def _too_many_requests(exc):
    response = jsonify(error_body(exc.code, exc.message, exc.errors))
    response.status_code = 429
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


# Settings under which Flask-Limiter's before_request hook would have limits of its own to check.
_MIDDLEWARE_LIMIT_SETTINGS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")


def _drop_middleware_check(app):
    """Remove Flask-Limiter's before_request check when it has nothing to check.

    That hook enforces default, application, meta and blueprint limits; every limit here is a
    view decorator (`limit()`), and a decorated view checks its own limits when it is called,
    with or without the hook. The hook still resolves limits and exemptions for every request:
    ~60 µs of the check-in's ~600 µs of web CPU (benchmarks/checkin.py, the national peak's hot
    path), spent finding nothing. Flask-Limiter has no setting to leave it out (its old
    `auto_check` is gone), so it is taken out of the app's hooks here, and kept whenever one of
    those kinds of limit is configured."""
    if any(app.config.get(name) for name in _MIDDLEWARE_LIMIT_SETTINGS):
        return
    limits = limiter.limit_manager
    if limits.default_limits or limits.application_limits or limits._blueprint_limits or limiter._meta_limits:
        return
    hooks = app.before_request_funcs.get(None, [])
    app.before_request_funcs[None] = [hook for hook in hooks if hook != limiter._check_request_limit]


def init_app(app):
    app.config.setdefault("RATELIMIT_ENABLED", True)  # the limit strings are checked in service/config.py
    if app.config.get("TRUSTED_PROXY_COUNT", 0) > 0:
        count = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    limiter.init_app(app)
    _drop_middleware_check(app)
    # Its "exceeded" line names the key: an IP address or a user id. Our 429 is logged anyway.
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)
    app.register_error_handler(RateLimitExceeded, _rate_limit_exceeded)
    app.register_error_handler(TooManyRequests, _too_many_requests)
