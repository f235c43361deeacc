"""The `enterprises` registry (企业名录) and the `registry_imports` reports.

An enterprise entry is one title held by one enterprise: unique on (credit_code, title).
Dates are "YYYY-MM-DD" strings, so validity checks compare strings.
"""

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, InsertOne, ReturnDocument, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from service.core.db import collection, declare_indexes, in_chunks, retire_indexes
from service.core import gridstore, regions
from service.reports import summaries

ENTERPRISES = "enterprises"
REGISTRY_IMPORTS = "registry_imports"

# The fields an import writes; comparing them decides whether a row changes anything.
ENTRY_FIELDS = ("credit_code", "title", "name", "region_code", "batch", "valid_from", "valid_until")

declare_indexes(
    ENTERPRISES,
    IndexModel([("credit_code", ASCENDING), ("title", ASCENDING)], name="credit_code_title", unique=True),
    IndexModel([("region_code", ASCENDING), ("title", ASCENDING), ("credit_code", ASCENDING)],
               name="region_title_credit_code"),
)
# The all-regions KPI table reads the year's 小巨人 of every region through region_title_credit_code
# (little_giants_of_year): an index of its own cost every insert ~20% and a bulk load's index
# build about half of its time.
retire_indexes(ENTERPRISES, "report_title_region")
declare_indexes(REGISTRY_IMPORTS, IndexModel([("imported_at", DESCENDING)], name="imported_at"))
# The list's read model (service.registry.listing), by _id only.
LIST_COLLECTION = "registry_list"

# Registry look-ups go out in chunks: MongoDB takes any size, but the embedded development server
# checks each found document against the whole `$in` list, so its cost grows with the chunk squared.
LOOKUP_CHUNK = 50
# Entries written per command: the embedded server inserts a command's documents in one go (its
# interpreter busy with them, ~0.2 s per 1,000 entries when loaded); 500 halve the wait of the
# requests between them at no measurable cost in the import's time.
WRITE_CHUNK = 500
DUPLICATE_KEY = 11000


def _chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start:start + size]


LITTLE_GIANT = "小巨人"


def little_giants_of_year(year, region_match):
    """The filter of the 小巨人 entries valid at some time in `year` (of one region with
    region_match {"region_code": code}, else of every region of the list): the KPIs' registry
    side. Every region is named ($in), so the region_title_credit_code index serves it (the KPI
    table has a row per region of the list; the importer stores only those)."""
    region_match = region_match or {"region_code": {"$in": sorted(regions.all_regions())}}
    return {"title": LITTLE_GIANT, **region_match, "valid_from": {"$lte": f"{year}-12-31"},
            "valid_until": {"$gte": f"{year}-01-01"}}


def little_giant_codes_by_region(year, region_match):
    """{region: {credit codes}} of the year's 小巨人 (little_giants_of_year), one find per region on
    the region_title_credit_code index: the KPIs' registry side.

    It was a `$unionWith` stage in the registrations' pipeline, which the embedded server reads
    without an index: every recount scanned the whole registry. One find of every region is no
    better there: the server decodes an index read's candidates under its storage lock, and the
    year's 小巨人 of a 150,000-entry registry held it 3.2-3.5 s (7 s per year; after each import
    every year is recounted: the API stalled up to 8 s for half a minute, re-check q21 F5/F8). A
    region's find holds it for that region's entries only (0.5 s at 5,000 of them)."""
    codes = [region_match["region_code"]] if region_match else sorted(regions.all_regions())
    found = {}
    for code in codes:
        for doc in collection(ENTERPRISES).find(little_giants_of_year(year, {"region_code": code}),
                                                {"_id": 0, "credit_code": 1}):
            found.setdefault(code, set()).add(doc["credit_code"])
    return found


def find_valid_title(*, credit_code, title, day):
    """The entry for (credit_code, title) whose validity covers `day` ("YYYY-MM-DD"), or None."""
    return collection(ENTERPRISES).find_one({"credit_code": credit_code, "title": title,
                                             "valid_from": {"$lte": day}, "valid_until": {"$gte": day}})


