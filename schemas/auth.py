"""Login, token and profile shapes."""

from marshmallow import Schema, fields, validate

from schemas.base import BaseSchema, BeijingDateTime, ObjectIdField


class WxLoginSchema(BaseSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=128),
                         metadata={"description": "the code from wx.login()", "example": "081abcDEF"})


class BindSchema(BaseSchema):
    binding_code = fields.String(required=True, validate=validate.Length(min=6, max=32),
                                 metadata={"example": "K7M3QX9PAB"})


class MeSchema(Schema):
    id = ObjectIdField()
    roles = fields.List(fields.String(), metadata={"example": ["trainee"]})
    region_codes = fields.List(fields.String())
    class_ids = fields.List(ObjectIdField())
    name = fields.String(allow_none=True)
    has_unionid = fields.Boolean()
    created_at = BeijingDateTime()


class BindResultSchema(MeSchema):
    """The profile with the staff role, and a new token to use from now on (replace the old one)."""

    token = fields.String(metadata={"description": "opaque bearer token carrying the staff roles"})
    token_type = fields.String(metadata={"example": "Bearer"})
    expires_at = BeijingDateTime()


class TokenSchema(Schema):
    token = fields.String(metadata={"description": "opaque bearer token"})
    token_type = fields.String(metadata={"example": "Bearer"})
    expires_at = BeijingDateTime()
    user = fields.Nested(MeSchema)
