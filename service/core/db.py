"""MongoDB access: one client per process, created lazily so it is made after a fork."""

import datetime as dt
import logging
import os
import queue
import threading

import pymongo
from flask import current_app
from pymongo.errors import OperationFailure
from pymongo.write_concern import WriteConcern

from service.core import embedded, forksafe
from service.core.timeutil import clock_offset

log = logging.getLogger(__name__)
UTC = dt.timezone.utc
INDEX_NOT_FOUND = 27  # MongoDB error code


class Mongo:
    """Flask extension holding the process's MongoClient (flask-pymongo's habit)."""

    def __init__(self):
        self._lock = forksafe.Lock()  # a child creates its own client under it
        self._clients = {}  # (pid, uri) -> MongoClient
        self._databases = {}  # (pid, uri, database name) -> Database of that client
        self._collections = {}  # (pid, uri, database name, collection name) -> Collection

    def init_app(self, app):
        # No connection (nor embedded server) yet: commands such as `lingjun openapi` build the
        # app without a database; the first use starts or finds one.
        app.extensions["mongo"] = self

    @staticmethod
    def _resolve(config):
        if not config.get("MONGODB_URI"):
            config["MONGODB_URI"] = embedded.ensure_started(
                config["EMBEDDED_DATA_DIR"], restart_attempts=config.get("EMBEDDED_RESTART_ATTEMPTS", 5))

    def client_for(self, config):
        self._resolve(config)
        key = (os.getpid(), config["MONGODB_URI"])
        client = self._clients.get(key)
        if client is None:
            with self._lock:
                client = self._clients.get(key)
                if client is None:
                    client = pymongo.MongoClient(
                        config["MONGODB_URI"],
                        tz_aware=True,
                        tzinfo=UTC,
                        w="majority",
                        serverSelectionTimeoutMS=config["MONGODB_SERVER_SELECTION_TIMEOUT_MS"],
                        socketTimeoutMS=config["MONGODB_SOCKET_TIMEOUT_MS"],
                        connectTimeoutMS=config["MONGODB_SERVER_SELECTION_TIMEOUT_MS"],
                        appname="lingjun",
                    )
                    self._clients[key] = client
        return client

    def close_all(self):
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
            self._databases.clear()
            self._collections.clear()

    def db_for(self, config):
        # Database and collection handles are kept with the client: building them (and their
        # write concern) on every call was a visible share of a check-in's time.
        self._resolve(config)
        key = (os.getpid(), config["MONGODB_URI"], config["MONGODB_DB"])
        database = self._databases.get(key)
        if database is None:
            database = self.client_for(config).get_database(
                config["MONGODB_DB"], write_concern=WriteConcern(w="majority"))
            self._databases[key] = database
        return database

    def collection_for(self, config, name):
        self._resolve(config)
        key = (os.getpid(), config["MONGODB_URI"], config["MONGODB_DB"], name)
        found = self._collections.get(key)
        if found is None:
            found = self._collections[key] = self.db_for(config)[name]
        return found


mongo = Mongo()


def get_db():
    """The application's database for the current app context."""
    return mongo.db_for(current_app.config)


def collection(name):
    return mongo.collection_for(current_app.config, name)


def utcnow():
    """Now in UTC, at millisecond precision: what BSON stores, so an answer built from the
    document just written equals the one read back later."""
    now = dt.datetime.now(UTC)
    offset = clock_offset()
    if offset is not None:  # the demo seed replaying history (service.core.timeutil.replaying)
        now += offset
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


READ_AHEAD_CHUNK, READ_AHEAD_CHUNKS = 500, 4


