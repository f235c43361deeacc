"""Report shapes: class report, region-year KPIs, the all-regions KPI table, trainee archive."""

from marshmallow import Schema, fields

from schemas.base import BeijingDateTime, ObjectIdField
from schemas.ratings import SatisfactionSchema


class ReportClassSchema(Schema):
    id = ObjectIdField()
    name = fields.String()
    institution = fields.String(allow_none=True)
    year = fields.Integer(allow_none=True)
    start_date = fields.String()
    end_date = fields.String()
    status = fields.String()
    class_hours = fields.Float()


class EnrolmentRegionSchema(Schema):
    # null on the row of registrations whose enterprise region is not known (older records)
    region_code = fields.String(allow_none=True)
    region_name = fields.String(allow_none=True)
    places = fields.Integer()
    applied = fields.Integer(metadata={"description": "trainees who submitted a registration at least once, "
                                                      "each counted once (drafts not counted)"})
    admitted = fields.Integer()
    confirmed = fields.Integer()


class EnrolmentSchema(Schema):
    confirmed = fields.Integer()
    applied = fields.Integer()
    places = fields.Integer()
    by_region = fields.List(fields.Nested(EnrolmentRegionSchema))


class SessionAttendanceSchema(Schema):
    session_id = ObjectIdField()
    title = fields.String()
    teacher = fields.String(allow_none=True)
    starts_at = BeijingDateTime()
    held = fields.Boolean()
    cancelled = fields.Boolean(metadata={"description": "cancelled by an organizer: counts nowhere"})
    expected = fields.Integer()
    present = fields.Integer()
    late = fields.Integer()
    absent = fields.Integer()
    excused = fields.Integer()
    attendance_rate = fields.Float(allow_none=True)
    late_rate = fields.Float(allow_none=True)


class ClassAttendanceSchema(Schema):
    sessions_total = fields.Integer()
    sessions_held = fields.Integer()
    expected = fields.Integer(metadata={"description": "confirmed trainees × sessions held"})
    present = fields.Integer()
    late = fields.Integer()
    absent = fields.Integer()
    excused = fields.Integer()
    attended = fields.Integer()
    attendance_rate = fields.Float(allow_none=True)
    late_rate = fields.Float(allow_none=True)
    sessions = fields.List(fields.Nested(SessionAttendanceSchema))


class LeaveTypeSchema(Schema):
    type = fields.String()
    label = fields.String()
    requests = fields.Integer()


class ClassLeaveSchema(Schema):
    requests = fields.Integer(metadata={"description": "approved leave requests (returned early included)"})
    trainees = fields.Integer()
    excused_records = fields.Integer()
    by_type = fields.List(fields.Nested(LeaveTypeSchema))


class ClassCompletionSummarySchema(Schema):
    certificates_issued = fields.Integer()
    certificates_revoked = fields.Integer()
    completion_rate = fields.Float(allow_none=True)


class ClassReportSchema(Schema):
    class_ = fields.Nested(ReportClassSchema, data_key="class", attribute="class")
    region_codes = fields.List(fields.String(), allow_none=True,
                               metadata={"description": "null = all regions; else the regions counted"})
    generated_at = BeijingDateTime()
    enrolment = fields.Nested(EnrolmentSchema)
    attendance = fields.Nested(ClassAttendanceSchema)
    leave = fields.Nested(ClassLeaveSchema)
    satisfaction = fields.Nested(SatisfactionSchema)
    completion = fields.Nested(ClassCompletionSummarySchema)


class LittleGiantKpiSchema(Schema):
    trained = fields.Integer()
    in_registry = fields.Integer()
    share = fields.Float(allow_none=True)
    threshold = fields.Float()
    meets = fields.Boolean()


class ReviewKpiSchema(Schema):
    reviewed = fields.Integer()
    to_review = fields.Integer()
    pending = fields.Integer()
    share = fields.Float(allow_none=True)


class IncompleteArchiveSchema(Schema):
    registration_id = ObjectIdField()
    name = fields.String(allow_none=True)
    class_name = fields.String(allow_none=True)
    missing = fields.List(fields.String(), metadata={"description": "profile / review / attendance"})


class ArchiveKpiSummarySchema(Schema):
    trainees = fields.Integer()
    complete = fields.Integer()
    share = fields.Float(allow_none=True)


class ArchiveKpiSchema(ArchiveKpiSummarySchema):
    incomplete = fields.List(fields.Nested(IncompleteArchiveSchema))


