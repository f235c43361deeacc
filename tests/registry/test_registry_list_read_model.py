"""The registry list at national size (issue 19, finding F16): its pages come from a read model
(service.registry.listing) and must answer exactly what the database query answers (items, order,
total) for every filter, stay right after every kind of write, and read only the page's entries."""

import datetime as dt
import os
import random
import threading

import pytest
from bson import ObjectId

from service.core.auth import Identity
from service.registry import listing, repository, service
from tests.conftest import bearer
from tests.factories import credit_code
from tests.registry.helpers import failing_on_call, good_row, import_registry, xlsx_bytes

URL = "/api/v1/registry/enterprises"
REGIONS = ["110000", "310000", "440000", "440300", "650000"]
TITLES = ["小巨人", "单项冠军", "专精特新中小企业"]
NAMES = ["北京精工科技有限公司", "上海·张江微电子股份有限公司", "广州精密制造有限公司", "深圳新材料有限公司",
         "喀什𠮷祥纺织有限公司", "ABC Technology (Shenzhen) Co., Ltd.", "abc technology 有限公司", "测试企业Q有限公司",
         "北京导出测试有限公司", "华为 技术\u3000有限公司", "东莞[正则].*+?有限公司", "鑫源精密科技有限公司"]


def entry(serial, *, region, title, name, valid_from="2024-07-01", valid_until="2027-06-30"):
    return {"credit_code": credit_code(serial, region), "title": title, "name": name, "region_code": region,
            "batch": "第六批", "valid_from": valid_from, "valid_until": valid_until}


def varied_entries(count, seed=19):
    rnd = random.Random(seed)
    made = []
    for serial in range(1, count + 1):
        start = dt.date(2020 + rnd.randrange(6), 1 + rnd.randrange(12), 1)
        made.append(entry(serial, region=rnd.choice(REGIONS), title=rnd.choice(TITLES),
                          name=f"{rnd.choice(NAMES)}{serial}" if rnd.random() < 0.7 else rnd.choice(NAMES),
                          valid_from=start.isoformat(), valid_until=start.replace(year=start.year + 3).isoformat()))
    return made


def admin():
    return Identity(user_id=ObjectId(), roles=frozenset({"admin"}))


def staff(*codes):
    return Identity(user_id=ObjectId(), roles=frozenset({"province_staff"}), region_codes=frozenset(codes))


def from_database(identity, **filters):
    """The answer of the database query (the list as it was before the read model)."""
    region_filter = service._scope(identity, filters.pop("region_code", None))
    page, page_size = filters.pop("page", 1), filters.pop("page_size", 20)
    q = filters.pop("q", None)
    return service._list_from_database(region_filter, title=filters.pop("title", None), credit_code=None,
                                       q=q.strip() if q else None, valid_on=filters.pop("valid_on", None),
                                       page=page, page_size=page_size)


def same_answer(identity, **filters):
    got = service.list_enterprises(identity=identity, **filters)
    expected = from_database(identity, **filters)
    assert [item["_id"] for item in got["items"]] == [item["_id"] for item in expected["items"]], filters
    assert got["items"] == expected["items"] and got["total"] == expected["total"], filters
    return got


FILTERS = [
    {}, {"page": 2, "page_size": 7}, {"page": 40, "page_size": 5}, {"page": 1000},
    {"region_code": "440000"}, {"region_code": "440300", "page": 2, "page_size": 3}, {"region_code": "120000"},
    {"title": "单项冠军"}, {"region_code": "110000", "title": "小巨人", "page": 2, "page_size": 4},
    {"q": "精密"}, {"q": "有限公司", "page": 3, "page_size": 10}, {"q": "𠮷祥"}, {"q": "·张江"}, {"q": "ABC"},
    {"q": "abc"}, {"q": "Co., Ltd."}, {"q": "[正则].*+?"}, {"q": " 技术\u3000有限"}, {"q": "测试企业Q"},
    {"q": "北京导出"}, {"q": "1"}, {"q": "不存在的名字"}, {"q": "精", "region_code": "440000", "title": "小巨人"},
    {"valid_on": dt.date(2025, 9, 1)}, {"valid_on": dt.date(2023, 1, 1), "title": "小巨人", "q": "有限"},
    {"valid_on": dt.date(2020, 1, 1)},
]


@pytest.fixture
def varied(ctx):
    repository.save_entries(new=varied_entries(300), changed=[], now=dt.datetime.now(dt.UTC))
    return varied_entries(300)


