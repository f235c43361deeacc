"""Embedded MongoDB-compatible server (SecantusDB) for development, demo and tests.

It runs as a child process (`secantusd-py`) so the database does not share the service's
interpreter lock, listens on 127.0.0.1 on a free port, and is stopped when the process that
started it exits.

A data directory holds one server at a time (the storage engine locks it). The server's
address is left in the directory (`lingjun-embedded.json`), so every other command beside a
running service (`lingjun users create`, `init-db`, `worker`, a second process) uses that server
instead of trying to start a second one on the same files. An address left by a server that is
gone, or by a service that died and left its database running, is cleared on the next start.

The process that started the server watches it: a server that dies under a running service
(killed, crashed) is started again on the same port and files, so the service's clients reconnect
by themselves. While that service lives, nothing else clears its address or starts a server on its
files: a command beside it waits for the restart, or is refused naming the service.
"""

import atexit
import importlib.util
import datetime as dt
import json
import logging
import os
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
# A server that dies under its service is started again, on the same port (the service's clients
# keep its address) and files: this many attempts, the first after RESTART_FIRST_DELAY_SECONDS and
# each next one after twice the delay (0.5, 1, 2, 4, 8 s: about 20 s with the starts). A server
# that then runs RESTART_STABLE_SECONDS gets every attempt again at its next death; one that keeps
# dying sooner uses up the same attempts (no restart loop).
RESTART_ATTEMPTS = 5
RESTART_FIRST_DELAY_SECONDS = 0.5
RESTART_STABLE_SECONDS = 60.0
WATCH_INTERVAL_SECONDS = 0.25
# How long a command beside a live service waits for that service to start its database again;
# and for the service to say it does (it notices a death within WATCH_INTERVAL_SECONDS: a service
# that says nothing, an older version say, is not starting it again).
SERVICE_RESTART_WAIT_SECONDS = 25.0
SERVICE_NOTICE_SECONDS = 3.0


class EmbeddedError(RuntimeError):
    """The embedded database cannot be used; the message says what to do (one line)."""

    exit_code = 1


class HeldByService(EmbeddedError):
    """The data directory belongs to a live service whose database cannot be used now (down and
    not started again, or not answering): refused, never touched (exit code 2)."""

    exit_code = 2


class _Stopping(EmbeddedError):
    """The server was being started again when its owner stopped."""


class _LockBusy(EmbeddedError):
    """The server exited because another process holds the data directory's lock."""


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The server's process runs this module (SecantusDB's server without its TTL sweeper); its name in
# a process's command line says the process is our database.
SERVER_MODULE = "service.core.embedded_server"


def _server_command():
    """SecantusDB's server command, started through service.core.embedded_server (its TTL sweeper
    stalls every write once a minute: see there)."""
    if importlib.util.find_spec("secantus") is None:
        raise EmbeddedError(
            "MONGODB_URI is not set and the embedded database is not installed: "
            "pip install -e '.[embedded]' or set MONGODB_URI"
        )
    return [sys.executable, "-m", SERVER_MODULE]


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


def _started_at(pid):
    """When process `pid` started (clock ticks since boot, /proc/<pid>/stat), or None if unknown:
    tells a service from a later process that got its pid (after a reboot, say)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return int(fh.read().rsplit(")", 1)[-1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _owner_alive(address):
    """The service that wrote `address` still runs (the same process, not one that reused its pid)."""
    pid = address.get("owner_pid")
    if not _alive(pid):
        return False
    started = address.get("owner_started")
    return started is None or _started_at(pid) in (None, started)


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
    return not command or "secantusd" in command or SERVER_MODULE in command


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
    it). A live service's address and files are never touched: while its server is down this
    waits for the service to start it again (up to SERVICE_RESTART_WAIT_SECONDS); a server that
    does not come back, or does not answer, is refused (HeldByService, naming the service).
    """
    address = read_address(data_dir)
    if address is None:
        return None
    if _owner_alive(address):
        return _service_database(data_dir, address)
    if _is_server(address.get("pid")):
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


