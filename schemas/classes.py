"""Class (班次/期), session (课程) and quota shapes."""

from marshmallow import Schema, fields, validate, validates_schema, ValidationError

from schemas.base import (PROGRAMME_YEAR, QueryBoolean, REGION_CODE_PATTERN, BaseSchema, BeijingDateTime, ObjectIdField, PaginationArgs, PatchSchema,
                          QueryWholeNumber, WholeNumber, page_schema)
from schemas.people import by_name_field
from schemas.text import Text

CONTENT_AREAS = ("科学理论", "形势政策", "经营管理", "专精特新发展")
SESSION_KINDS = ("lecture", "site_visit", "discussion")
CLASS_STATUSES = ("draft", "published", "in_progress", "finished", "archived", "cancelled")
REGION_CODE = REGION_CODE_PATTERN


class VenueSchema(BaseSchema):
    name = Text(max_length=100, min_length=1, required=True)
    address = Text(max_length=200, load_default="")
    latitude = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=-180, max=180))
    checkin_radius_m = WholeNumber(load_default=500, validate=validate.Range(min=20, max=20000))

    @validates_schema
    def both_or_neither(self, data, **kwargs):
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            raise ValidationError("经纬度需同时填写", "latitude")


class CheckinSettingsSchema(BaseSchema):
    """Check-in window around each session; a session can override any of these."""

    opens_before_minutes = WholeNumber(validate=validate.Range(min=0, max=240),
                                          metadata={"description": "window opens this long before the start (default 30)"})
    late_after_minutes = WholeNumber(validate=validate.Range(min=0, max=240),
                                        metadata={"description": "late after this long past the start (default 10)"})
    closes_after_end_minutes = WholeNumber(validate=validate.Range(min=0, max=240),
                                              metadata={"description": "window closes this long after the end (default 0)"})
    out_of_range = fields.String(validate=validate.OneOf(("refuse", "flag")),
                                 metadata={"description": "check-in farther than the venue radius: refuse or flag (default refuse)"})


class QuotaInputSchema(BaseSchema):
    region_code = fields.String(required=True, validate=REGION_CODE)
    places = WholeNumber(required=True, validate=validate.Range(min=0, max=10000))


class ClassCreateSchema(BaseSchema):
    programme_id = ObjectIdField(required=True)
    name = Text(max_length=100, min_length=2, required=True)
    institution = Text(max_length=100, min_length=2, required=True,
                                metadata={"description": "培训承担机构"})
    content_areas = fields.List(fields.String(validate=validate.OneOf(CONTENT_AREAS)), required=True,
                                validate=validate.Length(min=1))
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    venue = fields.Nested(VenueSchema, required=True)
    capacity = WholeNumber(required=True, validate=validate.Range(min=1, max=2000))
    allow_quota_above_capacity = fields.Boolean(load_default=False)
    registration_opens_at = BeijingDateTime(load_default=None, allow_none=True)
    registration_deadline = BeijingDateTime(load_default=None, allow_none=True,
                                            metadata={"description": "default: 7 days before the start"})
    confirmation_deadline = BeijingDateTime(load_default=None, allow_none=True,
                                            metadata={"description": "default: the registration deadline"})
    quotas = fields.List(fields.Nested(QuotaInputSchema), load_default=list)
    checkin_settings = fields.Nested(CheckinSettingsSchema, load_default=dict)
    minutes_per_class_hour = WholeNumber(load_default=45, validate=validate.Range(min=30, max=60))


class ClassUpdateSchema(PatchSchema):
    name = Text(max_length=100, min_length=2)
    institution = Text(max_length=100, min_length=2)
    content_areas = fields.List(fields.String(validate=validate.OneOf(CONTENT_AREAS)),
                                validate=validate.Length(min=1))
    start_date = fields.Date()
    end_date = fields.Date()
    venue = fields.Nested(VenueSchema)
    capacity = WholeNumber(validate=validate.Range(min=1, max=2000))
    allow_quota_above_capacity = fields.Boolean()
    registration_opens_at = BeijingDateTime(allow_none=True)
    registration_deadline = BeijingDateTime()
    confirmation_deadline = BeijingDateTime()
    checkin_settings = fields.Nested(CheckinSettingsSchema)
    minutes_per_class_hour = WholeNumber(validate=validate.Range(min=30, max=60))
    version = WholeNumber(load_default=None, metadata={"description": "the version you edited; 409 if it changed"})
    allow_date_change_with_registrations = fields.Boolean(
        load_default=False, metadata={"description": "required to move dates once registrations exist"})


class ClassStatusSchema(BaseSchema):
    status = fields.String(required=True, validate=validate.OneOf(CLASS_STATUSES[1:]))
    reason = Text(max_length=500, multiline=True, load_default=None, allow_none=True)


class SessionCancelSchema(BaseSchema):
    reason = Text(max_length=200, min_length=2, multiline=True, required=True,
                           metadata={"description": "why the session will not take place, e.g. 授课老师生病"})


class SessionCancelledSchema(Schema):
    at = BeijingDateTime()
    by = ObjectIdField(allow_none=True)
    by_name = by_name_field()
    reason = fields.String()


class QuotaSetSchema(BaseSchema):
    places = WholeNumber(required=True, validate=validate.Range(min=0, max=10000))


class SupervisorsSetSchema(BaseSchema):
    staff_ids = fields.List(ObjectIdField(), required=True,
                            metadata={"description": "staff account ids of role supervisor"})


