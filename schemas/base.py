"""Shared schema pieces: Chinese field errors, ObjectId and Beijing-time fields, pagination."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

from bson import ObjectId
from bson.errors import InvalidId
from marshmallow import RAISE, Schema, ValidationError, fields, missing, validate

BEIJING = ZoneInfo("Asia/Shanghai")

# Field-level messages in Chinese: the mini-program shows them next to the input.
fields.Field.default_error_messages.update({
    "required": "此项为必填项",
    "null": "此项不能为空",
    "validator_failed": "填写的内容不符合要求",
})
fields.String.default_error_messages.update({"invalid": "请填写文字"})
fields.Integer.default_error_messages.update({"invalid": "请填写整数"})
fields.Number.default_error_messages.update({"invalid": "请填写数字", "too_large": "数字太大"})
fields.Float.default_error_messages.update({"special": "请填写有效的数字"})
fields.Boolean.default_error_messages.update({"invalid": "请填写是或否"})
fields.DateTime.default_error_messages.update({"invalid": "时间格式不正确，请使用 ISO 8601 格式"})
fields.Date.default_error_messages.update({"invalid": "日期格式不正确，请使用 YYYY-MM-DD"})
fields.List.default_error_messages.update({"invalid": "请填写列表"})
fields.Dict.default_error_messages.update({"invalid": "请填写对象"})
fields.Email.default_error_messages.update({"invalid": "邮箱格式不正确"})
fields.URL.default_error_messages.update({"invalid": "网址格式不正确"})
fields.Nested.default_error_messages.update({"type": "格式不正确"})
validate.Length.message_min = "长度不能少于 {min}"
validate.Length.message_max = "长度不能超过 {max}"
validate.Length.message_all = "长度应在 {min} 到 {max} 之间"
validate.Length.message_equal = "长度应为 {equal}"
# The same limits said of a list (social positions, honours, attachments) count items, not characters.
_LIST_LENGTH_MESSAGES = {"长度不能少于 {min}": "至少 {min} 项", "长度不能超过 {max}": "最多 {max} 项",
                         "长度应在 {min} 到 {max} 之间": "应为 {min} 到 {max} 项", "长度应为 {equal}": "应为 {equal} 项"}
_length_format_error = validate.Length._format_error


def _length_error(self, value, message):
    if isinstance(value, (list, tuple)) and self.error is None:
        message = _LIST_LENGTH_MESSAGES.get(message, message)
    return _length_format_error(self, value, message)


validate.Length._format_error = _length_error
validate.Range.message_min = "应{min_op} {{min}}"
validate.Range.message_max = "应{max_op} {{max}}"
validate.Range.message_all = "应{min_op} {{min}} 且{max_op} {{max}}"
validate.Range.message_gte = "大于或等于"
validate.Range.message_gt = "大于"
validate.Range.message_lte = "小于或等于"
validate.Range.message_lt = "小于"
validate.OneOf.default_message = "请从以下选项中选择：{choices}"
validate.Regexp.default_message = "格式不正确"


class Pattern(validate.Regexp):
    """A regular expression the OpenAPI document can publish: validated here with `fullmatch` and
    ASCII classes (`\\d` is 0-9 as in ECMAScript, not every Unicode digit; `$` would also pass a
    trailing line break in Python), published as `^(?:...)$`, which means the same in the
    ECMAScript dialect OpenAPI uses. `body` must be ECMAScript too: no `\\Z`, `\\A`, `(?P<...>)`,
    lookbehinds or inline flags (tests/core/test_spec_patterns.py compiles every published one)."""

    def __init__(self, body, error=None):
        super().__init__(f"^(?:{body})$", error=error)
        self._full = re.compile(body, re.ASCII)

    def __call__(self, value):
        if not isinstance(value, str) or self._full.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


REGION_CODE_PATTERN = Pattern(r"[0-9]{6}", error="地区代码应为6位数字")


# -- bounds on every number and date the API takes --------------------------------------------
# Years a programme may have: the one range for a programme's `year`, the `?year=` filters and every
# `/years/{year}` path (service.core.years). The notices start in 2017 (DOMAIN.md); 2015 leaves room
# for records entered from earlier pilots, 2100 is the end of the dates the API takes at all (below).
PROGRAMME_YEAR_MIN, PROGRAMME_YEAR_MAX = 2015, 2100
PROGRAMME_YEAR_MESSAGE = f"年度应在 {PROGRAMME_YEAR_MIN} 到 {PROGRAMME_YEAR_MAX} 之间"
PROGRAMME_YEAR = validate.Range(min=PROGRAMME_YEAR_MIN, max=PROGRAMME_YEAR_MAX, error=PROGRAMME_YEAR_MESSAGE)
# Any date or time the API takes: from 1901 (before it Asia/Shanghai is local mean time, +08:05:43,
# and year 1 cannot be moved to UTC at all) to 2100.
DATE_YEAR_MIN, DATE_YEAR_MAX = 1901, 2100
# Integers beyond ±(2^53 - 1) overflow MongoDB's 64-bit integers (pymongo raises OverflowError
# mid-request) or lose precision in the mini-program's JavaScript. Marshmallow's Integer takes any
# size, so the bound is added to the one Integer class every schema uses (a door, not each room).
SAFE_INTEGER = 2 ** 53 - 1
_integer_validated = fields.Integer._validated


def _bounded_integer(self, value):
    number = _integer_validated(self, value)
    if number is not None and abs(number) > SAFE_INTEGER:
        raise self.make_error("too_large")
    return number


fields.Integer._validated = _bounded_integer


class WholeNumber(fields.Integer):
    """The one field for whole numbers in a request body (places, counts, years, minutes, versions).

    Marshmallow's Integer turns 2.7 into 2 and "3" into 3: a typo becomes a different number that is
    saved silently. Here only a JSON number that is whole is taken (2 or 2.0); 2.7, "3", true and
    NaN/Infinity are 422 `请填写整数`. Bounded to ±(2^53 - 1) like every Integer (above)."""

    def _validated(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return super()._validated(value)


class QueryWholeNumber(WholeNumber):
    """A whole number in a query string, where every value is text: ASCII digits only ("2026"),
    never "2026.5", " 7" or full-width digits."""

    def _validated(self, value):
        if isinstance(value, str):
            if re.fullmatch(r"[0-9]{17,}", value):
                # Digits, only too many of them: say the field's bound ("页码不能大于 10000"), not
                # "请填写整数", when the field has one.
                for validator in self.validators:
                    validator(10 ** 17)
                raise self.make_error("too_large")
            if not re.fullmatch(r"-?[0-9]{1,16}", value):
                raise self.make_error("invalid")
            value = int(value)
        return super()._validated(value)
fields.Date.default_error_messages["out_of_range"] = f"日期应在 {DATE_YEAR_MIN} 年到 {DATE_YEAR_MAX} 年之间"
fields.DateTime.default_error_messages["out_of_range"] = f"时间应在 {DATE_YEAR_MIN} 年到 {DATE_YEAR_MAX} 年之间"
_date_deserialize = fields.Date._deserialize
_datetime_deserialize = fields.DateTime._deserialize


# Python's fromisoformat also reads ISO 8601's basic and week forms ("20260101", "2026-W48-2"),
# which the messages ("请使用 YYYY-MM-DD") and the OpenAPI formats (RFC 3339 date / date-time) do not
# promise: the text must have the extended calendar form first. RFC 3339 allows a lowercase t / z.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
                           r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})?)?")


def _bounded_date(self, value, attr, data, **kwargs):
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise self.make_error("invalid")
    day = _date_deserialize(self, value, attr, data, **kwargs)
    if not DATE_YEAR_MIN <= day.year <= DATE_YEAR_MAX:
        raise self.make_error("out_of_range")
    return day


def _bounded_datetime(self, value, attr, data, **kwargs):
    if isinstance(value, str):
        if not _ISO_DATETIME.fullmatch(value):
            raise self.make_error("invalid")
        value = value.replace("t", "T").replace("z", "Z")
    moment = _datetime_deserialize(self, value, attr, data, **kwargs)
    # One year's margin on each side: an offset can move the UTC instant across New Year.
    if not DATE_YEAR_MIN < moment.year < DATE_YEAR_MAX:
        raise self.make_error("out_of_range")
    return moment


fields.Date._deserialize = _bounded_date
fields.DateTime._deserialize = _bounded_datetime

# Booleans in a body are JSON true / false only. Marshmallow also takes 0, 1, "yes", "on", "true",
# ... which the OpenAPI document does not promise and a typo would slip through. A query string has
# only text: QueryBoolean (below) takes "true" / "false" there. Patched on the one Boolean class, so
# no body field can forget it (tests/core/test_strict_booleans.py walks every schema).
_boolean_deserialize = fields.Boolean._deserialize


def _strict_boolean(self, value, attr, data, **kwargs):
    if isinstance(value, bool):
        return value
    raise self.make_error("invalid", input=value)


fields.Boolean._deserialize = _strict_boolean


class QueryBoolean(fields.Boolean):
    """A boolean in a query string: exactly `true` or `false` (`?mine=true`), nothing else."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value in ("true", "false"):
            return value == "true"
        return _strict_boolean(self, value, attr, data, **kwargs)