def _service_database(data_dir, address):
    """The address of a live service's server once it answers; waits while the service starts
    it again, refuses when it does not come back."""
    where = os.path.abspath(data_dir)
    began = time.monotonic()
    waiting = False
    while True:
        owner = address.get("owner_pid")
        if _is_server(address.get("pid")):
            # The kernel accepts connections on a listening port even while the server is busy,
            # so this tells "gone" from "busy".
            if _answers(address.get("port")):
                if waiting:
                    log.warning("the embedded database of the service (pid %s) is back", owner)
                return address
            raise HeldByService(
                f"the embedded database in {where} belongs to a running service (pid {owner}) but does not "
                f"answer on port {address.get('port')}: stop that service (kill {owner}), or set "
                "EMBEDDED_DATA_DIR to another directory")
        why = _not_coming_back(address.get("restart"), time.monotonic() - began)
        if why:
            raise HeldByService(
                f"the embedded database in {where} belongs to a running service (pid {owner}) and is down, "
                f"{why}: restart that service (kill {owner}, then start it again), or set EMBEDDED_DATA_DIR "
                "to another directory")
        if not waiting:
            waiting = True
            log.warning("the embedded database of the running service (pid %s) is down: waiting up to %.0f s "
                        "for the service to start it again", owner, SERVICE_RESTART_WAIT_SECONDS)
        time.sleep(0.2)
        latest = read_address(data_dir)
        if latest is None or latest.get("owner_pid") != owner or not _owner_alive(latest):
            return running(data_dir)  # the service stopped meanwhile (or another took its place)
        address = latest


def _not_coming_back(restart, waited):
    """Why waiting longer for a live service's server is vain, or None."""
    if restart == "gave up":
        return "and that service gave up starting it again"
    if waited > SERVICE_RESTART_WAIT_SECONDS:
        return f"and did not start again within {SERVICE_RESTART_WAIT_SECONDS:.0f} s"
    if restart is None and waited > SERVICE_NOTICE_SECONDS:
        return "and that service is not starting it again"
    return None


def announce(data_dir, **service):
    """Record what the running service uses (`database`, `demo`, `wechat_api_base` of the fake
    WeChat, `url`), for commands and processes run beside it. Only the server's owner writes."""
    with _address_lock:
        address = read_address(data_dir)
        if address is not None and address.get("owner_pid") == os.getpid():
            _write_address(data_dir, {**address, **service})


# The watcher and announce() both rewrite the address: one at a time.
_address_lock = threading.Lock()


