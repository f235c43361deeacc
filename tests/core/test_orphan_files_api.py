"""No orphan uploaded files (issue 14 §3, service/core/gridstore.py). A stored file is its chunks,
then its file entry, then (registry imports) the record naming it. A request whose later write
fails deletes what it stored; what even that could not delete (the database was down for both, the
process died) is deleted by the worker's upkeep once it is an hour old, a bounded batch per round."""

import datetime as dt
import io
import os
import struct

import gridfs
import pytest
from bson import ObjectId

from service.core import gridstore
from service.registry.repository import FILES_BUCKET, REGISTRY_IMPORTS
from service.trainees.repository import ATTACHMENTS_BUCKET
from tests.conftest import bearer
from tests.fixtures.faults import assert_unavailable
from tests.registry.helpers import IMPORTS_URL, good_row, xlsx_bytes
from tests.trainees.test_attachments_api import png_bytes, upload


def _stored(db, bucket):
    return db[f"{bucket}.files"].count_documents({}), db[f"{bucket}.chunks"].count_documents({})


def _post_registry(client, token, data):
    return client.post(IMPORTS_URL, headers=bearer(token), content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), "名录.xlsx")})


# a registry upload: 1 the file's chunk, 2 its file entry, 3 the import naming it
@pytest.mark.parametrize("write", [1, 2, 3], ids=["chunk", "file-entry", "import"])
def test_registry_upload_whose_write_fails_leaves_no_file(client, db, admin_token, fail_write, write):
    data = xlsx_bytes([good_row(1), good_row(2)])
    with fail_write(write, commands=["insert"]):
        assert_unavailable(_post_registry(client, admin_token, data))
    assert db[REGISTRY_IMPORTS].count_documents({}) == 0
    assert _stored(db, FILES_BUCKET) == (0, 0)
    again = _post_registry(client, admin_token, data)
    assert again.status_code == 202, again.json
    assert _stored(db, FILES_BUCKET) == (1, 1)


# an attachment: 1 the rate-limit counter, 2 the file's chunk, 3 its file entry (the attachment's record)
@pytest.mark.parametrize("write", [2, 3], ids=["chunk", "file-entry"])
def test_attachment_upload_whose_write_fails_leaves_no_chunks(client, db, login, fail_write, write):
    token = login("attach-owner")
    with fail_write(write):
        assert_unavailable(upload(client, token, png_bytes()))
    assert _stored(db, ATTACHMENTS_BUCKET) == (0, 0)
    assert upload(client, token, png_bytes()).status_code == 201
    assert _stored(db, ATTACHMENTS_BUCKET) == (1, 1)


def test_attachment_whose_answer_cannot_be_read_is_not_kept(client, db, login, monkeypatch):
    """The upload is stored, but reading it back for the answer fails: 503, and the mini-program
    uploads again, so the stored copy is deleted rather than kept as a second one. (The read is
    made to fail here, not the server: its place among the request's reads is not fixed.)"""
    from pymongo.errors import AutoReconnect

    from service.trainees import repository

    token = login("attach-owner")

    def lost(attachment_id):
        raise AutoReconnect("connection closed")

    monkeypatch.setattr(repository, "attachment_info", lost)
    assert_unavailable(upload(client, token, png_bytes()))
    assert _stored(db, ATTACHMENTS_BUCKET) == (0, 0)


# ---- the worker's sweep -------------------------------------------------------------------------

def _id_at(moment):
    """An ObjectId made at `moment` (random below the time, as the driver's are)."""
    return ObjectId(struct.pack(">I", int(moment.timestamp())) + os.urandom(8))


def _file(db, bucket, made_at, *, entry=True):
    """A file stored at `made_at`: its chunks, and its file entry unless `entry` is False."""
    file_id = _id_at(made_at)
    gridfs.GridFSBucket(db, bucket_name=bucket).upload_from_stream_with_id(file_id, "x", b"data" * 10)
    if entry:
        db[f"{bucket}.files"].update_one({"_id": file_id}, {"$set": {"uploadDate": made_at}})
    else:
        db[f"{bucket}.files"].delete_one({"_id": file_id})
    return file_id


def _left(db, bucket):
    return ({f["_id"] for f in db[f"{bucket}.files"].find()},
            {c["files_id"] for c in db[f"{bucket}.chunks"].find()})


def test_the_upkeep_deletes_orphan_files_older_than_an_hour_and_nothing_else(app, db):
    from service.worker import run_upkeep

    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    old, recent = now - dt.timedelta(hours=2), now - dt.timedelta(minutes=10)
    unnamed_old = _file(db, FILES_BUCKET, old)  # stored, its import's insert failed
    unnamed_recent = _file(db, FILES_BUCKET, recent)  # may still be getting its import
    named_old = _file(db, FILES_BUCKET, old)  # a failed import keeps its file for a retry
    db[REGISTRY_IMPORTS].insert_one({"state": "failed", "file_id": named_old})
    chunks_old = _file(db, FILES_BUCKET, old, entry=False)
    attachment_old = _file(db, ATTACHMENTS_BUCKET, old)  # an attachment's entry is its record
    attachment_chunks_old = _file(db, ATTACHMENTS_BUCKET, old, entry=False)
    attachment_chunks_recent = _file(db, ATTACHMENTS_BUCKET, recent, entry=False)

    with app.app_context():
        done = run_upkeep()
    assert done["orphan_files"] == {"registry": 2, "attachments": 1}
    assert _left(db, FILES_BUCKET) == ({unnamed_recent, named_old}, {unnamed_recent, named_old})
    assert _left(db, ATTACHMENTS_BUCKET) == ({attachment_old}, {attachment_old, attachment_chunks_recent})
    with app.app_context():
        assert run_upkeep()["orphan_files"] == {"registry": 0, "attachments": 0}
    assert unnamed_old not in _left(db, FILES_BUCKET)[1] and chunks_old not in _left(db, FILES_BUCKET)[1]
    assert attachment_chunks_old not in _left(db, ATTACHMENTS_BUCKET)[1]


def test_the_sweep_goes_through_a_bounded_batch_per_round(app, db, monkeypatch):
    from service.trainees.service import sweep_orphan_files

    monkeypatch.setattr(gridstore, "SWEEP_BATCH", 2)
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=3)
    kept = _file(db, ATTACHMENTS_BUCKET, old - dt.timedelta(minutes=5))
    orphans = [_file(db, ATTACHMENTS_BUCKET, old + dt.timedelta(minutes=i), entry=False) for i in range(3)]
    with app.app_context():
        rounds = [sweep_orphan_files() for _ in range(3)]
    assert rounds == [1, 2, 0]  # [kept, orphan 0], [orphan 1, orphan 2], then from the start: [kept]
    assert _left(db, ATTACHMENTS_BUCKET) == ({kept}, {kept})
    assert orphans
