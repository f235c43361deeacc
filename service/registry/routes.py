"""Enterprise registry endpoints: /api/v1/registry (imports by organizers, the list for staff)."""

from flask.views import MethodView

from schemas.registry import (RegistryEnterpriseListArgs, RegistryEnterprisePageSchema, RegistryImportListArgs,
                              RegistryImportPageSchema, RegistryImportReportSchema, RegistryUploadSchema)
from service.core.auth import ADMIN, PROVINCE_STAFF, current_identity, require
from service.core.blueprint import Blueprint
from service.core.excel import XLSX_MIMETYPE, xlsx_response
from service.core.ids import parse_object_id
from service.core.request_body import upload_limit
from service.registry import importer, service

blp = Blueprint("registry", __name__, url_prefix="/api/v1/registry",
                description="Enterprise registry (企业名录): 小巨人, 单项冠军, 高新技术企业 ...")


@blp.route("/imports")
class Imports(MethodView):
    @require(ADMIN)
    @blp.arguments(RegistryImportListArgs, location="query")
    @blp.response(200, RegistryImportPageSchema)
    def get(self, args):
        """Organizers: past registry imports, newest first (without their bad-row lists)."""
        return service.list_reports(**args)

    @require(ADMIN)
    @upload_limit(lambda: importer.MAX_FILE_BYTES, code="REGISTRY_FILE_TOO_LARGE",
                  message=service.FILE_TOO_LARGE_MESSAGE)
    @blp.arguments(RegistryUploadSchema, location="files")
    @blp.response(202, RegistryImportReportSchema)
    def post(self, files):
        """Organizers: upload a registry file (.xlsx or CSV): answered at once with the queued import;
        the worker imports it in the background (poll GET /imports/{id} for progress and the report)."""
        upload = files["file"]
        return service.import_file(data=upload.stream.read(), file_name=upload.filename,
                                   imported_by=current_identity().user_id)


@blp.route("/imports/<objectid:import_id>")
class Import(MethodView):
    @require(ADMIN)
    @blp.response(200, RegistryImportReportSchema)
    def get(self, import_id):
        """Organizers: one import report with its bad rows."""
        return service.get_report_or_raise(report_id=parse_object_id(import_id, "REGISTRY_IMPORT_NOT_FOUND"))


@blp.route("/imports/<objectid:import_id>/retry")
class ImportRetry(MethodView):
    @require(ADMIN)
    @blp.response(202, RegistryImportReportSchema)
    def post(self, import_id):
        """Organizers: run a failed import again (its file was kept); 409 REGISTRY_IMPORT_NOT_FAILED otherwise."""
        return service.retry_import(report_id=parse_object_id(import_id, "REGISTRY_IMPORT_NOT_FOUND"))


@blp.route("/enterprises")
class Enterprises(MethodView):
    @require(ADMIN, PROVINCE_STAFF)
    @blp.arguments(RegistryEnterpriseListArgs, location="query")
    @blp.response(200, RegistryEnterprisePageSchema)
    def get(self, args):
        """Registry entries; province staff see only their own region."""
        return service.list_enterprises(identity=current_identity(), **args)


@blp.route("/template.xlsx")
class Template(MethodView):
    @require(ADMIN)
    @blp.response(200, description="empty import template", content_type=XLSX_MIMETYPE)
    def get(self):
        """Organizers: the empty import template (header row, how to fill it in, region codes)."""
        return xlsx_response("企业名录导入模板.xlsx", service.template_sheets(),
                             ascii_name="registry-template.xlsx")
