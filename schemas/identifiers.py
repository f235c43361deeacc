"""Request fields for identity numbers and credit codes; the rules live in service.core.identifiers."""

from marshmallow import ValidationError, fields

from service.core.identifiers import InvalidIdentifier, parse_credit_code, parse_id_number


class IdNumber(fields.String):
    """居民身份证 / 港澳台居民居住证 / 外国人永久居留身份证 number; loads as the compact number
    (half-width, upper-case X). A refusal names its reason: length, characters, birth date, area, check."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return parse_id_number(text).number
        except InvalidIdentifier as exc:
            raise ValidationError(exc.reason) from None


class CreditCode(fields.String):
    """统一社会信用代码 (GB 32100); full-width characters are read as half-width."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return parse_credit_code(text)
        except InvalidIdentifier as exc:
            raise ValidationError(exc.reason) from None


__all__ = ["IdNumber", "CreditCode"]