def entries_for(credit_codes):
    """{(credit_code, title): stored fields} for every entry of these credit codes."""
    projection = {field: 1 for field in ENTRY_FIELDS} | {"_id": 0}
    found = {}
    for chunk in _chunks(sorted(set(credit_codes)), LOOKUP_CHUNK):
        for doc in collection(ENTERPRISES).find({"credit_code": {"$in": chunk}}, projection):
            found[(doc["credit_code"], doc["title"])] = doc
    return found


def registry_part(entry):
    """The part of the registry an entry belongs to: (region_code, title), a prefix of the
    region_title_credit_code index, so a part is read by a range of that index."""
    return entry["region_code"], entry["title"]


class StoredDigests:
    """What an import compares its rows with: for the parts of the registry it loaded (registry_part),
    {hash of (credit_code, title): hash of the compared fields}, in ~100 bytes per entry.
    `state(entry)` is "new", "changed" or "unchanged" for an entry of a loaded part (`holds`).

    Read a part at a time, only the parts the file brings: the embedded server answers a find
    whole, holding its storage lock while it gathers the documents, so the one find of the whole
    registry this replaces held every other request for seconds (~6 s for 150,000 entries, longer
    under load) and its server's memory grew by the whole answer (1.2-1.7 GB at 300,000 entries).
    A part (one region's entries of one title: 5,000 in the 150,000-row benchmark) is one short
    read of an index range. An entry stored under another region reads as "new" and meets the
    unique index when inserted (save_entries then upserts it by its key): the database decides.

    Python's own hash of a tuple of the values (64 bits, salted per process: the digests are made
    and compared in the same process) costs a tenth of a blake2b of their JSON. Two keys sharing a
    hash only make the second one look changed (it is then upserted by its real key); a changed
    entry looks unchanged only if its two contents collide, about once in 2**64."""

    def __init__(self):
        self._digests, self._parts, self.entries_read = {}, set(), 0

    def load(self, part, *, sample_codes=(), expected_entries=0):
        """Read one part of the registry (a no-op if read already), in ranges of credit codes of
        about PART_PAGE_ENTRIES entries each: `sample_codes` (the file's codes of this part, which
        are spread as the stored ones are) split it into ceil(expected_entries / PART_PAGE_ENTRIES)
        ranges that together cover the whole part."""
        if part in self._parts:
            return
        region_code, title = part
        projection = {field: 1 for field in ENTRY_FIELDS} | {"_id": 0}
        for codes in _code_ranges(sorted(set(sample_codes)), -(-expected_entries // PART_PAGE_ENTRIES)):
            query = {"region_code": region_code, "title": title, **({"credit_code": codes} if codes else {})}
            for doc in collection(ENTERPRISES).find(query, projection):
                self._digests[hash((doc["credit_code"], doc["title"]))] = _content_hash(doc)
                self.entries_read += 1
        self._parts.add(part)

    def holds(self, entry):
        return registry_part(entry) in self._parts

    def __len__(self):
        return len(self._digests)

    def read_summary(self):
        return {"parts": len(self._parts), "entries": self.entries_read}

    def state(self, entry):
        stored = self._digests.get(hash((entry["credit_code"], entry["title"])))
        if stored is None:
            return "new"
        return "unchanged" if stored == _content_hash(entry) else "changed"


# Entries read per find of a part. The embedded server gathers a find's whole answer under its storage
# lock; a range of 1,000 entries of region_title_credit_code took 0.11 s at load 8 where one find of
# a whole part of 5,000 took 1.2 s (and other requests waited for it: probe p99 2.9 s in a re-import).
PART_PAGE_ENTRIES = 1000


def _code_ranges(sorted_codes, count):
    """`count` (at least 1) credit_code conditions that split the key space at quantiles of
    `sorted_codes` and together cover it; {} for the whole space."""
    bounds = sorted({sorted_codes[len(sorted_codes) * i // count] for i in range(1, count)}) if sorted_codes else []
    return ranges_between(bounds) if bounds else [{}]


def ranges_between(bounds):
    """Range conditions on one field, split at the sorted `bounds` (at least one), that together
    cover every value of their type (below the first, between each two, from the last)."""
    return ([{"$lt": bounds[0]}] + [{"$gte": low, "$lt": high} for low, high in zip(bounds, bounds[1:])]
            + [{"$gte": bounds[-1]}])


def _content_hash(entry):
    """The hash of an entry's stored fields (dict-like; a missing field counts as None)."""
    if isinstance(entry, dict):
        return hash(tuple(entry.get(field) for field in ENTRY_FIELDS))
    return hash(tuple(entry[field] for field in ENTRY_FIELDS))


def _upsert(entry, now, *, touch):
    changes = dict(entry)
    if touch:
        changes["updated_at"] = now
    return UpdateOne({"credit_code": entry["credit_code"], "title": entry["title"]},
                     {"$set": changes, "$setOnInsert": {"created_at": now}}, upsert=True)


def _counts(result):
    """inserted / updated / unchanged from a BulkWriteResult or a BulkWriteError's details."""
    if isinstance(result, dict):
        inserted, upserted = result["nInserted"], result["nUpserted"]
        matched, modified = result["nMatched"], result["nModified"]
    else:
        inserted, upserted = result.inserted_count, result.upserted_count
        matched, modified = result.matched_count, result.modified_count
    return {"inserted": inserted + upserted, "updated": modified, "unchanged": matched - modified}


def _add(total, counts):
    for key, value in counts.items():
        total[key] += value


def save_entries(*, new, changed, now, mark_regions=True, into=None):
    """Write new and changed entries; {inserted, updated, unchanged} as the database counted them.

    New entries go in as plain inserts (about twice as fast as upserts); an insert that meets the
    unique index because another import wrote the same entry since we looked is retried as an
    upsert, so the database, not our earlier read, decides. Changed entries are upserts keyed on
    (credit_code, title). Every write is idempotent: an import cut short can be repeated.
    `mark_regions` False: the caller calls registry_changed() after its last write (an import
    marks once, not per batch). `into`: a counts dict added to as each chunk is written (so a write
    failing midway leaves the chunks before it counted); it is also the one returned.
    """
    total = into if into is not None else {"inserted": 0, "updated": 0, "unchanged": 0}
    for chunk in _chunks(new, WRITE_CHUNK):
        docs = [{**entry, "created_at": now, "updated_at": now} for entry in chunk]
        try:
            _add(total, _counts(collection(ENTERPRISES).bulk_write([InsertOne(d) for d in docs], ordered=False)))
        except BulkWriteError as exc:
            details = exc.details
            _add(total, _counts(details))  # what the chunk did write, counted even if it fails
            if any(error["code"] != DUPLICATE_KEY for error in details["writeErrors"]):
                raise
            # $set of the fields only: a retried entry another import just wrote identically stays unchanged.
            retry = [_upsert(chunk[error["index"]], now, touch=False) for error in details["writeErrors"]]
            _add(total, _counts(collection(ENTERPRISES).bulk_write(retry, ordered=False)))
    for chunk in _chunks(changed, WRITE_CHUNK):
        try:
            result = collection(ENTERPRISES).bulk_write([_upsert(e, now, touch=True) for e in chunk], ordered=False)
        except BulkWriteError as exc:
            _add(total, _counts(exc.details))
            raise
        _add(total, _counts(result))
    if mark_regions:
        _registry_changed(new, changed)
    return total


def registry_changed():
    """Tell the KPIs' read model the registry changed (after a batch of writes: every region)."""
    _registry_changed([True])


def _registry_changed(*entry_lists):
    """The KPIs count 小巨人 per region (service.reports.summaries). An import that wrote anything
    marks every region: an entry may also have moved out of a region, and imports are rare.
    The list's read model (service.registry.listing) is marked stale first: its mark is not best
    effort (a failure is raised; a stale snapshot is rebuilt at the latest after listing.MAX_AGE)."""
    if any(entry_lists):
        list_version_moved()
        summaries.changed_many([(code, None) for code in regions.all_regions()])


def list_version_moved():
    """Mark the list's read model stale (service.registry.listing): after every write to the registry."""
    collection(LIST_COLLECTION).update_one({"_id": "version"}, {"$inc": {"v": 1}}, upsert=True)


def upsert_entries(entries, *, now):
    """Upsert entries without reading first (small batches: the demo sample)."""
    total = {"inserted": 0, "updated": 0, "unchanged": 0}
    for chunk in _chunks(list(entries), WRITE_CHUNK):
        ops = [_upsert(e, now, touch=False) for e in chunk]
        _add(total, _counts(collection(ENTERPRISES).bulk_write(ops, ordered=False)))
    _registry_changed(entries)
    return total


def entries_by_key(keys):
    """The entries of these (credit_code, title) keys, in the keys' order (a key without an entry
    is left out). Looked up by credit code (the credit_code_title index), LOOKUP_CHUNK at a time."""
    found = {}
    codes = sorted({code for code, _ in keys})
    for chunk in _chunks(codes, LOOKUP_CHUNK):
        for doc in collection(ENTERPRISES).find({"credit_code": {"$in": chunk}}):
            found[(doc["credit_code"], doc["title"])] = doc
    return [found[key] for key in keys if key in found]


def find_entries(query, *, skip, limit):
    cursor = (collection(ENTERPRISES).find(query)
              .sort([("region_code", 1), ("title", 1), ("credit_code", 1)]).skip(skip).limit(limit))
    return list(cursor), collection(ENTERPRISES).count_documents(query)


def count_entries(query=None):
    return collection(ENTERPRISES).count_documents(query or {})


def insert_report(doc):
    collection(REGISTRY_IMPORTS).insert_one(doc)
    return doc


def get_report(report_id):
    return collection(REGISTRY_IMPORTS).find_one({"_id": report_id})


def find_reports(*, skip, limit):
    """Reports newest first, without their (possibly long) bad-row lists."""
    cursor = (collection(REGISTRY_IMPORTS).find({}, {"bad_rows": 0})
              .sort([("imported_at", -1), ("_id", -1)]).skip(skip).limit(limit))
    return list(cursor), collection(REGISTRY_IMPORTS).count_documents({})


# ---- background imports: the uploaded file (GridFS bucket) and the import's state ----------------
# An import document: state queued -> running -> done | failed (failed -> queued on retry), with
# progress {rows_read, rows_total} written after every batch, heartbeat_at every few seconds by the
# run holding it (run_id: each claim's own id, named by every write of that run).
FILES_BUCKET = "registry_files"
declare_indexes(REGISTRY_IMPORTS, IndexModel([("state", ASCENDING), ("imported_at", ASCENDING)], name="state_queue"))
# One import runs at a time, held by the database: two workers (`serve`'s own and a `lingjun worker`,
# or two worker containers) that both found none running could each claim another queued import.
ONE_RUNNING = IndexModel("state", unique=True, partialFilterExpression={"state": "running"}, name="one_running")
declare_indexes(REGISTRY_IMPORTS, ONE_RUNNING)
# The upkeep sweep asks which files an import names (service.registry.repository.sweep_orphan_files).
declare_indexes(REGISTRY_IMPORTS, IndexModel("file_id", name="file"))


def _bucket():
    import gridfs

    from service.core.db import get_db

    return gridfs.GridFSBucket(get_db(), bucket_name=FILES_BUCKET)


def save_file(data, file_name):
    """Store the uploaded file (nothing left behind if that fails, service.core.gridstore); its id."""
    return gridstore.store(_bucket(), file_name or "registry", data)


def read_file(file_id):
    return _bucket().open_download_stream(file_id).read()


def delete_file(file_id):
    import gridfs

    try:
        _bucket().delete(file_id)
    except gridfs.errors.NoFile:
        pass


def discard_file(file_id):
    """Delete a file whose import was not recorded; never raises (service.core.gridstore.discard)."""
    gridstore.discard(_bucket(), file_id)


def sweep_orphan_files(*, before, after=None):
    """The worker's upkeep (issue 14 §3): delete files stored before `before` that no import names
    (the upload was stored, its import's insert failed, and so did deleting the file) and chunks
    without a file entry. Bounded: at most gridstore.SWEEP_BATCH of each per call. Returns
    (files and chunk sets deleted, where to go on among the chunks: service.core.gridstore)."""
    files = collection(f"{FILES_BUCKET}.files")
    stored = [f["_id"] for f in files.find({"uploadDate": {"$lt": before}}, {"_id": 1})
              .sort("_id", ASCENDING).limit(gridstore.SWEEP_BATCH)]
    named = set()
    for chunk in in_chunks(stored):
        named.update(d["file_id"] for d in collection(REGISTRY_IMPORTS).find({"file_id": {"$in": chunk}},
                                                                              {"file_id": 1}))
    unnamed = [file_id for file_id in stored if file_id not in named]
    for file_id in unnamed:
        delete_file(file_id)
    chunk_sets, next_after = gridstore.sweep_orphan_chunks(files=files, chunks=collection(f"{FILES_BUCKET}.chunks"),
                                                            before=before, after=after)
    return len(unnamed) + chunk_sets, next_after


def running_import(*, fresh_after):
    """An import running with a heartbeat newer than `fresh_after`, or None."""
    return collection(REGISTRY_IMPORTS).find_one({"state": "running", "heartbeat_at": {"$gte": fresh_after}},
                                                 {"_id": 1})


def fail_stale(*, stale_before, error, now):
    """Imports left running by a worker that stopped (no heartbeat since `stale_before`) -> failed;
    the imports so failed (their _id and file_name)."""
    failed = []
    for doc in collection(REGISTRY_IMPORTS).find({"state": "running", "heartbeat_at": {"$lt": stale_before}},
                                                 {"_id": 1, "file_name": 1}):
        if collection(REGISTRY_IMPORTS).update_one(
                {"_id": doc["_id"], "state": "running", "heartbeat_at": {"$lt": stale_before}},
                {"$set": {"state": "failed", "error": error, "finished_at": now}}).modified_count:
            failed.append(doc)
    return failed


def any_queued():
    """Whether an import waits (registry_imports holds one document per upload: a small scan)."""
    return collection(REGISTRY_IMPORTS).find_one({"state": "queued"}, {"_id": 1}) is not None


def claim_next(*, now, run_id=None):
    """The oldest queued import, now running as run `run_id` (one atomic update), or None: also
    when another import is running (the `one_running` index refuses a second)."""
    try:
        return collection(REGISTRY_IMPORTS).find_one_and_update(
            {"state": "queued"},
            {"$set": {"state": "running", "started_at": now, "heartbeat_at": now, "error": None,
                      "run_id": run_id or ObjectId()},
             "$inc": {"attempts": 1}},
            sort=[("imported_at", ASCENDING), ("_id", ASCENDING)], return_document=ReturnDocument.AFTER)
    except DuplicateKeyError:
        return None


def fail_all_running_but_newest(db, *, error, now):
    """Imports an earlier version left running beside another (before `one_running`) -> failed
    with `error`, all but the one with the newest heartbeat; how many. Runs before the index is
    built (service.registry.service declares it)."""
    running = list(db[REGISTRY_IMPORTS].find({"state": "running"}, {"_id": 1, "heartbeat_at": 1}))
    if len(running) < 2:
        return 0
    newest = max(running, key=lambda doc: (doc.get("heartbeat_at") is not None, doc.get("heartbeat_at") or now,
                                           doc["_id"]))
    return db[REGISTRY_IMPORTS].update_many(
        {"_id": {"$in": [doc["_id"] for doc in running if doc["_id"] != newest["_id"]]}, "state": "running"},
        {"$set": {"state": "failed", "error": error, "finished_at": now}}).modified_count


def update_import(import_id, fields, *, state=None, run_id=None, push=None):
    """Set fields of an import (only while in `state` and run `run_id`, when given), appending to
    the lists in `push` ({field: [items]}); True if it matched."""
    query = {"_id": import_id}
    if state is not None:
        query["state"] = state
    if run_id is not None:
        query["run_id"] = run_id
    update = {"$set": fields}
    if push:
        update["$push"] = {field: {"$each": items} for field, items in push.items()}
    return collection(REGISTRY_IMPORTS).update_one(query, update).matched_count == 1


def requeue(import_id, *, fields):
    """failed -> queued (a retry); the import after, or None if it was not failed."""
    return collection(REGISTRY_IMPORTS).find_one_and_update(
        {"_id": import_id, "state": "failed"}, {"$set": {"state": "queued", **fields}},
        return_document=ReturnDocument.AFTER)
