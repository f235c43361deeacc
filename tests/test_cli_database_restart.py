"""The embedded database dying under a running `lingjun serve` (issue 17, faults 17-20).

Found by a new user: after `kill -9` of the database the service answered 503 until restarted by
hand and its worker logged a traceback every round; `users create` and `init-db` beside it cleared
the live service's address and started a database of their own; stopping waited seconds for the
dead database and said it had stopped it.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest

from service.core import embedded
from tests.cli_helpers import assert_one_line_refusal, command_env, free_port, lingjun, start_lingjun, wait_ready


def _serve(tmp_path, **settings):
    port, log_path = free_port(), tmp_path / "serve.log"
    settings = {"EMBEDDED_DATA_DIR": tmp_path / "db", "MONGODB_DB": f"restart_{uuid.uuid4().hex[:8]}",
                "WORKER_INTERVAL_SECONDS": 1, **settings}
    process = start_lingjun("serve", "--port", str(port), "--workers", "1", "--threads", "2", cwd=tmp_path,
                            log_path=log_path, **settings)
    wait_ready(process, port, log_path)
    return {"process": process, "port": port, "log": log_path, "data_dir": str(settings["EMBEDDED_DATA_DIR"]),
            "settings": settings, "cwd": tmp_path}


@pytest.fixture
def service(tmp_path, request):
    served = _serve(tmp_path, **getattr(request, "param", {}))
    yield served
    if served["process"].poll() is None:
        served["process"].send_signal(signal.SIGTERM)
        served["process"].wait(timeout=30)


def _beside(service, *args):
    return lingjun(*args, cwd=service["cwd"], EMBEDDED_DATA_DIR=service["data_dir"])


def _kill_database(service):
    address = embedded.read_address(service["data_dir"])
    os.kill(address["pid"], signal.SIGKILL)
    return address


def _wait_for_log(service, text, count=1, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = service["log"].read_text()
        if log.count(text) >= count:
            return log
        time.sleep(0.1)
    raise AssertionError(f"no “{text}” in the log:\n{service['log'].read_text()}")


def _ready_status(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as answer:
        return answer.code


def _block_port(port):
    """Listen on the dead database's port, so that starting it again fails."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    deadline = time.monotonic() + 5
    while True:
        try:
            sock.bind(("127.0.0.1", port))
            break
        except OSError:  # the killed server's socket is still being closed
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    sock.listen()
    return sock


def test_a_killed_database_is_started_again_and_commands_beside_wait_for_it(service):
    before = _kill_database(service)
    blocker = _block_port(before["port"])  # the first attempt to start it again fails
    try:
        # While the database is down, the command waits for the service to start it again ...
        command = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "users", "create", "--name", "测试员", "--role", "admin"],
            cwd=service["cwd"], env=command_env(EMBEDDED_DATA_DIR=service["data_dir"]),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        waiting = command.stderr.readline()
        assert waiting.startswith(f"lingjun: the embedded database of the running service "
                                  f"(pid {service['process'].pid}) is down: waiting"), waiting
    finally:
        blocker.close()  # ... which the next attempt does
    out, err = command.communicate(timeout=60)
    assert command.returncode == 0, err
    # ... then writes into the service's database (not a database of its own, nor the default `lingjun`).
    assert f"created in database “{service['settings']['MONGODB_DB']}”" in out
    assert "clearing" not in err and "Traceback" not in err
    assert all(line.startswith("lingjun: ") for line in err.splitlines()), err

    after = embedded.read_address(service["data_dir"])
    assert after["owner_pid"] == service["process"].pid and after["pid"] != before["pid"]
    assert after["port"] == before["port"] and after["uri"] == before["uri"]  # the service's clients keep it
    assert after["database"] == service["settings"]["MONGODB_DB"] and after["url"] == before["url"]
    assert "restart" not in after
    assert _ready_status(service["port"]) == 200

    log = service["log"].read_text()
    if "service.worker: database unavailable" in log:  # a round failed during the outage (it may also just
        log = _wait_for_log(service, "database answers again")  # have waited for the database to be back)
    assert log.count("is gone: starting it again on the same port and data directory (5 of 5 attempts left)") == 1
    back = re.findall(r"the embedded database is back on 127\.0\.0\.1:(\d+) \(pid (\d+), attempt (\d) of 5", log)
    assert back == [(str(before["port"]), str(after["pid"]), back[0][2])], log
    # One line per attempt: those that bound the port before the test let it go failed (none, if the
    # first attempt's server bound it after).
    failed = int(back[0][2]) - 1
    assert len(re.findall(r"attempt \d of 5 to start the embedded database again failed", log)) == failed
    # The worker's three loops: at most one warning for the outage, no traceback per round.
    assert log.count("WARNING [-] service.worker: database unavailable") <= 1, log
    assert "Traceback" not in log and " ERROR " not in log, log

    # A second outage later is started again too.
    _kill_database(service)
    log = _wait_for_log(service, "is back on", count=2)
    assert log.count("is gone: starting it again") == 2
    assert _ready_status(service["port"]) == 200

    service["process"].send_signal(signal.SIGTERM)
    assert service["process"].wait(timeout=30) == 0
    log = service["log"].read_text()
    assert "stopped the embedded database in" in log and "already stopped" not in log
    assert embedded.read_address(service["data_dir"]) is None


