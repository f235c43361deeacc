"""The embedded database's process: SecantusDB's own `secantusd-py` command with two of its faults
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
"""

import functools
import sys

from secantus import cli, server, storage


def _without_ttl_sweeper(init):
    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        kwargs["ttl_sweep_seconds"] = 0
        init(self, *args, **kwargs)
    return wrapper


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
    """Apply both mends to SecantusDB's classes (in this process only)."""
    server.SecantusDBServer.__init__ = _without_ttl_sweeper(server.SecantusDBServer.__init__)
    storage.Storage._try_index_id_keys = _by_id_first(storage.Storage._try_index_id_keys)


def main(argv=None):
    mend()
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
