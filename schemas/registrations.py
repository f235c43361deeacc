"""Registration shapes."""

from marshmallow import Schema, fields, validate

from schemas.base import REGION_CODE_PATTERN, QueryBoolean, BaseSchema, BeijingDateTime, ObjectIdField, PaginationArgs, PatchSchema, page_schema
from schemas.people import WithByNames, by_name_field
from schemas.text import NameSearch, Text
from schemas.trainees import AttachmentSchema

STATES = ("draft", "submitted", "returned", "recommended", "rejected", "admitted", "waitlisted", "confirmed",
          "withdrawn", "cancelled")
ACTIONS = ("recommend", "return", "reject", "admit", "waitlist", "cancel", "approve_withdrawal")


class RegistrationCreateSchema(BaseSchema):
    class_id = ObjectIdField(required=True)
    attachment_ids = fields.List(ObjectIdField(), load_default=list, validate=validate.Length(max=10))
    note = Text(max_length=500, multiline=True, load_default="",
                         metadata={"description": "参训需求 / 备注"})


class RegistrationEditSchema(PatchSchema):
    attachment_ids = fields.List(ObjectIdField(), validate=validate.Length(max=10))
    note = Text(max_length=500, multiline=True)


class ReasonSchema(BaseSchema):
    reason = Text(max_length=500, multiline=True, load_default=None, allow_none=True)


class RequiredReasonSchema(BaseSchema):
    reason = Text(max_length=500, min_length=2, multiline=True, required=True)


class DecisionSchema(BaseSchema):
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    reason = Text(max_length=500, multiline=True, load_default=None, allow_none=True)


class BulkDecisionSchema(DecisionSchema):
    # At most 100 (MAX_BULK): more is 422 BULK_TOO_LARGE from the service, as the guide says.
    registration_ids = fields.List(ObjectIdField(), required=True, validate=validate.Length(min=1),
                                   metadata={"description": "at most 100; more is 422 BULK_TOO_LARGE"})


class ReviewListArgs(PaginationArgs):
    class_id = ObjectIdField()
    region_code = fields.String(validate=REGION_CODE_PATTERN)
    state = fields.String(validate=validate.OneOf(STATES))
    name = NameSearch(metadata={"description": "part of the trainee's name (姓名包含)"})
    enterprise = Text(max_length=100, metadata={
        "description": "part of the enterprise name, or its whole unified social credit code"})
    little_giant = QueryBoolean(metadata={
        "description": "true: only enterprises holding a valid 小巨人 title on the class's start date; "
                       "false: only the others (the same test as checks.little_giant_valid)"})


class RosterArgs(BaseSchema):
    region_code = fields.String(validate=REGION_CODE_PATTERN)
    for_certificates = QueryBoolean(load_default=False,
                                      metadata={"description": "organizers only: full ID numbers for certificates"})


class HistorySchema(Schema):
    at = BeijingDateTime()
    by = ObjectIdField(allow_none=True)
    by_name = by_name_field()
    from_state = fields.String(attribute="from", data_key="from", allow_none=True)
    to_state = fields.String(attribute="to", data_key="to")
    reason = fields.String(allow_none=True)


class SnapshotSchema(Schema):
    name = fields.String()
    gender = fields.String()
    birth_date = fields.String(allow_none=True, metadata={
        "description": "the trainee's own and organizers' views only; null for province staff and supervisors"})
    id_card_kind = fields.String(allow_none=True, metadata={
        "description": "resident_id / residence_permit / foreign_permanent_resident"})
    id_number = fields.String(attribute="id_number_masked")
    mobile = fields.String(attribute="mobile_masked")
    email = fields.String(allow_none=True)
    political_status = fields.String()
    ethnicity = fields.String()
    position = fields.String()
    management_years = fields.Integer()
    address = fields.String()
    education = fields.List(fields.Dict())
    social_positions = fields.List(fields.String())
    honours = fields.List(fields.String())
    enterprise = fields.Dict()


class ChecksSchema(Schema):
    credit_code_valid = fields.Boolean()
    little_giant_required = fields.Boolean()
    little_giant_valid = fields.Boolean()
    little_giant_valid_until = fields.String(allow_none=True)
    other_active_registrations_of_enterprise = fields.Integer()
    prior_training = fields.Boolean()
    quota_places = fields.Integer()
    quota_left = fields.Integer()


class WithdrawalRequestSchema(Schema):
    at = BeijingDateTime()
    reason = fields.String()


class RegistrationSchema(WithByNames, Schema):
    id = ObjectIdField(attribute="_id")
    class_id = ObjectIdField()
    programme_id = ObjectIdField()
    year = fields.Integer()
    state = fields.String()
    state_label = fields.String()
    region_code = fields.String(allow_none=True)
    enterprise_name = fields.String(allow_none=True)
    counted = fields.Boolean(metadata={"description": "holds one of the region's quota places"})
    attachment_ids = fields.List(ObjectIdField())
    attachments = fields.List(fields.Nested(AttachmentSchema), allow_none=True, metadata={
        "description": "GET /registrations/{id}: the files of attachment_ids (download: GET /attachments/{id}); "
                       "null in lists"})
    note = fields.String()
    withdrawal_request = fields.Nested(WithdrawalRequestSchema, allow_none=True)
    snapshot = fields.Nested(SnapshotSchema, allow_none=True)
    history = fields.List(fields.Nested(HistorySchema))
    checks = fields.Nested(ChecksSchema, allow_none=True)
    submitted_at = BeijingDateTime(allow_none=True)
    created_at = BeijingDateTime()
    updated_at = BeijingDateTime()
    version = fields.Integer()


RegistrationPageSchema = page_schema(RegistrationSchema, "RegistrationPage")


class BulkResultSchema(Schema):
    id = ObjectIdField()
    ok = fields.Boolean()
    state = fields.String(allow_none=True, metadata={"description": "the new state; null when refused"})
    code = fields.String(allow_none=True, metadata={"description": "the refusal's code; null when ok"})
    message = fields.String(allow_none=True, metadata={"description": "the refusal's message; null when ok"})


class BulkDecisionResultSchema(Schema):
    results = fields.List(fields.Nested(BulkResultSchema))
    succeeded = fields.Integer()
    failed = fields.Integer()


class AdmissionNoticeSchema(Schema):
    registration_id = ObjectIdField()
    title = fields.String()
    trainee_name = fields.String()
    enterprise_name = fields.String()
    class_name = fields.String()
    institution = fields.String()
    start_date = fields.String()
    end_date = fields.String()
    venue = fields.Dict()
    report_at = BeijingDateTime(allow_none=True, metadata={"description": "check-in of the first session opens"})
    what_to_bring = fields.List(fields.String())
    checkin_reference = fields.String(metadata={"description": "your personal check-in code reference"})
    supervisors = fields.List(fields.String())
    issued_at = BeijingDateTime()
