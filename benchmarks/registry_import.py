"""Benchmark: import a 10,000-row registry file twice through the HTTP API.

    .venv/bin/python benchmarks/registry_import.py [--rows 10000] [--mongodb-uri URI]

Without --mongodb-uri (or MONGODB_URI) it starts the embedded database in a temporary
directory, as the tests do. Prints the row count, the seconds for the first import and for
the re-import (which must write nothing), and rows per second.
"""

import argparse
import datetime as dt
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


def timed_import(client, token, data):
    started = time.perf_counter()
    response = client.post("/api/v1/registry/imports", headers={"Authorization": f"Bearer {token}"},
                           content_type="multipart/form-data", data={"file": (io.BytesIO(data), "registry.xlsx")})
    seconds = time.perf_counter() - started
    assert response.status_code == 201, response.json
    return seconds, response.json


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
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
            seconds, report = timed_import(client, token, data)
            print(f"{label:<13} {seconds:6.2f} s  {args.rows / seconds:8.0f} rows/s  "
                  f"inserted={report['inserted']} updated={report['updated']} "
                  f"unchanged={report['unchanged']} rejected={report['rejected']}")
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
