"""Trainee profile (学员信息表, 附1-3 of notice 243) and attachment shapes."""

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from schemas.base import BaseSchema, Pattern, BeijingDateTime, ObjectIdField, WholeNumber
from schemas.text import PersonName, Text
from schemas.identifiers import CreditCode, IdNumber, MobileNumber
from service.core import reference, regions

ENTERPRISE_TITLES = ("小巨人", "单项冠军", "高新技术企业", "技术创新示范企业", "绿色工厂", "质量标杆",
                     "专精特新中小企业")
IPO_STAGES = ("none", "planning", "tutoring", "filed", "listed")
IPO_BOARDS = ("main", "star", "chinext", "bse", "neeq", "hk", "overseas")
DEGREES = ("博士", "硕士", "学士", "大专", "中专", "高中", "其他")
ATTACHMENT_KINDS = ("business_licence", "id_card", "photo", "leave_proof")
YEAR_MONTH = Pattern(r"(19|20)[0-9]{2}-(0[1-9]|1[0-2])", error="请按 YYYY-MM 填写")


class EducationSchema(BaseSchema):
    school = Text(max_length=100, min_length=1, required=True)
    start = fields.String(required=True, validate=YEAR_MONTH)
    end = fields.String(load_default=None, allow_none=True, validate=YEAR_MONTH)
    major = Text(max_length=100, load_default="")
    degree = fields.String(required=True, validate=validate.OneOf(DEGREES))

    @validates_schema
    def end_after_start(self, data, **kwargs):
        if data.get("end") and data["end"] < data["start"]:
            raise ValidationError("毕业时间不能早于入学时间", "end")


class IpoPlanSchema(BaseSchema):
    stage = fields.String(required=True, validate=validate.OneOf(IPO_STAGES))
    board = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(IPO_BOARDS))


class EnterpriseSchema(BaseSchema):
    name = Text(max_length=100, min_length=2, required=True)
    credit_code = CreditCode(required=True, metadata={"description": "统一社会信用代码, 18 characters"})
    region_code = fields.String(required=True)
    website = fields.URL(load_default=None, allow_none=True)
    listed = fields.Boolean(load_default=False)
    ipo_plan = fields.Nested(IpoPlanSchema, load_default=None, allow_none=True)
    titles = fields.List(fields.String(validate=validate.OneOf(ENTERPRISE_TITLES)), load_default=list)

    @validates("region_code")
    def known_region(self, value, **kwargs):
        if not regions.is_valid(value):
            raise ValidationError("地区代码不存在")


class ProfileInputSchema(BaseSchema):
    name = PersonName(max_length=30, min_length=2, required=True)
    gender = fields.String(required=True, validate=validate.OneOf(("male", "female")),
                           metadata={"description": "male 男 / female 女"})
    id_number = IdNumber(required=True, metadata={
        "description": "居民身份证 / 港澳台居民居住证 / 外国人永久居留身份证 number, 18 characters"})
    mobile = MobileNumber(load_default=None, allow_none=True,
                          metadata={"description": "omit to keep the number from WeChat; full-width digits and "
                                                   "spaces are read as the 11 digits"})
    email = fields.Email(load_default=None, allow_none=True)
    political_status = fields.String(required=True)
    ethnicity = fields.String(required=True)
    position = Text(max_length=50, min_length=1, required=True,
                             metadata={"example": "董事长"})
    management_years = WholeNumber(required=True, validate=validate.Range(min=0, max=70))
    address = Text(max_length=200, load_default="")
    education = fields.List(fields.Nested(EducationSchema), load_default=list, validate=validate.Length(max=10))
    social_positions = fields.List(Text(max_length=100, min_length=1), load_default=list,
                                   validate=validate.Length(max=20))
    honours = fields.List(Text(max_length=100, min_length=1), load_default=list,
                          validate=validate.Length(max=20))
    enterprise = fields.Nested(EnterpriseSchema, required=True)

    @validates("political_status")
    def known_political_status(self, value, **kwargs):
        if value not in reference.political_statuses():
            raise ValidationError("请从列表中选择政治面貌")

    @validates("ethnicity")
    def known_ethnicity(self, value, **kwargs):
        if value not in reference.ethnic_groups():
            raise ValidationError("请从56个民族中选择")

    @validates_schema(skip_on_field_errors=True)
    def gender_matches_id(self, data, **kwargs):
        # The 17th digit of the ID number is odd for men and even for women.
        male = int(data["id_number"][16]) % 2 == 1
        if male != (data["gender"] == "male"):
            raise ValidationError("性别与身份证号码不一致", "gender")


class PhoneCodeSchema(BaseSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=128),
                         metadata={"description": "code from the getPhoneNumber button"})


class EnterpriseOutSchema(Schema):
    name = fields.String()
    credit_code = fields.String()
    region_code = fields.String()
    region_name = fields.String()
    website = fields.String(allow_none=True)
    listed = fields.Boolean()
    ipo_plan = fields.Dict(allow_none=True)
    titles = fields.List(fields.String())


class ProfileSchema(Schema):
    """Fields of the form are null until filled in (a profile may hold only the WeChat mobile)."""

    user_id = ObjectIdField(attribute="_id")
    name = fields.String(allow_none=True)
    gender = fields.String(allow_none=True)
    id_number = fields.String(attribute="id_number_masked", allow_none=True, metadata={"description": "masked"})
    id_card_kind = fields.String(allow_none=True, metadata={
        "description": "resident_id 居民身份证 / residence_permit 港澳台居民居住证 / "
                       "foreign_permanent_resident 外国人永久居留身份证"})
    birth_date = fields.String(allow_none=True)
    mobile = fields.String(attribute="mobile_masked", allow_none=True, metadata={"description": "masked"})
    mobile_source = fields.String(allow_none=True, metadata={"description": "manual or wechat"})
    email = fields.String(allow_none=True)
    political_status = fields.String(allow_none=True)
    ethnicity = fields.String(allow_none=True)
    position = fields.String(allow_none=True)
    management_years = fields.Integer(allow_none=True)
    address = fields.String(allow_none=True)
    education = fields.List(fields.Dict(), allow_none=True)
    social_positions = fields.List(fields.String(), allow_none=True)
    honours = fields.List(fields.String(), allow_none=True)
    enterprise = fields.Nested(EnterpriseOutSchema, allow_none=True)
    complete = fields.Boolean(metadata={"description": "everything needed to submit a registration is there"})
    missing = fields.List(fields.String(), metadata={"description": "what is still missing"})
    updated_at = BeijingDateTime(allow_none=True)


class AttachmentUploadSchema(BaseSchema):
    kind = fields.String(required=True, validate=validate.OneOf(ATTACHMENT_KINDS),
                         metadata={"description": "business_licence 营业执照 / id_card 身份证 / photo 一寸照片"})


class AttachmentSchema(Schema):
    id = ObjectIdField(attribute="_id")
    kind = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    created_at = BeijingDateTime()


class ReferenceListsSchema(Schema):
    ethnic_groups = fields.List(fields.String())
    political_statuses = fields.List(fields.String())
    enterprise_titles = fields.List(fields.String())
    degrees = fields.List(fields.String())
    ipo_stages = fields.List(fields.String())
    ipo_boards = fields.List(fields.String())
    regions = fields.List(fields.Dict())
