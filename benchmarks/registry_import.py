"""Benchmark: import a national-size registry file (150,000 rows) twice: uploaded through the HTTP
API (answered at once with a queued import), then run by the worker's import step as
`lingjun worker` runs it.

    .venv/bin/python benchmarks/registry_import.py [--rows 150000] [--runs 3] [--shape excel|wps] [--mongodb-uri URI]

Without --mongodb-uri (or MONGODB_URI) it starts the embedded database in a temporary
directory, as the tests do; each run imports into a database of its own (a first import is a
first import). Prints, per run, the upload's answer time, the seconds of the first import and of
the re-import (which must write nothing), split into reading the file, checking rows, writing
(a thread of its own, overlapping reading and checking; it includes reading the parts of the
registry the file brings) and the reader's wait for the writer,
rows per second and the worker's memory growth (resident set sampled every 20 ms during the
import, minus before it); then the medians and the load average.
--shape wps writes the sheet's <dimension ref="A1"> as WPS does (read-only openpyxl trusts it).
Targets (issue "National scale"): 150,000 rows in <= 30 s with <= 300 MB growth, re-import <= 15 s.
"""

import argparse
import datetime as dt
import re
import statistics
import threading
import io
import os
import pathlib
import shutil
import sys
import tempfile
import time
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import pymongo  # noqa: E402
from openpyxl import Workbook  # noqa: E402
from stdnum.cn import uscc  # noqa: E402

from service import create_app  # noqa: E402
from service.core import embedded  # noqa: E402
from service.core.fake_wechat import FAKE_APPID, FAKE_SECRET, FakeWeChat  # noqa: E402
from service.registry.importer import COLUMNS, TITLES  # noqa: E402

REGIONS = ["110000", "310000", "320000", "330000", "440000", "440300", "370000", "510000", "420000", "500000"]


