"""Benchmark: import a national-size registry file (150,000 rows) twice: uploaded through the HTTP
API (answered at once with a queued import), then run by the worker's import step as
`lingjun worker` runs it.

    .venv/bin/python benchmarks/registry_import.py [--rows 150000] [--mongodb-uri URI]

Without --mongodb-uri (or MONGODB_URI) it starts the embedded database in a temporary
directory, as the tests do. Prints the upload's answer time, the seconds of the first import and
of the re-import (which must write nothing), rows per second, and the worker's memory growth
(resident set sampled every 20 ms during the import, minus before it).
Targets (issue "National scale"): 150,000 rows in <= 30 s with <= 300 MB growth, re-import <= 15 s.
"""

import argparse
import datetime as dt
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


def admin_token(app, client):
    from service.staff import service as staff_service

    with app.app_context():
        _, binding_code = staff_service.create(name="bench-admin", role="admin")
    token = client.post("/api/v1/auth/wx-login", json={"code": "bench-admin.1"}).json["token"]
    bound = client.post("/api/v1/auth/bind", json={"binding_code": binding_code},
                        headers={"Authorization": f"Bearer {token}"})
    assert bound.status_code == 200, bound.json
    return token


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
    return upload_seconds, seconds, max(peak[0], rss_bytes()) - before, report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=150_000)
    parser.add_argument("--mongodb-uri", default=os.environ.get("MONGODB_URI"))
    args = parser.parse_args()

    data_dir, server = None, None
    uri = args.mongodb_uri
    if not uri:
        data_dir = tempfile.mkdtemp(prefix="lingjun-bench-db-")
        server = embedded.EmbeddedMongo(data_dir).start()
        uri = server.uri
    wechat = FakeWeChat().start()
    db_name = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        app = create_app({"MONGODB_URI": uri, "MONGODB_DB": db_name, "WECHAT_API_BASE": wechat.api_base,
                          "WECHAT_APPID": FAKE_APPID, "WECHAT_SECRET": FAKE_SECRET, "LOG_LEVEL": "WARNING"})
        client = app.test_client()
        token = admin_token(app, client)

        started = time.perf_counter()
        data = registry_xlsx(args.rows)
        print(f"database: {'embedded (SecantusDB)' if server else uri}")
        print(f"file: {args.rows} rows, {len(data) / 1024:.0f} KiB xlsx, generated in "
              f"{time.perf_counter() - started:.2f} s")
        for label in ("first import", "re-import"):
            upload, seconds, growth, report = timed_import(app, client, token, data)
            print(f"{label:<13} upload answered in {upload:5.2f} s; import {seconds:6.2f} s  "
                  f"{args.rows / seconds:8.0f} rows/s  worker memory +{growth / 2**20:5.0f} MB  "
                  f"inserted={report['inserted']} updated={report['updated']} "
                  f"unchanged={report['unchanged']} rejected={report['rejected']}", flush=True)
        assert report["inserted"] == report["updated"] == 0, "the re-import must change nothing"
    finally:
        wechat.stop()
        if server:
            server.stop()
            shutil.rmtree(data_dir, ignore_errors=True)
        else:
            client = pymongo.MongoClient(uri)
            client.drop_database(db_name)
            client.close()


if __name__ == "__main__":
    main()
