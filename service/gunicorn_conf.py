"""gunicorn hooks shared by `lingjun serve`, the Docker image (`-c python:service.gunicorn_conf`)
and the check-in benchmark."""

import gc

from gunicorn.http import wsgi as _gunicorn_wsgi

# gunicorn names itself in a `Server:` header on every answer and has no setting for it; its
# Response reads this module global when it is built.
_gunicorn_wsgi.SERVER = "lingjun"

# Limits gunicorn enforces itself, before the application sees the request: a request line
# (method + URI) over 8190 bytes (its maximum; default 4094), a header over 16 KiB or more than
# 100 headers is answered by gunicorn with a small text/html "400 Bad Request" page, not our
# JSON error shape (see README "What answers come from gunicorn").
limit_request_line = 8190
limit_request_field_size = 16 * 1024
limit_request_fields = 100


def post_worker_init(worker):
    # A loaded worker holds about 120,000 long-lived objects (Flask, marshmallow, pymongo,
    # openpyxl, ...). A full garbage collection walks all of them, about 50 ms with the GIL held,
    # during which every request of the worker waits. Frozen, they are left out of collections.
    gc.freeze()
