"""Enterprise registry (企业名录): organizers import the lists of recognised enterprises;
registration checks a title's validity; admins and province staff read the list.
"""

import collections
import contextlib
import contextvars
import datetime as dt
import itertools
import logging
import queue
import re
import threading
import time
import unicodedata

import pymongo

from bson import ObjectId

from flask import current_app

from service.core import gridstore, regions
from service.core.auth import PROVINCE_STAFF, ensure_region
from service.core.db import declare_before_indexes, utcnow
from service.core.errors import Conflict, Forbidden, NotFound, RuleViolation
from service.registry import importer, listing, repository

log = logging.getLogger(__name__)

FILE_TOO_LARGE_MESSAGE = "文件不能超过 20 MB，请分成几个文件导入"


def find_valid_title(*, credit_code, title, on_date):
    """The registry entry whose validity covers `on_date`, or None."""
    return repository.find_valid_title(credit_code=credit_code, title=title, day=on_date.isoformat())


def title_validity(*, credit_codes, title):
    """{credit_code: (valid_from, valid_until)} ("YYYY-MM-DD") of `title` for these credit codes."""
    return {code: (entry["valid_from"], entry["valid_until"])
            for (code, entry_title), entry in repository.entries_for(credit_codes).items()
            if entry_title == title and entry.get("valid_from") and entry.get("valid_until")}


# Rows checked and written together: memory stays bounded whatever the file's size, and the
# progress moves every batch. The counts go up as each write chunk (repository.WRITE_CHUNK) is
# written and are stored after each batch: a process killed outright leaves at most the last
# batch's writes uncounted (finding q19 F6: 5,000-row batches left up to 4,000 written entries
# uncounted).
IMPORT_BATCH_ROWS = 1000

# Telling an import whose process died (kill -9, a lost machine) from one still running, with
# several worker processes on several machines: a heartbeat thread beside each import writes
# `heartbeat_at` every HEARTBEAT_SECONDS (whatever the import is doing: reading the registry or
# building its indexes holds no batch for tens of seconds), and another worker fails an import
# whose heartbeat is older than STALE_AFTER. A process id/host check was not chosen: containers
# reuse pid 1 and their host names, and a worker on another machine cannot see the process.
# Never twice at once: the runner itself stops writing (before its next batch, each batch's write
# bounded by the time left) once it could not renew its heartbeat for OWN_LEASE_SECONDS, well
# before others may call it stale (the margin covers clocks apart by up to a minute), and at once
# when its renewal finds the import no longer its own (every write of the import names its run_id).
HEARTBEAT_SECONDS = 10
OWN_LEASE_SECONDS = 60
STALE_AFTER = dt.timedelta(minutes=2)


def _import_error(*, code, message):
    """A failed import's `error` (the client reads code and message as from an error answer)."""
    return {"code": code, "message": message}


INTERRUPTED = _import_error(code="REGISTRY_IMPORT_INTERRUPTED", message="导入中断（后台任务停止），已写入的企业保留，可重新导入")
FAILED = _import_error(code="REGISTRY_IMPORT_FAILED", message="导入出错中断，已写入的企业保留，可重新导入")


@declare_before_indexes
def _one_running_import(db):
    """Before `one_running` is built: of imports an earlier version left running side by side, all
    but the newest fail REGISTRY_IMPORT_INTERRUPTED (they can be retried)."""
    return repository.fail_all_running_but_newest(db, error=INTERRUPTED, now=utcnow())


def _empty_report():
    return {"total": 0, "inserted": 0, "updated": 0, "unchanged": 0, "rejected": 0, "bad_rows": [],
            "bad_rows_total": 0, "bad_rows_truncated": False, "duration_ms": None, "error": None,
            "started_at": None, "finished_at": None, "progress": {"rows_read": 0, "rows_total": None}, "timings": None}


MAX_FILE_NAME = 120


def clean_file_name(file_name):
    """The uploaded file's name as kept in the import report: the last path part only (browsers and
    curl may send "C:\\Users\\…\\名录.xlsx" or "../x"), Unicode NFC, without control or format
    characters (category C: a bidi override makes "xlsx.exe" read as "exe.xlsx"), at most
    MAX_FILE_NAME characters."""
    name = re.split(r"[\\/]", file_name or "")[-1]
    name = "".join(c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c)[0] != "C")
    return name.strip()[:MAX_FILE_NAME]


