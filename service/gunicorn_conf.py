"""gunicorn hooks shared by `lingjun serve`, the Docker image (`-c python:service.gunicorn_conf`)
and the check-in benchmark."""

import gc


def post_worker_init(worker):
    # A loaded worker holds about 120,000 long-lived objects (Flask, marshmallow, pymongo,
    # openpyxl, ...). A full garbage collection walks all of them, about 50 ms with the GIL held,
    # during which every request of the worker waits. Frozen, they are left out of collections.
    gc.freeze()