# Metadata key of an answer field that only some answers carry (not required, not sent as null).
SOMETIMES = "sometimes"
# Every answer carries every field of its schema, `null` when the stored document has no value
# (a front end then tests for null, never for a missing key), and the OpenAPI document marks them
# required (service.core.openapi). Request schemas (BaseSchema) are left alone.
_marshmallow_on_bind_field = Schema.on_bind_field


def _answer_every_field(self, field_name, field_obj):
    if not isinstance(self, BaseSchema) and field_obj.dump_default is missing and not field_obj.metadata.get(SOMETIMES):
        field_obj.dump_default = None
    return _marshmallow_on_bind_field(self, field_name, field_obj)


Schema.on_bind_field = _answer_every_field


class BaseSchema(Schema):
    """Refuses unknown fields (no mass assignment) with a Chinese message."""

    class Meta:
        unknown = RAISE
        ordered = True

    error_messages = {"unknown": "不允许的字段", "type": "请求内容必须是 JSON 对象"}


class PatchSchema(BaseSchema):
    """Body of a PATCH: the fields to change, at least one. The OpenAPI document says
    `minProperties: 1` (service.core.openapi); an empty body, `{}` or no body is refused with
    422 `NO_CHANGES` before the schema loads (service.core.request_body)."""


class ObjectIdField(fields.Field):
    """ObjectId in MongoDB, 24-hex string on the wire; bad input is a 422."""

    default_error_messages = {"invalid": "编号格式不正确"}

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return ObjectId(value)
        except (InvalidId, TypeError):
            raise self.make_error("invalid") from None


