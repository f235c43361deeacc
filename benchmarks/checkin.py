"""Check-in throughput and latency: our check-in endpoint vs a bare Flask insert_one endpoint.

Both run under gunicorn (same workers, threads and hooks) at the same time, against the same
embedded database server. Each server gets `concurrency` keep-alive connections for the whole run,
warmed with one full round. Each round the bare endpoint takes N inserts, then N trainees check in
once each to that round's session over HTTP, `concurrency` at a time; rounds alternate so that
both see the same machine and database, and the medians are compared. Server CPU per request (gunicorn workers and
database, from /proc) and database operations per request are printed too: unlike throughput, they
do not move when other programs share the machine. Finally a burst of 100 trainees (each scanning
twice at the same moment) must leave exactly 100 records.

    python benchmarks/checkin.py [--trainees 1000] [--rounds 5] [--concurrency 32] [--workers 2] [--threads 8]

Targets (issue "QR check-in", tightened by "National scale"): check-in throughput >= 0.7 x bare, p99 <= 1.5 x bare
(the regression guard of benchmarks/checkin_peak.py, the national peak).
"""

import argparse
import datetime as dt
import http.client
import json
import os
import pathlib
import queue
import secrets
import shutil
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


def keep_or_remove(directory, keep):
    """A benchmark's temporary directory: removed at the end (a run leaves nothing behind), or kept
    and named (to read its database or logs)."""
    if keep:
        print(f"data kept in {directory}")
    else:
        shutil.rmtree(directory, ignore_errors=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(app, *, trainees, sessions, burst):
    """A class of `trainees` with `sessions` sessions on now, another class for the burst; one bearer
    token each. Returns ((session ids, tokens), (burst session id, tokens))."""
    from service.auth import repository as auth_tokens
    from service.auth import signed
    from service.core.auth import hash_token
    from service.core.db import collection, utcnow

    now = utcnow()
    expires = (now + dt.timedelta(hours=2)).replace(microsecond=0)

    def make_class(name, size, session_count):
        class_id, session_ids = ObjectId(), [ObjectId() for _ in range(session_count)]
        collection("classes").insert_one({
            "_id": class_id, "name": name, "status": "in_progress",
            "venue": {"name": "会场", **VENUE, "checkin_radius_m": 500}, "checkin_settings": {},
            "sessions": [{"_id": session_id, "title": f"第{i + 1}讲", "starts_at": now - dt.timedelta(minutes=5),
                          "ends_at": now + dt.timedelta(hours=2)} for i, session_id in enumerate(session_ids)]})
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
        return session_ids, tokens

    with app.app_context():
        main = make_class("基准测试班", trainees, sessions)
        burst_ids, burst_tokens = make_class("突发签到班", burst, 1)
    return main, (burst_ids[0], burst_tokens)


class Gunicorn:
    def __init__(self, app_spec, *, env, workers, threads, extra=()):
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", str(workers), "--threads", str(threads),
             "-b", f"127.0.0.1:{self.port}", "--log-level", "warning", "-c", "python:service.gunicorn_conf",
             # Idle connections stay open while the other server takes its round.
             "--keep-alive", "60", *extra, app_spec],
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
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:  # workers stuck on an overloaded machine
            self.process.kill()
            self.process.wait(10)


class Clients:
    """`concurrency` keep-alive connections to one server, kept for the whole run: opening 32 new
    connections at the start of every round put a connection storm into each round's slowest
    requests, and left which worker got the warm-up to chance."""

    def __init__(self, port, concurrency):
        self.port, self.concurrency = port, concurrency
        self.idle = queue.SimpleQueue()
        for _ in range(concurrency):
            self.idle.put(http.client.HTTPConnection("127.0.0.1", port, timeout=30))


def drive(clients, path, bodies_and_headers):
    """POST every (body, headers) over the clients' connections, all at once; returns
    (wall seconds, latencies, statuses)."""
    latencies, statuses = [], []
    lock = threading.Lock()

    def post(item):
        body, headers = item
        conn = clients.idle.get()
        try:
            payload = json.dumps(body).encode()
            started = time.perf_counter()
            conn.request("POST", path, body=payload, headers={"Content-Type": "application/json", **headers})
            response = conn.getresponse()
            data = response.read()
            elapsed = time.perf_counter() - started
        finally:
            clients.idle.put(conn)
        with lock:
            latencies.append(elapsed)
            statuses.append((response.status, json.loads(data).get("result")))

    started = time.perf_counter()
    with ThreadPoolExecutor(clients.concurrency) as pool:
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
    figures = {"throughput": len(latencies) / wall, "cpu_ms": app_ms + db_ms, "app_cpu_ms": app_ms, "db_cpu_ms": db_ms,
               "p50": percentile(latencies, .5) * 1000, "p95": percentile(latencies, .95) * 1000, "p99": percentile(latencies, .99) * 1000,
               "mean": statistics.fmean(latencies) * 1000}
    print(f"{name:<10} {len(latencies):>6} req  {figures['throughput']:>8.1f} req/s   p50 {figures['p50']:6.1f} ms"
          f"   p95 {figures['p95']:6.1f} ms   p99 {figures['p99']:6.1f} ms")
    per_request = ", ".join(f"{k} {v / len(latencies):.2f}" for k, v in ops.items() if v)
    print(f"{'':<10} server CPU per request {figures['cpu_ms']:.2f} ms (web {app_ms:.2f} + database {db_ms:.2f}); "
          f"database operations per request: {per_request}")
    return figures


