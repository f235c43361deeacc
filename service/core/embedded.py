"""Embedded MongoDB-compatible server (SecantusDB) for development, demo and tests.

It runs as a child process (`secantusd-py`) so the database does not share the service's
interpreter lock, listens on 127.0.0.1 on a free port, and is stopped when the process that
started it exits.

A data directory holds one server at a time (the storage engine locks it). The server's
address is left in the directory (`lingjun-embedded.json`), so every other command beside a
running service (`lingjun users create`, `init-db`, `worker`, a second process) uses that server
instead of trying to start a second one on the same files. An address left by a server that is
gone, or by a service that died and left its database running, is cleared on the next start.
"""

import atexit
import datetime as dt
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pymongo

from service.core.timeutil import BEIJING

log = logging.getLogger(__name__)

ADDRESS_FILE = "lingjun-embedded.json"
LOG_FILE = "lingjun-embedded.log"
# A clean stop checkpoints; the server gets this long and is then killed, which loses nothing:
# SecantusDB writes every commit to WiredTiger's redo journal before answering (SIGKILL-durable,
# replayed on the next start). A clean stop took 1.5-2 s of the 2 s a stop may take.
STOP_TIMEOUT_SECONDS = 0.5
# A server killed a moment ago (`kill -9` of a service) still holds the files' lock while the
# kernel tears it down: a start waits this long for it to clear before refusing.
LOCK_WAIT_SECONDS = 3.0


class EmbeddedError(RuntimeError):
    """The embedded database cannot be used; the message says what to do (one line)."""


class _LockBusy(EmbeddedError):
    """The server exited because another process holds the data directory's lock."""


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_command():
    exe = shutil.which("secantusd-py") or os.path.join(os.path.dirname(sys.executable), "secantusd-py")
    if not os.path.exists(exe):
        raise EmbeddedError(
            "MONGODB_URI is not set and the embedded database is not installed: "
            "pip install -e '.[embedded]' or set MONGODB_URI"
        )
    return [exe]


def uri_for(port):
    # retryWrites=false: SecantusDB 0.7 keeps every retryable write's reply for 30 minutes and
    # scans (above 10,000 entries, sorts) that whole table on each write, so a write costs more
    # the more writes came before it (0.3 ms fresh, 12 ms after 10,000 writes). Retrying a
    # write after a network error buys nothing on a loopback server; a real MongoDB
    # (MONGODB_URI) keeps the driver's default of retryable writes.
    # serverMonitoringMode=poll: with the default streaming mode each client's monitor thread
    # sits in a 10 s awaitable `hello` that close() cannot interrupt, and pymongo joins every
    # monitor for up to 1 s at exit: stopping `lingjun serve` took 3 s more. Polling a loopback
    # server every 10 s costs nothing.
    return f"mongodb://127.0.0.1:{port}/?directConnection=true&retryWrites=false&serverMonitoringMode=poll"


def _alive(pid):
    """The process runs. A zombie does not: a service killed outright stays one until its parent
    reaps it, and a killed server holds no lock and answers nothing (but `kill(pid, 0)` succeeds)."""
    if not pid or not _exists(pid):
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):  # no /proc (not Linux), or it exited meanwhile
        return _exists(pid)