def import_file(*, data, file_name, imported_by):
    """Accept a registry file: checked at once for what the bytes tell (size, kind, encoding),
    stored, and queued for the background worker (run_next_import). Returns the import (state
    queued). Imports run one at a time, oldest first: a second upload waits behind the first.
    """
    kind = importer.check_file(data)
    file_name = clean_file_name(file_name)
    file_id = repository.save_file(data, file_name)
    doc = {"state": "queued", "file_id": file_id, "file_name": file_name,
           "file_kind": kind, "file_size": len(data), "imported_by": imported_by, "imported_at": utcnow(),
           "attempts": 0, **_empty_report()}
    try:
        return repository.insert_report(doc)
    except Exception:
        repository.discard_file(file_id)  # no import names it: nothing half-written (issue 14 §3)
        raise


# Where this process's sweep of chunks goes on ({database name: last file id looked at}).
_SWEPT_UP_TO = {}


def sweep_orphan_files(*, now=None):
    """The worker's upkeep: delete uploaded files no import names and chunks without their file,
    stored more than gridstore.ORPHAN_AGE_SECONDS ago (bounded per call); how many were deleted."""
    before = (now or utcnow()) - dt.timedelta(seconds=gridstore.ORPHAN_AGE_SECONDS)
    key = current_app.config["MONGODB_DB"]
    deleted, _SWEPT_UP_TO[key] = repository.sweep_orphan_files(before=before, after=_SWEPT_UP_TO.get(key))
    return deleted


def retry_import(*, report_id):
    """Queue a failed import again (its file is kept until it succeeds): 409 unless failed."""
    get_report_or_raise(report_id=report_id)
    doc = repository.requeue(report_id, fields=_empty_report())
    if doc is None:
        raise Conflict("REGISTRY_IMPORT_NOT_FAILED", "只有失败的导入可以重新导入")
    return doc


class ImportStopped(Exception):
    """The import stopped without a fault of its own: the process is stopping, or the import is no
    longer its own (its heartbeat lapsed). Fails it REGISTRY_IMPORT_INTERRUPTED."""


def run_next_import(*, stop=None):
    """The worker's step: fail imports whose worker stopped, then run the oldest queued import
    unless one is running. `stop` (a threading.Event): set when the process is stopping; the import
    in hand stops after the batch being written and fails REGISTRY_IMPORT_INTERRUPTED at once, so a
    restart may retry it. Returns the import's id, or None when there was nothing to do."""
    now = utcnow()
    stale = repository.fail_stale(stale_before=now - STALE_AFTER, error=INTERRUPTED, now=now)
    if stale:
        log.warning("registry import(s) %s failed %s: no heartbeat since %s (their process died)",
                    ", ".join(str(doc["_id"]) for doc in stale), INTERRUPTED["code"], now - STALE_AFTER)
        repository.registry_changed()  # what they wrote before dying (finding q19 F12)
    if repository.running_import(fresh_after=now - STALE_AFTER) is not None:
        return None
    if stop is not None and stop.is_set():
        return None
    doc = repository.claim_next(now=now, run_id=ObjectId())
    if doc is None:
        return None
    run = ImportRun(doc, stop=stop)
    try:
        run.run()
    except ImportStopped as exc:
        run.fail(INTERRUPTED)
        log.warning("registry import %s (%s) interrupted (%s) after row %s: failed %s, retry it",
                    doc["_id"], doc.get("file_name"), exc, run.rows_written(), INTERRUPTED["code"])
    except RuleViolation as exc:  # a file-level fault found while reading: nothing more is read
        run.fail({"code": exc.code, "message": exc.message, **exc.extra})
    except Exception as exc:
        if run.fail(FAILED):
            log.exception("registry import %s failed", doc["_id"])
        else:
            # Its end (done) was written and then the answer timed out (or another run holds it
            # now): it stands as recorded, and an ERROR here sent operators to retry an import that
            # had succeeded (re-check q21 F6).
            log.warning("registry import %s: %s after its end was recorded; it stands as recorded (GET its "
                        "report)", doc["_id"], type(exc).__name__)
    return doc["_id"]


