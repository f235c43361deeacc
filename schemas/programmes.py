"""Programme year (培训项目) shapes."""

from marshmallow import Schema, fields, validate

from schemas.base import BaseSchema, BeijingDateTime, ObjectIdField, PaginationArgs, page_schema

PROGRAMME_KINDS = ("national", "regional", "topical", "little_giant")
PROGRAMME_STATUSES = ("draft", "published", "cancelled")


class ProgrammeCreateSchema(BaseSchema):
    year = fields.Integer(required=True, validate=validate.Range(min=2015, max=2100))
    name = fields.String(required=True, validate=validate.Length(min=2, max=100))
    kind = fields.String(required=True, validate=validate.OneOf(PROGRAMME_KINDS),
                         metadata={"description": "national / regional / topical (专精特新 etc.) / little_giant (小巨人)"})
    topic = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50),
                          metadata={"example": "专精特新"})
    require_little_giant = fields.Boolean(load_default=False)
    exclude_prior_trainees = fields.Boolean(load_default=False)
    one_enterprise_per_year = fields.Boolean(load_default=True)


class ProgrammeUpdateSchema(BaseSchema):
    name = fields.String(validate=validate.Length(min=2, max=100))
    kind = fields.String(validate=validate.OneOf(PROGRAMME_KINDS))
    topic = fields.String(allow_none=True, validate=validate.Length(max=50))
    require_little_giant = fields.Boolean()
    exclude_prior_trainees = fields.Boolean()
    one_enterprise_per_year = fields.Boolean()


class ProgrammeStatusSchema(BaseSchema):
    status = fields.String(required=True, validate=validate.OneOf(("published", "cancelled")))
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class ProgrammeListArgs(PaginationArgs):
    year = fields.Integer()
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
