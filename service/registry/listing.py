"""The registry list's read model: every entry's sort key, filter fields and name, one line each, in
the list's order (region, title, credit code), so a page of `GET /registry/enterprises` is found
in Python and only its entries are read.

Why: the embedded server (SecantusDB) decodes every candidate document of a query, never stops at
a limit and counts by decoding; a name search (`$regex` over `name`) or the unfiltered first page
read all 150,000 entries of a national registry twice (find + count): 3.5-11.7 s per page (finding
F16). A multikey n-gram index on names was measured too: building it took 9.7 s for 30,000 entries
on the embedded server (~50 s for 150,000: more than the whole import's budget, issue 19: 30 s).
Lines searched in Python take 4-140 ms per page at 150,000 entries (load 8, 2 cores,
benchmarks/registry_list.py); the answer (items, order, `total`) is the database query's, exactly.

Stored in the `registry_list` collection:
  {_id: "version", v}: moved by every write to the registry (repository.list_version_moved, after
      the write), so a snapshot knows it is stale;
  {_id: "snapshot", version, build, parts, built_at}: the current snapshot (the version read
      before its scan began: a write during the scan leaves it stale, never wrong for long);
  {_id: "part:<build>:<n>", text}: its lines, in parts under the 16 MB document limit.
  {_id: "build_lease", owner, until}: who builds now (one process at a time, see below).
A process keeps the snapshot it last loaded (+36 MB for 150,000 entries) and reloads it when the
snapshot document names another build. Building reads the whole registry once, a region's title per
find (see _registry_parts) (150,000 entries
on the embedded server: 11 s at load 7 on 2 cores; loading the stored one 0.4 s): the worker's import
loop builds it after each import (warm), else the first list request after a write does. The same
loop rebuilds a snapshot older than MAX_AGE, which catches up a version move that failed after its
write (the import's mark is best effort, service.registry.service).

One build at a time, across processes (the build lease): while one process builds, a list request
elsewhere answers from the snapshot before it (the list as it was before the write, exactly as
while the import ran) instead of building too. Every web process used to build at the first list
request after an import: three builds of 100,000 entries at once kept those requests 26-35 s
(re-check q21 F2). Only when nothing was ever stored does a request wait for the builder.

A request never builds a stale snapshot itself: it starts the build in a thread of its process and
waits for it at most REGISTRY_LIST_BUILD_WAIT_SECONDS (service.config: a small registry's build is
done by then, so a write is listed at once), then answers from what is stored. A request that
arrived between an import's version move and the worker taking the lease built the national list
in the request, 15-16 s (re-check q22 F7).
"""

import datetime as dt
import logging
import os
import threading
import time
import uuid

from flask import current_app
from pymongo.errors import DuplicateKeyError

from service.core import forksafe, regions
from service.core.db import collection, utcnow
from service.registry.importer import TITLES
from service.registry.repository import ENTERPRISES, LIST_COLLECTION, ranges_between

MAX_AGE = dt.timedelta(hours=1)
# The build lease: taken for this long, renewed after each part read, so a builder that
# died frees it within a minute; a request with no snapshot at all waits this long for one.
BUILD_LEASE = dt.timedelta(seconds=60)
WAIT_POLL_SECONDS = 0.25
PART_CHARS = 2_000_000  # <= 3 bytes a character in UTF-8: parts well under 16 MB
# A line's fields; FIELD_SEP and LINE_SEP (and MISSING) never occur inside one: a name holding them
# has them replaced (SANITIZED), and a search for text holding them is answered by the database.
FIELD_SEP, LINE_SEP, MISSING = "\t", "\n", "\x1e"
SANITIZED = (FIELD_SEP, LINE_SEP, "\r", MISSING, "\x1f")
NAME_STAND_IN = "\x1f"
FIELDS = ("region_code", "title", "credit_code", "valid_from", "valid_until")

