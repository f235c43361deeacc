"""The check-in peak of a whole country, replayed on one machine.

50 classes start at the same hour; in each, 100 trainees check in within 3 minutes (each at a random
moment of the window), 30% of them through a retry: their first request reaches the server but the
answer is lost (the phone gives up after --client-timeout seconds) and the same request (same body,
same nonce) is sent again. Meanwhile every class's supervisor polls the board
(GET /api/v1/sessions/{id}/board) every 3 s and every class's projector page polls its state
(GET /console/sessions/{id}/checkin/state, the current code and the counts) every second, each
waiting for its answer before the next interval, as the pages do.

Time can be compressed (--compress 3 replays the 3 minutes in 60 s): every interval shrinks by the
same factor, so the request mix and the number of clients at once (5,000 phones, 50 supervisors,
50 projectors) stay the real ones while the request rate grows by the factor. Requests go to the
service under gunicorn (gthread, as in benchmarks/checkin.py) on the embedded database.

Printed: errors (any answer but 200, or a retry not answered as the first check-in), duplicate
attendance records (counted in the database; every trainee must have exactly one), latency p50 /
p99 of check-ins, retries, boards and projector polls, how late the load generator sent (its own
CPU competes on the same cores), and the CPU seconds per request of the web workers and of the
database process (from /proc).

    python benchmarks/checkin_peak.py [--compress 1] [--classes 50] [--trainees 100] [--runs 3]

Targets (issue "National scale"): 0 errors, 0 duplicates, check-in p99 <= 250 ms, board p99 <= 250 ms.
The ratio guard (check-in >= 0.7x a bare insert, p99 <= 1.5x) stays in benchmarks/checkin.py.
"""

import argparse
import datetime as dt
import http.client
import json
import os
import pathlib
import random
import secrets
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bson import ObjectId  # noqa: E402

from benchmarks.checkin import VENUE, Gunicorn, cpu_seconds, keep_or_remove, percentile  # noqa: E402
from service.core.embedded import EmbeddedMongo  # noqa: E402

DB_NAME = "bench_checkin_peak"
SECRET = "benchmark-secret-" + "x" * 32
WINDOW_SECONDS, BOARD_SECONDS, PROJECTOR_SECONDS = 180, 3, 1
RETRY_SHARE = 0.3


def seed(app, *, classes, trainees, run):
    """`classes` classes in progress, one session each starting in 10 minutes (check-in is open),
    `trainees` confirmed trainees each with a token, one supervisor each with a token and a projector
    link. -> [{"session_id", "supervisor", "projector", "trainees": [token]}]"""
    from service.attendance import projector
    from service.auth import repository as auth_tokens
    from service.auth import signed
    from service.core.auth import hash_token
    from service.core.db import collection, utcnow

    now = utcnow()
    expires = (now + dt.timedelta(hours=2)).replace(microsecond=0)

    def token_for(user_id, staff):
        token = signed.issue(user_id=user_id, expires_at=expires, staff=staff)
        auth_tokens.insert(token_hash=hash_token(token), user_id=user_id, expires_at=expires, staff=staff)
        return token

    plan = []
    with app.app_context():
        for c in range(classes):
            class_id, session_id, supervisor_id = ObjectId(), ObjectId(), ObjectId()
            region = ("110000", "440000", "310000", "510000")[c % 4]
            starts = now + dt.timedelta(minutes=10)
            collection("classes").insert_one({
                "_id": class_id, "name": f"第{c + 1}期 高峰班 {run}", "status": "in_progress", "year": now.year,
                "venue": {"name": "会场", **VENUE, "checkin_radius_m": 500}, "checkin_settings": {},
                "quotas": {region: {"places": trainees, "used": trainees}},
                "sessions": [{"_id": session_id, "title": "开班仪式", "starts_at": starts,
                              "ends_at": starts + dt.timedelta(hours=2)}]})
            users, registrations, tokens = [], [], []
            for i in range(trainees):
                user_id = ObjectId()
                users.append({"_id": user_id, "openid": f"peak-{user_id}", "created_at": now})
                registrations.append({"class_id": class_id, "user_id": user_id, "state": "confirmed",
                                      "region_code": region, "year": now.year, "created_at": now,
                                      "snapshot": {"name": f"学员{c:02d}{i:03d}", "mobile_masked": "139****0000"}})
                tokens.append(token_for(user_id, False))
            users.append({"_id": supervisor_id, "openid": f"peak-sup-{supervisor_id}", "created_at": now})
            collection("users").insert_many(users)
            collection("registrations").insert_many(registrations)
            collection("staff_accounts").insert_one({"_id": ObjectId(), "name": f"班主任{c}", "role": "supervisor",
                                                     "user_id": supervisor_id, "active": True,
                                                     "class_ids": [class_id], "region_code": None})
            link, _ = projector.make_link(session_id=session_id, user_id=supervisor_id)
            plan.append({"class_id": class_id, "session_id": session_id, "trainees": tokens,
                         "supervisor": token_for(supervisor_id, True),
                         "projector": link.replace("/checkin?", "/checkin/state?")})
    return plan


