"""Leave request (请假) shapes."""

from marshmallow import Schema, fields, validate

from schemas.base import BaseSchema, BeijingDateTime, ObjectIdField, PaginationArgs, page_schema
from schemas.people import WithByNames, by_name_field
from schemas.text import Text

from service.leave.states import STATE_LABELS, STATES as LEAVE_STATES, TYPE_LABELS, TYPES as LEAVE_TYPES


class LeaveRangeSchema(BaseSchema):
    class_id = ObjectIdField(required=True)
    starts_at = BeijingDateTime(required=True, metadata={"description": "Beijing time when no offset is given"})
    ends_at = BeijingDateTime(required=True)


class LeaveCreateSchema(LeaveRangeSchema):
    type = fields.String(required=True, validate=validate.OneOf(LEAVE_TYPES),
                         metadata={"description": "sick 病假 / personal 事假 / official 公务 / other 其他"})
    reason = Text(max_length=500, min_length=2, multiline=True, required=True)
    proof_attachment_id = ObjectIdField(load_default=None, allow_none=True,
                                        metadata={"description": "an attachment of kind leave_proof"})


class LeaveCommentSchema(BaseSchema):
    comment = Text(max_length=200, multiline=True, load_default=None, allow_none=True)


class LeaveDecisionSchema(BaseSchema):
    action = fields.String(required=True, validate=validate.OneOf(("approve", "reject")))
    comment = Text(max_length=200, multiline=True, load_default=None, allow_none=True,
                            metadata={"description": "required to reject"})


class LeaveAcknowledgementSchema(BaseSchema):
    note = Text(max_length=200, min_length=1, multiline=True, load_default="已知悉")


class LeaveListArgs(PaginationArgs):
    state = fields.String(load_default="submitted", validate=validate.OneOf(LEAVE_STATES + ("all",)))
    region_code = fields.String(load_default=None, validate=validate.Length(equal=6))
    class_id = ObjectIdField(load_default=None)


class LeaveMineArgs(BaseSchema):
    class_id = ObjectIdField(load_default=None)


class LeavePreviewSessionSchema(Schema):
    session_id = ObjectIdField()
    title = fields.String()
    starts_at = BeijingDateTime()
    ends_at = BeijingDateTime()
    class_hours = fields.Float()


class LeavePreviewSchema(Schema):
    sessions = fields.List(fields.Nested(LeavePreviewSessionSchema))
    class_hours = fields.Float(metadata={"description": "class hours this leave covers"})
    class_hours_total = fields.Float()
    leave_class_hours_before = fields.Float(metadata={"description": "class hours of my other live leave"})
    leave_share_after = fields.Float()
    max_leave_share = fields.Float()
    completion_at_risk = fields.Boolean()


class LeaveHistorySchema(Schema):
    at = BeijingDateTime()
    by = ObjectIdField(allow_none=True)
    by_name = by_name_field()
    from_state = fields.String(attribute="from", data_key="from", allow_none=True)
    to_state = fields.String(attribute="to", data_key="to")
    comment = fields.String(allow_none=True)


class LeaveAcknowledgementOutSchema(Schema):
    by = ObjectIdField()
    by_name = by_name_field()
    at = BeijingDateTime()
    note = fields.String()


class LeaveAttendanceSoFarSchema(Schema):
    present = fields.Integer()
    late = fields.Integer()
    absent = fields.Integer()
    excused = fields.Integer()


class LeaveSchema(WithByNames, Schema):
    BY_NAME_FIELDS = ("history", "acknowledgements")

    id = ObjectIdField(attribute="_id")
    class_id = ObjectIdField()
    class_name = fields.String()
    registration_id = ObjectIdField()
    region_code = fields.String()
    trainee_name = fields.String()
    type = fields.String()
    type_label = fields.Function(lambda leave: TYPE_LABELS[leave["type"]])
    starts_at = BeijingDateTime()
    ends_at = BeijingDateTime()
    reason = fields.String()
    proof_attachment_id = ObjectIdField(allow_none=True)
    session_ids = fields.List(ObjectIdField(), metadata={"description": "sessions the range covers"})
    excused_session_ids = fields.List(ObjectIdField(), attribute="claimed_session_ids",
                                      metadata={"description": "sessions this request holds now"})
    state = fields.String()
    state_label = fields.Function(lambda leave: STATE_LABELS[leave["state"]])
    decided_at = BeijingDateTime(allow_none=True)
    decision_comment = fields.String(allow_none=True)
    returned_at = BeijingDateTime(allow_none=True)
    acknowledgements = fields.List(fields.Nested(LeaveAcknowledgementOutSchema))
    history = fields.List(fields.Nested(LeaveHistorySchema))
    attendance_so_far = fields.Nested(LeaveAttendanceSoFarSchema, allow_none=True,
                                      metadata={"description": "in the approvers' inbox; null elsewhere"})
    leave_taken = fields.Integer(allow_none=True,
                                 metadata={"description": "the trainee's other approved (or returned-early) leave requests "
                                                            "in this class, this one never counted (inbox); null elsewhere"})
    created_at = BeijingDateTime()
    version = fields.Integer()


LeavePageSchema = page_schema(LeaveSchema, "LeavePage")
