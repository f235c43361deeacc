"""Ids in URLs: 24-hex ObjectIds; anything else is a 404, not a 500."""

from bson import ObjectId
from bson.errors import InvalidId

from service.core.errors import NotFound


def parse_object_id(value, what="NOT_FOUND"):
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        raise NotFound(what, "找不到要访问的内容") from None
