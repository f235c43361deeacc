"""Console login (扫码登录管理后台) shapes."""

from marshmallow import Schema, fields

from schemas.base import BeijingDateTime, ObjectIdField

_STATUS = {"description": "pending (待确认) | confirmed (已确认) | used (已登录) | expired (已过期)",
           "example": "pending"}


class ConsoleLoginCreatedSchema(Schema):
    id = ObjectIdField()
    status = fields.String(metadata=_STATUS)
    poll_secret = fields.String(metadata={"description": "kept by the console that asked; needed to get the session"})
    qr_text = fields.String(metadata={"description": "what the QR encodes", "example":
                                      "lingjun-console-login:6650a1f2c3d4e5f601234567"})
    qr_svg = fields.String(metadata={"description": "the QR as an SVG document"})
    expires_at = BeijingDateTime()


class ConsoleLoginSchema(Schema):
    id = ObjectIdField()
    status = fields.String(metadata=_STATUS)
    created_at = BeijingDateTime()
    expires_at = BeijingDateTime()
    user_agent = fields.String(metadata={"description": "the desk browser that asked (shown before confirming)"})