def registry_xlsx(rows):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("企业名录")
    sheet.append(list(COLUMNS.values()))
    for serial in range(rows):
        region = REGIONS[serial % len(REGIONS)]
        base = f"91{region}MA{serial:07d}"[:17]
        start = dt.date(2021 + serial % 4, 7, 1)
        sheet.append([f"示例精密制造有限公司{serial:05d}", base + uscc.calc_check_digit(base), region,
                      TITLES[serial % 3], f"第{serial % 6 + 1}批", start, start.replace(year=start.year + 3)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def wps_shaped(data):
    """The same workbook with <dimension ref="A1"> as WPS writes it."""
    from benchmarks.registry_read_memory import _rewrite_sheet

    return _rewrite_sheet(data, lambda xml: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1"', xml, count=1))


def admin_token(app, client):
    """An organizer's token (a staff account bound to a fresh fake-WeChat login)."""
    from benchmarks.registry_list import token_for

    return token_for(app, client, role="admin")


def rss_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def timed_import(app, client, token, data):
    """(upload seconds, import seconds, memory growth bytes, the finished import)."""
    from service.registry.service import run_next_import

    headers = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    response = client.post("/api/v1/registry/imports", headers=headers,
                           content_type="multipart/form-data", data={"file": (io.BytesIO(data), "registry.xlsx")})
    upload_seconds = time.perf_counter() - started
    assert response.status_code == 202, response.json
    before, peak, done = rss_bytes(), [0], threading.Event()

    def sample():
        while not done.wait(0.02):
            peak[0] = max(peak[0], rss_bytes())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    with app.app_context():
        assert run_next_import() is not None
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    report = client.get(f"/api/v1/registry/imports/{response.json['id']}", headers=headers).json
    assert report["state"] == "done", report
    from bson import ObjectId

    from service.registry import repository

    with app.app_context():  # the phases are kept in the import document (not in the API)
        report["timings"] = repository.get_report(ObjectId(response.json["id"]))["timings"]
    return upload_seconds, seconds, max(peak[0], rss_bytes()) - before, report


def one_run(uri, rows, data, wechat):
    """{"first import": figures, "re-import": figures}: in a server of its own (embedded), or a
    database of its own (--mongodb-uri). Dropping a 150,000-entry database held the embedded
    server for more than 10 s, so runs never share one."""
    data_dir, server = None, None
    if not uri:
        data_dir = tempfile.mkdtemp(prefix="lingjun-bench-db-")
        server = embedded.EmbeddedMongo(data_dir).start()
    db_name = f"bench_{uuid.uuid4().hex[:8]}"
    app = create_app({"MONGODB_URI": uri or server.uri, "MONGODB_DB": db_name, "WECHAT_API_BASE": wechat.api_base,
                      "WECHAT_APPID": FAKE_APPID, "WECHAT_SECRET": FAKE_SECRET, "LOG_LEVEL": "WARNING"})
    client = app.test_client()
    figures = {}
    try:
        token = admin_token(app, client)
        for label in ("first import", "re-import"):
            upload, seconds, growth, report = timed_import(app, client, token, data)
            t = report["timings"]
            figures[label] = {"import": seconds, "read": t["reading_ms"] / 1000, "check": t["checking_ms"] / 1000,
                              "write": t["writing_ms"] / 1000, "wait": t["waiting_for_writes_ms"] / 1000,
                              "memory": growth / 2**20, "upload": upload}
            read = t.get("registry_read") or {}
            bulk = f" (registry read: {read.get('entries', 0)} entries in {read.get('parts', 0)} parts)"
            print(f"  {label:<13} import {seconds:6.2f} s ({rows / seconds:6.0f} rows/s): read {figures[label]['read']:5.2f}"
                  f"  check {figures[label]['check']:5.2f}  write {figures[label]['write']:6.2f}{bulk} (thread)"
                  f"  reader waited {figures[label]['wait']:6.2f}  memory +{figures[label]['memory']:4.0f} MB"
                  f"  upload answered {upload:4.2f} s  inserted={report['inserted']} updated={report['updated']} "
                  f"unchanged={report['unchanged']} rejected={report['rejected']}  (load {os.getloadavg()[0]:.1f})",
                  flush=True)
        assert report["inserted"] == report["updated"] == 0, "the re-import must change nothing"
    finally:
        if server:
            server.stop()
            shutil.rmtree(data_dir, ignore_errors=True)
        else:
            mongo = pymongo.MongoClient(uri)
            mongo.drop_database(db_name)
            mongo.close()
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=150_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--shape", choices=("excel", "wps"), default="excel")
    parser.add_argument("--mongodb-uri", default=os.environ.get("MONGODB_URI"))
    args = parser.parse_args()

    wechat = FakeWeChat().start()
    try:
        started = time.perf_counter()
        data = registry_xlsx(args.rows)
        if args.shape == "wps":
            data = wps_shaped(data)
        print(f"database: {args.mongodb_uri or 'embedded (SecantusDB), a fresh server per run'}")
        print(f"file: {args.rows} rows ({args.shape}), {len(data) / 1024:.0f} KiB xlsx, generated in "
              f"{time.perf_counter() - started:.2f} s", flush=True)
        runs, loads = [], [os.getloadavg()[0]]
        for run in range(args.runs):
            print(f"run {run + 1} (load average {os.getloadavg()[0]:.1f})", flush=True)
            runs.append(one_run(args.mongodb_uri, args.rows, data, wechat))
            loads.append(os.getloadavg()[0])
        print(f"medians of {args.runs} runs (load average {min(loads):.1f}-{max(loads):.1f} over the runs; 2 cores):")
        for label in ("first import", "re-import"):
            median = {key: statistics.median(run[label][key] for run in runs) for key in runs[0][label]}
            print(f"  {label:<13} {median['import']:6.2f} s  ({args.rows / median['import']:.0f} rows/s; "
                  f"read {median['read']:.2f}, check {median['check']:.2f}, write {median['write']:.2f} s in its thread)"
                  f"  memory +{median['memory']:.0f} MB  [all runs: "
                  + ", ".join(f"{run[label]['import']:.1f}" for run in runs) + "]")
    finally:
        wechat.stop()


if __name__ == "__main__":
    main()
