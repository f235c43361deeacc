"""A second process beside a running service, and a start after one was killed outright."""

import datetime as dt
import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

from service.core import embedded
from service.core.timeutil import BEIJING
from tests.cli_helpers import assert_one_line_refusal, free_port, lingjun, start_lingjun, wait_ready

# A line stamped with a time: our log lines ("2026-12-01 07:18:47,330 +0800 INFO ...") and
# gunicorn's ("[2026-12-01 07:18:01 +0800] [31407] [INFO] ...").
STAMPED = re.compile(r"^\[?(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:,\d{3})? ([+-]\d{4})\]? ")


def assert_beijing_stamps(log_text):
    """Every stamped line is in Beijing time (+0800) and near now; the machine runs in UTC."""
    stamps = [STAMPED.match(line) for line in log_text.splitlines()]
    stamps = [m for m in stamps if m]
    assert stamps, log_text
    now = dt.datetime.now(BEIJING).replace(tzinfo=None)
    for match in stamps:
        assert match.group(2) == "+0800", match.group(0)
        assert abs(dt.datetime.fromisoformat(match.group(1)) - now) < dt.timedelta(minutes=10), match.group(0)
    # Nothing else that looks like a clock time in UTC.
    assert "+0000]" not in log_text and "+00:00" not in log_text.replace("UTC+08:00", "")