class EmbeddedMongo:
    """One `secantusd-py` child process and the URI to reach it.

    With `watch`, a thread of the process that started the server starts it again when it dies
    (`restart_attempts` times per outage, see RESTART_ATTEMPTS); `stop()` ends the watch first."""

    def __init__(self, data_dir, log_file=None, test_commands=False, watch=False,
                 restart_attempts=RESTART_ATTEMPTS):
        self.data_dir = data_dir
        self.log_file = log_file
        # configureFailPoint (fault injection) for the test suite only: anyone reaching the port
        # could otherwise make the server fail every command.
        self.test_commands = test_commands
        self.watch = watch
        self.restart_attempts = restart_attempts
        self._down = False  # died, and not answering again yet
        self.port = None
        self.process = None
        self.owner_pid = None
        self._log_start = 0
        self._stopping = threading.Event()
        self._process_lock = threading.Lock()
        self._watcher = None
        self._exit_hook = False

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

    def _refusal(self, process):
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
        # Exit code 0 also when gunicorn's master (which reaps every child) reaped it first.
        code = f" with {process.returncode}" if process.returncode else ""
        return (f"the embedded database exited{code} ({last[:200] or 'no output'}); "
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
        self._launch(timeout)
        where = os.path.abspath(self.data_dir) if self._persistent else "memory"
        log.warning("MONGODB_URI not set: using the embedded database on 127.0.0.1:%s, data in %s",
                    self.port, where)
        if self.watch and self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, name="embedded-database-watch", daemon=True)
            self._watcher.start()
        return self

    def _launch(self, timeout, port=None):
        """Start the server (on `port`, or a free one), waiting for its files' lock first."""
        if self._persistent:
            os.makedirs(self.data_dir, exist_ok=True)
            self._wait_for_lock()
        try:
            return self._start(timeout, port)
        except _LockBusy:
            # Held between our look and the server's start (or no /proc/locks here): once more.
            self._wait_for_lock()
            try:
                return self._start(timeout, port)
            except _LockBusy as busy:
                raise EmbeddedError(str(busy)) from None

    def _start(self, timeout, port=None):
        self.port = port or _free_port()
        out = open(self._log_path(), "ab")
        self._log_start = out.tell()  # what this start wrote, not an earlier start's lock error
        extra = ["--enable-test-commands"] if self.test_commands else []
        # --standalone: no replica-set advertisement, so no oplog. SecantusDB writes an oplog entry
        # for every document written (12% of a registry insert's cost: 150,000-row first import
        # 28.2 -> 22.0 s); nothing of ours reads it (no change streams, no transactions: the
        # service keeps to single-document atomic writes so it runs on a MongoDB replica set and
        # on this server alike).
        process = subprocess.Popen(
            _server_command() + ["--host", "127.0.0.1", "--port", str(self.port),
                                 "--storage-path", self.data_dir, "--log-level", "WARNING", "--standalone", *extra],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            # Its own session: Ctrl-C in the terminal reaches the service, which stops the
            # database last, after the requests and background jobs that still use it.
            start_new_session=True,
        )
        out.close()
        with self._process_lock:
            self.process = process  # from here stop() stops it, even while it starts
            stopping = self._stopping.is_set()
        if stopping:  # stop() came first and found the server before this one
            self._end(process)
            raise _Stopping("stopped while starting")
        self.owner_pid = os.getpid()
        if not self._exit_hook:
            atexit.register(self.stop)
            self._exit_hook = True
        deadline = time.monotonic() + timeout
        client = pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=500)
        try:
            while True:
                if self._stopping.is_set():
                    raise _Stopping("stopped while starting")
                if process.poll() is not None:
                    message, busy = self._refusal(process)
                    raise (_LockBusy if busy else EmbeddedError)(message)
                try:
                    client.admin.command("ping")
                    break
                except pymongo.errors.PyMongoError:
                    if time.monotonic() > deadline:
                        self._end(process)
                        raise EmbeddedError(f"the embedded database did not answer within {timeout} s; "
                                            f"see {self._log_path()}")
                    time.sleep(0.1)
        finally:
            client.close()
        if self._persistent:
            with _address_lock:
                # What the service announced (its database, URL, fake WeChat) stays with a restart.
                kept = read_address(self.data_dir) or {}
                if kept.get("owner_pid") != self.owner_pid:
                    kept = {}
                kept = {k: v for k, v in kept.items() if k not in ("restart", "down_since")}
                _write_address(self.data_dir, {
                    **kept, "uri": self.uri, "port": self.port, "pid": process.pid, "owner_pid": self.owner_pid,
                    "owner_started": _started_at(self.owner_pid),
                    "started_at": dt.datetime.now(BEIJING).isoformat(timespec="seconds")})
        return self

    def _mark(self, **state):
        """Tell the commands beside this service how its server's restart goes (see running())."""
        if not self._persistent:
            return
        with _address_lock:
            address = read_address(self.data_dir)
            if address is not None and address.get("owner_pid") == self.owner_pid:
                _write_address(self.data_dir, {**address, **state})

    def _watch(self):
        """Start the server again each time it dies, until stop()."""
        attempts_left, started = self.restart_attempts, time.monotonic()
        while not self._stopping.wait(WATCH_INTERVAL_SECONDS):
            process = self.process
            if process is None or process.poll() is None:
                continue
            if self._stopping.is_set():
                return
            if time.monotonic() - started >= RESTART_STABLE_SECONDS:
                attempts_left = self.restart_attempts
            attempts_left = self._restart(process, attempts_left)
            if attempts_left is None:
                return  # stopping, or gave up
            started = time.monotonic()

    def _restart(self, dead, attempts_left):
        """Attempts to start the dead server again on its port: the attempts left afterwards, or
        None (stopping, or none left). One log line per attempt."""
        self._down, down_since, total = True, time.monotonic(), self.restart_attempts
        # A process reaped by someone else (gunicorn's master reaps every child) reads as exit code 0.
        log.warning("the embedded database (pid %s) on 127.0.0.1:%s is gone: %s; requests answer 503 "
                    "DATABASE_UNAVAILABLE meanwhile", dead.pid, self.port,
                    f"starting it again on the same port and data directory ({attempts_left} of {total} "
                    "attempts left)" if attempts_left else f"no attempt left to start it again (of {total})")
        self._mark(restart="restarting", down_since=dt.datetime.now(BEIJING).isoformat(timespec="seconds"))
        delay = RESTART_FIRST_DELAY_SECONDS * 2 ** (total - attempts_left)
        while attempts_left > 0:
            if self._stopping.wait(delay):
                return None
            attempts_left -= 1
            attempt = total - attempts_left
            try:
                self._launch(timeout=30, port=self.port)
            except _Stopping:
                return None
            except EmbeddedError as exc:
                log.warning("attempt %d of %d to start the embedded database again failed: %s",
                            attempt, total, exc)
                delay *= 2
                continue
            self._down = False
            log.warning("the embedded database is back on 127.0.0.1:%s (pid %s, attempt %d of %d, down %.1f s)",
                        self.port, self.process.pid, attempt, total, time.monotonic() - down_since)
            return attempts_left
        self._mark(restart="gave up")
        log.error("gave up starting the embedded database again%s: requests answer 503 DATABASE_UNAVAILABLE "
                  "until the service is restarted (see %s)", f" after {total} attempts" if total else "",
                  self._log_path())
        return None

    @staticmethod
    def _end(process):
        """Stop one server process: a clean stop, killed after STOP_TIMEOUT_SECONDS."""
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def alive(self):
        """This process's server runs (False once it died, even before the watcher noticed, and
        while it is being started again)."""
        process = self.process
        return process is not None and process.poll() is None and not self._down

    def stop(self):
        """Stop the server if this process started it: "stopped", "gone" (it had died already:
        nothing to wait for), or None (not ours, or stopped before)."""
        # Forked gunicorn workers inherit this object and its atexit hook: only the process that
        # started the server stops it.
        if os.getpid() != self.owner_pid:
            return None
        self._stopping.set()  # no restart from here on
        with self._process_lock:
            process, self.process = self.process, None
        if process is None:
            return None
        # Down (a start again in hand is cancelled): nothing to wait for.
        outcome = "stopped" if process.poll() is None and not self._down else "gone"
        self._end(process)
        if self._persistent and (read_address(self.data_dir) or {}).get("owner_pid") == self.owner_pid:
            try:
                os.remove(_address_path(self.data_dir))
            except FileNotFoundError:
                pass
        return outcome


_embedded = None
_lock = threading.Lock()


def ensure_started(data_dir, restart_attempts=RESTART_ATTEMPTS):
    """The URI of the server holding `data_dir`: the one already running there (started by
    this or another process), or a new one this process starts, watches (started again if it
    dies, `restart_attempts` times per outage) and stops at exit."""
    global _embedded
    with _lock:
        if _embedded is not None and _embedded.process is not None and _embedded.data_dir == data_dir:
            return _embedded.uri
        if data_dir != ":memory:":
            address = running(data_dir)
            if address is not None:
                return address["uri"]
        _embedded = EmbeddedMongo(data_dir, watch=True, restart_attempts=restart_attempts).start()
        return _embedded.uri


def alive():
    """The server this process started runs: True, False (it died, or is being started again), or
    None (none started here)."""
    return None if _embedded is None or _embedded.owner_pid != os.getpid() else _embedded.alive()


def stop():
    """Stop the server this process started, if any (also done at exit): "stopped", "gone" (it
    had died already), or None. A server another process started (found through its address) is
    never stopped here."""
    with _lock:
        return _embedded.stop() if _embedded is not None else None