class ImportRun:
    """One run of an import: reads, checks and writes the file batch by batch; the counts,
    progress and bad rows go to the import document as they grow, so a failure midway leaves what
    was written counted and its faults listed.

    Reading and checking (here, in Python) overlap with writing (a BatchWriter thread, waiting on
    the database most of the time): a 150,000-row list took the sum of both before."""

    def __init__(self, doc, *, stop=None):
        self.doc, self.stop = doc, stop
        self.run_id = doc["run_id"]
        self.counts = {"inserted": 0, "updated": 0, "unchanged": 0}
        self.problems = []  # the validator's listed faults (grown in place)
        self.writer = None
        self.lease = Heartbeat(doc["_id"], self.run_id)

    def rows_written(self):
        """The spreadsheet row up to which the batches were taken for writing (0 before the first)."""
        taken = self.writer.taken if self.writer is not None else None
        return taken["progress"]["rows_read"] if taken else 0

    def _update(self, fields, push=None):
        return repository.update_import(self.doc["_id"], fields, state="running", run_id=self.run_id, push=push)

    def fail(self, error):
        """Failed with `error`: the counts, progress and faults of the batches written (a batch cut
        short by a write error: its rows and faults, and the entries the database wrote). False if
        the import had already ended (its last write was applied, then its answer timed out)."""
        fields = {"state": "failed", "error": error, "finished_at": utcnow(), **self.counts}
        taken = self.writer.taken_report() if self.writer is not None else None
        if taken is not None:
            fields.update(taken)
        try:
            return self._update(fields)
        finally:
            self.lease.stop()
            self._mark_regions(failed=True)

    def _mark_regions(self, *, failed=False):
        """The KPIs' read model learns of what the import wrote, once, after its last write
        (service.reports.summaries: bump after writing), done or failed (finding q19 F12). A run
        that changed nothing does not move it; a failed one that handed entries to a write does (a
        write cut short by a timeout may have been applied uncounted)."""
        handed = failed and self.writer is not None and self.writer.wrote_any
        if self.counts["inserted"] or self.counts["updated"] or handed:
            try:
                repository.registry_changed()
            except Exception:  # noqa: BLE001 (the read model's rows age out after MAX_AGE)
                log.exception("registry import %s: marking the regions failed", self.doc["_id"])

    def stopping(self):
        """Raise ImportStopped if the process is stopping or the import is no longer ours."""
        if self.stop is not None and self.stop.is_set():
            raise ImportStopped("the service is stopping")
        if not self.lease.held():
            raise ImportStopped("its heartbeat lapsed")

    def run(self):
        doc = self.doc
        self.lease.start()
        started = time.monotonic()
        data = repository.read_file(doc["file_id"])
        with contextlib.ExitStack() as stack:
            opening = time.monotonic()  # choosing the reader on the sheet's XML
            stream = stack.enter_context(importer.open_rows(data))
            stream.reading_seconds += time.monotonic() - opening
            writer = self.writer = stack.enter_context(BatchWriter(self, stream.rows_total))
            rows = iter(stream)
            head = list(itertools.islice(rows, importer.HEADER_SEARCH_ROWS))
            # A file without its header writes nothing (the message says what was searched, and where the header is).
            header_index, columns = importer.find_header(head, source=stream, later=rows)
            validator = importer.Validator(columns)
            self.problems = validator.problems
            batch, rows_read = [], head[header_index][0]

            def progress():
                return {"progress": {"rows_read": rows_read, "rows_total": stream.rows_total},
                        "total": validator.total, "rejected": validator.rejected,
                        "bad_rows_total": validator.problems_total, "bad_rows_truncated": validator.truncated,
                        "_listed": len(validator.problems)}

            looping = time.monotonic()
            for number, cells in itertools.chain(head[header_index + 1:], rows):
                rows_read = number
                entry = validator.check(number, cells)
                if entry is not None:
                    batch.append(entry)
                if validator.total % IMPORT_BATCH_ROWS == 0:
                    self.stopping()
                    writer.put(batch, progress())
                    batch = []
            if stream.ended_after_blank_run_at is not None:
                validator.ended_after_blank_run(stream.ended_after_blank_run_at)
            self.stopping()
            writer.put(batch, progress(), final=True)
            looping = time.monotonic() - looping
            writer.finish()
        del data
        # Where the time went (kept in the import document for operators and benchmarks/registry_import.py;
        # not part of the API): reading the file, checking rows, writing (the writer thread, overlapping
        # the first two), and the reader's wait for the writer (write-bound when large).
        timings = {"reading_ms": round(stream.reading_seconds * 1000), "writing_ms": round(writer.writing_seconds * 1000),
                   "waiting_for_writes_ms": round(writer.waiting_seconds * 1000),
                   "registry_read": writer.digests.read_summary(),
                   "checking_ms": round(max(0.0, looping - stream.reading_seconds - writer.waiting_seconds) * 1000)}
        try:
            # Marked before `done` is written: a client that reads `done` and then asks the registry
            # list finds it stale and waits for its rebuild (re-check q23 F2: the list answered
            # without the import for ~0.5 s after done).
            self._mark_regions()
            # The file is let go once the import no longer names it (a process dying between the two
            # leaves it to the upkeep's sweep of unnamed files); not if the import is no longer ours.
            if self._update({
                    "state": "done", "finished_at": utcnow(), "total": validator.total, "rejected": validator.rejected,
                    **self.counts, "bad_rows": validator.problems, "bad_rows_total": validator.problems_total,
                    "bad_rows_truncated": validator.truncated, "file_id": None,
                    "duration_ms": round((time.monotonic() - started) * 1000),
                    "progress": {"rows_read": rows_read, "rows_total": stream.rows_total}, "timings": timings}):
                repository.delete_file(doc["file_id"])
        finally:
            self.lease.stop()


