"""The loop that sends due outbox messages: a thread under `serve`, a process in production."""

import logging
import threading

from service.outbox.service import dispatch_due

log = logging.getLogger(__name__)


def run_once(app):
    with app.app_context():
        return dispatch_due()


def run_forever(app, *, interval, stop=None):
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            counts = run_once(app)
            if any(counts.values()):
                log.info("outbox: %s", counts)
        except Exception:  # keep the loop alive: the next round retries
            log.exception("outbox dispatch failed")
        stop.wait(interval)


def start_background(app, *, interval):
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(app,), kwargs={"interval": interval, "stop": stop},
                              name="outbox", daemon=True)
    thread.start()
    return stop
