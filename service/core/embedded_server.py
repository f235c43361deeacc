"""The embedded database's process: SecantusDB's own `secantusd-py` command with three of its faults
mended (SecantusDB 0.7.0b3; each measured, each a stall of the whole national peak).

    python -m service.core.embedded_server --host 127.0.0.1 --port P --storage-path DIR ...

(the same options as `secantusd-py`; service.core.embedded starts it).

1. No TTL sweeper. SecantusDB expires documents of collections with a TTL index by a thread that
   wakes every 60 s, reads and decodes every document of every such collection, and holds the
   storage's lock while it does, so every write waits for it. With 20,000 login tokens
   (`auth_tokens`) that stalled every insert for 0.22–0.44 s once a minute (a probe of two writers
   at 50 inserts/s each: p99 4 ms, max 435 ms at the sweep; without it max 8.6 ms). Its config file
   has `[storage] ttl_sweep_seconds` (0 turns the thread off), but its command line never hands it
   to the server. Expired documents are deleted instead by the worker's upkeep through each TTL
   index (service.core.db.expire_documents: a range of the index, only the expired entries); reads
   never depended on the sweep: every read of those collections checks the expiry itself.

2. find-and-modify by index. A `findOneAndUpdate` / `findOneAndDelete` finds its document, then
   writes it under the filter `{"_id": <its id>, "$and": [<the request's filter>]}`; the server's
   index picker gives up on any filter with a `$` key and scans the whole collection, holding the
   collection's lock, so every other write to the collection waits. On 20,000 documents each
   call cost 96–100 ms of the server's CPU, whatever the filter (by `_id` too; `update_one` 0.7 ms);
   in the check-in peak the retried check-ins' `find_one_and_update` on `attendance` scanned a
   growing collection and held every check-in insert behind it. A filter naming `_id` is now
   looked up by `_id` first; the write still tests each candidate against the whole filter
   (the picker's contract: candidates are a superset), so what matches is unchanged.

3. An insert's index options read once. An insert (Storage._insert_chunk, up to 1,000 documents)
   reads the collection's index catalog and decodes every index's options again for every
   document, three times (unique check, geo check, index entries: Storage._index_options_map),
   though nothing can change them while the insert holds its collection's lock. That was 36% of
   the server's time inserting registry entries (py-spy, 60,000 entries with the registry's two
   indexes; server CPU for 20,000 inserts 3.8 -> 2.8 s), time in which every other request waits
   for the interpreter. The options are kept for the one attempt of one insert.
"""

import functools
import sys
import threading

from secantus import cli, server, storage


def _without_ttl_sweeper(init):
    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        kwargs["ttl_sweep_seconds"] = 0
        init(self, *args, **kwargs)
    return wrapper


_insert_attempt = threading.local()


def _index_options_once_per_insert(storage_class):
    """Storage._index_options_map computed once per attempt of Storage._insert_chunk (the attempt
    holds the collection's lock; a retried attempt reads it again)."""
    attempt = storage_class._insert_chunk.__wrapped__  # under SecantusDB's write-conflict retry
    options_map = storage_class._index_options_map

    @functools.wraps(attempt)
    def insert_chunk(self, *args, **kwargs):
        _insert_attempt.options = {}
        try:
            return attempt(self, *args, **kwargs)
        finally:
            _insert_attempt.options = None

    @functools.wraps(options_map)
    def index_options_map(self, db, coll):
        kept = getattr(_insert_attempt, "options", None)
        if kept is None:
            return options_map(self, db, coll)
        if (db, coll) not in kept:
            kept[db, coll] = options_map(self, db, coll)
        return kept[db, coll]

    storage_class._insert_chunk = storage._retry_write_conflicts(insert_chunk)
    storage_class._index_options_map = index_options_map


def _by_id_first(pick_candidates):
    """`Storage._try_index_id_keys` (the write paths' candidate picker: record ids, or None for a
    whole-collection scan), trying the `_id` point lookup first when the filter names `_id` among
    other keys."""
    @functools.wraps(pick_candidates)
    def wrapper(self, db, coll, filter, *, collation=None):
        if filter and len(filter) > 1 and "_id" in filter and collation is None:
            found = pick_candidates(self, db, coll, {"_id": filter["_id"]})
            if found is not None:
                return found
        return pick_candidates(self, db, coll, filter, collation=collation)
    return wrapper


def mend():
    """Apply the three mends to SecantusDB's classes (in this process only)."""
    server.SecantusDBServer.__init__ = _without_ttl_sweeper(server.SecantusDBServer.__init__)
    storage.Storage._try_index_id_keys = _by_id_first(storage.Storage._try_index_id_keys)
    _index_options_once_per_insert(storage.Storage)


def main(argv=None):
    mend()
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
