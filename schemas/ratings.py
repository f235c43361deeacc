"""Satisfaction rating (满意度评价) shapes."""

from marshmallow import Schema, fields, validate

from schemas.base import BaseSchema, BeijingDateTime, ObjectIdField, WholeNumber
from schemas.text import Text

STARS = validate.Range(min=1, max=5)


def _score(label):
    return WholeNumber(required=True, validate=STARS, metadata={"description": f"{label}, 1–5"})


class SessionRatingInputSchema(BaseSchema):
    stars = WholeNumber(required=True, validate=STARS, metadata={"description": "1–5 stars"})
    comment = Text(max_length=500, multiline=True, load_default="")


class ClassRatingInputSchema(BaseSchema):
    course_design = _score("课程设置")
    faculty = _score("师资力量")
    organisation = _score("组织管理")
    effect = _score("实际效果")
    suggestions = Text(max_length=1000, multiline=True, load_default="",
                                metadata={"description": "意见建议"})


class ScoresSchema(Schema):
    course_design = fields.Integer()
    faculty = fields.Integer()
    organisation = fields.Integer()
    effect = fields.Integer()


class RatingSchema(Schema):
    kind = fields.String(metadata={"description": "session / class"})
    class_id = ObjectIdField()
    session_id = ObjectIdField(allow_none=True)
    stars = fields.Integer()
    comment = fields.String()
    scores = fields.Nested(ScoresSchema)
    suggestions = fields.String()
    rated_at = BeijingDateTime()
    updated_at = BeijingDateTime()
    changeable_until = BeijingDateTime()


class PendingItemSchema(Schema):
    kind = fields.String(metadata={"description": "session / class"})
    class_id = ObjectIdField()
    class_name = fields.String()
    session_id = ObjectIdField(allow_none=True)
    title = fields.String()
    teacher = fields.String(allow_none=True)
    starts_at = BeijingDateTime(metadata={"description": "session start; for the class, when rating opened"})
    closes_at = BeijingDateTime()


class PendingSchema(Schema):
    count = fields.Integer()
    items = fields.List(fields.Nested(PendingItemSchema))


class SessionSatisfactionSchema(Schema):
    session_id = ObjectIdField()
    title = fields.String()
    teacher = fields.String(allow_none=True)
    starts_at = BeijingDateTime()
    ratings = fields.Integer()
    average = fields.Float(allow_none=True)
    satisfaction_rate = fields.Float(allow_none=True)
    flagged = fields.Boolean()


class TeacherSatisfactionSchema(Schema):
    teacher = fields.String()
    ratings = fields.Integer()
    average = fields.Float(allow_none=True)
    satisfaction_rate = fields.Float(allow_none=True)
    flagged = fields.Boolean()


class DimensionSatisfactionSchema(Schema):
    dimension = fields.String()
    label = fields.String()
    ratings = fields.Integer()
    average = fields.Float(allow_none=True)
    satisfaction_rate = fields.Float(allow_none=True)
    flagged = fields.Boolean()


class CommentSchema(Schema):
    session_id = ObjectIdField()
    session_title = fields.String()
    stars = fields.Integer()
    text = fields.String()


class SatisfactionSchema(Schema):
    threshold = fields.Float()
    session_ratings = fields.Integer()
    session_satisfaction_rate = fields.Float(allow_none=True)
    class_ratings = fields.Integer()
    overall_satisfaction_rate = fields.Float(allow_none=True)
    overall_flagged = fields.Boolean()
    sessions = fields.List(fields.Nested(SessionSatisfactionSchema))
    teachers = fields.List(fields.Nested(TeacherSatisfactionSchema))
    dimensions = fields.List(fields.Nested(DimensionSatisfactionSchema))
    comments = fields.List(fields.Nested(CommentSchema), allow_none=True,
                           metadata={"description": "null for province staff"})
    suggestions = fields.List(fields.String(), allow_none=True)
