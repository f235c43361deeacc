"""MongoDB access: one client per process, created lazily so it is made after a fork."""

import datetime as dt
import os
import threading

import pymongo
from flask import current_app
from pymongo.write_concern import WriteConcern

from service.core import embedded

UTC = dt.timezone.utc


class Mongo:
    """Flask extension holding the process's MongoClient (flask-pymongo's habit)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._clients = {}  # (pid, uri) -> MongoClient

    def init_app(self, app):
        if not app.config.get("MONGODB_URI"):
            app.config["MONGODB_URI"] = embedded.ensure_started(app.config["EMBEDDED_DATA_DIR"])
        app.extensions["mongo"] = self

    def client_for(self, config):
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

    def db_for(self, config):
        return self.client_for(config).get_database(
            config["MONGODB_DB"], write_concern=WriteConcern(w="majority"))


mongo = Mongo()


def get_db():
    """The application's database for the current app context."""
    return mongo.db_for(current_app.config)


def collection(name):
    return get_db()[name]


def utcnow():
    """Now in UTC, at millisecond precision: what BSON stores, so an answer built from the
    document just written equals the one read back later."""
    now = dt.datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


# Long `$in` lists go out in chunks: MongoDB takes any size, but the embedded development server
# checks every matched document against the whole list, so its cost grows with the list squared.
IN_CHUNK = 50


def in_chunks(values, size=IN_CHUNK):
    """`values` sorted, in lists of at most `size`, for `$in` filters."""
    values = sorted(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


# Every repository module registers the indexes of its collections here; `ensure_indexes`
# creates them idempotently at start-up and from `lingjun init-db`.
INDEXES = []


def declare_indexes(collection_name, *models):
    """Declare pymongo IndexModels for a collection (called at import time by repositories)."""
    INDEXES.append((collection_name, models))


def ensure_indexes(db):
    for name, models in INDEXES:
        db[name].create_indexes(list(models))