@pytest.mark.parametrize("filters", FILTERS, ids=[str(f) for f in FILTERS])
def test_organizers_list_answers_as_the_database_does(varied, filters):
    same_answer(admin(), **filters)


@pytest.mark.parametrize("filters", [f for f in FILTERS if "region_code" not in f][:12])
def test_province_staff_list_answers_as_the_database_does(varied, filters):
    same_answer(staff("440000"), **filters)
    same_answer(staff("440000", "110000", "120000"), **filters)
    same_answer(staff(), **filters)


def test_search_by_name_parts_chinese_and_paging(varied):
    found = same_answer(admin(), q="𠮷祥纺织", page_size=500)
    assert found["total"] == sum("𠮷祥纺织" in e["name"] for e in varied) > 0
    assert all("𠮷祥纺织" in item["name"] for item in found["items"])
    keys = [(i["region_code"], i["title"], i["credit_code"]) for i in found["items"]]
    assert keys == sorted(keys)
    everything = same_answer(admin(), page_size=100, page=2)
    assert everything["total"] == 300 and len(everything["items"]) == 100


def test_credit_code_and_control_characters_go_to_the_database(varied, db_reads):
    code = varied[5]["credit_code"]
    db_reads.clear()
    found = service.list_enterprises(identity=admin(), credit_code=code.lower())
    assert [item["credit_code"] for item in found["items"]] == [code]
    assert db_reads.of(repository.LIST_COLLECTION) == []
    assert service.list_enterprises(identity=admin(), q="精工\t科技")["total"] == 0


def test_a_page_reads_only_its_entries(varied, db_reads):
    service.list_enterprises(identity=admin())  # builds the read model once
    for filters in ({}, {"q": "精密", "page": 2, "page_size": 5}, {"region_code": "440000", "title": "小巨人"},
                    {"valid_on": dt.date(2025, 9, 1)}):
        db_reads.clear()
        answer = service.list_enterprises(identity=admin(), **filters)
        reads = db_reads.of(repository.ENTERPRISES)
        assert reads and all(op == "find" and set(query) == {"credit_code"} for op, query in reads), reads
        asked = {code for _, query in reads for code in query["credit_code"]["$in"]}
        assert asked == {item["credit_code"] for item in answer["items"]}
        # the read model: its version and snapshot documents, no rebuild
        assert db_reads.of(repository.LIST_COLLECTION) == [("find", {"_id": {"$in": ["version", "snapshot"]}})]


def test_every_write_path_keeps_the_list_right(ctx, db):
    now = dt.datetime.now(dt.UTC)
    first = varied_entries(40)
    repository.save_entries(new=first, changed=[], now=now)
    same_answer(admin(), q="有限")
    # a changed name and region (the import's changed entries)
    moved = dict(first[0], name="改名后的北京企业", region_code="310000")
    repository.save_entries(new=[], changed=[moved], now=now)
    assert same_answer(admin(), q="改名后")["total"] == 1
    assert same_answer(admin(), region_code="310000")["total"] == sum(e["region_code"] == "310000" for e in first) + 1
    # the demo's sample (upserts)
    repository.upsert_entries([entry(900, region="650000", title="小巨人", name="新疆样例企业")], now=now)
    assert same_answer(admin(), q="新疆样例")["total"] == 1
    # an import's writes (save_entries unmarked), listed once it marks the registry changed at its end
    repository.save_entries(new=[entry(901, region="110000", title="单项冠军", name="后写入的企业")], changed=[],
                            now=now, mark_regions=False)
    repository.registry_changed()
    assert same_answer(admin(), q="后写入")["total"] == 1
    assert same_answer(admin())["total"] == 42


def test_an_import_through_the_api_shows_at_once(client, admin_token, make_staff):
    def names(query, token=admin_token):
        response = client.get(f"{URL}?{query}", headers=bearer(token))
        assert response.status_code == 200, response.json
        return response.json["total"], [item["name"] for item in response.json["items"]]

    rows = [good_row(1, name="北京精工科技有限公司"), good_row(2, name="北京智能装备有限公司", title="单项冠军"),
            good_row(3, region="440000", name="广州精密制造有限公司")]
    rows[2][2] = "440000"
    assert import_registry(client, admin_token, xlsx_bytes(rows)).json["state"] == "done"
    assert names("q=精") == (2, ["北京精工科技有限公司", "广州精密制造有限公司"])
    rows[0][0] = "北京精工智造有限公司"
    rows.append(good_row(4, name="北京第四家有限公司"))
    assert import_registry(client, admin_token, xlsx_bytes(rows)).json["state"] == "done"
    assert names("q=智造") == (1, ["北京精工智造有限公司"])
    assert names("q=精工科技") == (0, [])
    assert names("page_size=2&page=2") == (4, ["北京第四家有限公司", "广州精密制造有限公司"])
    staff_gd = make_staff("province_staff", region_code="440000")
    assert names("q=有限公司", staff_gd) == (1, ["广州精密制造有限公司"])


