"""The `lingjun` command beside a running service, refusals, and stopping without losing messages."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import pymongo
import pytest

from service.core import embedded
from service.core.fake_wechat import FAKE_APPID, FAKE_SECRET
from tests.cli_helpers import assert_one_line_refusal, free_port, lingjun, start_lingjun, wait_ready


@pytest.fixture
def served(tmp_path, fake_wechat):
    """`lingjun serve` on the embedded database in a fresh data directory (stopped afterwards)."""
    port, data_dir, log_path = free_port(), tmp_path / "db", tmp_path / "serve.log"
    settings = {"EMBEDDED_DATA_DIR": data_dir, "WECHAT_API_BASE": fake_wechat.api_base, "WECHAT_APPID": FAKE_APPID,
                "WECHAT_SECRET": FAKE_SECRET, "WORKER_INTERVAL_SECONDS": 1,
                "MONGODB_DB": f"cli_{uuid.uuid4().hex[:8]}"}
    process = start_lingjun("serve", "--port", str(port), "--workers", "1", "--threads", "2", cwd=tmp_path,
                            log_path=log_path, **settings)
    try:
        wait_ready(process, port, log_path)
        yield {"process": process, "port": port, "data_dir": data_dir, "settings": settings, "cwd": tmp_path,
               "log": log_path}
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def test_commands_beside_a_running_service_use_its_database(served):
    address = embedded.read_address(str(served["data_dir"]))
    assert address["owner_pid"] == served["process"].pid and address["database"] == served["settings"]["MONGODB_DB"]
    assert "Control socket" not in served["log"].read_text()  # no shared ~/.gunicorn/gunicorn.ctl
    # Without MONGODB_DB the command finds the running service's database in its address.
    settings = {"EMBEDDED_DATA_DIR": served["data_dir"]}

    created = lingjun("users", "create", "--name", "张三", "--role", "province_staff", "--region", "110000",
                      cwd=served["cwd"], **settings)
    assert created.returncode == 0, created.stderr
    assert "binding code:" in created.stdout and "北京时间 (UTC+08:00)" in created.stdout
    client = pymongo.MongoClient(address["uri"])
    try:
        staff = client[address["database"]]["staff_accounts"].find_one({"name": "张三"})
        assert staff["region_code"] == "110000"
        expires = staff["binding"]["expires_at"].replace(tzinfo=None)
        # Printed in Beijing time: eight hours ahead of the stored UTC.
        assert (expires + __import__("datetime").timedelta(hours=8)).strftime("%Y-%m-%d %H:%M") in created.stdout
    finally:
        client.close()

    for args in (("init-db",), ("worker", "--once")):
        result = lingjun(*args, cwd=served["cwd"], **settings)
        assert result.returncode == 0, (args, result.stderr)

    # A second service on another port shares the database; stopping it leaves the first's alone.
    port, log_path = free_port(), served["cwd"] / "second.log"
    second = start_lingjun("serve", "--port", str(port), "--workers", "1", "--no-worker", cwd=served["cwd"],
                           log_path=log_path, **settings)
    try:
        wait_ready(second, port, log_path)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    assert second.returncode == 0, log_path.read_text()
    wait_ready(served["process"], served["port"], served["log"], timeout=5)
    assert embedded.read_address(str(served["data_dir"]))["pid"] == address["pid"]


def test_second_serve_on_the_same_port_is_refused_in_one_line(served):
    result = lingjun("serve", "--port", str(served["port"]), cwd=served["cwd"],
                     EMBEDDED_DATA_DIR=served["data_dir"])
    line = assert_one_line_refusal(result)
    assert f"127.0.0.1:{served['port']} is already in use" in line and "--port" in line


def test_stopping_loses_no_queued_message(served, fake_wechat):
    """SIGTERM while the background jobs send: every message is sent once or still queued."""
    from service import create_app
    from service.outbox import service as outbox
    from service.users import repository as users

    address = embedded.read_address(str(served["data_dir"]))
    app = create_app({"MONGODB_URI": address["uri"], "MONGODB_DB": address["database"], "TESTING": True})
    openid = f"oFAKE-stop-{uuid.uuid4().hex[:6]}"
    with app.app_context():
        user = users.upsert_by_openid(openid=openid)
        for number in range(300):
            outbox.enqueue(user_id=user["_id"], template="class_notice", values={"character_string1": str(number)})
    deadline = time.monotonic() + 30
    while not [m for m in fake_wechat.messages if m.get("touser") == openid] and time.monotonic() < deadline:
        time.sleep(0.05)
    served["process"].send_signal(signal.SIGTERM)
    assert served["process"].wait(timeout=30) == 0
    assert embedded.read_address(str(served["data_dir"])) is None  # a clean stop leaves no address

    delivered = [m["data"]["character_string1"]["value"] for m in fake_wechat.messages if m.get("touser") == openid]
    server = embedded.EmbeddedMongo(str(served["data_dir"])).start()  # the same files, reopened
    try:
        client = pymongo.MongoClient(server.uri)
        stored = list(client[address["database"]]["outbox"].find({"user_id": user["_id"]}))
        client.close()
    finally:
        server.stop()
    assert len(stored) == 300
    sent = sorted(m["data"]["character_string1"]["value"] for m in stored if m["status"] == "sent")
    assert sent == sorted(delivered) and len(set(delivered)) == len(delivered)
    assert {m["status"] for m in stored} <= {"sent", "pending"}
    assert 0 < len(sent) < 300, "stop while sending: some sent, the rest still queued"


def _abandoned_server(data_dir):
    """A service killed outright: its database left running with nobody to stop it (the address
    names an owner that is gone)."""
    orphan = subprocess.run(
        [sys.executable, "-c", "import os, sys; from service.core import embedded; "
                               "embedded.EmbeddedMongo(sys.argv[1]).start(); os._exit(0)", data_dir],
        capture_output=True, text=True, timeout=60)
    assert orphan.returncode == 0, orphan.stderr
    return embedded.read_address(data_dir)


def test_a_data_directory_left_by_a_dead_server_recovers(tmp_path):
    data_dir = str(tmp_path / "db")
    address = _abandoned_server(data_dir)
    os.kill(address["pid"], signal.SIGKILL)  # and then the database died too; its address stays behind
    while _alive(address["pid"]):
        time.sleep(0.05)
    result = lingjun("init-db", cwd=tmp_path, EMBEDDED_DATA_DIR=data_dir)
    assert result.returncode == 0, result.stderr
    assert f"lingjun: clearing the address left by an embedded database (pid {address['pid']}) that is gone" \
        in result.stderr
    assert embedded.read_address(data_dir) is None  # the command started its own and stopped it

    left = _abandoned_server(data_dir)
    assert left["pid"] != address["pid"] and _alive(left["pid"])
    result = lingjun("users", "create", "--name", "李四", "--role", "admin", cwd=tmp_path, EMBEDDED_DATA_DIR=data_dir)
    assert result.returncode == 0, result.stderr
    assert not _alive(left["pid"])


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A stopped child of a process that exited may linger as a zombie until reaped.
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().split(")")[-1].split()[0] != "Z"


def test_openapi_needs_no_database(tmp_path):
    # Production settings without secrets and an unreachable database: the document is still written.
    result = lingjun("openapi", "-o", "spec.json", cwd=tmp_path, APP_ENV="production",
                     MONGODB_URI="mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=200",
                     EMBEDDED_DATA_DIR=tmp_path / "db")
    assert result.returncode == 0, result.stderr
    spec = json.loads((tmp_path / "spec.json").read_text())
    assert "/api/v1/checkins" in spec["paths"]
    assert not (tmp_path / "db").exists() and not (tmp_path / "var").exists()


@pytest.mark.parametrize("demo", [False, True])
def test_production_with_defaults_names_every_problem_at_once(tmp_path, demo):
    result = lingjun("serve", *(["--demo"] if demo else []), cwd=tmp_path, APP_ENV="production",
                     EMBEDDED_DATA_DIR=tmp_path / "db")
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith("lingjun: APP_ENV=production refused: ") for line in lines)
    named = ["SECRET_KEY", "DATA_KEY", "MONGODB_URI"]
    named += ["WECHAT_API_BASE", "--demo"] if demo else ["WECHAT_APPID", "WECHAT_SECRET"]
    for name in named:
        assert sum(name in line for line in lines) == 1, (name, lines)
    assert not (tmp_path / "db").exists()  # refused before anything started


def test_a_staff_account_the_rules_refuse_is_one_line(tmp_path, mongodb_uri):
    result = lingjun("users", "create", "--name", "王五", "--role", "province_staff", "--region", "999999",
                     cwd=tmp_path, MONGODB_URI=mongodb_uri, MONGODB_DB=f"cli_{uuid.uuid4().hex[:8]}")
    assert "REGION" in assert_one_line_refusal(result)
    result = lingjun("users", "create", "--name", "王五", "--role", "supervisor", "--class-id", "not-an-id",
                     cwd=tmp_path, MONGODB_URI=mongodb_uri)
    assert "--class-id" in assert_one_line_refusal(result)


def test_embedded_data_directory_held_by_another_process_is_one_line(tmp_path):
    # A server started without an address (an older version, or by hand) holds the files.
    data_dir = tmp_path / "db"
    data_dir.mkdir()
    port = free_port()
    holder = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "secantusd-py"), "--host", "127.0.0.1",
                               "--port", str(port), "--storage-path", str(data_dir), "--log-level", "WARNING"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        result = lingjun("init-db", cwd=tmp_path, EMBEDDED_DATA_DIR=data_dir)
    finally:
        holder.terminate()
        holder.wait(timeout=30)
    line = assert_one_line_refusal(result)
    assert "EMBEDDED_DATA_DIR" in line


def test_every_serve_demo_starts_from_a_fresh_demo_database(mongodb_uri, monkeypatch):
    """`serve --demo` drops its own `<MONGODB_DB>_demo` database first: run twice, nothing doubles
    (and the service's own database is left alone)."""
    from service import cli

    monkeypatch.setenv("WECHAT_API_BASE", "http://127.0.0.1:9/")  # no fake WeChat started here
    name = f"cli_{uuid.uuid4().hex[:8]}"
    client = pymongo.MongoClient(mongodb_uri)
    try:
        client[name + "_demo"]["classes"].insert_one({"name": "left from the last demo"})
        client[name]["classes"].insert_one({"name": "the service's own"})
        overrides, fake = cli._start_demo({"MONGODB_DB": name, "MONGODB_SERVER_SELECTION_TIMEOUT_MS": 5000},
                                          mongodb_uri)
        assert overrides["MONGODB_DB"] == name + "_demo" and fake is None
        assert name + "_demo" not in client.list_database_names()
        assert client[name]["classes"].count_documents({}) == 1
    finally:
        client.drop_database(name)
        client.close()


def test_unreadable_settings_are_one_line_each(tmp_path):
    result = lingjun("init-db", cwd=tmp_path, TOKEN_TTL_HOURS="72h", WORKER_INTERVAL_SECONDS="twenty")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "lingjun: settings refused: TOKEN_TTL_HOURS='72h' is not a whole number",
        "lingjun: settings refused: WORKER_INTERVAL_SECONDS='twenty' is not a whole number"]