class Connections:
    """One keep-alive connection per thread (a phone, a supervisor's page, a projector page)."""

    def __init__(self, port):
        self.port, self.local = port, threading.local()

    def get(self):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        return conn

    def request(self, method, path, body=None, headers=None):
        """(status, parsed JSON or None, seconds). A connection the server closed is reopened once."""
        payload = json.dumps(body).encode() if body is not None else None
        for attempt in (1, 2):
            conn = self.get()
            started = time.perf_counter()
            try:
                conn.request(method, path, body=payload,
                             headers={"Content-Type": "application/json", **(headers or {})})
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, OSError) as error:
                conn.close()
                self.local.conn = None
                if attempt == 2 or isinstance(error, TimeoutError):
                    # No answer within 30 s (or none at all): an error, counted; the page goes on.
                    return 0, {"code": type(error).__name__}, time.perf_counter() - started
                continue
            elapsed = time.perf_counter() - started
            parsed = None
            if method == "POST" or response.status != 200:  # a poll's answer is only counted (client CPU)
                try:
                    parsed = json.loads(data)
                except ValueError:
                    pass
            return response.status, parsed, elapsed


def abandon(port, path, body, headers):
    """Send a request and never read the answer (the phone's network dropped it; its timer runs)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, body=json.dumps(body).encode(),
                     headers={"Content-Type": "application/json", **headers})
        time.sleep(0.005)  # let the request leave before the socket closes
    except OSError:
        pass  # not even sent: the retry is then the first the server sees
    finally:
        conn.close()


def replay(app, port, plan, *, compress, client_timeout, rng):
    """Run the peak once. -> {kind: [(status, result, seconds, lag)]}, wall seconds, requests sent."""
    from service.attendance import tokens as codes  # the code the projector shows at that moment

    window = WINDOW_SECONDS / compress
    results = {"checkin": [], "retry": [], "board": [], "projector": []}
    lock = threading.Lock()
    connections = Connections(port)
    abandoned = [0]
    start = time.perf_counter() + 1.0
    stop_polling = threading.Event()

    def record(kind, status, body, seconds, lag):
        with lock:
            results[kind].append((status, (body or {}).get("result") if isinstance(body, dict) else None,
                                  seconds, lag, (body or {}).get("code") if isinstance(body, dict) else None))

    def wait_until(moment):
        delay = moment - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        return time.perf_counter() - moment  # how late we are

    def phone(token, session_id, at, retries):
        lag = wait_until(start + at)
        with app.app_context():
            code = codes.issue(codes.CLASS, session_id)[0]
        body = {"code": code, **VENUE, "nonce": secrets.token_hex(8), "device_id": secrets.token_hex(6)}
        headers = {"Authorization": f"Bearer {token}"}
        if retries:
            abandon(port, "/api/v1/checkins", body, headers)
            with lock:
                abandoned[0] += 1
            lag = wait_until(start + at + client_timeout / compress)
            status, answer, seconds = connections.request("POST", "/api/v1/checkins", body, headers)
            record("retry", status, answer, seconds, lag)
        else:
            status, answer, seconds = connections.request("POST", "/api/v1/checkins", body, headers)
            record("checkin", status, answer, seconds, lag)

    def poller(kind, path, headers, interval):
        # The page's first load comes at a random moment of its interval; then it waits `interval`
        # after each answer (setTimeout after the fetch, as board and projector pages do).
        moment = start + rng.uniform(0, interval)
        while not stop_polling.is_set():
            lag = wait_until(moment)
            status, answer, seconds = connections.request("GET", path, headers=headers)
            record(kind, status, answer, seconds, lag)
            moment = time.perf_counter() + interval

    phones = []
    for entry in plan:
        for token in entry["trainees"]:
            phones.append((token, entry["session_id"], rng.uniform(0, window), rng.random() < RETRY_SHARE))
    phones.sort(key=lambda p: p[2])
    pollers = []
    for entry in plan:
        sid = entry["session_id"]
        pollers.append(threading.Thread(target=poller, daemon=True, args=(
            "board", f"/api/v1/sessions/{sid}/board", {"Authorization": f"Bearer {entry['supervisor']}"},
            BOARD_SECONDS / compress)))
        pollers.append(threading.Thread(target=poller, daemon=True, args=(
            "projector", entry["projector"], {}, PROJECTOR_SECONDS / compress)))
    for thread in pollers:
        thread.start()
    # Phones are open-loop: each sends at its moment whatever the others wait for. 200 threads
    # keep every phone in flight at once even if answers slow down.
    with ThreadPoolExecutor(200) as pool:
        futures = [pool.submit(phone, *p) for p in phones]
        for future in futures:
            future.result()
    stop_polling.set()
    for thread in pollers:
        thread.join(timeout=30)
    wall = time.perf_counter() - start
    sent = sum(len(v) for v in results.values()) + abandoned[0]
    return results, wall, sent


def server_times(access_log, offset):
    """{kind: [ms]} from the access log lines written since `offset` (check-ins and retries together)."""
    found = {"checkin": [], "board": [], "projector": []}
    with open(access_log, encoding="utf-8") as log:
        log.seek(offset)
        for line in log:
            try:
                method, path, ms = line.split()
            except ValueError:
                continue
            kind = ("checkin" if path == "/api/v1/checkins" else "board" if path.endswith("/board")
                    else "projector" if path.endswith("/checkin/state") else None)
            if kind:
                found[kind].append(float(ms))
    return found


def duplicates_and_missing(app, plan):
    from service.core.db import collection

    session_ids = [entry["session_id"] for entry in plan]
    with app.app_context():
        groups = list(collection("attendance").aggregate([
            {"$match": {"session_id": {"$in": session_ids}}},
            {"$group": {"_id": {"s": "$session_id", "u": "$user_id"}, "n": {"$sum": 1}}}]))
    duplicates = sum(g["n"] - 1 for g in groups if g["n"] > 1)
    expected = sum(len(entry["trainees"]) for entry in plan)
    return duplicates, expected - len(groups), sum(g["n"] for g in groups)


def errors_of(results):
    """Answers that are not what the page expects: any status but 200; a check-in or retry not
    answered "checked_in" (a retry repeats the first request: same nonce, same answer)."""
    wrong = []
    for kind, rows in results.items():
        for status, result, _, _, code in rows:
            if status != 200 or (kind in ("checkin", "retry") and result != "checked_in"):
                wrong.append((kind, status, result, code))
    return wrong


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--classes", type=int, default=50)
    parser.add_argument("--trainees", type=int, default=100, help="per class")
    parser.add_argument("--compress", type=float, default=1.0, help="time compression (1 = real time: 3 minutes)")
    parser.add_argument("--client-timeout", type=float, default=10.0, help="seconds a phone waits before its retry")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep-data", action="store_true",
                        help="keep the temporary directory (database and gunicorn's access log) and print where")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="bench-checkin-peak-")
    database = EmbeddedMongo(os.path.join(data_dir, "mongo")).start()
    env = {**os.environ, "MONGODB_URI": database.uri, "MONGODB_DB": DB_NAME, "SECRET_KEY": SECRET,
           "APP_ENV": "development", "PYTHONPATH": str(ROOT)}
    from service.app import create_app

    app = create_app({"MONGODB_URI": database.uri, "MONGODB_DB": DB_NAME, "SECRET_KEY": SECRET})
    access_log = os.path.join(data_dir, "access.log")
    # The workers' own time per request (gunicorn's %(M)s, ms): what the server took, without the
    # load generator's delays (its threads share the same two cores).
    server = Gunicorn("benchmarks.wsgi_apps:service_app()", env=env, workers=args.workers, threads=args.threads,
                      extra=("--access-logfile", access_log, "--access-logformat", "%(m)s %(U)s %(M)s"))
    print(f"peak: {args.classes} classes x {args.trainees} trainees within {WINDOW_SECONDS} s "
          f"({RETRY_SHARE:.0%} by a retry after a {args.client_timeout:.0f} s client timeout), boards every "
          f"{BOARD_SECONDS} s, projectors every {PROJECTOR_SECONDS} s; time compressed {args.compress:g}x "
          f"({WINDOW_SECONDS / args.compress:.0f} s); gunicorn gthread {args.workers} workers x {args.threads} "
          f"threads, embedded database; {args.runs} runs", flush=True)
    runs = []
    try:
        for run in range(1, args.runs + 1):
            plan = seed(app, classes=args.classes, trainees=args.trainees, run=run)
            rng = random.Random(args.seed + run)
            load_before = os.getloadavg()[0]
            log_from = os.path.getsize(access_log) if os.path.exists(access_log) else 0
            client_cpu = time.process_time()
            cpu_before = [cpu_seconds([server.process.pid]), cpu_seconds([database.process.pid])]
            results, wall, sent = replay(app, server.port, plan, compress=args.compress,
                                         client_timeout=args.client_timeout, rng=rng)
            web_cpu, db_cpu = (cpu_seconds([pid]) - before for pid, before in
                               zip((server.process.pid, database.process.pid), cpu_before))
            client_cpu = time.process_time() - client_cpu
            server_ms = server_times(access_log, log_from)
            duplicates, missing, records = duplicates_and_missing(app, plan)
            wrong = errors_of(results)
            figures = {"errors": len(wrong), "duplicates": duplicates, "missing": missing,
                       "web_ms": web_cpu / sent * 1000, "db_ms": db_cpu / sent * 1000,
                       "load": (load_before + os.getloadavg()[0]) / 2}
            print(f"\nrun {run}: {sent} requests in {wall:.1f} s ({sent / wall:.0f} req/s), load average "
                  f"{load_before:.2f} -> {os.getloadavg()[0]:.2f}")
            for kind, rows in results.items():
                seconds = [r[2] * 1000 for r in rows]
                lags = [r[3] * 1000 for r in rows]
                figures[f"{kind}_p50"], figures[f"{kind}_p99"] = percentile(seconds, .5), percentile(seconds, .99)
                served = server_ms.get("checkin" if kind == "retry" else kind) or [0]
                figures[f"{kind}_server_p99"] = percentile(served, .99)
                print(f"  {kind:<10} {len(rows):>6} answered   p50 {figures[f'{kind}_p50']:7.1f} ms   p99 "
                      f"{figures[f'{kind}_p99']:7.1f} ms   max {max(seconds):7.1f} ms   (sent late by p99 "
                      f"{percentile(lags, .99):.0f} ms; in the worker p50 {percentile(served, .5):.0f} ms p99 "
                      f"{figures[f'{kind}_server_p99']:.0f} ms)")
            print(f"  errors {len(wrong)} (target 0){': ' + str(wrong[:5]) if wrong else ''}; attendance records "
                  f"{records}, duplicates {duplicates} (target 0), trainees without a record {missing}")
            print(f"  CPU per request: web {figures['web_ms']:.2f} ms, database {figures['db_ms']:.2f} ms "
                  f"({web_cpu:.1f} s + {db_cpu:.1f} s for {sent} requests); the load generator itself used "
                  f"{client_cpu:.1f} s of CPU", flush=True)
            runs.append(figures)
    finally:
        try:
            server.stop()
        finally:
            database.stop()
            keep_or_remove(data_dir, args.keep_data)

    def median(key):
        return statistics.median(r[key] for r in runs)

    print(f"\nmedian of {len(runs)} runs (load average {median('load'):.2f}): errors {median('errors'):.0f}, "
          f"duplicates {median('duplicates'):.0f}; check-in p50 {median('checkin_p50'):.1f} ms p99 "
          f"{median('checkin_p99'):.1f} ms (target <= 250), retry p99 {median('retry_p99'):.1f} ms, board p50 "
          f"{median('board_p50'):.1f} ms p99 {median('board_p99'):.1f} ms (target <= 250), projector p99 "
          f"{median('projector_p99'):.1f} ms; in the worker p99: check-in {median('checkin_server_p99'):.0f} ms, board "
          f"{median('board_server_p99'):.0f} ms, projector {median('projector_server_p99'):.0f} ms; CPU per request web {median('web_ms'):.2f} ms, database "
          f"{median('db_ms'):.2f} ms")


if __name__ == "__main__":
    main()
