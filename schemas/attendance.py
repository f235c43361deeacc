"""Check-in and attendance shapes."""

from marshmallow import Schema, fields, validate

from schemas.base import BaseSchema, Pattern, BeijingDateTime, ObjectIdField, beijing_isoformat
from schemas.people import WithByNames, by_name_field
from schemas.text import Text

STATUSES = ("present", "late", "absent", "excused")
# A nonce is a machine token: printable ASCII without spaces or control characters (a NUL or a
# line break would be stored and compared as part of it).
NONCE = Pattern(r"[\x21-\x7e]{8,64}", error="nonce 应为 8–64 个可打印 ASCII 字符")


class ClassCodeCheckinSchema(BaseSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=256),
                         metadata={"description": "what was scanned: the class code URL (also still percent-encoded "
                                                  "as WeChat passes it in `q`), the bare code, or the mini-program "
                                                  "code's scene"})
    latitude = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=-180, max=180))
    nonce = fields.String(load_default=None, allow_none=True, validate=NONCE,
                          metadata={"description": "random per attempt; a retry with the same nonce gets the same answer"})
    device_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))


class PersonalCodeCheckinSchema(BaseSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    device_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))


class OfflineScanSchema(BaseSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=64),
                         metadata={"description": "the trainee's personal code as scanned"})
    scanned_at = BeijingDateTime(required=True, metadata={"description": "when the device scanned it"})
    nonce = fields.String(required=True, validate=NONCE,
                          metadata={"description": "random per scan, made on the device; an upload repeated "
                                                   "with the same nonce is answered the same"})
    device_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))


class OfflineUploadSchema(BaseSchema):
    items = fields.List(fields.Nested(OfflineScanSchema), required=True, validate=validate.Length(min=1, max=500))
    device_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))


class MarkSchema(BaseSchema):
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    reason = Text(max_length=200, min_length=2, multiline=True, required=True,
                           metadata={"description": "e.g. 手机无法扫码，现场核实"})


class AttendanceHistorySchema(Schema):
    at = BeijingDateTime()
    by = ObjectIdField(allow_none=True)
    by_name = by_name_field()
    from_status = fields.String(attribute="from", data_key="from", allow_none=True)
    to_status = fields.String(attribute="to", data_key="to")
    reason = fields.String(allow_none=True)


class AttendanceRecordSchema(Schema):
    id = ObjectIdField(attribute="_id")
    session_id = ObjectIdField()
    class_id = ObjectIdField()
    registration_id = ObjectIdField()
    status = fields.String(metadata={"description": "present / late / absent / excused"})
    method = fields.String(metadata={"description": "class_code / personal_code / offline / manual / close / leave"})
    checked_in_at = BeijingDateTime(allow_none=True)
    distance_m = fields.Integer(allow_none=True)
    flags = fields.List(fields.String(), allow_none=True, metadata={"description": "null on records that never had any"})
    remark = fields.String(allow_none=True)
    history = fields.List(fields.Nested(AttendanceHistorySchema))


class CheckinRecordSchema(AttendanceRecordSchema):
    """The record as a check-in answers it, without its change history (the board shows that)."""

    class Meta:
        exclude = ("history",)


class CheckinResultSchema(Schema):
    result = fields.String(metadata={"description": "checked_in / already_checked_in"})
    record = fields.Nested(CheckinRecordSchema)
    trainee_name = fields.String(allow_none=True, metadata={"description": "when a supervisor scanned; else null"})


def _text(value):
    return None if value is None else str(value)


# (stored key, shown key, conversion) of CheckinRecordSchema, in that schema's order.
_CHECKIN_RECORD_VIEW = (
    ("_id", "id", _text), ("session_id", "session_id", _text), ("class_id", "class_id", _text),
    ("registration_id", "registration_id", _text), ("status", "status", _text), ("method", "method", _text),
    ("checked_in_at", "checked_in_at", beijing_isoformat),
    ("distance_m", "distance_m", lambda v: None if v is None else int(v)),
    ("flags", "flags", lambda v: None if v is None else [str(f) for f in v]), ("remark", "remark", _text),
)


def checkin_answer(result):
    """CheckinResultSchema().dump(result), written out: a whole class checks in within minutes and
    the generic dump cost about 5% of a check-in. tests/attendance keeps the two equal."""
    record = result["record"]
    answer = {"result": result["result"],
              # Every field, null when the record has none (as every answer: schemas.base).
              "record": {shown: convert(record[key]) if key in record else None
                         for key, shown, convert in _CHECKIN_RECORD_VIEW},
              "trainee_name": _text(result["trainee_name"]) if "trainee_name" in result else None}
    return answer


class OfflineItemResultSchema(Schema):
    nonce = fields.String()
    result = fields.String(metadata={"description": "checked_in / already_checked_in / refused"})
    code = fields.String(allow_none=True, metadata={"description": "why refused; null otherwise"})
    message = fields.String(allow_none=True)
    trainee_name = fields.String(allow_none=True)
    record = fields.Nested(CheckinRecordSchema, allow_none=True)