def test_a_malformed_database_address_is_one_line(tmp_path):
    line = assert_one_line_refusal(lingjun("init-db", cwd=tmp_path, MONGODB_URI="mysql://db.example/lingjun"))
    assert "InvalidURI" in line and "MONGODB_URI" in line


def test_sigterm_mid_import_fails_it_interrupted_at_once_and_says_so(served):
    """Finding q19 F4: SIGTERM of `lingjun serve` while a registry import ran left it `running` for
    5 minutes (no retry, the queue blocked) and the log said nothing of it. Now the stopping
    process fails it REGISTRY_IMPORT_INTERRUPTED, with one line naming it, and its counts are what
    it wrote."""
    from bson import ObjectId

    from service import create_app
    from service.registry import service as registry
    from tests.registry.helpers import csv_bytes, good_row

    address = embedded.read_address(str(served["data_dir"]))
    app = create_app({"MONGODB_URI": address["uri"], "MONGODB_DB": address["database"], "TESTING": True})
    with app.app_context():
        # One entry already there: not a bulk load (whose index build at the end a stop waits for).
        registry.save_sample([dict(zip(("name", "credit_code", "region_code", "title", "batch"), good_row(999_999)),
                                   valid_from="2024-07-01", valid_until="2027-06-30")])
        doc = registry.import_file(data=csv_bytes([good_row(serial) for serial in range(1, 40_001)]),
                                   file_name="全国名单.csv", imported_by=ObjectId())
    client = pymongo.MongoClient(address["uri"])
    imports = client[address["database"]]["registry_imports"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        running = imports.find_one({"_id": doc["_id"]})
        if running["state"] != "queued" and running["progress"]["rows_read"] > 0:
            break
        time.sleep(0.05)
    client.close()
    assert running["state"] == "running", running["state"]
    served["process"].send_signal(signal.SIGTERM)
    assert served["process"].wait(timeout=60) == 0

    server = embedded.EmbeddedMongo(str(served["data_dir"])).start()  # the same files, reopened
    try:
        client = pymongo.MongoClient(server.uri)
        stopped = client[address["database"]]["registry_imports"].find_one({"_id": doc["_id"]})
        entries = client[address["database"]]["enterprises"].count_documents({}) - 1
        client.close()
    finally:
        server.stop()
    assert stopped["state"] == "failed" and stopped["error"]["code"] == "REGISTRY_IMPORT_INTERRUPTED"
    assert 0 < stopped["inserted"] == entries < 40_000
    lines = [line for line in served["log"].read_text().splitlines() if str(doc["_id"]) in line]
    assert len(lines) == 1 and "REGISTRY_IMPORT_INTERRUPTED" in lines[0] and "全国名单.csv" in lines[0], lines


@pytest.mark.parametrize("raw", ["-1", "nan", "inf", "two", "30.5", "1e9"])
def test_a_duration_setting_is_a_finite_number_of_seconds(tmp_path, raw):
    result = lingjun("init-db", cwd=tmp_path, REGISTRY_LIST_BUILD_WAIT_SECONDS=raw)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"lingjun: settings refused: REGISTRY_LIST_BUILD_WAIT_SECONDS={raw!r} is not a number of seconds from 0 to 30"]


def test_a_duration_setting_takes_fractions(monkeypatch):
    from service.config import load

    assert load({})["REGISTRY_LIST_BUILD_WAIT_SECONDS"] == 2.0
    for raw, value in (("0.5", 0.5), ("0", 0.0), ("30", 30.0)):
        monkeypatch.setenv("REGISTRY_LIST_BUILD_WAIT_SECONDS", raw)
        assert load({})["REGISTRY_LIST_BUILD_WAIT_SECONDS"] == value