class SessionInputSchema(BaseSchema):
    title = Text(max_length=100, min_length=1, required=True)
    teacher = Text(max_length=100, load_default="")
    content_area = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(CONTENT_AREAS))
    kind = fields.String(load_default="lecture", validate=validate.OneOf(SESSION_KINDS),
                         metadata={"description": "lecture 讲座 / site_visit 现场教学 / discussion 研讨"})
    location = Text(max_length=200, load_default="")
    starts_at = BeijingDateTime(required=True)
    ends_at = BeijingDateTime(required=True)
    checkin = fields.Nested(CheckinSettingsSchema, load_default=dict,
                            metadata={"description": "overrides of the class check-in settings"})


class SessionUpdateSchema(PatchSchema):
    title = Text(max_length=100, min_length=1)
    teacher = Text(max_length=100)
    content_area = fields.String(allow_none=True, validate=validate.OneOf(CONTENT_AREAS))
    kind = fields.String(validate=validate.OneOf(SESSION_KINDS))
    location = Text(max_length=200)
    starts_at = BeijingDateTime()
    ends_at = BeijingDateTime()
    checkin = fields.Nested(CheckinSettingsSchema)


class ClassListArgs(PaginationArgs):
    year = QueryWholeNumber(validate=PROGRAMME_YEAR)
    programme_id = ObjectIdField()
    region_code = fields.String(validate=REGION_CODE, metadata={"description": "classes open to this region"})
    status = fields.String(validate=validate.OneOf(CLASS_STATUSES))
    mine = QueryBoolean(load_default=False,
                          metadata={"description": "supervisors: my classes; province staff: classes with quota for my region"})


class RegionArgs(BaseSchema):
    region_code = fields.String(validate=REGION_CODE,
                                metadata={"description": "region whose places left to show (default: yours)"})


# ---- responses -------------------------------------------------------------------------

class VenueOutSchema(Schema):
    name = fields.String()
    address = fields.String()
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    checkin_radius_m = fields.Integer()


class CheckinOutSchema(Schema):
    opens_before_minutes = fields.Integer()
    late_after_minutes = fields.Integer()
    closes_after_end_minutes = fields.Integer()
    out_of_range = fields.String()


class QuotaSchema(Schema):
    region_code = fields.String()
    region_name = fields.String()
    places = fields.Integer()
    used = fields.Integer(metadata={"description": "places counted: recommended and later states"})
    left = fields.Integer()


class PlacesLeftSchema(Schema):
    region_code = fields.String()
    region_name = fields.String()
    places = fields.Integer()
    left = fields.Integer()


class SessionSchema(Schema):
    id = ObjectIdField(attribute="_id")
    title = fields.String()
    teacher = fields.String()
    content_area = fields.String(allow_none=True)
    kind = fields.String()
    location = fields.String()
    starts_at = BeijingDateTime()
    ends_at = BeijingDateTime()
    date = fields.String(metadata={"description": "Beijing date of the session"})
    class_hours = fields.Float()
    checkin = fields.Nested(CheckinOutSchema, metadata={"description": "effective check-in settings"})
    checkin_opens_at = BeijingDateTime()
    late_after = BeijingDateTime()
    checkin_closes_at = BeijingDateTime()
    status = fields.String(metadata={"description": "scheduled / cancelled (a cancelled session counts nowhere)"})
    cancelled = fields.Nested(SessionCancelledSchema, allow_none=True,
                              metadata={"description": "who cancelled it, when and why; null unless cancelled"})


class SupervisorSchema(Schema):
    staff_id = ObjectIdField()
    name = fields.String()
    bound = fields.Boolean()


class ClassSummarySchema(Schema):
    id = ObjectIdField(attribute="_id")
    programme_id = ObjectIdField()
    year = fields.Integer()
    name = fields.String()
    institution = fields.String()
    content_areas = fields.List(fields.String())
    start_date = fields.String()
    end_date = fields.String()
    venue = fields.Nested(VenueOutSchema)
    capacity = fields.Integer()
    status = fields.String()
    registration_opens_at = BeijingDateTime(allow_none=True)
    registration_deadline = BeijingDateTime()
    confirmation_deadline = BeijingDateTime()
    regions = fields.List(fields.String(), metadata={"description": "regions with quota (joint class when several)"})
    places_left = fields.Nested(PlacesLeftSchema, allow_none=True,
                                metadata={"description": "for your region (or ?region_code=)"})
    class_hours = fields.Float()
    session_count = fields.Integer()


class ClassDetailSchema(ClassSummarySchema):
    allow_quota_above_capacity = fields.Boolean()
    minutes_per_class_hour = fields.Integer()
    checkin_settings = fields.Nested(CheckinOutSchema)
    quotas = fields.List(fields.Nested(QuotaSchema))
    sessions = fields.List(fields.Nested(SessionSchema))
    supervisors = fields.List(fields.Nested(SupervisorSchema))
    version = fields.Integer()
    created_at = BeijingDateTime()
    updated_at = BeijingDateTime(allow_none=True)


class ChangeSchema(Schema):
    at = BeijingDateTime()
    by = ObjectIdField(allow_none=True, metadata={"description": "null: the system (timetable-driven status)"})
    by_name = by_name_field()
    what = fields.Dict(metadata={"description": "field -> {old, new}"})


ClassPageSchema = page_schema(ClassSummarySchema, "ClassPage")


class TimetableSchema(Schema):
    class_id = ObjectIdField()
    class_hours = fields.Float()
    sessions = fields.List(fields.Nested(SessionSchema))


class QuotaTableSchema(Schema):
    class_id = ObjectIdField()
    capacity = fields.Integer()
    total_places = fields.Integer()
    total_used = fields.Integer()
    quotas = fields.List(fields.Nested(QuotaSchema))
