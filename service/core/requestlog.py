"""Request ids: one per request, on every log line and in every error body."""

import datetime as dt
import logging
import random
import re

from flask import g, has_request_context, request

from service.core.timeutil import BEIJING

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


_base_factory = logging.getLogRecordFactory()


def _record_with_request_id(*args, **kwargs):
    record = _base_factory(*args, **kwargs)
    record.request_id = g.get("request_id", "-") if has_request_context() else "-"
    return record


class BeijingFormatter(logging.Formatter):
    """Log lines stamped in Beijing time with the offset (2026-12-01 07:18:47,330 +0800), as the
    API and the console show times, whatever the machine's time zone (servers often run in UTC)."""

    default_time_format = "%Y-%m-%d %H:%M:%S"
    default_msec_format = "%s,%03d"

    def formatTime(self, record, datefmt=None):
        moment = dt.datetime.fromtimestamp(record.created, BEIJING)
        if datefmt:
            return moment.strftime(datefmt)
        return f"{moment.strftime(self.default_time_format)},{int(record.msecs):03d} {moment:%z}"


def configure_logging(level):
    # Every record, whichever handler gets it, carries the request id.
    logging.setLogRecordFactory(_record_with_request_id)
    root = logging.getLogger()
    if not any(getattr(h, "_lingjun", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler._lingjun = True
        handler.setFormatter(BeijingFormatter(
            "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)
    # At DEBUG these log full URLs and command documents: login codes, secrets, personal data.
    for noisy in ("wechatpy", "urllib3", "pymongo"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def init_app(app):
    @app.before_request
    def assign_request_id():
        incoming = request.headers.get("X-Request-ID", "")
        # Only needs to be unique, not unpredictable: no system call for randomness per request.
        g.request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else f"{random.getrandbits(128):032x}"

    @app.after_request
    def echo_request_id(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        return response
