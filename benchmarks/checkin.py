"""Check-in throughput and latency: our check-in endpoint vs a bare Flask insert_one endpoint.

Both run under gunicorn (same workers and threads) against the same embedded database server.
N trainees of one session each check in once over HTTP, `concurrency` at a time; then the bare
endpoint takes the same number of inserts. Finally a burst of 100 trainees (each scanning twice
at the same moment) must leave exactly 100 records.

    python benchmarks/checkin.py [--trainees 1000] [--concurrency 32] [--workers 2] [--threads 8]

Targets (issue "QR check-in"): check-in throughput >= 0.6 x bare, p99 <= 2 x bare.
"""

import argparse
import datetime as dt
import http.client
import json
import os
import pathlib
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bson import ObjectId  # noqa: E402

from service.core.embedded import EmbeddedMongo  # noqa: E402

DB_NAME = "bench_checkin"
SECRET = "benchmark-secret-" + "x" * 32
VENUE = {"latitude": 40.0003, "longitude": 116.3265}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(app, *, trainees, burst):
    """A class with a session on now for `trainees`, another for the burst; one bearer token each."""
    from service.auth import repository as auth_tokens
    from service.auth import signed
    from service.core.auth import hash_token
    from service.core.db import collection, utcnow

    now = utcnow()
    expires = (now + dt.timedelta(hours=2)).replace(microsecond=0)

    def make_class(name, size):
        class_id, session_id = ObjectId(), ObjectId()
        collection("classes").insert_one({
            "_id": class_id, "name": name, "status": "in_progress",
            "venue": {"name": "会场", **VENUE, "checkin_radius_m": 500}, "checkin_settings": {},
            "sessions": [{"_id": session_id, "title": "开班仪式", "starts_at": now - dt.timedelta(minutes=5),
                          "ends_at": now + dt.timedelta(hours=2)}]})
        users, registrations, tokens = [], [], []
        for i in range(size):
            user_id = ObjectId()
            token = signed.issue(user_id=user_id, expires_at=expires, staff=False)  # as wx-login issues it
            users.append({"_id": user_id, "openid": f"bench-{user_id}", "created_at": now})
            registrations.append({"class_id": class_id, "user_id": user_id, "state": "confirmed",
                                  "region_code": "110000", "created_at": now,
                                  "snapshot": {"name": f"学员{i:04d}", "mobile_masked": "139****0000"}})
            auth_tokens.insert(token_hash=hash_token(token), user_id=user_id, expires_at=expires, staff=False)
            tokens.append(token)
        collection("users").insert_many(users)
        collection("registrations").insert_many(registrations)
        return session_id, tokens

    with app.app_context():
        main = make_class("基准测试班", trainees)
        burst_class = make_class("突发签到班", burst)
    return main, burst_class


class Gunicorn:
    def __init__(self, app_spec, *, env, workers, threads):
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", str(workers), "--threads", str(threads),
             "-b", f"127.0.0.1:{self.port}", "--log-level", "warning", app_spec],
            cwd=ROOT, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn {app_spec} did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


def drive(port, path, bodies_and_headers, concurrency):
    """POST every (body, headers) with `concurrency` clients; returns (wall seconds, latencies, statuses)."""
    local = threading.local()
    latencies, statuses = [], []
    lock = threading.Lock()

    def post(item):
        body, headers = item
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        payload = json.dumps(body).encode()
        started = time.perf_counter()
        local.conn.request("POST", path, body=payload, headers={"Content-Type": "application/json", **headers})
        response = local.conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
            statuses.append((response.status, json.loads(data).get("result")))

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(post, bodies_and_headers))
    return time.perf_counter() - started, latencies, statuses


