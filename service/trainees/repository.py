"""Collections `trainee_profiles` (one per user, _id = user id) and the GridFS bucket `attachments`."""

import gridfs
from pymongo import IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from service.core import gridstore
from service.core.db import collection, declare_indexes, get_db, utcnow

PROFILES = "trainee_profiles"
ATTACHMENTS_BUCKET = "attachments"

declare_indexes(
    PROFILES,
    # One profile per person: the same ID number cannot be used from two WeChat accounts.
    IndexModel("id_number_hash", unique=True, name="id_number_unique",
               partialFilterExpression={"id_number_hash": {"$type": "string"}}),
    IndexModel("enterprise.credit_code", name="credit_code"),
)
declare_indexes(f"{ATTACHMENTS_BUCKET}.files", IndexModel("metadata.owner_id", name="owner"))


class IdNumberTaken(Exception):
    pass


def get(user_id):
    return collection(PROFILES).find_one({"_id": user_id})


def save(*, user_id, fields):
    """Create or replace the profile fields (the mobile fields only when given)."""
    try:
        return collection(PROFILES).find_one_and_update(
            {"_id": user_id}, {"$set": {**fields, "updated_at": utcnow()}, "$setOnInsert": {"created_at": utcnow()}},
            upsert=True, return_document=ReturnDocument.AFTER)
    except DuplicateKeyError:
        raise IdNumberTaken() from None


def bucket():
    return gridfs.GridFSBucket(get_db(), bucket_name=ATTACHMENTS_BUCKET)


def store_attachment(*, owner_id, kind, filename, content_type, data):
    """Store the file with its owner in the file entry (the attachment's record); nothing is left
    behind when that fails (service.core.gridstore). Its id."""
    return gridstore.store(bucket(), filename, data, metadata={
        "owner_id": owner_id, "kind": kind, "content_type": content_type, "created_at": utcnow(),
        # Re-encoded by service/core/uploads.py: files stored before that are served as plain downloads.
        "reencoded": True})


def discard_attachment(attachment_id):
    """Delete an attachment a failed request stored; never raises (service.core.gridstore.discard)."""
    gridstore.discard(bucket(), attachment_id)


def sweep_orphan_chunks(*, before, after=None):
    """The worker's upkeep: chunks of uploads begun before `before` whose file entry was never
    written (service.core.gridstore.sweep_orphan_chunks)."""
    return gridstore.sweep_orphan_chunks(files=collection(f"{ATTACHMENTS_BUCKET}.files"),
                                         chunks=collection(f"{ATTACHMENTS_BUCKET}.chunks"), before=before, after=after)


def attachment_info(attachment_id):
    return collection(f"{ATTACHMENTS_BUCKET}.files").find_one({"_id": attachment_id})


def attachments_of(owner_id):
    return list(collection(f"{ATTACHMENTS_BUCKET}.files").find({"metadata.owner_id": owner_id}).sort("uploadDate", -1))


def read_attachment(attachment_id):
    return bucket().open_download_stream(attachment_id).read()


def delete_attachment(attachment_id):
    bucket().delete(attachment_id)


def photos_of(owner_id):
    """The trainee's uploaded 1-inch photos (照片), newest first (the `owner` index)."""
    return list(collection(f"{ATTACHMENTS_BUCKET}.files").find({"metadata.owner_id": owner_id,
                                                                 "metadata.kind": "photo"}).sort("uploadDate", -1))