def read_ahead(iterable, *, chunk=READ_AHEAD_CHUNK, chunks=READ_AHEAD_CHUNKS):
    """Yield what `iterable` yields (a cursor, or a generator running queries), read by a second
    thread at most `chunks` lists of `chunk` items ahead, in a copy of the app context. An export
    then writes rows while the database finds the next ones: the database works in its own process,
    so with two cores the export takes about the longer of reading and writing, not their sum.
    The reader's exception is raised here; when the consumer stops early (an error while writing),
    the reader stops too. Items travel in lists: a queue hand-over per row cost more than it saved."""
    app = current_app._get_current_object()
    ahead = queue.Queue(maxsize=chunks)
    stopped = threading.Event()
    done = object()

    def put(entry):
        while not stopped.is_set():
            try:
                ahead.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read():
        try:
            with app.app_context():
                batch = []
                for item in iterable:
                    batch.append(item)
                    if len(batch) >= chunk:
                        if not put((None, batch)):
                            return
                        batch = []
                if batch and not put((None, batch)):
                    return
        except BaseException as error:  # noqa: BLE001 - handed to the consumer and raised there
            put((error, None))
            return
        put((None, done))

    reader = threading.Thread(target=read, name="read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            error, batch = ahead.get()
            if error is not None:
                raise error
            if batch is done:
                return
            yield from batch
    finally:
        stopped.set()
        reader.join(timeout=5)


# Long `$in` lists go out in chunks: MongoDB takes any size, but the embedded development server
# checks every matched document against the whole list, so its cost grows with the list squared.
IN_CHUNK = 50


def in_chunks(values, size=IN_CHUNK):
    """`values` sorted, in lists of at most `size`, for `$in` filters."""
    values = sorted(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


# Who owns which collection (STYLE.md, "A collection has one owner"): only the owning package reads
# or writes it, declares its indexes and builds pipelines over it; another feature calls a small,
# named function of the owner's repository. Names, not imports: the core imports no feature.
# tests/test_architecture.py reads the source tree and fails on any use outside the owner.
COLLECTION_OWNERS = {
    "attendance": "service.attendance",
    "session_checkins": "service.attendance",
    "session_tallies": "service.attendance",
    "auth_tokens": "service.auth",
    "login_codes": "service.auth",
    "certificates": "service.completion",
    "certificate_counters": "service.completion",
    "completion_warnings": "service.completion",
    "classes": "service.classes",
    "console_logins": "service.console_login",
    "console_sessions": "service.console_login",
    "leave_requests": "service.leave",
    "outbox": "service.outbox",
    "performance_targets": "service.evaluation",
    "programmes": "service.programmes",
    "ratings": "service.ratings",
    "rating_receipts": "service.ratings",
    "registrations": "service.registrations",
    "enterprises": "service.registry",
    "registry_imports": "service.registry",
    "registry_files.files": "service.registry",
    "registry_files.chunks": "service.registry",
    "registry_list": "service.registry",
    "report_versions": "service.reports",
    "report_region_counts": "service.reports",
    "staff_accounts": "service.staff",
    "trainee_profiles": "service.trainees",
    "phone_exchange_counters": "service.trainees",
    "attachments.files": "service.trainees",
    "attachments.chunks": "service.trainees",
    "users": "service.users",
    "wechat_sessions": "service.users",
    "wechat_access_tokens": "service.core.wechat",
    "rate_limit_counters": "service.core.ratelimit",
    "rate_limit_windows": "service.core.ratelimit",
}

# Every repository module registers the indexes of its collections here; `ensure_indexes`
# creates them idempotently at start-up and from `lingjun init-db`, and drops retired ones.
INDEXES = []
RETIRED_INDEXES = []


def declare_indexes(collection_name, *models):
    """Declare pymongo IndexModels for a collection (called at import time by repositories)."""
    INDEXES.append((collection_name, models))


def retire_indexes(collection_name, *index_names):
    """Declare indexes an earlier version created and this one no longer wants (each index costs
    every insert); `ensure_indexes` drops them where they still exist."""
    RETIRED_INDEXES.append((collection_name, index_names))


# Data migrations: functions a feature declares at import (`declare_migration`), run after the
# indexes at start-up and by `lingjun init-db`, in the app context. Each must be idempotent (a
# second run changes nothing) and safe beside requests of other processes: every process runs
# them when it starts, and there is no lock.
MIGRATIONS = []


def declare_migration(function):
    """Declare `function()` -> number of documents changed as a migration (see MIGRATIONS)."""
    MIGRATIONS.append(function)
    return function


def run_migrations():
    """Run every declared migration; {name: documents changed} of those that changed something."""
    changed = {}
    for function in MIGRATIONS:
        count = function()
        if count:
            changed[f"{function.__module__}.{function.__name__}"] = count
    if changed:
        log.info("data migrated: %s", changed)
    return changed


def ttl_indexes():
    """[(collection, field, seconds, partial filter or None)] of every declared TTL index (one
    field, as MongoDB's TTL monitor takes them)."""
    found = []
    for name, models in INDEXES:
        for model in models:
            spec = model.document
            keys = list(spec["key"])
            if spec.get("expireAfterSeconds") is not None and len(keys) == 1:
                found.append((name, keys[0], spec["expireAfterSeconds"], spec.get("partialFilterExpression")))
    return found


def expire_documents():
    """Delete the documents every declared TTL index says expired; -> {collection: number deleted}
    (only those that had some). MongoDB's TTL monitor does the same about once a minute; the
    embedded server runs without its own sweeper (service.core.embedded_server says why), so the
    worker's upkeep calls this. Each delete is a range of the TTL index: only expired entries are
    read. Reads never count on it: each read of those collections checks the expiry itself."""
    now = utcnow()
    deleted = {}
    for name, field, seconds, partial in ttl_indexes():
        expired = {field: {"$lt": now - dt.timedelta(seconds=seconds)}}  # dates only, as MongoDB's TTL
        if partial:
            expired = {"$and": [expired, partial]}
        count = collection(name).delete_many(expired).deleted_count
        if count:
            deleted[name] = deleted.get(name, 0) + count
    return deleted


# Functions run by ensure_indexes before it creates any index (`declare_before_indexes`): each makes
# its collection's data fit an index an earlier version did not have (a unique index does not build
# over duplicates, and the service would not start). Idempotent and safe beside other processes,
# like the migrations.
BEFORE_INDEXES = []


def declare_before_indexes(function):
    """Declare `function(db)` -> number of documents changed, run before the indexes are created."""
    BEFORE_INDEXES.append(function)
    return function


def ensure_indexes(db):
    for function in BEFORE_INDEXES:
        changed = function(db)
        if changed:
            log.info("data fitted to the indexes by %s.%s: %s document(s)", function.__module__,
                     function.__name__, changed)
    for name, models in INDEXES:
        db[name].create_indexes(list(models))
    for name, index_names in RETIRED_INDEXES:
        existing = set(db[name].index_information())
        for index_name in set(index_names) & existing:
            try:
                db[name].drop_index(index_name)
            except OperationFailure as exc:
                if exc.code != INDEX_NOT_FOUND:  # another process starting at the same time dropped it
                    raise