def _exists(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _answers(port, timeout=1.0):
    """Something accepts connections on 127.0.0.1:`port`."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def lock_holder(data_dir):
    """The pid holding the storage engine's lock on `data_dir` (WiredTiger.lock, an fcntl lock
    listed in /proc/locks), or None: nobody, or not knowable here."""
    try:
        info = os.stat(os.path.join(data_dir, "WiredTiger.lock"))
        with open("/proc/locks", encoding="ascii", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    device = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    for line in lines:
        fields = line.split()
        if len(fields) > 5 and fields[5] == device and fields[4].isdigit():
            return int(fields[4])
    return None


def _is_server(pid):
    """`pid` is a live embedded server (not a zombie, nor another program that got its pid)."""
    if not _alive(pid):
        return False
    command = _command_line(pid)
    return not command or "secantusd" in command


def _command_line(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def _address_path(data_dir):
    return os.path.join(data_dir, ADDRESS_FILE)


def read_address(data_dir):
    """What the server holding `data_dir` left there ({uri, port, pid, owner_pid, ...}), or None."""
    try:
        with open(_address_path(data_dir), encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def _write_address(data_dir, address):
    path = _address_path(data_dir)
    with open(path + ".tmp", "w", encoding="utf-8") as fh:
        json.dump(address, fh)
    os.replace(path + ".tmp", path)


def _stop_pid(pid, timeout=STOP_TIMEOUT_SECONDS):
    """Stop a server we did not start (left by a service that died)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def running(data_dir):
    """The live server of `data_dir` started by a live process: its address, or None.

    Clears what a dead one left: an address whose server is gone (killed, or a zombie), or a
    server whose service died (killed outright: it would hold the directory with nobody to stop
    it). A live service whose server does not answer is refused (EmbeddedError), never touched.
    """
    address = read_address(data_dir)
    if address is None:
        return None
    server_alive = _is_server(address.get("pid"))
    if server_alive and _alive(address.get("owner_pid")):
        # Busy or not, a live service's database is never touched. The kernel accepts connections
        # on a listening port even while the server is busy, so this tells "gone" from "busy".
        if _answers(address.get("port")):
            return address
        raise EmbeddedError(
            f"the embedded database in {os.path.abspath(data_dir)} belongs to a running service "
            f"(pid {address.get('owner_pid')}) but does not answer on port {address.get('port')}: "
            f"stop that service (kill {address.get('owner_pid')}), or set EMBEDDED_DATA_DIR to another directory")
    if server_alive:
        log.warning("stopping the embedded database (pid %s) left running by a service that exited",
                    address.get("pid"))
        _stop_pid(address["pid"])
    elif address.get("pid"):
        log.warning("clearing the address left by an embedded database (pid %s) that is gone", address["pid"])
    try:
        os.remove(_address_path(data_dir))
    except FileNotFoundError:
        pass
    return None


