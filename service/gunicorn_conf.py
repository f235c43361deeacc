"""gunicorn hooks shared by `lingjun serve`, the Docker image (`-c python:service.gunicorn_conf`)
and the check-in benchmark."""

import datetime as dt
import gc

from gunicorn import glogging
from gunicorn.http import wsgi as _gunicorn_wsgi

from service.core import forksafe
from service.core.requestlog import BeijingFormatter
from service.core.timeutil import BEIJING

# gunicorn names itself in a `Server:` header on every answer and has no setting for it; its
# Response reads this module global when it is built.
_gunicorn_wsgi.SERVER = "lingjun"

# Limits gunicorn enforces itself, before the application sees the request: a request line
# (method + URI) over 8190 bytes (its maximum; default 4094) gets 414, a header over 16 KiB or
# more than 100 headers 431, each a small text/html page from gunicorn, not our JSON error shape
# (see README "What answers come from gunicorn").
limit_request_line = 8190
limit_request_field_size = 16 * 1024
limit_request_fields = 100

# gunicorn >= 25.1 opens a control socket for `gunicornc`, by default one path per user
# ($XDG_RUNTIME_DIR or ~/.gunicorn/gunicorn.ctl): every instance on a host announced the same
# socket and stopping one removed the others'. Nothing here uses gunicornc: it is off.
control_socket_disable = True


class BeijingLogger(glogging.Logger):
    """gunicorn's own lines ("[2026-12-01 07:18:01 +0800] [31407] [INFO] Starting gunicorn") in
    Beijing time like every time the service prints; gunicorn stamps the machine's local time."""

    def _set_handler(self, log, output, fmt, stream=None):
        if fmt is not None and type(fmt) is not BeijingFormatter:
            fmt = BeijingFormatter(fmt._fmt, fmt.datefmt)
        return super()._set_handler(log, output, fmt, stream)

    def now(self):  # the access log's %(t)s
        return dt.datetime.now(BEIJING).strftime("[%d/%b/%Y:%H:%M:%S %z]")


logger_class = BeijingLogger


def control_settings():
    """Control-socket settings for gunicorn instances built in code (`lingjun serve`)."""
    return {"control_socket_disable": control_socket_disable}


# `lingjun serve` runs the background jobs as threads of the gunicorn master: a fork must not copy a
# module half imported by one of them (service.core.forksafe).
def pre_fork(server, worker):
    forksafe.fork_between_imports()


def post_worker_init(worker):
    # A loaded worker holds about 120,000 long-lived objects (Flask, marshmallow, pymongo,
    # openpyxl, ...). A full garbage collection walks all of them, about 50 ms with the GIL held,
    # during which every request of the worker waits. Frozen, they are left out of collections.
    gc.freeze()
