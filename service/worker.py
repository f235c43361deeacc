"""Background jobs: close sessions whose check-in window ended, move classes' status with their
timetable (in progress, finished), remind staff of pending leave,
warn trainees falling below the attendance rule,
send due outbox messages (last, so messages queued by this round go out in it); every
UPKEEP_INTERVAL_SECONDS the upkeep sweeps (run_upkeep: quota places, orphan uploaded files); registry imports
and the all-regions KPI table's read model in loops of their own (run_imports_forever,
run_read_model_forever).

A thread under `lingjun serve`; its own process in production (`lingjun worker`).
"""

import logging
import threading
import time

from service.core.errors import database_unavailable

log = logging.getLogger(__name__)


class DatabaseOutage:
    """The loops' shared view of the database being unreachable (killed, restarting, network):
    one WARNING when a loop first finds it so, one INFO when a round works again, and nothing
    for the rounds between (each would otherwise log the same traceback every few seconds)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._since = None
        self._answered_at = float("-inf")

    def failed(self, exc, loop, started):
        """True if `exc` means the database is unreachable (logged once per outage). `started`:
        when the failed round began (time.monotonic()); a round begun before the database
        answered again is the end of the last outage, not a new one."""
        if not database_unavailable(exc):
            return False
        with self._lock:
            if self._since is None and started > self._answered_at:
                self._since = time.monotonic()
                log.warning("database unavailable (%s in %s): the background jobs retry every round "
                            "and say when it answers again", type(exc).__name__, loop)
        return True

    def succeeded(self):
        with self._lock:
            self._answered_at = time.monotonic()
            if self._since is not None:
                log.info("database answers again: background jobs resumed after %.0f s",
                         self._answered_at - self._since)
                self._since = None


# One per process: the three loops see the same database.
OUTAGE = DatabaseOutage()


def run_once(app, *, stop=None, upkeep=True):
    """One round of the jobs; with `upkeep`, the upkeep sweeps too (run_upkeep)."""
    from service.attendance.service import close_due_sessions
    from service.classes.service import advance_statuses
    from service.completion.service import warn_due
    from service.leave.review import remind_pending
    from service.outbox.service import dispatch_due

    with app.app_context():
        closed = len(close_due_sessions())
        statuses = len(advance_statuses())  # after closing: a class whose last session closed finishes
        reminders = remind_pending()
        warnings = warn_due()  # after closing: the new absences count
        done = {"closed_sessions": closed, "class_statuses": statuses, "leave_reminders": reminders,
                "attendance_warnings": warnings}
        if upkeep:
            try:
                done.update(run_upkeep())
            except Exception as exc:
                if database_unavailable(exc):  # the round's other writes would fail too: the loop says so once
                    raise
                log.exception("upkeep sweeps failed")  # a fault of a sweep: the outbox below still goes out
        done["outbox"] = dispatch_due(stop=stop)
        return done


def run_upkeep():
    """Repair what a request cut short by a database fault could not (issue 14 §3): quota places
    left taken or given back against their registrations' states (service.registrations.places),
    and uploaded files no record names (service.core.gridstore), older than an hour. Also delete
    documents past their TTL index's expiry (service.core.db.expire_documents: the embedded
    server has no TTL monitor of its own)."""
    from service.core.db import expire_documents
    from service.registrations.places import reconcile
    from service.registry.service import sweep_orphan_files as sweep_registry_files
    from service.trainees.service import sweep_orphan_files as sweep_attachments

    return {"quota_places": reconcile(),
            "orphan_files": {"registry": sweep_registry_files(), "attachments": sweep_attachments()},
            "expired": expire_documents()}


# The upkeep sweeps read every running class's quotas and registrations: every few minutes, not
# every round.
UPKEEP_INTERVAL_SECONDS = 300


def _worth_logging(done):
    """Whether the round did anything (counts, or counts in the nested results)."""
    return any(any(value.values()) if isinstance(value, dict) else value for value in done.values())


def run_forever(app, *, interval, stop=None):
    stop = stop or threading.Event()
    upkeep_at = 0.0
    while not stop.is_set():
        started = time.monotonic()
        try:
            upkeep = started >= upkeep_at
            if upkeep:
                upkeep_at = started + UPKEEP_INTERVAL_SECONDS
            done = run_once(app, stop=stop, upkeep=upkeep)
            OUTAGE.succeeded()
            if _worth_logging(done):
                log.info("background jobs: %s", done)
        except Exception as exc:  # keep the loop alive: the next round retries
            if not OUTAGE.failed(exc, "jobs", started):
                log.exception("background jobs failed")
        stop.wait(interval)


def run_imports_once(app, *, stop=None):
    """One registry import (service.registry.service.run_next_import): its id, or None if none
    waited. `stop` set: the import in hand stops and is failed REGISTRY_IMPORT_INTERRUPTED.
    Then the registry list's read model (service.registry.listing) is built here if the import
    changed the registry or it is older than listing.MAX_AGE, so no list request has to (150,000
    entries: seconds on the embedded server); not when stopping, and not while other imports wait:
    each would rebuild it for the next, and a province's ten-row correction queued behind a dozen
    others waited minutes (finding q20 F8); it is built once the queue is empty."""
    from service.registry import listing
    from service.registry.repository import any_queued
    from service.registry.service import run_next_import

    with app.app_context():
        imported = run_next_import(stop=stop)
        if stop is not None and stop.is_set():
            return imported
        if imported is not None and any_queued():
            return imported
        try:
            listing.refresh(max_age=listing.MAX_AGE)
        except Exception as exc:  # the first list request builds it then
            if database_unavailable(exc):
                raise
            log.exception("registry list: building its read model failed")
        return imported


def run_imports_forever(app, *, interval, stop=None):
    """Registry imports in their own loop: one takes up to a minute, and closing sessions must not wait."""
    stop = stop or threading.Event()
    while not stop.is_set():
        started = time.monotonic()
        try:
            imported = run_imports_once(app, stop=stop)
            OUTAGE.succeeded()
            if imported is not None:
                continue  # the next queued one at once
        except Exception as exc:  # keep the loop alive
            if stop.is_set():  # stopping closed the client under the import in hand
                log.info("registry import round left unfinished at stop")
                break
            if not OUTAGE.failed(exc, "registry imports", started):
                log.exception("registry import round failed")
        stop.wait(interval)


# An idle imports loop looks for a queued import this often (one small read of registry_imports):
# with the worker's interval (20 s) an upload waited up to 20 s before it started (finding q20 F2).
IMPORT_POLL_SECONDS = 2


def start_imports(app, *, interval, stop):
    interval = min(interval, IMPORT_POLL_SECONDS)
    thread = threading.Thread(target=run_imports_forever, args=(app,), kwargs={"interval": interval, "stop": stop},
                              name="registry-imports", daemon=True)
    thread.start()
    return thread


def run_read_model_once(app):
    """Keep the all-regions KPI table counted (service.reports.service.refresh_read_model):
    {year: regions counted}."""
    from service.reports.service import refresh_read_model

    with app.app_context():
        return refresh_read_model()


def run_read_model_forever(app, *, interval, stop=None):
    """The read model in its own loop: a national count takes 10-80 s, closing sessions and
    imports must not wait for it (nor it for them)."""
    stop = stop or threading.Event()
    while not stop.is_set():
        started = time.monotonic()
        try:
            counted = run_read_model_once(app)
            OUTAGE.succeeded()
            if any(counted.values()):
                log.info("report read model counted again: %s", counted)
        except Exception as exc:  # keep the loop alive
            if stop.is_set():  # stopping closed the client under a round in hand: counted again next start
                log.info("report read model round left unfinished at stop")
                break
            if not OUTAGE.failed(exc, "report read model", started):
                log.exception("report read model round failed")
        stop.wait(interval)


# A round with nothing to count reads a few small documents: the read model follows writes within
# seconds, so a request seldom counts a region itself.
READ_MODEL_INTERVAL_SECONDS = 5


def start_read_model(app, *, interval, stop):
    interval = min(interval, READ_MODEL_INTERVAL_SECONDS)
    thread = threading.Thread(target=run_read_model_forever, args=(app,), kwargs={"interval": interval, "stop": stop},
                              name="report-read-model", daemon=True)
    thread.start()
    return thread


def start_background(app, *, interval):
    """The jobs in daemon threads: (stop event, jobs thread, imports thread). Set the event and join
    the threads to stop (join_imports for the imports'); sending stops after the message in hand,
    and queued messages stay in the outbox."""
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(app,), kwargs={"interval": interval, "stop": stop},
                              name="jobs", daemon=True)
    thread.start()
    imports = start_imports(app, interval=interval, stop=stop)
    start_read_model(app, interval=interval, stop=stop)
    return stop, thread, imports


# At a stop, the registry import in hand finishes the batch being written and is failed
# REGISTRY_IMPORT_INTERRUPTED (a second or two); reading the registry first or building its indexes
# after a bulk load cannot be cut short, so the wait is bounded.
IMPORT_STOP_SECONDS = 15


def join_imports(thread, *, timeout=IMPORT_STOP_SECONDS):
    """Wait (at most `timeout` s) for the imports loop to end after the stop was set, before the
    database client is closed under it; say so if an import is left running (it is recognised by
    its heartbeat lapsing, service.registry.service.STALE_AFTER)."""
    thread.join(timeout)
    if thread.is_alive():
        from service.registry.service import STALE_AFTER

        log.warning("a registry import was left running at stop: failed REGISTRY_IMPORT_INTERRUPTED "
                    "within %s, then retryable", STALE_AFTER)