def announce(data_dir, **service):
    """Record what the running service uses (`database`, `demo`, `wechat_api_base` of the fake
    WeChat, `url`), for commands and processes run beside it. Only the server's owner writes."""
    address = read_address(data_dir)
    if address is not None and address.get("owner_pid") == os.getpid():
        _write_address(data_dir, {**address, **service})


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
        self.owner_pid = None
        self._log_start = 0

    @property
    def uri(self):
        return uri_for(self.port)

    @property
    def _persistent(self):
        return self.data_dir != ":memory:"

    def _log_path(self):
        if self.log_file:
            return self.log_file
        return os.path.join(self.data_dir, LOG_FILE) if self._persistent else os.devnull

    def _refusal(self):
        """One line saying why the server exited and what to do, and whether the files were locked."""
        try:
            with open(self._log_path(), encoding="utf-8", errors="replace") as fh:
                fh.seek(self._log_start)
                tail = fh.read()[-4000:]
        except OSError:
            tail = ""
        where = os.path.abspath(self.data_dir)
        if "lock" in tail.lower() or "resource busy" in tail.lower():
            return (f"the embedded database files in {where} are in use by another process: stop it, "
                    "or set EMBEDDED_DATA_DIR to another directory, or MONGODB_URI to a running MongoDB"), True
        last = next((line.strip() for line in reversed(tail.splitlines()) if line.strip()), "")
        return (f"the embedded database exited with {self.process.returncode} ({last[:200] or 'no output'}); "
                f"see {self._log_path()}, or set EMBEDDED_DATA_DIR to another directory"), False

    def _wait_for_lock(self):
        """Wait briefly for a holder of the files to let go (a server killed a moment ago still
        holds its lock while the kernel tears it down); refuse if a live process keeps them."""
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            holder = lock_holder(self.data_dir)
            if holder is None or holder == os.getpid():
                return
            if time.monotonic() > deadline:
                command = _command_line(holder)[:80] or "unknown command"
                raise EmbeddedError(
                    f"the embedded database files in {os.path.abspath(self.data_dir)} are in use by process "
                    f"{holder} ({command}): stop it "
                    f"(kill {holder}), or set EMBEDDED_DATA_DIR to another directory, or MONGODB_URI to a running MongoDB")
            time.sleep(0.05)

    def start(self, timeout=30):
        if self._persistent:
            os.makedirs(self.data_dir, exist_ok=True)
            self._wait_for_lock()
        try:
            return self._start(timeout)
        except _LockBusy:
            # Held between our look and the server's start (or no /proc/locks here): once more.
            self._wait_for_lock()
            try:
                return self._start(timeout)
            except _LockBusy as busy:
                raise EmbeddedError(str(busy)) from None

    def _start(self, timeout):
        self.port = _free_port()
        out = open(self._log_path(), "ab")
        self._log_start = out.tell()  # what this start wrote, not an earlier start's lock error
        extra = ["--enable-test-commands"] if self.test_commands else []
        self.process = subprocess.Popen(
            _server_command() + ["--host", "127.0.0.1", "--port", str(self.port),
                                 "--storage-path", self.data_dir, "--log-level", "WARNING", *extra],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            # Its own session: Ctrl-C in the terminal reaches the service, which stops the
            # database last, after the requests and background jobs that still use it.
            start_new_session=True,
        )
        out.close()
        self.owner_pid = os.getpid()
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        client = pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=500)
        try:
            while True:
                if self.process.poll() is not None:
                    message, busy = self._refusal()
                    self.process = None
                    raise (_LockBusy if busy else EmbeddedError)(message)
                try:
                    client.admin.command("ping")
                    break
                except pymongo.errors.PyMongoError:
                    if time.monotonic() > deadline:
                        self.stop()
                        raise EmbeddedError(f"the embedded database did not answer within {timeout} s; "
                                            f"see {self._log_path()}")
                    time.sleep(0.1)
        finally:
            client.close()
        if self._persistent:
            _write_address(self.data_dir, {
                "uri": self.uri, "port": self.port, "pid": self.process.pid, "owner_pid": self.owner_pid,
                "started_at": dt.datetime.now(BEIJING).isoformat(timespec="seconds")})
        where = os.path.abspath(self.data_dir) if self._persistent else "memory"
        log.warning("MONGODB_URI not set: using the embedded database on 127.0.0.1:%s, data in %s",
                    self.port, where)
        return self

    def stop(self):
        """Stop the server if this process started it; True if it did."""
        # Forked gunicorn workers inherit this object and its atexit hook: only the process that
        # started the server stops it.
        if self.process is None or os.getpid() != self.owner_pid:
            return False
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._persistent and (read_address(self.data_dir) or {}).get("pid") == self.process.pid:
            try:
                os.remove(_address_path(self.data_dir))
            except FileNotFoundError:
                pass
        self.process = None
        return True


_embedded = None
_lock = threading.Lock()


def ensure_started(data_dir):
    """The URI of the server holding `data_dir`: the one already running there (started by
    this or another process), or a new one this process starts and stops at exit."""
    global _embedded
    with _lock:
        if _embedded is not None and _embedded.process is not None and _embedded.data_dir == data_dir:
            return _embedded.uri
        if data_dir != ":memory:":
            address = running(data_dir)
            if address is not None:
                return address["uri"]
        _embedded = EmbeddedMongo(data_dir).start()
        return _embedded.uri


def stop():
    """Stop the server this process started, if any (also done at exit); True if there was one.
    A server another process started (found through its address) is never stopped here."""
    with _lock:
        return _embedded is not None and _embedded.stop()
