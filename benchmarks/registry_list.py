"""Benchmark: the registry list (`GET /api/v1/registry/enterprises`, the console's 企业名录) on a
national-size registry (150,000 entries), every documented combination of its query parameters,
as an organizer and as province staff.

    .venv/bin/python benchmarks/registry_list.py [--entries 150000] [--runs 5] [--data-dir DIR] [--mongodb-uri URI]

Without --mongodb-uri (or MONGODB_URI) it starts the embedded database (SecantusDB). The registry is
written through the import's own write path (service.registry.repository.save_entries). --data-dir keeps the embedded server's files there and reuses them on the
next run (so old and new code can be compared on the same data, alternately); without it a temporary
directory is removed at exit. Each query is answered once to warm up (the first list request after
an import may build the list's read model; `lingjun worker` builds it after each import), then timed
--runs times; prints the median and the spread in seconds, the `total` and the load average.
Target (issue "National scale", finding F16): every query <= 1 s at 150,000 entries.
"""

import argparse
import datetime as dt
import os
import pathlib
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from stdnum.cn import uscc  # noqa: E402

from service import create_app  # noqa: E402
from service.core import embedded  # noqa: E402
from service.core.fake_wechat import FAKE_APPID, FAKE_SECRET, FakeWeChat  # noqa: E402

REGIONS = {"110000": "北京", "310000": "上海", "320000": "江苏", "330000": "浙江", "440000": "广东",
           "440300": "深圳", "370000": "山东", "510000": "四川", "420000": "湖北", "500000": "重庆"}
TITLES = ("小巨人", "专精特新中小企业", "单项冠军")
BRAND_CHARS = "华兴盛达鑫源恒泰宏伟正昌隆瑞丰嘉成博远创新凯明德天宇海星光辉耀金银安康永和信诚中科联睿智汇通"
INDUSTRIES = ("精密制造", "智能装备", "新材料", "电子科技", "生物医药", "汽车零部件", "软件", "环保科技",
              "光电", "半导体", "机械", "化工", "能源", "通信", "仪器仪表")
FORMS = ("有限公司", "股份有限公司", "科技有限公司", "集团有限公司")
DB_NAME = "bench_registry_list"


