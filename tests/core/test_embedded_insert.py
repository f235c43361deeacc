"""The embedded server's third mend (service/core/embedded_server.py): an insert reads its index
options once, not three times per document (36% of the server's time inserting registry entries),
and inserts still meet every index: unique keys refused within a batch and against stored documents,
a geo index's bad geometry refused."""

import shutil
import tempfile

import pytest
from secantus import storage

from service.core.embedded_server import _index_options_once_per_insert


def store_counting_catalog_reads(patch):
    """A Storage whose index catalog reads (Storage._index_options_map) are counted, with or
    without the patch; its collection has a unique and a geo index."""
    reads = []

    class Counted(storage.Storage):
        def _index_options_map(self, db, coll):
            reads.append((db, coll))
            return super()._index_options_map(db, coll)

    if patch:
        _index_options_once_per_insert(Counted)
    path = tempfile.mkdtemp()
    store = Counted(path, ttl_sweep_seconds=0)
    store.create_index("db", "entries", "code_title", {"code": 1, "title": 1}, {"unique": True})
    store.create_index("db", "entries", "place", {"place": "2dsphere"}, {})
    reads.clear()
    return store, reads, path


@pytest.mark.parametrize("patch", [True, False], ids=["patched", "stock"])
def test_one_catalog_read_per_insert_and_every_index_still_met(patch):
    store, reads, path = store_counting_catalog_reads(patch)
    try:
        docs = [{"code": f"C{i}", "title": "小巨人", "place": {"type": "Point", "coordinates": [116.3, 39.9]}}
                for i in range(100)]
        inserted, errors = store.insert("db", "entries", [*docs, {"code": "C1", "title": "小巨人"}], ordered=False)
        assert (inserted, [e["index"] for e in errors]) == (100, [100])
        assert len(reads) == (1 if patch else 3 * 100 + 1)
        inserted, errors = store.insert("db", "entries", [
            {"code": "C2", "title": "小巨人"}, {"code": "C2", "title": "专精特新中小企业"},
            {"code": "X", "title": "t", "place": {"type": "Point", "coordinates": [500, 0]}}], ordered=False)
        assert inserted == 1 and sorted(e["index"] for e in errors) == [0, 2]
        assert store.count_matching("db", "entries", {}) == 101
        assert [d["code"] for d in store.find_matching("db", "entries", {"code": "C2"})] == ["C2", "C2"]
        # Reads outside an insert are not kept: a new index's options are seen at once.
        store.create_index("db", "entries", "title", {"title": 1}, {"unique": False})
        assert "title" in store._index_options_map("db", "entries")
    finally:
        store.close()
        shutil.rmtree(path, ignore_errors=True)
