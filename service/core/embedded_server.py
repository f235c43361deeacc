"""The embedded database's process: SecantusDB's own `secantusd-py` command with four of its faults
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

4. Partial indexes whose filter is `$type` or `$in`. The server uses a partial index only for a
   query it can prove stays inside the index's filter, and its proof knows `$eq` and the range
   operators only; every partial index of ours filters on `$type` (`openid`, binding codes,
   identity-number hashes, outbox keys, changed tokens) or `$in` (registration states), so each
   of those lookups scanned the whole collection under the storage lock: a wx-login by openid,
   a registration's enterprise check, an identity number's owner (the staff-binding and outbox
   lookups still scan: they add a range on another field, where the planner gives up; both
   collections are small). At 5,000 tokens the changed-token read
   cost 97 ms once per process every 20 s, the stall behind the check-in peak's p99. The proof
   is extended, soundly, by two rules: a query value of exactly the named BSON type (a string,
   a date; a date range too: dates compare only with dates) implies `$type`; a value (or an
   `$in` list) inside the filter's `$in` list implies it. Anything else is left to the stock
   proof (a collection scan: slower, never wrong).
"""

import datetime
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


# `$type` names (and numbers) this proof knows -> the Python type of the decoded value. `str`
# exactly: bson.Code is a str subclass of another BSON type.
_TYPES = {"string": str, 2: str, "date": datetime.datetime, 9: datetime.datetime}
_RANGES = ("$gt", "$gte", "$lt", "$lte")


def _is_of_type(value, alias):
    wanted = _TYPES.get(alias)
    if wanted is str:
        return type(value) is str
    return wanted is not None and isinstance(value, wanted)


def _implies_type(query_value, alias):
    """Does every document matching `query_value` (a field's query clause) have a value of the
    `$type` `alias` in that field?"""
    if not isinstance(query_value, dict):
        return _is_of_type(query_value, alias)
    if query_value.get("$type") == alias and alias in _TYPES:
        return True
    if "$eq" in query_value and _is_of_type(query_value["$eq"], alias):
        return True
    if "$in" in query_value and isinstance(query_value["$in"], list) and query_value["$in"]:
        return all(_is_of_type(v, alias) for v in query_value["$in"])
    # Range operators are type-bracketed; dates form a bracket of their own (strings share theirs
    # with symbols, so a string range proves nothing here).
    return _TYPES.get(alias) is datetime.datetime and any(
        isinstance(query_value.get(op), datetime.datetime) for op in _RANGES)


def _implies_in(query_value, allowed):
    """Does every document matching `query_value` have a value in `allowed` (an `$in` list)?"""
    def inside(value):
        # Same type and value: in Python True == 1, in BSON a boolean never equals a number.
        return not isinstance(value, (dict, list)) and value is not None and any(
            type(value) is type(a) and value == a for a in allowed)
    if not isinstance(query_value, dict):
        return inside(query_value)
    if "$eq" in query_value and inside(query_value["$eq"]):
        return True
    values = query_value.get("$in")
    return isinstance(values, list) and bool(values) and all(inside(v) for v in values)


def _partial_proof_with_type_and_in(stock_proof):
    """Storage._query_implies_partial (a staticmethod: query, partial filter -> bool) extended by
    the `$type` and `$in` rules; each partial-filter field is proved by the stock proof or by ours."""
    def field_implied(query, key, bound):
        if stock_proof(query, {key: bound}):
            return True
        if key not in query or not isinstance(bound, dict) or not bound:
            return False
        for op, operand in bound.items():
            if op == "$type":
                if not _implies_type(query[key], operand):
                    return False
            elif op == "$in":
                if not isinstance(operand, list) or not _implies_in(query[key], operand):
                    return False
            elif not stock_proof(query, {key: {op: operand}}):
                return False
        return True

    @functools.wraps(stock_proof)
    def proof(query, partial):
        if stock_proof(query, partial):
            return True
        return all(field_implied(query, key, bound) for key, bound in partial.items())
    return staticmethod(proof)


def mend():
    """Apply the four mends to SecantusDB's classes (in this process only)."""
    server.SecantusDBServer.__init__ = _without_ttl_sweeper(server.SecantusDBServer.__init__)
    storage.Storage._try_index_id_keys = _by_id_first(storage.Storage._try_index_id_keys)
    _index_options_once_per_insert(storage.Storage)
    storage.Storage._query_implies_partial = _partial_proof_with_type_and_in(storage.Storage._query_implies_partial)


def main(argv=None):
    mend()
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