class Heartbeat:
    """The heartbeat of an import in hand (see HEARTBEAT_SECONDS): a thread renewing
    `heartbeat_at` of the import while it is this run's and running. `held()`: whether the run may
    still write (renewed within OWN_LEASE_SECONDS and never found taken); `remaining()`: seconds
    left of that."""

    def __init__(self, import_id, run_id):
        self.import_id, self.run_id = import_id, run_id
        self.renewed = time.monotonic()  # claim_next wrote the first heartbeat
        self.lost = False
        self._stop = threading.Event()
        context = contextvars.copy_context()
        self._thread = threading.Thread(target=context.run, args=(self._loop,), name="registry-import-heartbeat",
                                        daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()

    def remaining(self):
        return OWN_LEASE_SECONDS - (time.monotonic() - self.renewed)

    def held(self):
        return not self.lost and self.remaining() > 0

    def _loop(self):
        while not self._stop.wait(HEARTBEAT_SECONDS):
            asked = time.monotonic()
            try:
                with pymongo.timeout(max(HEARTBEAT_SECONDS, 5.0)):
                    ours = repository.update_import(self.import_id, {"heartbeat_at": utcnow()}, state="running",
                                                    run_id=self.run_id)
            except Exception:  # noqa: BLE001 (the database is away: the lease runs out unless renewed)
                continue
            if not ours:  # failed as stale by another worker, or by this run: stop writing
                self.lost = True
                return
            self.renewed = asked


# The writer's database time limit per batch (pymongo.timeout). A request's 10 s socket timeout
# (MONGODB_SOCKET_TIMEOUT_MS) is too short for background work on a loaded server.
BATCH_TIMEOUT_SECONDS = 300


class BatchWriter:
    """Writes an import's batches in a thread of its own, in order, while the caller reads the
    next ones; after each batch the import's counts, progress and newly found faults are stored
    (so what a client polls is what is written). At most WRITE_AHEAD_BATCHES wait: memory stays
    bounded. A write that fails stops the writer; the caller's next `put` or `finish` raises it
    (the batches after it are never written). Before each batch the writer checks that its run
    may still write (ImportRun.stopping). A context manager: leaving it on a fault found while
    reading writes the batches queued before it; on ImportStopped it writes none of them (the
    batch being written is finished) and stops the thread.

    The registry's indexes stay in place and the registry is read a part at a time (StoredDigests):
    on the embedded database every other request kept answering (benchmarks/registry_probe.py).
    Before, a first import into an empty registry dropped the indexes and built them again at its
    end, and any other import read the whole registry in one find: the embedded server holds its
    storage lock through an index build and through a find's whole scan, so every request waited
    (GET /me 8-14 s, reports 503 after a 10 s database timeout), and once the index build under
    the probes' load wedged the server for over 4 minutes (WiredTiger waiting for cache pages
    pinned by the readers queued on that lock)."""

    # Batches read ahead of writing; 50 batches of 1,000 entries are ~15 MB.
    WRITE_AHEAD_BATCHES = 50
    _DONE = object()

    def __init__(self, run, rows_total=None):
        self.run, self.import_id, self.counts, self.rows_total = run, run.doc["_id"], run.counts, rows_total
        self.error = None
        self.taken = None  # the progress of the last batch taken for writing (written, or cut short)
        self.wrote_any = False
        self._pushed = 0  # listed faults already stored
        self._abandon = threading.Event()
        self.writing_seconds = self.waiting_seconds = 0.0  # the writer's busy time; the caller's wait in put
        self.digests = repository.StoredDigests()
        self._queue = queue.Queue(maxsize=self.WRITE_AHEAD_BATCHES)
        context = contextvars.copy_context()  # the app context (and the service clock) of the caller
        self._thread = threading.Thread(target=context.run, args=(self._loop,), name="registry-import-writer",
                                        daemon=True)
        self._thread.start()

    def taken_report(self):
        """The report fields of the batches taken for writing (a failed import's report)."""
        if self.taken is None:
            return None
        listed = self.taken["_listed"]
        return {**{key: value for key, value in self.taken.items() if key != "_listed"},
                "bad_rows": self.run.problems[:listed]}

    def _file_rows_per_row_read(self, progress, final):
        """How many rows the file holds per row read so far (1 at its end): a part of the registry
        a batch touches is worth reading whole when the file brings many rows of it."""
        rows_read = progress["progress"]["rows_read"] or 1
        if final or not self.rows_total:
            return 1.0
        return max(1.0, self.rows_total / rows_read)

    def _loop(self):
        while True:
            item = self._queue.get()
            if item is self._DONE or self._abandon.is_set():
                return
            entries, progress, final = item
            started = time.monotonic()
            try:
                self.run.stopping()
                self.taken = progress
                if entries:
                    self.wrote_any = True
                with pymongo.timeout(max(1.0, min(BATCH_TIMEOUT_SECONDS, self.run.lease.remaining()))):
                    _write(entries, self.counts, self.digests, self._file_rows_per_row_read(progress, final))
                listed = progress["_listed"]
                new_faults = self.run.problems[self._pushed:listed]
                self.run._update({**{k: v for k, v in progress.items() if k != "_listed"}, **self.counts},
                                 push={"bad_rows": new_faults} if new_faults else None)
                self._pushed = listed
            except BaseException as exc:  # handed to the caller's thread, which fails the import
                self.error = exc
                return
            finally:
                self.writing_seconds += time.monotonic() - started

    def _raise_error(self):
        if self.error is not None:
            raise self.error

    def put(self, entries, progress, *, final=False):
        """Queue a batch (a list the caller no longer touches) with the progress it brings; `final`:
        the file's last batch."""
        started = time.monotonic()
        while True:
            self._raise_error()
            try:
                self._queue.put((entries, progress, final), timeout=0.2)
                self.waiting_seconds += time.monotonic() - started
                return
            except queue.Full:
                if not self._thread.is_alive():
                    self._raise_error()
                    raise RuntimeError("registry import writer stopped")
                self.run.stopping()

    def finish(self):
        """Wait until every queued batch is written; raise the write's error if one failed."""
        self._raise_error()
        while self._thread.is_alive():
            try:
                self._queue.put(self._DONE, timeout=0.2)
                break
            except queue.Full:
                continue
        self._thread.join()
        self._raise_error()

    def abandon(self):
        """Write no more queued batches: wait for the batch being written."""
        self._abandon.set()
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(self._DONE)
        self._thread.join()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is None:
            return
        if issubclass(exc_type, ImportStopped):
            self.abandon()
            return
        # Left by a fault found while reading (a file-level fault at row N): the batches read before
        # it are good rows and are written, as if written at once; the reading fault is what is reported.
        try:
            self.finish()
        except Exception:  # noqa: BLE001 (the fault being raised is the one the import reports)
            log.exception("registry import %s: writing the batches before a fault failed", self.import_id)


# A part of the registry (one region's entries of one title) is read whole (StoredDigests.load) once
# the file is expected to bring at least this many rows of it; fewer rows are looked up by their
# credit codes (one read per 50 codes). A look-up costs about as much per row as reading ten stored
# entries, and a part holds some thousands: a 21-row file into a registry of 150,000 reads its 21
# codes, a national list reads each part once.
READ_PART_MIN_ROWS = 500


def _write(entries, counts, digests, file_rows_per_row_read=1.0):
    """Write what is new or different: a re-import of the same file writes nothing. Compared with
    the parts of the registry `digests` (StoredDigests) holds, reading the parts this batch brings
    many rows of (READ_PART_MIN_ROWS, scaled by `file_rows_per_row_read`: what the rest of the
    file is expected to bring), else by reading the batch's stored entries (one read per 50 codes)."""
    if not entries:
        return
    codes_by_part = collections.defaultdict(list)
    for entry in entries:
        codes_by_part[repository.registry_part(entry)].append(entry["credit_code"])
    for part, codes in codes_by_part.items():
        expected = len(codes) * file_rows_per_row_read
        if expected >= READ_PART_MIN_ROWS:
            digests.load(part, sample_codes=codes, expected_entries=round(expected))
    new, changed = [], []
    looked_up = [entry for entry in entries if not digests.holds(entry)]
    stored = repository.entries_for(e["credit_code"] for e in looked_up) if looked_up else {}
    for entry in entries:
        if digests.holds(entry):
            state = digests.state(entry)
        else:
            current = stored.get((entry["credit_code"], entry["title"]))
            state = ("new" if current is None else "changed"
                     if any(current.get(field) != entry[field] for field in repository.ENTRY_FIELDS) else "unchanged")
        if state == "unchanged":
            counts["unchanged"] += 1
        else:
            (new if state == "new" else changed).append(entry)
    # Counted as each chunk is written (`into`): a write failing midway leaves what it wrote counted.
    repository.save_entries(new=new, changed=changed, now=utcnow(), mark_regions=False, into=counts)


def get_report_or_raise(*, report_id):
    report = repository.get_report(report_id)
    if report is None:
        raise NotFound("REGISTRY_IMPORT_NOT_FOUND", "导入记录不存在")
    return report


def list_reports(*, page=1, page_size=20):
    items, total = repository.find_reports(skip=(page - 1) * page_size, limit=page_size)
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def _scope(identity, region_code):
    """The region filter a caller may use: admins any; province staff only their own."""
    if identity.is_admin:
        return region_code
    if PROVINCE_STAFF not in identity.roles:
        raise Forbidden("ROLE_REQUIRED", "只有组织方和地方主管部门可以查看企业名录")
    if region_code:
        ensure_region(identity, region_code)
        return region_code
    return {"$in": sorted(identity.region_codes)}


def list_enterprises(*, identity, region_code=None, title=None, credit_code=None, q=None, valid_on=None,
                     page=1, page_size=20):
    """Registry entries, filtered, sorted by region, title, credit code; province staff see their own
    region only. {items, total, page, page_size}. A page is found in the list's read model
    (service.registry.listing: every entry's line, searched in Python) and only its entries are
    read; an exact credit code (the unique index finds it) or a search holding a tab, line break
    or control character goes to the database as before."""
    region_filter = _scope(identity, region_code)
    q = q.strip() if q else None
    if credit_code or (q and not listing.searchable(q)):
        return _list_from_database(region_filter, title=title, credit_code=credit_code, q=q, valid_on=valid_on,
                                   page=page, page_size=page_size)
    region_codes = None
    if region_filter:
        region_codes = region_filter["$in"] if isinstance(region_filter, dict) else [region_filter]
    lines = listing.current().select(region_codes=region_codes, title=title or None, q=q or None,
                                     day=valid_on.isoformat() if valid_on else None)
    start = (page - 1) * page_size
    items = repository.entries_by_key([listing.key_of(line) for line in lines[start:start + page_size]])
    return _page(items, total=len(lines), page=page, page_size=page_size)


def _list_from_database(region_filter, *, title, credit_code, q, valid_on, page, page_size):
    query = {}
    if region_filter:
        query["region_code"] = region_filter
    if title:
        query["title"] = title
    if credit_code:
        query["credit_code"] = credit_code.strip().upper()
    if q:
        query["name"] = {"$regex": re.escape(q)}
    if valid_on:
        day = valid_on.isoformat()
        query["valid_from"] = {"$lte": day}
        query["valid_until"] = {"$gte": day}
    items, total = repository.find_entries(query, skip=(page - 1) * page_size, limit=page_size)
    return _page(items, total=total, page=page, page_size=page_size)


def _page(items, *, total, page, page_size):
    for item in items:
        item["region_name"] = regions.name_of(item["region_code"])
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def template_sheets():
    """The sheets of the import template (header row, how to fill it in, region codes)."""
    return importer.template_sheets()


def save_sample(entries):
    """Upsert ready-made entries (the demo's sample); counts as an import would report them."""
    return repository.upsert_entries(entries, now=utcnow())
