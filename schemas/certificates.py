"""Completion rule, completion figures and certificate (结业证书) shapes."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schemas.base import BaseSchema, BeijingDateTime, ObjectIdField
from schemas.text import Text

SHARE = validate.Range(min=0, max=1)


class CompletionRuleInputSchema(BaseSchema):
    min_attendance_rate = fields.Float(validate=SHARE, metadata={"description": "e.g. 0.8 = 80% of sessions"})
    max_excused_share = fields.Float(validate=SHARE, metadata={"description": "share of class hours on leave"})
    require_class_rating = fields.Boolean()


class RuleValuesSchema(Schema):
    min_attendance_rate = fields.Float()
    max_excused_share = fields.Float()
    require_class_rating = fields.Boolean()


class CompletionRuleSchema(RuleValuesSchema):
    class_id = ObjectIdField()
    customised = fields.List(fields.String(), metadata={"description": "fields this class sets itself"})
    defaults = fields.Nested(RuleValuesSchema)


class FailedConditionSchema(Schema):
    condition = fields.String(metadata={"description": "attendance_rate / excused_share / class_rating"})
    actual = fields.Float()
    required = fields.Float()
    message = fields.String()


class CompletionFiguresSchema(Schema):
    registration_id = ObjectIdField()
    sessions_total = fields.Integer()
    sessions_held = fields.Integer()
    attended = fields.Integer()
    present = fields.Integer()
    late = fields.Integer()
    absent = fields.Integer()
    excused = fields.Integer()
    attendance_rate = fields.Float(metadata={"description": "(present + late) / scheduled sessions of the class"})
    attended_so_far = fields.Integer(metadata={"description": "present + late over the sessions held so far"})
    attendance_rate_so_far = fields.Float(allow_none=True,
                                          metadata={"description": "attended_so_far / sessions_held; null before any"})
    excused_class_hours = fields.Float()
    excused_share = fields.Float()
    class_rated = fields.Boolean()
    eligible = fields.Boolean()
    failed = fields.List(fields.Nested(FailedConditionSchema))
    certificate_issued = fields.Boolean()


class CompletionRowSchema(CompletionFiguresSchema):
    name = fields.String()
    region_code = fields.String()
    low_attendance_warned = fields.Boolean()


class ClassCompletionSchema(Schema):
    class_id = ObjectIdField()
    rule = fields.Nested(RuleValuesSchema)
    class_finished = fields.Boolean()
    final = fields.Boolean(metadata={"description": "false while sessions remain: figures may still change"})
    trainees = fields.Integer()
    eligible = fields.Integer()
    certificates_issued = fields.Integer()
    rows = fields.List(fields.Nested(CompletionRowSchema))


class MyCompletionSchema(CompletionFiguresSchema):
    class_id = ObjectIdField()
    rule = fields.Nested(RuleValuesSchema)
    class_finished = fields.Boolean()


class IssueSchema(BaseSchema):
    registration_ids = fields.List(ObjectIdField(), load_default=None, validate=validate.Length(min=1, max=500),
                                   metadata={"description": "omit to issue to every eligible trainee"})
    issued_on = fields.Date(load_default=None, metadata={"description": "date on the certificate; default today"})
    reissue_revoked = fields.Boolean(load_default=False, metadata={
        "description": "issue a new certificate to the listed trainees whose certificate of this class was "
                       "revoked (a deliberate re-issue); without it they are skipped (`revoked_skipped`)"})

    @validates_schema
    def _reissue_names_the_trainees(self, data, **kwargs):
        # A re-issue undoes a revocation: it must name who, never sweep the whole class.
        if data.get("reissue_revoked") and not data.get("registration_ids"):
            raise ValidationError("重新颁发已撤销的证书须逐个选择学员", "reissue_revoked")


class RevokeSchema(BaseSchema):
    reason = Text(max_length=500, min_length=2, multiline=True, required=True)


class CertificateSchema(Schema):
    id = ObjectIdField(attribute="_id")
    number = fields.String()
    check_code = fields.String(metadata={"description": "printed beside the number; needed to verify"})
    status = fields.String(metadata={"description": "valid / revoked"})
    class_id = ObjectIdField()
    class_name = fields.String()
    institution = fields.String(allow_none=True)
    start_date = fields.String()
    end_date = fields.String()
    registration_id = ObjectIdField()
    region_code = fields.String()
    name = fields.String()
    enterprise_name = fields.String(allow_none=True)
    issued_on = fields.String()
    issued_at = BeijingDateTime()
    revoked_at = BeijingDateTime(allow_none=True)
    revoke_reason = fields.String(allow_none=True)
    verify_url = fields.String()


class NotEligibleSchema(Schema):
    registration_id = ObjectIdField()
    name = fields.String()
    failed = fields.List(fields.Nested(FailedConditionSchema))


class RevokedSkippedSchema(Schema):
    registration_id = ObjectIdField()
    name = fields.String()
    revoked_number = fields.String(metadata={"description": "the revoked certificate's number"})
    revoke_reason = fields.String(allow_none=True)


class IssueResultSchema(Schema):
    issued = fields.List(fields.Nested(CertificateSchema))
    already_issued = fields.List(ObjectIdField())
    not_eligible = fields.List(fields.Nested(NotEligibleSchema))
    revoked_skipped = fields.List(fields.Nested(RevokedSkippedSchema), metadata={
        "description": "left out: their certificate of this class was revoked (re-issue with reissue_revoked)"})


class VerifyArgs(BaseSchema):
    code = fields.String(load_default="", validate=validate.Length(max=32),
                         metadata={"description": "the check code from the QR link or printed on the certificate"})


class VerificationSchema(Schema):
    status = fields.String(metadata={"description": "valid / revoked / unknown"})
    number = fields.String()
    # null when the number and code match no certificate (status "unknown")
    name_masked = fields.String(allow_none=True)
    class_name = fields.String(allow_none=True)
    institution = fields.String(allow_none=True)
    issued_on = fields.String(allow_none=True)
    revoked_on = fields.String(allow_none=True, metadata={"description": "null unless revoked"})
    message = fields.String()
