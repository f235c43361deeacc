"""The all-regions KPI table's read model: each region's stored counts for a programme year, kept
with the data versions they were counted at (collections `report_versions`, `report_region_counts`).

Counting a national year takes one pass over every registration, certificate, class rating and
registry entry of the year (about 120,000 documents: 11 s on the embedded development server).
The features that write what the KPIs count call `changed(region, year)` after each write;
that moves the region's version. A stored row is used only while its versions are the current
ones (and it is younger than MAX_AGE), otherwise the region is counted again by the same
pipelines, so the table always equals a full recount (tests/reports/test_summaries.py).

Order makes it safe without transactions: writers bump *after* writing, readers read the
versions *before* counting, so a write that lands during a count leaves a newer version behind
and the next reader counts that region again. A writer that dies between its write and its bump
leaves a row too old by at most MAX_AGE.

The worker keeps the rows counted (service.reports.service.refresh_read_model, in its own loop):
regions changed, missing or older than half of MAX_AGE are counted again in the background, so a
request reads stored rows and counts at most a region written since the worker's last round.

What is time-dependent (sessions held, attendance gaps of sessions not closed yet) is never
stored: it is computed from the classes on every request (service.reports.service).
"""

import datetime as dt
import logging

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError, PyMongoError

from service.core.db import collection, utcnow

log = logging.getLogger(__name__)

VERSIONS = "report_versions"
SUMMARIES = "report_region_counts"
# A stored row older than this is counted again whatever its versions (writes made outside the
# service: a restore, a manual fix, a writer that died between its write and its bump).
MAX_AGE = dt.timedelta(minutes=10)
DUPLICATE_KEY = 11000
REGISTRY = "registry"  # the registry (小巨人 list) is not per year: one version per region for every year


def _key(scope, region_code):
    return f"{scope}:{region_code}"


def changed(*, region_code, year=None):
    """Record that the region's counted data changed: of `year`, or (year None: the enterprise
    registry) of every year. Call after the write."""
    if region_code is None:
        return
    changed_many([(region_code, year)])


def changed_many(pairs):
    """`changed` for several (region_code, year) pairs in one round trip.

    Best effort: the write it follows is made and whole, so a database failure here is logged,
    not answered (a 503 would make the client repeat a change already made). The row it should
    have moved is counted again at the latest after MAX_AGE, as for a writer that died here."""
    keys = sorted({_key(REGISTRY if year is None else int(year), code) for code, year in pairs if code})
    if not keys:
        return
    try:
        _upserts(collection(VERSIONS), [UpdateOne({"_id": key}, {"$inc": {"v": 1}}, upsert=True) for key in keys],
                 retry=True)
    except PyMongoError as exc:
        log.warning("report versions not moved (recounted within %s): %s", MAX_AGE, type(exc).__name__)


def _upserts(target, ops, *, retry):
    """Run upserts; two upserts of the same new _id at once make one fail on the unique _id:
    `retry` runs those again (the document exists now), else they are dropped (another reader
    stored the same count)."""
    try:
        target.bulk_write(ops, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details["writeErrors"]
        if any(error["code"] != DUPLICATE_KEY for error in errors):
            raise
        if retry:
            target.bulk_write([ops[error["index"]] for error in errors], ordered=False)


def versions(year, region_codes):
    """{region: (year version, registry version)} now (0 for a region never changed)."""
    keys = [_key(scope, code) for code in region_codes for scope in (int(year), REGISTRY)]
    found = {d["_id"]: d["v"] for d in collection(VERSIONS).find({"_id": {"$in": keys}})}
    return {code: (found.get(_key(int(year), code), 0), found.get(_key(REGISTRY, code), 0)) for code in region_codes}


def stored(year, current, *, max_age=MAX_AGE):
    """{region: counts} of the stored rows still valid against `current` versions and younger than `max_age`."""
    oldest = utcnow() - max_age
    valid = {}
    for doc in collection(SUMMARIES).find({"year": int(year)}):
        code = doc["region_code"]
        if code in current and tuple(doc["versions"]) == current[code] and doc["counted_at"] >= oldest:
            valid[code] = doc["counts"]
    return valid


def store(year, counts, seen):
    """Keep each region's `counts` with the versions `seen` before counting."""
    now = utcnow()
    ops = [UpdateOne({"_id": _key(int(year), code)},
                     {"$set": {"year": int(year), "region_code": code, "counts": one, "versions": list(seen[code]),
                               "counted_at": now}}, upsert=True)
           for code, one in counts.items()]
    if ops:
        _upserts(collection(SUMMARIES), ops, retry=False)
