"""Programme year (培训项目) shapes."""

from marshmallow import Schema, fields, validate

from schemas.base import (PROGRAMME_YEAR, BaseSchema, BeijingDateTime, ObjectIdField, PaginationArgs, PatchSchema,
                          QueryWholeNumber, WholeNumber, page_schema)
from schemas.text import Text

PROGRAMME_KINDS = ("national", "regional", "topical", "little_giant")
PROGRAMME_STATUSES = ("draft", "published", "cancelled")


class ProgrammeCreateSchema(BaseSchema):
    year = WholeNumber(required=True, validate=PROGRAMME_YEAR)
    name = Text(max_length=100, min_length=2, required=True)
    kind = fields.String(required=True, validate=validate.OneOf(PROGRAMME_KINDS),
                         metadata={"description": "national / regional / topical (专精特新 etc.) / little_giant (小巨人)"})
    topic = Text(max_length=50, load_default=None, allow_none=True,
                          metadata={"example": "专精特新"})
    require_little_giant = fields.Boolean(load_default=False)
    exclude_prior_trainees = fields.Boolean(load_default=False)
    one_enterprise_per_year = fields.Boolean(load_default=True)


class ProgrammeUpdateSchema(PatchSchema):
    name = Text(max_length=100, min_length=2)
    kind = fields.String(validate=validate.OneOf(PROGRAMME_KINDS))
    topic = Text(max_length=50, allow_none=True)
    require_little_giant = fields.Boolean()
    exclude_prior_trainees = fields.Boolean()
    one_enterprise_per_year = fields.Boolean()


class ProgrammeStatusSchema(BaseSchema):
    status = fields.String(required=True, validate=validate.OneOf(("published", "cancelled")))
    reason = Text(max_length=500, multiline=True, load_default=None, allow_none=True)


class ProgrammeListArgs(PaginationArgs):
    year = QueryWholeNumber(validate=PROGRAMME_YEAR)
    status = fields.String(validate=validate.OneOf(PROGRAMME_STATUSES))


class ProgrammeSchema(Schema):
    id = ObjectIdField(attribute="_id")
    year = fields.Integer()
    name = fields.String()
    kind = fields.String()
    topic = fields.String(allow_none=True)
    require_little_giant = fields.Boolean()
    exclude_prior_trainees = fields.Boolean()
    one_enterprise_per_year = fields.Boolean()
    status = fields.String()
    created_at = BeijingDateTime()
    updated_at = BeijingDateTime(allow_none=True)


ProgrammePageSchema = page_schema(ProgrammeSchema, "ProgrammePage")
