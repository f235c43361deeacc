"""Benchmark: does the API keep answering while a national registry import runs?

The service runs under gunicorn (gthread) and the worker as its own process (`lingjun worker`), as
in production, on the embedded database. Three imports are uploaded through the HTTP API and run by
the worker, one after the other: a 150,000-row first import, the re-import of the same file (which
writes nothing), and a 21-row file into the registry that then holds 150,000 entries. Meanwhile three
probes run, each every 0.2 s: a cheap authenticated read (`GET /api/v1/me`, an admin) and a
check-in-like write (`POST /api/v1/checkins`, each time another trainee), and the registry list's
first page (an organizer). Prints, per phase (and for a quiet phase before the imports, and for
--after-seconds after each import, while the list's read model is rebuilt), the probes' p50 / p99 /
max and their failures (non-2xx answers, timeouts), the import's seconds from upload to `done`, and
the peak resident memory of the database and the worker.

    .venv/bin/python benchmarks/registry_probe.py [--rows 150000] [--small-rows 21] [--quiet-seconds 5]

Target (issue "National scale", finding F8): probe p99 <= 1 s and no 503 while an import runs, with the
import targets of benchmarks/registry_import.py still met.
"""

import argparse
import datetime as dt
import io
import os
import pathlib
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from openpyxl import Workbook  # noqa: E402
from stdnum.cn import uscc  # noqa: E402

from benchmarks.checkin import VENUE, Gunicorn, seed  # noqa: E402
from benchmarks.registry_import import admin_token, registry_xlsx  # noqa: E402
from service.core.embedded import EmbeddedMongo  # noqa: E402
from service.core.fake_wechat import FAKE_APPID, FAKE_SECRET, FakeWeChat  # noqa: E402
from service.registry.importer import COLUMNS  # noqa: E402

DB_NAME = "bench_registry_probe"
SECRET = "benchmark-secret-" + "y" * 32
PROBE_INTERVAL = 0.2
PROBE_TIMEOUT = 60