def _login(base_url, code):
    request = urllib.request.Request(f"{base_url}/api/v1/auth/wx-login", data=json.dumps({"code": code}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)["token"]


def _get(base_url, path, token):
    request = urllib.request.Request(f"{base_url}{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, json.load(answer)


def _stop(process, timeout=30):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=timeout)
    return process.returncode


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`lingjun serve --demo` as README command 1 runs it: embedded database, fake WeChat in-process,
    the machine's clock in UTC."""
    cwd = tmp_path_factory.mktemp("demo")
    port, log_path = free_port(), cwd / "demo.log"
    settings = {"EMBEDDED_DATA_DIR": cwd / "db", "MONGODB_DB": f"beside_{uuid.uuid4().hex[:8]}", "TZ": "UTC"}
    process = start_lingjun("serve", "--demo", "--port", str(port), "--workers", "1", "--threads", "4", "--no-worker",
                            cwd=cwd, log_path=log_path, **settings)
    try:
        wait_ready(process, port, log_path, timeout=240)
        yield {"process": process, "url": f"http://127.0.0.1:{port}", "cwd": cwd, "log": log_path,
               "settings": settings, "database": settings["MONGODB_DB"] + "_demo"}
    finally:
        _stop(process)


def test_a_second_serve_beside_the_demo_joins_its_database_and_fake_wechat(demo):
    address = embedded.read_address(str(demo["settings"]["EMBEDDED_DATA_DIR"]))
    assert address["demo"] is True and address["database"] == demo["database"]
    assert address["wechat_api_base"].startswith("http://127.0.0.1:")
    # The second process is started as a person would beside the demo: no MONGODB_DB, real WeChat defaults.
    port, log_path = free_port(), demo["cwd"] / "second.log"
    second = start_lingjun("serve", "--port", str(port), "--workers", "1", "--no-worker", cwd=demo["cwd"],
                           log_path=log_path, EMBEDDED_DATA_DIR=demo["settings"]["EMBEDDED_DATA_DIR"], TZ="UTC")
    try:
        wait_ready(second, port, log_path)
        second_url = f"http://127.0.0.1:{port}"
        # A demo login through the second process (its WeChat is the demo's fake) works on the first, and back.
        token = _login(second_url, f"demo-trainee-1.{uuid.uuid4().hex[:8]}")
        status, mine = _get(demo["url"], "/api/v1/registrations/mine", token)
        assert status == 200 and any(r["state"] == "confirmed" for r in mine)
        token = _login(demo["url"], f"demo-admin.{uuid.uuid4().hex[:8]}")
        assert _get(second_url, "/api/v1/programmes", token)[0] == 200
    finally:
        assert _stop(second) == 0, log_path.read_text()
    log = log_path.read_text()
    assert f"database “{demo['database']}”" in log and address["wechat_api_base"] in log
    assert "stopped the fake WeChat" not in log and "stopped the embedded database" not in log, log
    assert f"left the database and the fake WeChat of the service pid {demo['process'].pid} running" in log
    # What the second process did not start is still there: the demo answers, its fake WeChat logs in.
    assert embedded.read_address(str(demo["settings"]["EMBEDDED_DATA_DIR"]))["pid"] == address["pid"]
    assert _login(demo["url"], f"demo-supervisor.{uuid.uuid4().hex[:8]}")
    assert_beijing_stamps(log)
    assert_beijing_stamps(demo["log"].read_text())


def test_a_second_demo_beside_a_running_service_is_refused_in_one_line(demo):
    port = free_port()
    result = lingjun("serve", "--demo", "--port", str(port), cwd=demo["cwd"],
                     EMBEDDED_DATA_DIR=demo["settings"]["EMBEDDED_DATA_DIR"])
    line = assert_one_line_refusal(result)
    assert f"pid {demo['process'].pid}" in line and "stop that service first" in line
    assert f"lingjun serve --port {port}` without --demo" in line
    assert _login(demo["url"], f"demo-admin.{uuid.uuid4().hex[:8]}")  # its database was not rebuilt under it


def test_users_create_beside_the_demo_says_which_database_and_warns(demo):
    data_dir = demo["settings"]["EMBEDDED_DATA_DIR"]
    result = lingjun("users", "create", "--name", "演示管理员", "--role", "admin", cwd=demo["cwd"],
                     EMBEDDED_DATA_DIR=data_dir)
    assert result.returncode == 0, result.stderr
    assert f"created in database “{demo['database']}”" in result.stdout
    warning = result.stderr.strip().splitlines()
    assert len(warning) == 1 and "the next `lingjun serve --demo` drops it" in warning[0]
    assert f"MONGODB_DB={demo['settings']['MONGODB_DB']}" in warning[0]
    # Following the advice writes to the lasting database on the same server, without a warning.
    lasting = lingjun("users", "create", "--name", "管理员", "--role", "admin", cwd=demo["cwd"],
                      EMBEDDED_DATA_DIR=data_dir, MONGODB_DB=demo["settings"]["MONGODB_DB"])
    assert lasting.returncode == 0 and lasting.stderr == "", lasting.stderr
    assert f"created in database “{demo['settings']['MONGODB_DB']}”" in lasting.stdout


def test_the_demo_summary_prints_beijing_time(demo):
    text = demo["log"].read_text()
    began = re.search(r"began (\d\d):(\d\d) Beijing time", text)
    assert began, text
    # The open session began at most a few hours before now, in Beijing time (the machine runs in UTC).
    now = dt.datetime.now(BEIJING)
    began_at = now.replace(hour=int(began.group(1)), minute=int(began.group(2)))
    if began_at > now + dt.timedelta(hours=1):
        began_at -= dt.timedelta(days=1)
    assert dt.timedelta(hours=-1) < now - began_at < dt.timedelta(hours=6), (began.group(0), now)


@pytest.mark.parametrize("server", ["killed too", "left running"])
def test_a_service_killed_outright_recovers_at_the_next_start(tmp_path, server):
    """`kill -9` of the whole process group of `lingjun serve`, the next start 0.5 s later: the dead
    service is not reaped yet (a zombie), its database killed too or left running with nobody to
    stop it, the address and the storage lock left behind. The next start recovers by itself."""
    data_dir = tmp_path / "db"
    port, log_path = free_port(), tmp_path / "first.log"
    first = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port), "--workers", "1",
                              "--no-worker"], cwd=tmp_path, stdout=open(log_path, "wb"), stderr=subprocess.STDOUT,
                             env={**os.environ, "EMBEDDED_DATA_DIR": str(data_dir)}, start_new_session=True)
    try:
        wait_ready(first, port, log_path)
        address = embedded.read_address(str(data_dir))
        os.killpg(first.pid, signal.SIGKILL)
        if server == "killed too":
            os.kill(address["pid"], signal.SIGKILL)
        time.sleep(0.5)  # not reaped: the service is a zombie (os.kill(pid, 0) still succeeds)

        port, log_path = free_port(), tmp_path / "second.log"
        second = start_lingjun("serve", "--port", str(port), "--workers", "1", "--no-worker", cwd=tmp_path,
                               log_path=log_path, EMBEDDED_DATA_DIR=data_dir)
        try:
            wait_ready(second, port, log_path, timeout=60)
            now = embedded.read_address(str(data_dir))
            assert now["owner_pid"] == second.pid and now["pid"] != address["pid"]
        finally:
            assert _stop(second) == 0, log_path.read_text()
        log = log_path.read_text()
        assert "cannot reach" not in log and "in use by" not in log, log
        assert embedded.read_address(str(data_dir)) is None
    finally:
        first.wait(timeout=30)
    assert not embedded._alive(address["pid"])  # the orphaned server was stopped, not left behind