def check_ins(tokens, code_for):
    return [({"code": code_for(), **VENUE, "nonce": secrets.token_hex(8), "device_id": secrets.token_hex(6)},
             {"Authorization": f"Bearer {token}"}) for token in tokens]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trainees", type=int, default=1000, help="check-ins (and bare inserts) per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--keep-data", action="store_true", help="keep the temporary database directory and print where")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="bench-checkin-")
    database = EmbeddedMongo(os.path.join(data_dir, "mongo")).start()
    env = {**os.environ, "MONGODB_URI": database.uri, "MONGODB_DB": DB_NAME, "SECRET_KEY": SECRET,
           "APP_ENV": "development", "PYTHONPATH": str(ROOT)}
    from service.app import create_app

    app = create_app({"MONGODB_URI": database.uri, "MONGODB_DB": DB_NAME, "SECRET_KEY": SECRET})
    # Session 0 warms up; each round checks everyone in to its own session.
    (session_ids, tokens), (burst_session, burst_tokens) = seed(
        app, trainees=args.trainees, sessions=args.rounds + 1, burst=100)

    from service.attendance import tokens as codes

    def class_code(session):
        with app.app_context():
            return codes.issue(codes.CLASS, session)[0]

    print(f"{args.trainees} check-ins per round, {args.rounds} rounds alternating bare / check-in, concurrency "
          f"{args.concurrency}, gunicorn gthread {args.workers} workers x {args.threads} threads, "
          "embedded database (SecantusDB)")
    rounds, pids = [], lambda server: [server.process.pid, database.process.pid]
    bare = Gunicorn("benchmarks.wsgi_apps:bare_app()", env=env, workers=args.workers, threads=args.threads)
    ours = Gunicorn("benchmarks.wsgi_apps:service_app()", env=env, workers=args.workers, threads=args.threads)
    try:
        bare_clients, our_clients = Clients(bare.port, args.concurrency), Clients(ours.port, args.concurrency)
        drive(bare_clients, "/bare", [({"user": f"warm-{i}", "code": "x"}, {}) for i in range(args.trainees)])
        drive(our_clients, "/api/v1/checkins", check_ins(tokens, lambda: class_code(session_ids[0])))
        for number, session_id in enumerate(session_ids[1:], start=1):
            code = class_code(session_id)
            wall, latencies, _, cpu, ops = drive_with_cpu(
                (bare_clients, "/bare", [({"user": str(i), "code": code}, {}) for i in range(args.trainees)]),
                pids(bare), database.uri)
            print(f"round {number}")
            bare_figures = summary("bare", wall, latencies, cpu, ops)
            wall, latencies, statuses, cpu, ops = drive_with_cpu(
                (our_clients, "/api/v1/checkins", check_ins(tokens, lambda s=session_id: class_code(s))),
                pids(ours), database.uri)
            ours_figures = summary("check-in", wall, latencies, cpu, ops)
            checked_in = sum(1 for s in statuses if s == (200, "checked_in"))
            print(f"{'':<10} answers: {checked_in} checked_in, {sum(1 for s in statuses if s[0] != 200)} refused")
            rounds.append((bare_figures, ours_figures))

        # Burst: 100 trainees, each scanning twice at the same moment.
        code = class_code(burst_session)
        burst = [({"code": code, **VENUE, "nonce": secrets.token_hex(8)}, {"Authorization": f"Bearer {t}"})
                 for t in burst_tokens for _ in range(2)]
        wall, latencies, statuses = drive(Clients(ours.port, len(burst)), "/api/v1/checkins", burst)
        with app.app_context():
            from service.core.db import collection

            recorded = collection("attendance").count_documents({"session_id": burst_session})
        print(f"burst      {len(burst)} scans by 100 trainees in {wall * 1000:.0f} ms: {recorded} records "
              f"({sum(1 for s in statuses if s[0] == 200)} answered 200)")
    finally:
        bare.stop()
        ours.stop()
        database.stop()
        keep_or_remove(data_dir, args.keep_data)

    def median_of(key, side):
        return statistics.median(r[side][key] for r in rounds)

    throughput = [r[1]["throughput"] / r[0]["throughput"] for r in rounds]
    p99 = [r[1]["p99"] / r[0]["p99"] for r in rounds]
    print(f"median     bare {median_of('throughput', 0):.0f} req/s p99 {median_of('p99', 0):.1f} ms;  "
          f"check-in {median_of('throughput', 1):.0f} req/s p99 {median_of('p99', 1):.1f} ms")
    print(f"ratio      throughput {statistics.median(throughput):.2f} x bare (target >= 0.7; rounds "
          f"{' '.join(f'{x:.2f}' for x in throughput)})   p99 {statistics.median(p99):.2f} x bare (target <= 1.5; "
          f"rounds {' '.join(f'{x:.2f}' for x in p99)})   burst records {recorded} (target 100)")
    print(f"           server CPU per request {median_of('cpu_ms', 1) / median_of('cpu_ms', 0):.2f} x bare "
          "(throughput on 2 cores follows it when other programs compete for the CPU)")


if __name__ == "__main__":
    main()