def cpu_seconds(pids):
    """User + system CPU seconds used so far by `pids` and their children (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, seen, todo = 0, set(), list(pids)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
            for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / ticks


def opcounters(uri):
    import pymongo

    with pymongo.MongoClient(uri) as client:
        return client.admin.command("serverStatus")["opcounters"]


def drive_with_cpu(drive_args, pids, uri):
    """drive(...) plus the CPU it cost each of `pids` (with their children): [gunicorn, database],
    and the database operations it caused."""
    before, ops_before = [cpu_seconds([pid]) for pid in pids], opcounters(uri)
    wall, latencies, statuses = drive(*drive_args)
    cpu = [cpu_seconds([pid]) - b for pid, b in zip(pids, before)]
    ops = {k: v - ops_before.get(k, 0) for k, v in opcounters(uri).items()}
    ops["command"] -= 1  # our own serverStatus
    return wall, latencies, statuses, cpu, ops


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def summary(name, wall, latencies, cpu, ops):
    app_ms, db_ms = (seconds / len(latencies) * 1000 for seconds in cpu)
    figures = {"throughput": len(latencies) / wall, "cpu_ms": app_ms + db_ms, "app_cpu_ms": app_ms, "db_cpu_ms": db_ms, "p50": percentile(latencies, .5) * 1000,
               "p95": percentile(latencies, .95) * 1000, "p99": percentile(latencies, .99) * 1000,
               "mean": statistics.fmean(latencies) * 1000}
    print(f"{name:<10} {len(latencies):>6} req  {figures['throughput']:>8.1f} req/s   p50 {figures['p50']:6.1f} ms"
          f"   p95 {figures['p95']:6.1f} ms   p99 {figures['p99']:6.1f} ms")
    per_request = ", ".join(f"{k} {v / len(latencies):.2f}" for k, v in ops.items() if v)
    print(f"{'':<10} server CPU per request {figures['cpu_ms']:.2f} ms (web {app_ms:.2f} + database {db_ms:.2f}); "
          f"database operations per request: {per_request}")
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trainees", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="bench-checkin-")
    database = EmbeddedMongo(os.path.join(data_dir, "mongo")).start()
    env = {**os.environ, "MONGODB_URI": database.uri, "MONGODB_DB": DB_NAME, "SECRET_KEY": SECRET,
           "APP_ENV": "development", "PYTHONPATH": str(ROOT)}
    from service.app import create_app

    app = create_app({"MONGODB_URI": database.uri, "MONGODB_DB": DB_NAME, "SECRET_KEY": SECRET})
    (session_id, tokens), (burst_session, burst_tokens) = seed(app, trainees=args.trainees, burst=100)

    from service.attendance import tokens as codes

    def class_code(session):
        with app.app_context():
            return codes.issue(codes.CLASS, session)[0]

    print(f"{args.trainees} trainees, concurrency {args.concurrency}, gunicorn gthread "
          f"{args.workers} workers x {args.threads} threads, embedded database (SecantusDB)")
    results = {}
    try:
        bare = Gunicorn("benchmarks.wsgi_apps:bare_app()", env=env, workers=args.workers, threads=args.threads)
        try:
            drive(bare.port, "/bare", [({"user": f"warm-{i}", "code": "x"}, {}) for i in range(100)], args.concurrency)
            code = class_code(session_id)
            wall, latencies, _, cpu, ops = drive_with_cpu(
                (bare.port, "/bare", [({"user": str(i), "code": code}, {}) for i in range(args.trainees - 100)],
                 args.concurrency), [bare.process.pid, database.process.pid], database.uri)
            results["bare"] = summary("bare", wall, latencies, cpu, ops)
        finally:
            bare.stop()

        ours = Gunicorn("benchmarks.wsgi_apps:service_app()", env=env, workers=args.workers, threads=args.threads)
        try:
            # Warm-up as for bare: the first 100 trainees check in; the rest are measured.
            warm, measured = tokens[:100], tokens[100:]
            drive(ours.port, "/api/v1/checkins", [({"code": class_code(session_id), **VENUE},
                                                   {"Authorization": f"Bearer {t}"}) for t in warm], args.concurrency)
            requests = []
            for token in measured:
                requests.append(({"code": class_code(session_id), **VENUE, "nonce": secrets.token_hex(8),
                                  "device_id": secrets.token_hex(6)}, {"Authorization": f"Bearer {token}"}))
            wall, latencies, statuses, cpu, ops = drive_with_cpu(
                (ours.port, "/api/v1/checkins", requests, args.concurrency), [ours.process.pid, database.process.pid],
                database.uri)
            results["check-in"] = summary("check-in", wall, latencies, cpu, ops)
            refused = [s for s in statuses if s[0] != 200]
            print(f"           answers: {sum(1 for s in statuses if s == (200, 'checked_in'))} checked_in, "
                  f"{len(refused)} refused")

            # Burst: 100 trainees, each scanning twice at the same moment.
            code = class_code(burst_session)
            burst = [({"code": code, **VENUE, "nonce": secrets.token_hex(8)}, {"Authorization": f"Bearer {t}"})
                     for t in burst_tokens for _ in range(2)]
            wall, latencies, statuses = drive(ours.port, "/api/v1/checkins", burst, len(burst))
            with app.app_context():
                from service.core.db import collection

                recorded = collection("attendance").count_documents({"session_id": burst_session})
            print(f"burst      {len(burst)} scans by 100 trainees in {wall * 1000:.0f} ms: {recorded} records "
                  f"({sum(1 for s in statuses if s[0] == 200)} answered 200)")
            results["burst_records"] = recorded
        finally:
            ours.stop()
    finally:
        database.stop()

    ratio = results["check-in"]["throughput"] / results["bare"]["throughput"]
    p99_ratio = results["check-in"]["p99"] / results["bare"]["p99"]
    print(f"ratio      throughput {ratio:.2f} x bare (target >= 0.6)   p99 {p99_ratio:.2f} x bare (target <= 2)   "
          f"burst records {results['burst_records']} (target 100)")
    print(f"           server CPU per request {results['check-in']['cpu_ms'] / results['bare']['cpu_ms']:.2f} x bare "
          "(throughput on 2 cores follows it when other programs compete for the CPU)")


if __name__ == "__main__":
    main()
