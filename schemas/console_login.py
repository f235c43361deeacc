"""Console login (扫码登录管理后台) shapes."""

from marshmallow import Schema, fields

from schemas.base import BeijingDateTime

_STATUS = {"description": "pending (待确认) | confirmed (已确认) | used (已登录) | expired (已过期)",
           "example": "pending"}


_ID = {"description": "128 random bits as 32 hex characters (cannot be guessed from another request's id)",
       "example": "3f9c2a7e5b1d48c09e6f2a4b7c1d0e8f"}


_CHECK_CODE = {"description": "4 digits shown beside the QR on the desk's screen; the confirm page shows them "
                              "for the person to compare before confirming", "example": "4831"}


class ConsoleLoginCreatedSchema(Schema):
    id = fields.String(metadata=_ID)
    status = fields.String(metadata=_STATUS)
    poll_secret = fields.String(metadata={"description": "kept by the console that asked; needed to get the session"})
    qr_text = fields.String(metadata={"description": "what the QR encodes", "example":
                                      "lingjun-console-login:3f9c2a7e5b1d48c09e6f2a4b7c1d0e8f"})
    qr_svg = fields.String(metadata={"description": "the QR as an SVG document"})
    check_code = fields.String(metadata=_CHECK_CODE)
    expires_at = BeijingDateTime()


class ConsoleLoginSchema(Schema):
    id = fields.String(metadata=_ID)
    status = fields.String(metadata=_STATUS)
    created_at = BeijingDateTime()
    expires_at = BeijingDateTime()
    user_agent = fields.String(metadata={"description": "the desk browser that asked (shown before confirming)"})
    check_code = fields.String(metadata=_CHECK_CODE)