def entries(count):
    """`count` registry entries, spread over REGIONS and TITLES, with varied Chinese names; a few
    named 北京导出… (the 4 hits of F16's search)."""
    rnd = random.Random(19)
    made = []
    for serial in range(count):
        region = list(REGIONS)[serial % len(REGIONS)]
        base = f"91{region}MA{serial:07d}"[:17]
        brand = "".join(rnd.choice(BRAND_CHARS) for _ in range(2))
        name = f"{REGIONS[region]}{brand}{rnd.choice(INDUSTRIES)}{rnd.choice(FORMS)}"
        if serial % (count // 4) == 7:
            name = f"北京导出测试{serial}有限公司"
        start = dt.date(2021 + serial % 4, 7, 1)
        made.append({"credit_code": base + uscc.calc_check_digit(base), "title": TITLES[serial % 3], "name": name,
                     "region_code": region, "batch": f"第{serial % 6 + 1}批", "valid_from": start.isoformat(),
                     "valid_until": start.replace(year=start.year + 3).isoformat()})
    return made


def build_registry(app, count):
    from service.core.db import utcnow
    from service.registry import repository

    with app.app_context():
        if repository.count_entries() >= count:
            return False
        started = time.perf_counter()
        repository.save_entries(new=entries(count), changed=[], now=utcnow(), mark_regions=False)
        repository.registry_changed()
        print(f"registry written: {count} entries in {time.perf_counter() - started:.1f} s", flush=True)
        return True


def token_for(app, client, *, role, region_code=None):
    from service.staff import service as staff_service

    with app.app_context():
        _, binding_code = staff_service.create(name=f"bench-{role}", role=role, region_code=region_code)
    login = client.post("/api/v1/auth/wx-login", json={"code": f"bench-{uuid.uuid4().hex[:8]}.1"})
    assert login.status_code == 200, login.json
    token = login.json["token"]
    bound = client.post("/api/v1/auth/bind", json={"binding_code": binding_code},
                        headers={"Authorization": f"Bearer {token}"})
    assert bound.status_code == 200, bound.json
    return token


QUERIES = [  # (who, query string)
    ("organizer", "page_size=1"),
    ("organizer", "page=1&page_size=20"),
    ("organizer", "page=3000&page_size=20"),
    ("organizer", "region_code=110000"),
    ("organizer", "title=小巨人"),
    ("organizer", "region_code=110000&title=小巨人&page=100"),
    ("organizer", "valid_on=2025-09-01"),
    ("organizer", "q=测试企业Q&page_size=1"),
    ("organizer", "q=北京导出&page_size=1"),
    ("organizer", "q=科技"),
    ("organizer", "q=华兴&region_code=440000"),
    ("organizer", "credit_code={credit_code}"),
    ("staff", "page=1&page_size=20"),
    ("staff", "page=500&page_size=20"),
    ("staff", "q=测试"),
    ("staff", "q=鑫源精密"),
    ("staff", "title=小巨人&valid_on=2025-09-01"),
]


def read_model_figures(app):
    """The list's read model (service.registry.listing, absent before it): seconds to build it (the
    worker, after an import) and for another process to load the stored one (its first request)."""
    try:
        from service.registry import listing, repository
    except ImportError:
        return
    with app.app_context():
        repository.list_version_moved()
        started = time.perf_counter()
        listing.refresh()
        built = time.perf_counter() - started
        listing._loaded.clear()
        import gc

        gc.collect()
        before, started = rss_bytes(), time.perf_counter()
        lines = len(listing.current().lines)
        loaded = time.perf_counter() - started
        gc.collect()
        print(f"read model: built in {built:.2f} s, loaded by another process in {loaded:.2f} s ({lines} lines, "
              f"its memory +{(rss_bytes() - before) / 2**20:.0f} MB)", flush=True)


def rss_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=150_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data-dir", help="keep the embedded server's files here (reused when present)")
    parser.add_argument("--mongodb-uri", default=os.environ.get("MONGODB_URI"))
    args = parser.parse_args()

    wechat = FakeWeChat().start()
    data_dir, server = None, None
    if not args.mongodb_uri:
        data_dir = args.data_dir or tempfile.mkdtemp(prefix="lingjun-bench-list-")
        os.makedirs(data_dir, exist_ok=True)
        server = embedded.EmbeddedMongo(data_dir).start()
    app = create_app({"MONGODB_URI": args.mongodb_uri or server.uri, "MONGODB_DB": DB_NAME,
                      "WECHAT_API_BASE": wechat.api_base, "WECHAT_APPID": FAKE_APPID, "WECHAT_SECRET": FAKE_SECRET,
                      "LOG_LEVEL": "WARNING"})
    client = app.test_client()
    try:
        build_registry(app, args.entries)
        tokens = {"organizer": token_for(app, client, role="admin"),
                  "staff": token_for(app, client, role="province_staff", region_code="110000")}
        credit_code = entries(args.entries)[args.entries // 2]["credit_code"]
        print(f"database: {args.mongodb_uri or 'embedded (SecantusDB) in ' + data_dir}; "
              f"{args.entries} entries; load average {os.getloadavg()[0]:.1f} (2 cores)", flush=True)
        read_model_figures(app)
        loads, medians = [os.getloadavg()[0]], []
        for who, query in QUERIES:
            query = query.format(credit_code=credit_code)
            url = f"/api/v1/registry/enterprises?{query}"
            headers = {"Authorization": f"Bearer {tokens[who]}"}
            seconds, failures, answer = [], [], None
            for run in range(args.runs + 1):
                started = time.perf_counter()
                response = client.get(url, headers=headers)
                elapsed = time.perf_counter() - started
                if response.status_code != 200:  # the old code's slow queries met the database timeout (503)
                    failures.append(f"{response.status_code} {response.json.get('code')} after {elapsed:.1f} s")
                    continue
                answer = response.json
                if run:  # the first answer warms up
                    seconds.append(elapsed)
            loads.append(os.getloadavg()[0])
            if not seconds:
                print(f"  {who:<9} {query:<45} no answer: {'; '.join(failures)}", flush=True)
                continue
            median = statistics.median(seconds)
            medians.append(median)
            found = f"total={answer['total']:<6} items={len(answer['items'])}" if answer else ""
            print(f"  {who:<9} {query:<45} {median:6.3f} s  (min {min(seconds):.3f}, max {max(seconds):.3f})"
                  f"  {found}" + (f"  failed: {'; '.join(failures)}" if failures else ""), flush=True)
        print(f"slowest median {max(medians):.3f} s; load average {min(loads):.1f}-{max(loads):.1f}")
    finally:
        wechat.stop()
        if server:
            server.stop()
            if not args.data_dir:
                shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