def small_xlsx(rows):
    """`rows` entries none of the big file holds (region 110000)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("企业名录")
    sheet.append(list(COLUMNS.values()))
    for serial in range(rows):
        base = f"91110000PB{serial:07d}"[:17]
        sheet.append([f"新增示例有限公司{serial:03d}", base + uscc.calc_check_digit(base), "110000", "小巨人", "第7批",
                      dt.date(2025, 7, 1), dt.date(2028, 6, 30)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rss_mb(pid):
    try:
        for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


class Probes:
    """Three probe threads (a read, a write, the registry list), each every PROBE_INTERVAL s; samples
    memory of `pids` too."""

    def __init__(self, base, admin, trainee_tokens, code_for, pids):
        self.base, self.admin, self.tokens, self.code_for, self.pids = base, admin, trainee_tokens, code_for, pids
        self.results = {"me": [], "check-in": [], "list": []}
        self.peak = dict.fromkeys(pids, 0.0)
        self.stop = threading.Event()
        self.next_trainee = 0
        self.threads = [threading.Thread(target=self._loop, args=(kind,), daemon=True) for kind in self.results]
        self.threads.append(threading.Thread(target=self._memory, daemon=True))

    def start(self):
        for thread in self.threads:
            thread.start()
        return self

    def _request(self, kind, session):
        if kind == "me":
            return session.get(f"{self.base}/api/v1/me", headers={"Authorization": f"Bearer {self.admin}"},
                               timeout=PROBE_TIMEOUT)
        if kind == "list":  # the console's registry page: the list's read model is rebuilt after each import
            return session.get(f"{self.base}/api/v1/registry/enterprises?page_size=20",
                               headers={"Authorization": f"Bearer {self.admin}"}, timeout=PROBE_TIMEOUT)
        token = self.tokens[self.next_trainee % len(self.tokens)]
        self.next_trainee += 1
        body = {"code": self.code_for(), **VENUE, "nonce": secrets.token_hex(8), "device_id": secrets.token_hex(6)}
        return session.post(f"{self.base}/api/v1/checkins", json=body, headers={"Authorization": f"Bearer {token}"},
                            timeout=PROBE_TIMEOUT)

    def _loop(self, kind):
        session = requests.Session()
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                status = self._request(kind, session).status_code
            except requests.RequestException as exc:
                status = type(exc).__name__
            self.results[kind].append((time.monotonic(), time.perf_counter() - started, status))
            self.stop.wait(max(0.0, PROBE_INTERVAL - (time.perf_counter() - started)))

    def _memory(self):
        while not self.stop.wait(0.2):
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], rss_mb(pid))

    def reset_peaks(self):
        self.peak = {pid: rss_mb(pid) for pid in self.pids}

    def between(self, kind, start, end):
        return [(seconds, status) for at, seconds, status in self.results[kind] if start <= at <= end]

    def finish(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(PROBE_TIMEOUT + 5)


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def describe(samples):
    if not samples:
        return "no sample"
    seconds = [s for s, _ in samples]
    failed = [status for _, status in samples if not (isinstance(status, int) and status < 300)]
    return (f"{len(samples):4d} probes  p50 {percentile(seconds, .5) * 1000:7.1f} ms  p99 {percentile(seconds, .99) * 1000:7.1f} ms"
            f"  max {max(seconds) * 1000:7.1f} ms  failed {len(failed)}" + (f" {sorted(set(map(str, failed)))}" if failed else ""))


def upload_and_wait(base, admin, data, name, timeout):
    """(seconds from upload to the end, the finished import), or the import as it stands after
    `timeout` seconds."""
    headers = {"Authorization": f"Bearer {admin}"}
    started = time.monotonic()
    response = requests.post(f"{base}/api/v1/registry/imports", headers=headers, timeout=PROBE_TIMEOUT,
                             files={"file": (name, data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    assert response.status_code == 202, response.text
    import_id = response.json()["id"]
    while True:
        time.sleep(0.5)
        try:
            report = requests.get(f"{base}/api/v1/registry/imports/{import_id}", headers=headers, timeout=PROBE_TIMEOUT).json()
        except requests.RequestException:
            continue
        if report.get("state") in ("done", "failed") or time.monotonic() - started > timeout:
            return time.monotonic() - started, report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=150_000)
    parser.add_argument("--small-rows", type=int, default=21)
    parser.add_argument("--quiet-seconds", type=float, default=5)
    parser.add_argument("--phase-timeout", type=float, default=600, help="give up an import after this many seconds")
    parser.add_argument("--after-seconds", type=float, default=30,
                        help="probe this long after each import too (the list's read model is rebuilt then)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    big, small = registry_xlsx(args.rows), small_xlsx(args.small_rows)
    data_dir = tempfile.mkdtemp(prefix="bench-registry-probe-")
    database = EmbeddedMongo(os.path.join(data_dir, "mongo")).start()
    wechat = FakeWeChat().start()
    env = {**os.environ, "MONGODB_URI": database.uri, "MONGODB_DB": DB_NAME, "SECRET_KEY": SECRET,
           "APP_ENV": "development", "PYTHONPATH": str(ROOT), "WECHAT_API_BASE": wechat.api_base,
           "WECHAT_APPID": FAKE_APPID, "WECHAT_SECRET": FAKE_SECRET, "WORKER_INTERVAL_SECONDS": "1",
           "CHECKIN_CODE_SECONDS": "3600", "LOG_LEVEL": "WARNING"}
    from service.app import create_app

    app = create_app({"MONGODB_URI": database.uri, "MONGODB_DB": DB_NAME, "SECRET_KEY": SECRET,
                      "WECHAT_API_BASE": wechat.api_base, "WECHAT_APPID": FAKE_APPID, "WECHAT_SECRET": FAKE_SECRET,
                      "CHECKIN_CODE_SECONDS": 3600, "LOG_LEVEL": "WARNING"})
    # One session per 1,000 check-ins: a trainee checks in once per session.
    (session_ids, tokens), _ = seed(app, trainees=1000, sessions=5, burst=1)
    admin = admin_token(app, app.test_client())
    from service.attendance import tokens as codes

    with app.app_context():
        class_codes = [codes.issue(codes.CLASS, session)[0] for session in session_ids]
    counter = iter(range(10**9))

    def code_for():
        return class_codes[next(counter) // len(tokens) % len(class_codes)]

    service = Gunicorn("benchmarks.wsgi_apps:service_app()", env=env, workers=args.workers, threads=args.threads)
    worker = subprocess.Popen([sys.executable, "-m", "service.cli", "worker"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{service.port}"
    print(f"embedded database (SecantusDB); gunicorn gthread {args.workers} x {args.threads}; worker process; "
          f"probes every {PROBE_INTERVAL} s; load average {os.getloadavg()[0]:.1f} (2 cores)", flush=True)
    probes = Probes(base, admin, tokens, code_for, [database.process.pid, worker.pid]).start()
    try:
        phases = [("quiet", None), (f"first import {args.rows}", big), (f"re-import {args.rows}", big),
                  (f"{args.small_rows}-row import", small)]
        for label, data in phases:
            probes.reset_peaks()
            start, report = time.monotonic(), None
            if data is None:
                time.sleep(args.quiet_seconds)
                line = f"{label:<22} {args.quiet_seconds:6.1f} s"
            else:
                seconds, report = upload_and_wait(base, admin, data, f"{uuid.uuid4().hex[:6]}.xlsx",
                                                  args.phase_timeout)
                line = (f"{label:<22} {seconds:6.1f} s to {report['state']} (import {(report['duration_ms'] or 0) / 1000:.1f} s; "
                        f"inserted {report['inserted']} updated {report['updated']} unchanged {report['unchanged']})")
            end = time.monotonic()
            print(line + f"  load {os.getloadavg()[0]:.1f}  peak RSS database {probes.peak[database.process.pid]:.0f} MB"
                  f" worker {probes.peak[worker.pid]:.0f} MB", flush=True)
            for kind in ("me", "check-in", "list"):
                print(f"    {kind:<9} {describe(probes.between(kind, start, end))}", flush=True)
            if report is not None and report["state"] != "done":
                break  # the next import would queue behind this one
            if data is not None and args.after_seconds:
                probes.reset_peaks()
                time.sleep(args.after_seconds)
                print(f"  {args.after_seconds:.0f} s after it:  load {os.getloadavg()[0]:.1f}  peak RSS database "
                      f"{probes.peak[database.process.pid]:.0f} MB worker {probes.peak[worker.pid]:.0f} MB", flush=True)
                for kind in ("me", "check-in", "list"):
                    print(f"    {kind:<9} {describe(probes.between(kind, end, time.monotonic()))}", flush=True)
    finally:
        probes.finish()
        worker.terminate()
        worker.wait(20)
        service.stop()
        database.stop()
        wechat.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
