"""Ids in URLs: 24-hex ObjectIds.

Routes take ids through the `objectid` URL converter: a path segment that is not 24 hex digits
matches no id route, so `/registrations/mine` and `/registrations/<id>` never overlap (the `Allow`
header of a 405 or OPTIONS answer lists only the methods of the one route that matched) and a
malformed id is a plain 404 `NOT_FOUND` (no such URL) instead of reaching the view. A well-formed id
of no object is the feature's own 404 (`CLASS_NOT_FOUND`, ...). The converter hands the view a str;
`parse_object_id` turns it into an ObjectId.
"""

from bson import ObjectId
from bson.errors import InvalidId
from werkzeug.routing import BaseConverter

from service.core.errors import NotFound

OBJECT_ID_PATTERN = "[0-9a-fA-F]{24}"


class ObjectIdConverter(BaseConverter):
    regex = OBJECT_ID_PATTERN


def object_id_parameter_schema(converter):
    """The OpenAPI schema of an `objectid` path parameter (flask-smorest's register_converter)."""
    return {"type": "string", "pattern": f"^{OBJECT_ID_PATTERN}$"}


# One-time requests whose id is a capability (console login requests): 128 random bits as 32 hex
# digits, so that no id can be worked out from another.
RANDOM_ID_PATTERN = "[0-9a-f]{32}"


class RandomIdConverter(BaseConverter):
    regex = RANDOM_ID_PATTERN


def random_id_parameter_schema(converter):
    """The OpenAPI schema of a `randomid` path parameter."""
    return {"type": "string", "pattern": f"^{RANDOM_ID_PATTERN}$"}


def parse_object_id(value, what="NOT_FOUND"):
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        raise NotFound(what, "找不到要访问的内容") from None