@pytest.mark.parametrize("service", [{"EMBEDDED_RESTART_ATTEMPTS": 2}], indirect=True)
def test_a_database_that_cannot_start_again_is_refused_beside_and_not_waited_for_at_stop(service):
    pid, data_dir = service["process"].pid, service["data_dir"]
    before = _kill_database(service)
    blocker = _block_port(before["port"])
    try:
        log = _wait_for_log(service, "gave up starting the embedded database again after 2 attempts")
        # One line each: the death, each attempt, giving up.
        assert log.count("is gone: starting it again") == 1
        for attempt in (1, 2):
            assert log.count(f"attempt {attempt} of 2 to start the embedded database again failed") == 1, log
        assert "Address already in use" in log
        assert _ready_status(service["port"]) == 503  # DATABASE_UNAVAILABLE, as before

        # Commands beside never clear the live service's address nor start a database of their own.
        for command in (("users", "create", "--name", "测试员", "--role", "admin"), ("init-db",),
                        ("serve", "--port", str(free_port()))):
            line = assert_one_line_refusal(_beside(service, *command), code=2)
            assert f"belongs to a running service (pid {pid})" in line and f"kill {pid}" in line, line
            assert "gave up starting it again" in line
        address = embedded.read_address(data_dir)
        assert address["owner_pid"] == pid and address["pid"] == before["pid"] and address["restart"] == "gave up"
        assert embedded.lock_holder(data_dir) is None  # no database was started on the files

        # The port of the service taken: exactly one line, ending with its newline (fault 19).
        taken = _beside(service, "serve", "--port", str(service["port"]))
        assert taken.returncode == 1
        assert taken.stderr == (f"lingjun: 127.0.0.1:{service['port']} is already in use (another `lingjun serve`?): "
                                "stop it or pass --port\n")
        assert embedded.read_address(data_dir) == address

        # Stopping does not wait for the dead database, and says it was gone.
        service["process"].send_signal(signal.SIGTERM)
        assert service["process"].wait(timeout=30) == 0
    finally:
        blocker.close()
    log = service["log"].read_text()
    assert "the embedded database had already stopped (killed or crashed): nothing to stop" in log
    assert "stopped the embedded database" not in log
    assert "background jobs left without waiting: their database is down" in log
    assert log.count("WARNING [-] service.worker: database unavailable") == 1, log
    assert "Traceback" not in log
    assert embedded.read_address(data_dir) is None