class OfflineUploadResultSchema(Schema):
    session_id = ObjectIdField()
    results = fields.List(fields.Nested(OfflineItemResultSchema), metadata={"description": "one per item, in order"})


class MarkedRecordSchema(WithByNames, AttendanceRecordSchema):
    """A record with its history, each entry saying who made the change (by_name)."""


class MarkResultSchema(Schema):
    result = fields.String(metadata={"description": "marked"})
    record = fields.Nested(MarkedRecordSchema)


class CodeSchema(Schema):
    code = fields.String()
    url = fields.String(allow_none=True, metadata={"description": "class code: the URL the QR code holds "
                                                                  "(CHECKIN_URL_PREFIX + code); null for a personal code"})
    expires_at = BeijingDateTime()
    refresh_in_seconds = fields.Float()


class ProjectorLinkSchema(Schema):
    url = fields.String()
    expires_at = BeijingDateTime()


class CloseResultSchema(Schema):
    session_id = ObjectIdField()
    closed_at = BeijingDateTime()
    marked = fields.Integer()
    absent = fields.Integer()
    excused = fields.Integer()


class MissingSchema(Schema):
    registration_id = ObjectIdField()
    name = fields.String()
    mobile = fields.String(allow_none=True, metadata={"description": "full for the class's supervisors, masked otherwise"})
    region_code = fields.String()
    region_name = fields.String()


class AbsentSchema(MissingSchema):
    remark = fields.String(allow_none=True, metadata={"description": "the reason a supervisor gave for marking "
                                                                    "absent; null when closing recorded it"})


class LateSchema(MissingSchema):
    checked_in_at = BeijingDateTime()


class CountsSchema(Schema):
    expected = fields.Integer()
    checked_in = fields.Integer()
    present = fields.Integer()
    late = fields.Integer()
    on_leave = fields.Integer()
    absent = fields.Integer()
    missing = fields.Integer()


class FlagSchema(Schema):
    kind = fields.String(metadata={"description": "shared_device / out_of_range / no_location / offline: "
                                                  "every flag a check-in carries"})
    device_id = fields.String(allow_none=True)
    names = fields.List(fields.String())
    distance_m = fields.Integer(allow_none=True)


class BoardLeaveSchema(Schema):
    leave_request_id = ObjectIdField()
    registration_id = ObjectIdField()
    name = fields.String()
    type = fields.String(metadata={"description": "sick / personal / official / other"})
    acknowledged = fields.Boolean(metadata={"description": "a supervisor acknowledged it (报备已收到)"})


class BoardSchema(Schema):
    session_id = ObjectIdField()
    class_id = ObjectIdField()
    title = fields.String()
    starts_at = BeijingDateTime()
    late_after = BeijingDateTime()
    checkin_closes_at = BeijingDateTime()
    closed = fields.Boolean()
    cancelled = fields.Boolean(metadata={"description": "an organizer cancelled the session"})
    counts = fields.Nested(CountsSchema)
    missing = fields.List(fields.Nested(MissingSchema), metadata={"description": "no record, no approved leave"})
    absent = fields.List(fields.Nested(AbsentSchema), metadata={
        "description": "recorded absent (by closing or a supervisor): still listed with phones after closing"})
    late = fields.List(fields.Nested(LateSchema), metadata={"description": "checked in late"})
    leaves = fields.List(fields.Nested(BoardLeaveSchema), metadata={"description": "approved leave for this session"})
    flags = fields.List(fields.Nested(FlagSchema))


class MySessionSchema(Schema):
    session_id = ObjectIdField()
    title = fields.String()
    starts_at = BeijingDateTime()
    ends_at = BeijingDateTime()
    status = fields.String(metadata={"description": "present / late / absent / excused / on_leave / cancelled / open / "
                                                    "not_started / not_recorded"})
    held = fields.Boolean(metadata={"description": "counted in sessions_held (check-in window over, not cancelled)"})
    checked_in_at = BeijingDateTime(allow_none=True)


class MyAttendanceSchema(Schema):
    class_id = ObjectIdField()
    sessions = fields.List(fields.Nested(MySessionSchema))
    sessions_held = fields.Integer()
    attended = fields.Integer()
    attendance_rate = fields.Float(allow_none=True)


class SheetSessionSchema(Schema):
    id = ObjectIdField()
    title = fields.String()
    starts_at = BeijingDateTime()
    held = fields.Boolean(metadata={"description": "counted in sessions_held"})
    cancelled = fields.Boolean()


class SheetRowSchema(Schema):
    registration_id = ObjectIdField()
    name = fields.String()
    region_code = fields.String()
    statuses = fields.List(fields.String(allow_none=True),
                           metadata={"description": "per session: present / late / absent / excused / cancelled / null"})
    attended = fields.Integer(metadata={"description": "present + late over the sessions held so far"})
    present = fields.Integer()
    late = fields.Integer()
    absent = fields.Integer()
    excused = fields.Integer()
    attendance_rate = fields.Float(allow_none=True)


class SheetSchema(Schema):
    class_id = ObjectIdField()
    sessions_held = fields.Integer()
    sessions = fields.List(fields.Nested(SheetSessionSchema))
    trainees = fields.List(fields.Nested(SheetRowSchema))
