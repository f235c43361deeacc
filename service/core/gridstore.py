"""GridFS files that leave nothing behind (issue 14 §3): a stored file is its chunks and then its
file entry, and a feature's record that names it comes after. pymongo's upload keeps the chunks it
wrote when a later chunk or the entry fails (GridIn marks itself closed, it does not abort), and a
record write that fails after the upload leaves a whole file nobody names.

- `store` uploads and, when the upload fails, deletes what it wrote; `discard` is what a request
  calls when its record write fails after `store` (best effort: the record's failure is the answer).
- `sweep_orphan_chunks` (the worker's upkeep) deletes chunks without a file entry, for writes whose
  own clean-up failed too (the database was down for both, or the process died between them).

The buckets belong to their features (service.core.db.COLLECTION_OWNERS): each passes its own
bucket or collections here.
"""

import contextlib

import gridfs
from bson import ObjectId
from pymongo.errors import PyMongoError

from service.core.db import in_chunks

# Chunks and entries younger than this may belong to an upload still under way.
ORPHAN_AGE_SECONDS = 3600
SWEEP_BATCH = 500


def store(bucket, filename, data, *, metadata=None):
    """Upload `data` as a new file; its id. If the upload fails, what it wrote is deleted (best
    effort) and the failure raised."""
    file_id = ObjectId()
    try:
        bucket.upload_from_stream_with_id(file_id, filename, data, metadata=metadata)
    except Exception:
        discard(bucket, file_id)
        raise
    return file_id


def discard(bucket, file_id):
    """Delete the file's entry and chunks, whatever is left of them; never raises (a caller cleaning
    up after a failure answers with that failure; the worker's sweep deletes what this could not)."""
    with contextlib.suppress(gridfs.errors.NoFile, PyMongoError):
        bucket.delete(file_id)


def id_older_than(moment):
    """The smallest ObjectId made at `moment`: ids below it were made before."""
    return ObjectId.from_datetime(moment)


def sweep_orphan_chunks(*, files, chunks, before, after=None, limit=None):
    """Delete the chunks of files begun before `before` (their ids' time) that have no file entry,
    looking at up to `limit` files with ids above `after`. Returns (files whose chunks were
    deleted, last id looked at or None when the end was reached): pass that id as `after` next
    time to go on, None to start over. Each file is found by its first chunk on the chunks'
    (files_id, n) index."""
    limit = limit or SWEEP_BATCH
    query = {"files_id": {"$lt": id_older_than(before)}, "n": 0}
    if after is not None:
        query["files_id"]["$gt"] = after
    seen = [c["files_id"] for c in chunks.find(query, {"files_id": 1, "_id": 0}).sort("files_id", 1).limit(limit)]
    if not seen:
        return 0, None
    entries = set()
    for chunk in in_chunks(seen):
        entries.update(f["_id"] for f in files.find({"_id": {"$in": chunk}}, {"_id": 1}))
    orphans = [file_id for file_id in seen if file_id not in entries]
    for chunk in in_chunks(orphans):
        chunks.delete_many({"files_id": {"$in": chunk}})
    return len(orphans), (seen[-1] if len(seen) == limit else None)