def test_the_worker_builds_the_read_model_after_an_import(app, client, admin_token, db):
    from service import worker

    from tests.registry.helpers import IMPORTS_URL
    import io

    posted = client.post(IMPORTS_URL, headers=bearer(admin_token), content_type="multipart/form-data",
                         data={"file": (io.BytesIO(xlsx_bytes([good_row(1)])), "名录.xlsx")})
    assert posted.status_code == 202
    assert worker.run_imports_once(app) is not None
    snapshot = db.registry_list.find_one({"_id": "snapshot"})
    assert snapshot["version"] == db.registry_list.find_one({"_id": "version"})["v"] > 0
    with app.app_context():
        assert listing.refresh() is False  # fresh: nothing to build


def test_imports_waiting_in_the_queue_run_before_the_read_model_is_built(app, client, admin_token, db, monkeypatch):
    """Finding q20 F8: each import rebuilt the list's read model before the next queued one ran."""
    import io

    from service import worker
    from tests.registry.helpers import IMPORTS_URL

    for n in (1, 2, 3):
        posted = client.post(IMPORTS_URL, headers=bearer(admin_token), content_type="multipart/form-data",
                             data={"file": (io.BytesIO(xlsx_bytes([good_row(n)])), f"名录{n}.xlsx")})
        assert posted.status_code == 202
    built, real_build = [], listing.build

    def build_noting_the_queue():
        built.append(db.registry_imports.count_documents({"state": "queued"}))
        return real_build()

    monkeypatch.setattr(listing, "build", build_noting_the_queue)
    while worker.run_imports_once(app) is not None:
        pass
    assert db.registry_imports.count_documents({"state": "done"}) == 3
    assert built == [0]  # once, with the queue empty
    snapshot = db.registry_list.find_one({"_id": "snapshot"})
    assert snapshot["version"] == db.registry_list.find_one({"_id": "version"})["v"]


def test_a_stale_or_old_snapshot_is_rebuilt(app, db, monkeypatch):
    from service import worker

    with app.app_context():
        repository.save_entries(new=varied_entries(10), changed=[], now=dt.datetime.now(dt.UTC))
        assert listing.refresh() is True
        build = db.registry_list.find_one({"_id": "snapshot"})["build"]
        # a write whose version move was lost: listed after the worker's rebuild past MAX_AGE
        db.enterprises.insert_one(entry(999, region="110000", title="小巨人", name="漏记的企业"))
        assert service.list_enterprises(identity=admin(), q="漏记")["total"] == 0
    assert worker.run_imports_once(app) is None  # no import; the snapshot is younger than MAX_AGE
    assert db.registry_list.find_one({"_id": "snapshot"})["build"] == build
    monkeypatch.setattr(listing, "MAX_AGE", dt.timedelta(0))
    assert worker.run_imports_once(app) is None
    assert db.registry_list.find_one({"_id": "snapshot"})["build"] != build
    with app.app_context():
        assert same_answer(admin(), q="漏记")["total"] == 1
    # the old build's parts are gone
    assert db.registry_list.count_documents({"_id": {"$regex": f"^part:{build}"}}) == 0


def test_parts_split_and_join_back(ctx, monkeypatch):
    monkeypatch.setattr(listing, "PART_CHARS", 200)
    repository.save_entries(new=varied_entries(60), changed=[], now=dt.datetime.now(dt.UTC))
    listing.build()
    listing._loaded.clear()  # as another process: loaded from the stored parts
    for filters in ({}, {"q": "有限"}, {"page": 3, "page_size": 25}):
        same_answer(admin(), **filters)


