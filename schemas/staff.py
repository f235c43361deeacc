"""Staff account shapes."""

from marshmallow import Schema, fields, validate

from schemas.base import REGION_CODE_PATTERN, BaseSchema, BeijingDateTime, ObjectIdField, PaginationArgs, PatchSchema, page_schema
from schemas.text import Text

STAFF_ROLES = ("supervisor", "province_staff", "admin")


class StaffCreateSchema(BaseSchema):
    name = Text(max_length=50, min_length=1, required=True)
    role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))
    region_code = fields.String(load_default=None, allow_none=True,
                                validate=REGION_CODE_PATTERN)
    class_ids = fields.List(ObjectIdField(), load_default=list)


class StaffUpdateSchema(PatchSchema):
    name = Text(max_length=50, min_length=1)
    region_code = fields.String(allow_none=True,
                                validate=REGION_CODE_PATTERN)
    class_ids = fields.List(ObjectIdField())
    active = fields.Boolean()


class StaffListArgs(PaginationArgs):
    role = fields.String(validate=validate.OneOf(STAFF_ROLES))
    region_code = fields.String()


class StaffSchema(Schema):
    id = ObjectIdField(attribute="_id")
    name = fields.String()
    role = fields.String()
    region_code = fields.String(allow_none=True)
    class_ids = fields.List(ObjectIdField())
    active = fields.Boolean()
    bound = fields.Function(lambda a: a.get("user_id") is not None)
    bound_at = BeijingDateTime(allow_none=True)
    created_at = BeijingDateTime()


class StaffWithCodeSchema(Schema):
    account = fields.Nested(StaffSchema)
    binding_code = fields.String(metadata={"description": "one-time code, shown only now"})
    binding_expires_at = BeijingDateTime()


StaffPageSchema = page_schema(StaffSchema, "StaffPage")
