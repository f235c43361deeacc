"""Enterprise registry (企业名录) shapes: the upload, the import report, the enterprise list."""

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate

from schemas.base import BaseSchema, Pattern, BeijingDateTime, ObjectIdField, PaginationArgs, page_schema
from schemas.text import Text
from service.registry.importer import TITLES, normalise_title


class RegistryUploadSchema(BaseSchema):
    file = Upload(required=True, metadata={"description": ".xlsx or CSV (UTF-8 or GBK), at most 20 MB"})


class RegistryBadRowSchema(Schema):
    row = fields.Integer(metadata={"description": "row number as the spreadsheet shows it (header = 1)"})
    column = fields.String(allow_none=True, metadata={"example": "统一社会信用代码"})
    reason = fields.String(metadata={"example": "统一社会信用代码“91110000MA00000010”校验位不正确"})


class RegistryImportProgressSchema(Schema):
    rows_read = fields.Integer(metadata={"description": "the spreadsheet row up to which rows are checked and written "
                                                        "(header and blank rows included)"})
    rows_total = fields.Integer(allow_none=True, metadata={
        "description": "the file's last row number (the sheet's last row, formatted blank ones included; a CSV's "
                       "last record): rows_read reaches it when the import is done unless the file ends in blank "
                       "rows; null while queued and for the first seconds of running, until the file is opened and "
                       "its rows counted"})


class RegistryImportErrorSchema(Schema):
    code = fields.String(metadata={"example": "REGISTRY_HEADER_INVALID"})
    message = fields.String()
    required_columns = fields.List(fields.String(), allow_none=True, metadata={
        "description": "the required column names with REGISTRY_HEADER_INVALID; null with every other code"})


class RegistryImportSummarySchema(Schema):
    id = ObjectIdField(attribute="_id")
    state = fields.String(validate=validate.OneOf(("queued", "running", "done", "failed")), metadata={
        "description": "queued (waiting for the worker; imports run one at a time, oldest first), running, "
                       "done, failed (see error; POST .../retry runs it again)"})
    progress = fields.Nested(RegistryImportProgressSchema)
    error = fields.Nested(RegistryImportErrorSchema, allow_none=True, metadata={"description": "why it failed; null otherwise"})
    started_at = BeijingDateTime(allow_none=True)
    finished_at = BeijingDateTime(allow_none=True)
    file_name = fields.String()
    file_kind = fields.String(metadata={"description": "xlsx or csv (by content)"})
    file_size = fields.Integer()
    imported_by = ObjectIdField()
    imported_at = BeijingDateTime()
    total = fields.Integer(metadata={"description": "data rows in the file (blank rows skipped)"})
    inserted = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    rejected = fields.Integer(metadata={"description": "rows not imported"})
    duration_ms = fields.Integer(allow_none=True, metadata={"description": "null until done"})


class RegistryImportReportSchema(RegistryImportSummarySchema):
    bad_rows = fields.List(fields.Nested(RegistryBadRowSchema),
                           metadata={"description": "one entry per fault; a row with two faults appears twice"})
    bad_rows_total = fields.Integer(metadata={"description": "faults found (all counted; the first 10,000 listed), "
                                                             "growing while the import runs and kept if it fails"})
    bad_rows_truncated = fields.Boolean(metadata={"description": "true when only the first 10,000 are listed"})


RegistryImportPageSchema = page_schema(RegistryImportSummarySchema, "RegistryImportPage")


class RegistryTitle(fields.String):
    """A registry title read the way the import reads it (importer.normalise_title)."""

    def _deserialize(self, value, attr, data, **kwargs):
        title = normalise_title(super()._deserialize(value, attr, data, **kwargs))
        if title is None:
            raise ValidationError(f"请从以下选项中选择：{'、'.join(TITLES)}")
        return title


class RegistryImportListArgs(PaginationArgs):
    pass


class RegistryEnterpriseListArgs(PaginationArgs):
    region_code = fields.String(validate=Pattern(r"[0-9]{6}"))
    title = RegistryTitle(metadata={"description": f"one of {'、'.join(TITLES)}, or as the import reads it "
                                                  "(专精特新“小巨人”企业)"})
    credit_code = fields.String(validate=validate.Length(max=18))
    q = Text(max_length=50, min_length=1, metadata={"description": "part of the name"})
    valid_on = fields.Date(metadata={"description": "only entries valid on this day"})


class RegistryEnterpriseSchema(Schema):
    id = ObjectIdField(attribute="_id")
    name = fields.String()
    credit_code = fields.String()
    region_code = fields.String()
    region_name = fields.String()
    title = fields.String()
    batch = fields.String(allow_none=True)
    valid_from = fields.String(metadata={"example": "2024-07-01"})
    valid_until = fields.String(metadata={"example": "2027-06-30"})
    created_at = BeijingDateTime()
    updated_at = BeijingDateTime(allow_none=True)


RegistryEnterprisePageSchema = page_schema(RegistryEnterpriseSchema, "RegistryEnterprisePage")