def test_the_build_reads_the_registry_a_part_at_a_time_and_misses_no_entry(ctx, db, db_reads):
    """The embedded server holds its storage lock for a find's whole answer: one find of a national
    registry stalled every request for 20-37 s (finding q20 F5), a region's 0.3-0.6 s (re-check q21
    F8). The build asks one region's title per find; the parts still cover every entry, odd region
    codes, odd titles and none at all included."""
    repository.save_entries(new=varied_entries(60), changed=[], now=dt.datetime.now(dt.UTC))
    odd = [("000000", "before every region"), ("115000", "between two regions"), ("990000", "after every region"),
           (None, "a null region")]
    db[repository.ENTERPRISES].insert_many(
        [{**entry(900 + n, region="110000", title="小巨人", name=name), "region_code": code}
         for n, (code, name) in enumerate(odd)]
        + [{k: v for k, v in entry(950, region="110000", title="小巨人", name="no region field").items()
            if k != "region_code"}]
        + [entry(960 + n, region="440000", title=title, name=f"title {title}") for n, title in
           enumerate(["A 称号", "其他称号", "单项冠军企业", "龙头企业", None])]
        + [{k: v for k, v in entry(970, region="440000", title="x", name="no title field").items() if k != "title"}])
    db_reads.clear()
    snapshot = listing.build()
    finds = [query for op, query in db_reads.of(repository.ENTERPRISES) if op == "find"]
    # A region's entries by title (a prefix of region_title_credit_code); the gaps by region alone.
    assert len(finds) > 30 and all(set(query) in ({"region_code"}, {"region_code", "title"}) for query in finds)
    assert all(isinstance(query["region_code"], str) for query in finds if "title" in query)
    assert len(snapshot.lines) == 71 == db[repository.ENTERPRISES].count_documents({})
    names = {line.split(listing.FIELD_SEP)[-1] for line in snapshot.lines}
    assert {name for _, name in odd} | {"no region field", "no title field", "title None", "title 龙头企业"} <= names


def _lease_held_elsewhere(db, seconds=60):
    db.registry_list.replace_one({"_id": "build_lease"}, {"_id": "build_lease", "owner": "another process",
                                                          "until": dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)},
                                 upsert=True)


def test_while_another_process_builds_a_request_answers_from_the_snapshot_before(ctx, db, db_reads):
    """Re-check q21 F2: after a national import every web process built the read model at its first
    list request, three builds at once (26-35 s per request at 100,000 entries). One builds (the
    build lease); a request elsewhere answers the list as it was before the write meanwhile."""
    repository.save_entries(new=varied_entries(30), changed=[], now=dt.datetime.now(dt.UTC))
    before = same_answer(admin())["total"]
    repository.save_entries(new=[entry(777, region="110000", title="小巨人", name="导入后的企业")], changed=[],
                            now=dt.datetime.now(dt.UTC))
    _lease_held_elsewhere(db)
    listing._loaded.clear()  # as another web process
    db_reads.clear()
    answer = service.list_enterprises(identity=admin(), q="导入后")
    assert answer["total"] == 0  # the snapshot before the import: not built here
    assert service.list_enterprises(identity=admin())["total"] == before
    finds = [query for op, query in db_reads.of(repository.ENTERPRISES) if op == "find"]
    assert len(finds) == 1 and set(finds[0]) != {"region_code"}  # the one page's entries, no build
    assert listing.build() is None and listing.refresh() is False  # the worker too leaves it to the builder
    db.registry_list.delete_one({"_id": "build_lease"})  # that build is over (or its builder died)
    assert same_answer(admin(), q="导入后")["total"] == 1
    assert db.registry_list.find_one({"_id": "build_lease"}) is None  # released after the build


def test_a_lease_whose_builder_died_expires(ctx, db):
    repository.save_entries(new=varied_entries(5), changed=[], now=dt.datetime.now(dt.UTC))
    _lease_held_elsewhere(db, seconds=-1)  # not renewed: its builder is gone
    assert listing.build() is not None
    assert same_answer(admin())["total"] == 5


def test_with_nothing_stored_a_request_waits_for_the_builder_then_builds_itself(ctx, db, monkeypatch):
    repository.save_entries(new=varied_entries(5), changed=[], now=dt.datetime.now(dt.UTC))
    db.registry_list.delete_many({"_id": {"$ne": "version"}})
    _lease_held_elsewhere(db)  # a builder that never stores anything
    monkeypatch.setattr(listing, "BUILD_LEASE", dt.timedelta(seconds=0.6))
    listing._loaded.clear()
    assert same_answer(admin())["total"] == 5


