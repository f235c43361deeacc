"""Embedded MongoDB-compatible server (SecantusDB) for development, demo and tests.

It runs as a child process (`secantusd-py`) so the database does not share the
service's interpreter lock, listens on 127.0.0.1 on a free port, and is stopped
when the parent exits.
"""

import atexit
import logging
import os
import shutil
import socket
import subprocess
import sys
import time

import pymongo

log = logging.getLogger(__name__)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_command():
    exe = shutil.which("secantusd-py") or os.path.join(os.path.dirname(sys.executable), "secantusd-py")
    if not os.path.exists(exe):
        raise RuntimeError(
            "MONGODB_URI is not set and the embedded database is not installed: "
            "pip install -e '.[embedded]' or set MONGODB_URI"
        )
    return [exe]


class EmbeddedMongo:
    """One `secantusd-py` child process and the URI to reach it."""

    def __init__(self, data_dir, log_file=None, test_commands=False):
        self.data_dir = data_dir
        self.log_file = log_file
        # configureFailPoint (fault injection) for the test suite only: anyone reaching the port
        # could otherwise make the server fail every command.
        self.test_commands = test_commands
        self.port = None
        self.process = None

    @property
    def uri(self):
        # retryWrites=false: SecantusDB 0.7 keeps every retryable write's reply for 30 minutes and
        # scans (above 10,000 entries, sorts) that whole table on each write, so a write costs more
        # the more writes came before it (0.3 ms fresh, 12 ms after 10,000 writes). Retrying a
        # write after a network error buys nothing on a loopback server; a real MongoDB
        # (MONGODB_URI) keeps the driver's default of retryable writes.
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true&retryWrites=false"

    def start(self, timeout=30):
        if self.data_dir != ":memory:":
            os.makedirs(self.data_dir, exist_ok=True)
        self.port = _free_port()
        out = open(self.log_file or os.devnull, "ab")
        extra = ["--enable-test-commands"] if self.test_commands else []
        self.process = subprocess.Popen(
            _server_command() + ["--host", "127.0.0.1", "--port", str(self.port),
                                 "--storage-path", self.data_dir, "--log-level", "WARNING", *extra],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        out.close()
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        client = pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=500)
        try:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"embedded database exited with {self.process.returncode}")
                try:
                    client.admin.command("ping")
                    break
                except pymongo.errors.PyMongoError:
                    if time.monotonic() > deadline:
                        self.stop()
                        raise RuntimeError("embedded database did not answer in time")
                    time.sleep(0.1)
        finally:
            client.close()
        where = "memory" if self.data_dir == ":memory:" else os.path.abspath(self.data_dir)
        log.warning("MONGODB_URI not set: using the embedded database on 127.0.0.1:%s, data in %s",
                    self.port, where)
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None


_embedded = None


def ensure_started(data_dir):
    """Start the process-wide embedded server once and return its URI."""
    global _embedded
    if _embedded is None or _embedded.process is None:
        _embedded = EmbeddedMongo(data_dir).start()
    return _embedded.uri