class SatisfactionKpiSchema(Schema):
    class_ratings = fields.Integer()
    rate = fields.Float(allow_none=True)
    threshold = fields.Float()
    meets = fields.Boolean()


class RegionKpiRowSchema(Schema):
    """One row of the regional performance table (notice 243 附件5, training rows)."""
    region_code = fields.String(allow_none=True, metadata={"description": "null on the national total"})
    region_name = fields.String()
    classes_held = fields.Integer()
    classes_with_trainees = fields.Integer()
    trainees_trained = fields.Integer()
    trainees_completed = fields.Integer()
    little_giants = fields.Nested(LittleGiantKpiSchema)
    review = fields.Nested(ReviewKpiSchema)
    archives = fields.Nested(ArchiveKpiSummarySchema)
    satisfaction = fields.Nested(SatisfactionKpiSchema)


class RegionKpiSchema(RegionKpiRowSchema):
    region_code = fields.String()
    year = fields.Integer()
    generated_at = BeijingDateTime()
    archives = fields.Nested(ArchiveKpiSchema)


class NationalKpiSchema(Schema):
    year = fields.Integer()
    generated_at = BeijingDateTime()
    regions = fields.List(fields.Nested(RegionKpiRowSchema),
                          metadata={"description": "every region (GB/T 2260 code order), those without trainees too"})
    national = fields.Nested(RegionKpiRowSchema, metadata={
        "description": "all regions together: figures summed, classes counted once (a class has trainees of many regions)"})


class ArchiveHistorySchema(Schema):
    at = BeijingDateTime()
    from_state = fields.String(attribute="from", data_key="from", allow_none=True)
    to_state = fields.String(attribute="to", data_key="to", allow_none=True)
    from_label = fields.String(allow_none=True, metadata={"description": "the state in Chinese (已提交, ...)"})
    to_label = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class ArchiveSessionSchema(Schema):
    session_id = ObjectIdField()
    title = fields.String(allow_none=True)
    starts_at = BeijingDateTime(allow_none=True)
    status = fields.String()


class ArchiveAttendanceSchema(Schema):
    present = fields.Integer()
    late = fields.Integer()
    absent = fields.Integer()
    excused = fields.Integer()
    sessions = fields.List(fields.Nested(ArchiveSessionSchema))


class ArchiveLeaveSchema(Schema):
    type = fields.String(allow_none=True)
    type_label = fields.String(allow_none=True)
    starts_at = BeijingDateTime(allow_none=True)
    ends_at = BeijingDateTime(allow_none=True)
    state = fields.String()
    state_label = fields.String()


class RatingsGivenSchema(Schema):
    sessions = fields.Integer()
    class_ = fields.Integer(data_key="class", attribute="class")


class ArchiveCertificateSchema(Schema):
    number = fields.String()
    issued_on = fields.String()
    status = fields.String()
    revoke_reason = fields.String(allow_none=True)


class ArchiveRegistrationSchema(Schema):
    registration_id = ObjectIdField()
    class_id = ObjectIdField()
    class_name = fields.String(allow_none=True)
    institution = fields.String(allow_none=True)
    year = fields.Integer(allow_none=True)
    start_date = fields.String(allow_none=True)
    end_date = fields.String(allow_none=True)
    state = fields.String()
    state_label = fields.String()
    region_code = fields.String(allow_none=True)
    enterprise_name = fields.String(allow_none=True)
    submitted_at = BeijingDateTime(allow_none=True)
    completed = fields.Boolean()
    history = fields.List(fields.Nested(ArchiveHistorySchema))
    attendance = fields.Nested(ArchiveAttendanceSchema)
    leave = fields.List(fields.Nested(ArchiveLeaveSchema))
    ratings_given = fields.Nested(RatingsGivenSchema, metadata={"description": "how many, never what"})
    certificates = fields.List(fields.Nested(ArchiveCertificateSchema))


class ArchiveSchema(Schema):
    user_id = ObjectIdField()
    name = fields.String(allow_none=True)
    gender = fields.String(allow_none=True)
    id_number = fields.String(allow_none=True, metadata={"description": "masked"})
    mobile = fields.String(allow_none=True, metadata={"description": "masked"})
    position = fields.String(allow_none=True)
    enterprise_name = fields.String(allow_none=True)
    credit_code = fields.String(allow_none=True)
    registrations = fields.List(fields.Nested(ArchiveRegistrationSchema))