def beijing_isoformat(value):
    """A stored time (UTC; naive means UTC) as shown on the wire: ISO 8601 in Beijing time."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(BEIJING).isoformat()


class BeijingDateTime(fields.DateTime):
    """Aware datetimes: input without an offset means Beijing time; stored UTC; shown +08:00."""

    def _serialize(self, value, attr, obj, **kwargs):
        return beijing_isoformat(value)

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=BEIJING)
        return parsed.astimezone(dt.timezone.utc)


class ErrorSchema(Schema):
    code = fields.String(required=True, metadata={"description": "stable machine code", "example": "VALIDATION_ERROR"})
    message = fields.String(required=True, metadata={"description": "message for the user, in Chinese"})
    errors = fields.Dict(required=True, metadata={"description": "field errors: field name -> list of messages"})
    request_id = fields.String(required=True)
    # Some refusals carry one of these beside the four fields above (see the guide).
    opens_at = fields.String(metadata={SOMETIMES: True, "description": "CHECKIN_NOT_OPEN: when check-in opens"})
    starts_at = fields.String(metadata={SOMETIMES: True, "description": "SESSION_NOT_STARTED: when the session starts"})
    distance_m = fields.Integer(metadata={SOMETIMES: True, "description": "OUT_OF_RANGE: metres from the venue"})
    status = fields.String(metadata={SOMETIMES: True, "description": "ALREADY_MARKED: the record's status"})
    state = fields.String(allow_none=True,
                          metadata={SOMETIMES: True, "description": "leave refusals: the request's current state"})
    leave_request_id = fields.String(metadata={SOMETIMES: True, "description": "LEAVE_OVERLAP: the other request"})
    required_columns = fields.List(fields.String(),
                                   metadata={SOMETIMES: True, "description": "REGISTRY_HEADER_INVALID: the columns a file needs"})


MAX_PAGE = 10000  # a list is read 100 at a time at most: a million items


class PaginationArgs(BaseSchema):
    page = QueryWholeNumber(load_default=1, validate=[
        validate.Range(min=1, error="页码不能小于 {min}"), validate.Range(max=MAX_PAGE, error="页码不能大于 {max}")])
    page_size = QueryWholeNumber(load_default=20, validate=[
        validate.Range(min=1, error="每页条数不能小于 {min}"), validate.Range(max=100, error="每页条数不能大于 {max}")])


def page_schema(item_schema, name):
    """A paginated response schema: {items, page, page_size, total}."""
    return type(name, (Schema,), {
        "items": fields.List(fields.Nested(item_schema)),
        "page": fields.Integer(),
        "page_size": fields.Integer(),
        "total": fields.Integer(),
    })


def beijing_today():
    return dt.datetime.now(BEIJING).date()


__all__ = ["QueryBoolean", "Pattern", "REGION_CODE_PATTERN", "PROGRAMME_YEAR", "PROGRAMME_YEAR_MESSAGE", "PROGRAMME_YEAR_MIN", "PROGRAMME_YEAR_MAX", "BaseSchema", "PatchSchema", "ObjectIdField", "BeijingDateTime", "ErrorSchema", "PaginationArgs",
           "page_schema", "ValidationError", "MAX_PAGE", "BEIJING", "beijing_today"]