_lock = forksafe.Lock()  # held through a build, also by the worker's threads in serve's master
_load_lock = forksafe.Lock()
_loaded = {}  # {"current": (build id, Snapshot)} of this process (one assignment: threads see both or neither)
_background_lock = forksafe.Lock()
_background = {}  # the build under way in a thread of this process: {"pid", "done": Event, "started": monotonic}

log = logging.getLogger(__name__)


def _field(value):
    return value if isinstance(value, str) else MISSING


def _line(doc):
    name = doc.get("name")
    name = name if isinstance(name, str) else MISSING
    for char in SANITIZED:
        if char in name and name != MISSING:
            name = name.replace(char, NAME_STAND_IN)
    return FIELD_SEP.join([_field(doc.get(field)) for field in FIELDS] + [name])


def _sort_key(doc):
    # MongoDB orders missing/null before strings; the registry's entries always hold these three.
    return tuple(value if isinstance(value, str) else "" for value in
                 (doc.get("region_code"), doc.get("title"), doc.get("credit_code")))


class Snapshot:
    """The lines of the whole registry in the list's order, and where each region's lines begin."""

    def __init__(self, lines):
        self.lines = lines
        self.regions = {}  # {region_code: (first line, line after its last)}: lines are sorted by region
        for n, line in enumerate(lines):
            code = line[:line.index(FIELD_SEP)]
            first, _ = self.regions.get(code, (n, n))
            self.regions[code] = (first, n + 1)

    def select(self, *, region_codes=None, title=None, q=None, day=None):
        """The matching lines, in the list's order. region_codes: None (all) or a list."""
        if region_codes is None:
            blocks = [self.lines]
        else:
            blocks = [self.lines[slice(*self.regions[code])] for code in sorted(set(region_codes))
                      if code in self.regions]
            if not blocks:
                return []
        if title is None and q is None and day is None:
            return blocks[0] if len(blocks) == 1 else [line for block in blocks for line in block]
        return [line for block in blocks for line in block if _matches(line, title, q, day)]


def _matches(line, title, q, day):
    fields = line.split(FIELD_SEP)
    if title is not None and fields[1] != title:
        return False
    if q is not None and q not in fields[5]:
        return False
    if day is not None:  # a missing (or not text) date matches no day, as {"$lte": day} in MongoDB
        if fields[3] == MISSING or fields[4] == MISSING or not fields[3] <= day <= fields[4]:
            return False
    return True


def searchable(q):
    """Whether the snapshot answers a name search for `q` (else the database does)."""
    return not any(char in q for char in SANITIZED)


def key_of(line):
    """(credit_code, title) of a line: the entry's unique key."""
    fields = line.split(FIELD_SEP, 3)
    return fields[2], fields[1]


def current():
    """The Snapshot to answer from: the stored one if it is of the current version. Stale, it is
    rebuilt in a thread of this process (unless a build is under way here or elsewhere: see "A
    request never builds" above) and this request answers from what is stored once that build is
    done or REGISTRY_LIST_BUILD_WAIT_SECONDS have passed. With nothing stored yet it builds (or waits)."""
    meta, fresh = _stored()
    if fresh:
        snapshot = _load(meta)
        if snapshot is not None:
            return snapshot
    if meta is None:
        return _first_snapshot()
    done, started = _build_in_background()
    waits = current_app.config["REGISTRY_LIST_BUILD_WAIT_SECONDS"]
    done.wait(max(0.0, started + waits - time.monotonic()))
    for _ in range(3):  # a newer build may replace the parts between reading meta and loading them
        meta, _ = _stored()
        snapshot = _load(meta) if meta is not None else None
        if snapshot is not None:
            return snapshot
    return _first_snapshot()


def _first_snapshot():
    """Nothing stored (or stored parts gone): build here, or wait for the build under way."""
    with _lock:
        meta, fresh = _stored()
        snapshot = _load(meta) if fresh else None
        if snapshot is not None:
            return snapshot
        return build() or _wait_for_a_snapshot()


