"""The `performance_targets` collection: a region's performance targets (绩效目标) for a programme year.

One document per (region, year), changed only with the `version` it was read at in the filter
(optimistic concurrency); each change pushes the values it replaced onto `history` in the same
single-document update, so the history can never disagree with the current values.
"""

from pymongo import IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from service.core.db import collection, declare_indexes

TARGETS = "performance_targets"

declare_indexes(TARGETS, IndexModel([("region_code", 1), ("year", 1)], unique=True, name="region_year"))


class AlreadyExists(Exception):
    pass


def get(region_code, year):
    return collection(TARGETS).find_one({"region_code": region_code, "year": year})


def of_year(year):
    """{region_code: targets} for every region that set targets for the year."""
    return {doc["region_code"]: doc for doc in collection(TARGETS).find({"year": year}, {"history": 0})}


def insert(doc):
    try:
        collection(TARGETS).insert_one(doc)
    except DuplicateKeyError:
        raise AlreadyExists() from None
    return doc


def replace_values(*, region_code, year, version, values, history_entry, updated_by, updated_at):
    """Set new values if the targets are still at `version`; returns the new document or None."""
    return collection(TARGETS).find_one_and_update(
        {"region_code": region_code, "year": year, "version": version},
        {"$set": {**values, "updated_by": updated_by, "updated_at": updated_at},
         "$inc": {"version": 1}, "$push": {"history": history_entry}},
        return_document=ReturnDocument.AFTER)
