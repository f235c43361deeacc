"""Shapes of the ministries' tables (notice 243): performance targets, the 附件5 self-evaluation
(training rows), the 附1-2 class plan. Every response field is always present (null when empty)."""

from marshmallow import Schema, ValidationError, fields, validate

from schemas.base import BaseSchema, BeijingDateTime, ObjectIdField, WholeNumber
from schemas.reports import IncompleteArchiveSchema


def _out(field_class, *args, **kwargs):
    return field_class(*args, required=True, **kwargs)


class Figure(fields.Number):
    """A share (0.35) or a count (4): a count stays an integer on the wire (4, not 4.0)."""

    num_type = float

    def _format_num(self, value):
        return value if isinstance(value, int) and not isinstance(value, bool) else float(value)


def _four_decimals(value):
    if round(value, 4) != value:
        raise ValidationError("最多保留4位小数（如 0.3525 表示 35.25%）")


SHARE = {"validate": [validate.Range(min=0, max=1), _four_decimals]}


class TargetsInputSchema(BaseSchema):
    little_giant_share = fields.Float(required=True, **SHARE, metadata={
        "description": "目标：本批次培训“小巨人”企业占本地“小巨人”企业总数比例, 0–1 (0.35 = 35%)"})
    little_giants = WholeNumber(required=True, validate=validate.Range(min=0, max=100000), metadata={
        "description": "目标：本批次培训“小巨人”企业数量(个)"})
    classes = WholeNumber(required=True, validate=validate.Range(min=0, max=1000), metadata={
        "description": "目标：培训班数(个)"})
    satisfaction = fields.Float(required=True, **SHARE, metadata={"description": "目标：服务满意度, 0–1 (0.95 = 95%)"})
    version = WholeNumber(required=True, validate=validate.Range(min=0), metadata={
        "description": "the version read (0 the first time); 409 TARGETS_CHANGED if it moved since"})


class TargetsVersionSchema(Schema):
    version = _out(fields.Integer)
    little_giant_share = _out(fields.Float)
    little_giants = _out(fields.Integer)
    classes = _out(fields.Integer)
    satisfaction = _out(fields.Float)
    by = _out(ObjectIdField, metadata={"description": "user id of who set this version"})
    by_name = _out(fields.String, allow_none=True, metadata={"description": "their staff account's name"})
    at = _out(BeijingDateTime)


class TargetsSchema(Schema):
    region_code = _out(fields.String)
    region_name = _out(fields.String)
    year = _out(fields.Integer)
    little_giant_share = _out(fields.Float, allow_none=True)
    little_giants = _out(fields.Integer, allow_none=True)
    classes = _out(fields.Integer, allow_none=True)
    satisfaction = _out(fields.Float, allow_none=True)
    version = _out(fields.Integer, metadata={"description": "0 until targets are first set"})
    updated_by = _out(ObjectIdField, allow_none=True)
    updated_by_name = _out(fields.String, allow_none=True)
    updated_at = _out(BeijingDateTime, allow_none=True)
    history = _out(fields.List, fields.Nested(TargetsVersionSchema),
                   metadata={"description": "every version, oldest first (the last is the current one)"})


class ScoreRowSchema(Schema):
    key = _out(fields.String, metadata={
        "description": "little_giant_share / little_giants / course_content / classes / trainee_management / satisfaction"})
    content = _out(fields.String, metadata={"description": "评价内容 (企业培训)"})
    indicator = _out(fields.String, metadata={"description": "评价指标"})
    base_points = _out(fields.Integer, metadata={"description": "基准分值"})
    target = _out(Figure, allow_none=True, metadata={"description": "绩效目标 (share 0–1, or a count as an integer)"})
    target_text = _out(fields.String, metadata={"description": "绩效目标 as printed"})
    actual = _out(Figure, allow_none=True, metadata={"description": "实际完成值 (share 0–1, or a count as an integer)"})
    actual_text = _out(fields.String, metadata={"description": "实际完成值 as printed, with the counts"})
    standard = _out(fields.String, metadata={"description": "评分标准 as read from 附件5"})
    points = _out(fields.Float, allow_none=True, metadata={"description": "得分; null: cannot be scored yet"})
    rule = _out(fields.String, metadata={"description": "the rule that gave the points, in Chinese"})


class TotalSchema(Schema):
    base_points = _out(fields.Integer)
    points = _out(fields.Float)
    complete = _out(fields.Boolean, metadata={"description": "every row could be scored"})


class ContentGapSchema(Schema):
    class_id = _out(ObjectIdField)
    class_name = _out(fields.String, allow_none=True)
    start_date = _out(fields.String, allow_none=True)
    missing_areas = _out(fields.List, fields.String())
    reason = _out(fields.String)


class UnreviewedSchema(Schema):
    registration_id = _out(ObjectIdField)
    name = _out(fields.String, allow_none=True)
    class_id = _out(ObjectIdField)
    class_name = _out(fields.String, allow_none=True)
    submitted_at = _out(BeijingDateTime, allow_none=True)


class EvaluationMissingSchema(Schema):
    classes_without_required_content = _out(fields.List, fields.Nested(ContentGapSchema))
    unreviewed_registrations = _out(fields.List, fields.Nested(UnreviewedSchema))
    incomplete_archives = _out(fields.List, fields.Nested(IncompleteArchiveSchema))


class EvaluationSchema(Schema):
    region_code = _out(fields.String)
    region_name = _out(fields.String)
    year = _out(fields.Integer)
    generated_at = _out(BeijingDateTime)
    targets = _out(fields.Nested, TargetsSchema)
    rows = _out(fields.List, fields.Nested(ScoreRowSchema))
    total = _out(fields.Nested, TotalSchema)
    missing = _out(fields.Nested, EvaluationMissingSchema)


class RegionScoreRowSchema(Schema):
    key = _out(fields.String)
    points = _out(fields.Float, allow_none=True)
    actual_text = _out(fields.String)
    rule = _out(fields.String)


class RegionScoreSchema(Schema):
    region_code = _out(fields.String)
    region_name = _out(fields.String)
    targets_set = _out(fields.Boolean)
    rows = _out(fields.List, fields.Nested(RegionScoreRowSchema))
    total = _out(fields.Nested, TotalSchema)


class NationalEvaluationSchema(Schema):
    year = _out(fields.Integer)
    generated_at = _out(BeijingDateTime)
    regions = _out(fields.List, fields.Nested(RegionScoreSchema))


class PlanClassSchema(Schema):
    number = _out(fields.Integer, metadata={"description": "序号"})
    class_id = _out(ObjectIdField)
    class_name = _out(fields.String, metadata={"description": "班级名称"})
    start_date = _out(fields.String)
    end_date = _out(fields.String)
    period = _out(fields.String, metadata={"description": "时间, 月 日—月 日"})
    content_areas = _out(fields.List, fields.String(), metadata={"description": "培训内容"})
    institution = _out(fields.String, allow_none=True, metadata={"description": "培训机构"})
    places = _out(fields.Integer, metadata={"description": "学员数: the region's places (all regions' without one)"})
    confirmed = _out(fields.Integer, metadata={"description": "学员数: confirmed trainees (of the region)"})


class ClassPlanSchema(Schema):
    year = _out(fields.Integer)
    region_code = _out(fields.String, allow_none=True)
    region_name = _out(fields.String)
    title = _out(fields.String)
    classes = _out(fields.List, fields.Nested(PlanClassSchema))


class TraineeFormsArgs(BaseSchema):
    region_code = fields.String(load_default=None, allow_none=True, metadata={
        "description": "only this region's trainees (province staff: one of theirs)"})