def _build_in_background():
    """(Event set when this process's build is over, its start on the monotonic clock): the build
    under way in a thread here, else one started now."""
    with _background_lock:
        running = _background.get("done")
        if running is not None and not running.is_set() and _background["pid"] == os.getpid():
            return running, _background["started"]
        done, started = threading.Event(), time.monotonic()
        # A fork copies this dict but not the thread: the pid tells a child it has no build running.
        _background.update(pid=os.getpid(), done=done, started=started)
    thread = threading.Thread(target=_background_build, args=(current_app._get_current_object(), done),
                              name="registry-list-build", daemon=True)
    thread.start()
    return done, started


def _background_build(app, done):
    try:
        with app.app_context(), _lock:  # after a build of this process's own worker thread, if any
            _, fresh = _stored()
            if not fresh:
                build()  # None: another process holds the lease and builds it
    except Exception as exc:  # the next stale request starts another; the worker rebuilds within MAX_AGE
        log.warning("registry list: building its read model in the background failed (%s)", type(exc).__name__)
    finally:
        done.set()


def _stored():
    """(the stored snapshot's document or None, whether it is of the current version)."""
    docs = {doc["_id"]: doc for doc in collection(LIST_COLLECTION).find({"_id": {"$in": ["version", "snapshot"]}})}
    meta = docs.get("snapshot")
    return meta, _fresh(meta, docs.get("version", {}).get("v", 0))


def _wait_for_a_snapshot():
    """Nothing stored yet and another process builds the first snapshot: wait for it (at most
    BUILD_LEASE), then build here if it never came (its builder died)."""
    deadline = time.monotonic() + BUILD_LEASE.total_seconds()
    while time.monotonic() < deadline:
        time.sleep(WAIT_POLL_SECONDS)
        meta, _ = _stored()
        snapshot = _load(meta) if meta is not None else None
        if snapshot is not None:
            return snapshot
    return build(lease=False)


def _take_lease(owner):
    """Take (or renew) the build lease for `owner`; False while another owner's is valid."""
    now = utcnow()
    try:
        collection(LIST_COLLECTION).update_one(
            {"_id": "build_lease", "$or": [{"owner": owner}, {"until": {"$lt": now}}]},
            {"$set": {"owner": owner, "until": now + BUILD_LEASE}}, upsert=True)
    except DuplicateKeyError:  # held by another owner: the upsert's insert met the lease document
        return False
    return True


def _release_lease(owner):
    collection(LIST_COLLECTION).delete_one({"_id": "build_lease", "owner": owner})


def _fresh(meta, version, max_age=None):
    return (meta is not None and meta["version"] == version
            and (max_age is None or meta["built_at"] > utcnow() - max_age))


def _load(meta):
    """The snapshot `meta` names: this process's copy, else read from its stored parts (one thread at
    a time: the requests arriving together need one copy, not one each), or None if they are gone."""
    build_id, snapshot = _loaded.get("current", (None, None))
    if build_id == meta["build"]:
        return snapshot
    with _load_lock:
        build_id, snapshot = _loaded.get("current", (None, None))
        if build_id == meta["build"]:
            return snapshot
        return _read_parts(meta)


def _read_parts(meta):
    parts = list(collection(LIST_COLLECTION).find({"_id": {"$in": [_part_id(meta["build"], n)
                                                                  for n in range(meta["parts"])]}}))
    if len(parts) != meta["parts"]:  # replaced meanwhile by a newer build
        return None
    parts.sort(key=lambda doc: doc["n"])
    text = "".join(part["text"] for part in parts)
    snapshot = Snapshot(text.split(LINE_SEP) if text else [])
    _loaded["current"] = (meta["build"], snapshot)
    return snapshot