def _stale_after_a_write(db):
    """A stored snapshot of 30 entries, then one more entry written (the snapshot is stale)."""
    repository.save_entries(new=varied_entries(30), changed=[], now=dt.datetime.now(dt.UTC))
    before = same_answer(admin())["total"]
    repository.save_entries(new=[entry(777, region="110000", title="小巨人", name="导入后的企业")], changed=[],
                            now=dt.datetime.now(dt.UTC))
    return before


def _builds_held_until_released(monkeypatch):
    """listing._build blocked until the returned Event is set; the list of builds started."""
    release, started, real_build = threading.Event(), [], listing._build

    def held_build(**kwargs):
        started.append(threading.current_thread().name)
        assert release.wait(30)
        return real_build(**kwargs)

    monkeypatch.setattr(listing, "_build", held_build)
    return release, started


def test_a_request_never_builds_a_stale_list_itself(app, ctx, db, monkeypatch):
    """Re-check q22 F7: a list request that came between an import's version move and the worker
    taking the build lease built the national list in the request (15-16 s). It starts the build
    in the background, waits REGISTRY_LIST_BUILD_WAIT_SECONDS for it, then answers the list as it
    was; the other requests meanwhile neither wait again nor start a second build."""
    before = _stale_after_a_write(db)
    release, started = _builds_held_until_released(monkeypatch)
    app.config["REGISTRY_LIST_BUILD_WAIT_SECONDS"] = 0.2
    assert service.list_enterprises(identity=admin(), q="导入后")["total"] == 0  # as before the write
    assert service.list_enterprises(identity=admin())["total"] == before
    assert started == ["registry-list-build"]  # one build, in its own thread, not in the request
    lease = db.registry_list.find_one({"_id": "build_lease"})
    assert lease is not None  # held by the build: another process (the worker's too) leaves it alone
    assert listing.build() is None
    release.set()
    assert listing._background["done"].wait(30)
    assert same_answer(admin(), q="导入后")["total"] == 1
    assert started == ["registry-list-build"] and db.registry_list.find_one({"_id": "build_lease"}) is None


def test_a_build_done_within_the_wait_is_answered_at_once(app, ctx, db, monkeypatch):
    _stale_after_a_write(db)
    release, started = _builds_held_until_released(monkeypatch)
    app.config["REGISTRY_LIST_BUILD_WAIT_SECONDS"] = 30
    threading.Timer(0.3, release.set).start()
    assert service.list_enterprises(identity=admin(), q="导入后")["total"] == 1
    assert len(started) == 1


def test_a_failed_background_build_answers_as_before_and_the_next_request_tries_again(app, ctx, db, monkeypatch,
                                                                                     caplog):
    before = _stale_after_a_write(db)
    builds = failing_on_call(listing._build, 1, RuntimeError("database gone"))
    monkeypatch.setattr(listing, "_build", builds)
    assert service.list_enterprises(identity=admin())["total"] == before
    assert "building its read model in the background failed (RuntimeError)" in caplog.text
    assert db.registry_list.find_one({"_id": "build_lease"}) is None  # released by the failed build
    assert same_answer(admin(), q="导入后")["total"] == 1 and builds.calls == 2


def test_a_forked_process_starts_its_own_build(app, ctx, db, monkeypatch):
    """A fork copies the record of a build under way but not its thread: the child builds itself."""
    _stale_after_a_write(db)
    listing._background.update(pid=-1, done=threading.Event(), started=0.0)  # the parent's, never set here
    assert same_answer(admin(), q="导入后")["total"] == 1
    assert listing._background["pid"] == os.getpid() and listing._background["done"].is_set()


def test_an_import_is_marked_on_the_list_before_it_says_done(client, admin_token, db, monkeypatch):
    """Re-check q23 F2: `done` was written before the list's version moved, so a list request sent
    the instant a client read `done` answered without the import (~0.5 s). The version moves first."""
    states_when_marked, real_changed = [], repository.registry_changed

    def noting_the_state():
        states_when_marked.append([doc["state"] for doc in db.registry_imports.find({}, {"state": 1})])
        return real_changed()

    monkeypatch.setattr(repository, "registry_changed", noting_the_state)
    assert import_registry(client, admin_token, xlsx_bytes([good_row(1, name="刚导入的企业")])).json["state"] == "done"
    assert states_when_marked == [["running"]]
    found = client.get(f"{URL}?q=刚导入", headers=bearer(admin_token))
    assert found.status_code == 200 and found.json["total"] == 1