def test_a_lock_held_for_a_moment_is_waited_for_and_a_live_holder_named(tmp_path):
    data_dir = tmp_path / "db"
    data_dir.mkdir()
    hold = ("import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.lockf(f, fcntl.LOCK_EX); "
            "print('held', flush=True); time.sleep(float(sys.argv[2]))")
    lock_file = str(data_dir / "WiredTiger.lock")
    brief = subprocess.Popen([sys.executable, "-c", hold, lock_file, "1"], stdout=subprocess.PIPE, text=True)
    try:
        assert brief.stdout.readline().strip() == "held"
        assert embedded.lock_holder(str(data_dir)) == brief.pid
        result = lingjun("init-db", cwd=tmp_path, EMBEDDED_DATA_DIR=data_dir)
        assert result.returncode == 0, result.stderr  # waited for the lock, then started its own server
    finally:
        brief.wait(timeout=30)

    keeper = subprocess.Popen([sys.executable, "-c", hold, lock_file, "60"], stdout=subprocess.PIPE, text=True)
    try:
        assert keeper.stdout.readline().strip() == "held"
        line = assert_one_line_refusal(lingjun("init-db", cwd=tmp_path, EMBEDDED_DATA_DIR=data_dir))
        assert f"in use by process {keeper.pid}" in line and f"kill {keeper.pid}" in line
        assert "EMBEDDED_DATA_DIR" in line
    finally:
        keeper.kill()
        keeper.wait()
    with open(lock_file, "a") as fh:  # released with its process
        fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_a_live_service_whose_database_does_not_answer_is_refused_in_one_line(tmp_path):
    data_dir = tmp_path / "db"
    data_dir.mkdir()
    # A server process that accepts nothing, owned by a live service (this test process).
    silent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "secantusd-py"])
    try:
        port = free_port()
        (data_dir / embedded.ADDRESS_FILE).write_text(json.dumps({
            "uri": embedded.uri_for(port), "port": port, "pid": silent.pid, "owner_pid": os.getpid()}))
        line = assert_one_line_refusal(lingjun("init-db", cwd=tmp_path, EMBEDDED_DATA_DIR=data_dir), code=2)
        assert f"does not answer on port {port}" in line and f"kill {os.getpid()}" in line
        assert silent.poll() is None  # a live service's server is never touched
    finally:
        silent.kill()
        silent.wait()


def test_an_address_whose_service_pid_now_names_another_process_is_cleared(tmp_path):
    """After a reboot (say) the pid of the service that wrote the address belongs to another
    process: it is no service to wait for, and the address is cleared as gone."""
    data_dir = tmp_path / "db"
    data_dir.mkdir()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    port = free_port()
    (data_dir / embedded.ADDRESS_FILE).write_text(json.dumps({
        "uri": embedded.uri_for(port), "port": port, "pid": gone.pid, "owner_pid": os.getpid(),
        "owner_started": embedded._started_at(os.getpid()) - 1}))
    result = lingjun("init-db", cwd=tmp_path, EMBEDDED_DATA_DIR=data_dir)
    assert result.returncode == 0, result.stderr
    assert f"lingjun: clearing the address left by an embedded database (pid {gone.pid}) that is gone" in result.stderr
    assert "waiting" not in result.stderr
    assert embedded.read_address(str(data_dir)) is None


def test_a_live_service_that_does_not_start_its_dead_database_again_is_refused_in_one_line(tmp_path):
    """The service (this test process) lives, its database is gone, and it says nothing about
    starting it again (an older version, say): the command waits a moment, then refuses; the
    address stays and no database is started on the files."""
    data_dir = tmp_path / "db"
    data_dir.mkdir()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    port = free_port()
    address = {"uri": embedded.uri_for(port), "port": port, "pid": gone.pid, "owner_pid": os.getpid()}
    (data_dir / embedded.ADDRESS_FILE).write_text(json.dumps(address))
    result = lingjun("users", "create", "--name", "测试员", "--role", "admin", cwd=tmp_path, EMBEDDED_DATA_DIR=data_dir)
    assert result.returncode == 2, result.stderr
    waiting, refusal = result.stderr.strip().splitlines()
    assert waiting.startswith(f"lingjun: the embedded database of the running service (pid {os.getpid()}) is down")
    assert refusal.startswith("lingjun: ") and "Traceback" not in result.stderr
    assert f"belongs to a running service (pid {os.getpid()}) and is down" in refusal
    assert "is not starting it again" in refusal and f"kill {os.getpid()}" in refusal
    assert embedded.read_address(str(data_dir)) == address
    assert embedded.lock_holder(str(data_dir)) is None
