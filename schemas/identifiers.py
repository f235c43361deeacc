"""Request fields for identity numbers, credit codes and mobile numbers; the rules live in service.core.identifiers."""

import re

from marshmallow import ValidationError, fields

from service.core.identifiers import InvalidIdentifier, compact_code, parse_credit_code, parse_id_number


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


class MobileNumber(fields.String):
    """A mainland mobile number, 11 digits from 1; loads compact (full-width digits, spaces, hyphens and
    invisible characters removed, like ID numbers: `１３９ ０００１-２３４５` -> `13900012345`)."""

    def _deserialize(self, value, attr, data, **kwargs):
        number = compact_code(super()._deserialize(value, attr, data, **kwargs))
        if not re.fullmatch(r"1[3-9][0-9]{9}", number):
            raise ValidationError("请填写11位手机号码")
        return number