def _registry_parts():
    """Filters that together cover every entry, one find each: each known region's entries by
    title (a range of titles split at the known ones, and no title), and between the known regions
    (normally nothing), before the first, after the last and without a region, by region alone.

    The embedded server gathers a find's whole answer under its storage lock: one find of a
    300,000-entry registry held it 20-37 s after a national import (every other request waited,
    503 after the 20 s database timeout; finding q20 F5) and grew the server to 7 GB. A region's
    entries still held it 0.3-0.6 s (15,000 of them, a large province); a region's entries of one
    title ~0.1 s (re-check q21 F8: the API's answers in the half minute after each import). Each
    filter is a prefix or a range of region_title_credit_code. The importer stores region codes and
    titles as strings (checked against service.core.regions and importer.TITLES): string ranges and
    null cover every entry it writes."""
    known = sorted(regions.all_regions())
    titles = ranges_between(sorted(TITLES)) + [None]
    parts = [{"region_code": {"$lt": known[0]}}]
    for code, following in zip(known, known[1:] + [None]):
        parts += [{"region_code": code, "title": title} for title in titles]
        parts.append({"region_code": {"$gt": code, "$lt": following} if following else {"$gt": code}})
    return parts + [{"region_code": None}]


def _part_id(build, n):
    return f"part:{build}:{n}"


def build(*, lease=True):
    """Read the whole registry, store its snapshot (unless a newer one is stored) and return it;
    None when another process holds the build lease (with `lease` False: built regardless)."""
    owner = uuid.uuid4().hex
    if lease and not _take_lease(owner):
        return None
    try:
        return _build(renew=(lambda: _take_lease(owner)) if lease else (lambda: None))
    finally:
        if lease:
            _release_lease(owner)


def _build(*, renew):
    version_doc = collection(LIST_COLLECTION).find_one({"_id": "version"})
    version = version_doc["v"] if version_doc else 0
    projection = {"_id": 0, "name": 1, **{field: 1 for field in FIELDS}}
    docs = []
    for part in _registry_parts():
        docs.extend(collection(ENTERPRISES).find(part, projection))
        renew()  # a lost lease (past BUILD_LEASE) only means another build may start: both are right
    docs.sort(key=_sort_key)
    lines = [_line(doc) for doc in docs]
    del docs
    build_id, now = uuid.uuid4().hex, utcnow()
    texts, part, size = [], [], 0
    for line in lines:
        part.append(line)
        size += len(line) + 1
        if size >= PART_CHARS:
            texts.append(LINE_SEP.join(part))
            part, size = [], 0
    if part:
        texts.append(LINE_SEP.join(part))
    # Parts join with LINE_SEP between them: each part but the last ends a line.
    texts = [text + LINE_SEP if n < len(texts) - 1 else text for n, text in enumerate(texts)]
    store = collection(LIST_COLLECTION)
    for n, text in enumerate(texts):
        store.insert_one({"_id": _part_id(build_id, n), "n": n, "text": text})
    meta = {"version": version, "build": build_id, "parts": len(texts), "built_at": now}
    try:  # replaces an older snapshot only (another process may have stored a newer one meanwhile)
        store.update_one({"_id": "snapshot", "version": {"$lte": version}}, {"$set": meta}, upsert=True)
    except DuplicateKeyError:  # a newer snapshot is stored: ours is not kept
        pass
    current_meta = store.find_one({"_id": "snapshot"}) or {}
    keep = [_part_id(current_meta.get("build"), n) for n in range(current_meta.get("parts", 0))]
    store.delete_many({"_id": {"$regex": "^part:", "$nin": keep}})
    snapshot = Snapshot(lines)
    _loaded["current"] = (build_id, snapshot)
    return snapshot


def refresh(max_age=None):
    """Build the snapshot if it is missing, stale or (with max_age) older than that (the worker's
    import loop); True if built here (False: fresh, or another process is building it)."""
    docs = {doc["_id"]: doc for doc in collection(LIST_COLLECTION).find({"_id": {"$in": ["version", "snapshot"]}},
                                                                        {"_id": 1, "v": 1, "version": 1,
                                                                         "built_at": 1})}
    if _fresh(docs.get("snapshot"), docs.get("version", {}).get("v", 0), max_age):
        return False
    with _lock:
        return build() is not None  # None: another process builds it now

