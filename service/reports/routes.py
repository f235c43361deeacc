"""Report endpoints: /api/v1/reports/... as JSON and as Excel."""

from flask.views import MethodView

from schemas.reports import ArchiveSchema, ClassReportSchema, NationalKpiSchema, RegionKpiSchema
from service.core.auth import ADMIN, PROVINCE_STAFF, SUPERVISOR, current_identity, require
from service.core.blueprint import Blueprint
from service.core.excel import XLSX_MIMETYPE
from service.core.ids import parse_object_id
from service.reports import exports, service

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports",
                description="Reports: class report, region-year KPIs, all-regions KPI table, trainee archive (统计报表)")


def _cid(class_id):
    return parse_object_id(class_id, "CLASS_NOT_FOUND")


def _rid(registration_id):
    return parse_object_id(registration_id, "REGISTRATION_NOT_FOUND")


@blp.route("/classes/<objectid:class_id>")
class ClassReport(MethodView):
    @require(ADMIN, SUPERVISOR, PROVINCE_STAFF)
    @blp.response(200, ClassReportSchema)
    def get(self, class_id):
        """Staff: enrolment, attendance, lateness, leave, satisfaction and completion of a class."""
        return service.class_report(identity=current_identity(), class_id=_cid(class_id))


@blp.route("/classes/<objectid:class_id>.xlsx")
class ClassReportExcel(MethodView):
    @require(ADMIN, SUPERVISOR, PROVINCE_STAFF)
    @blp.response(200, description="Excel", content_type=XLSX_MIMETYPE)
    def get(self, class_id):
        """Staff: the class report as Excel."""
        return exports.class_report_xlsx(service.class_report(identity=current_identity(), class_id=_cid(class_id)))


@blp.route("/regions/<region_code>/years/<year:year>")
class RegionKpis(MethodView):
    @require(ADMIN, PROVINCE_STAFF)
    @blp.response(200, RegionKpiSchema)
    def get(self, region_code, year):
        """Organizers and the region's staff: the training KPIs of a region for a programme year."""
        return service.region_kpis(identity=current_identity(), region_code=region_code, year=year)


@blp.route("/regions/<region_code>/years/<year:year>.xlsx")
class RegionKpisExcel(MethodView):
    @require(ADMIN, PROVINCE_STAFF)
    @blp.response(200, description="Excel", content_type=XLSX_MIMETYPE)
    def get(self, region_code, year):
        """The region-year KPIs as Excel."""
        return exports.region_kpis_xlsx(service.region_kpis(identity=current_identity(), region_code=region_code,
                                                            year=year))


@blp.route("/years/<year:year>/regions")
class NationalKpis(MethodView):
    @require(ADMIN)
    @blp.response(200, NationalKpiSchema)
    def get(self, year):
        """Organizers: the training KPIs of every region for a programme year, with the national total."""
        return service.national_kpis(year=year)


@blp.route("/years/<year:year>/regions.xlsx")
class NationalKpisExcel(MethodView):
    @require(ADMIN)
    @blp.response(200, description="Excel", content_type=XLSX_MIMETYPE)
    def get(self, year):
        """Organizers: the all-regions KPI table as Excel."""
        return exports.national_kpis_xlsx(service.national_kpis(year=year))


@blp.route("/archives/<objectid:registration_id>")
class Archive(MethodView):
    @require()
    @blp.response(200, ArchiveSchema)
    def get(self, registration_id):
        """The training archive (培训档案) of the trainee who made this registration."""
        return service.trainee_archive(identity=current_identity(), registration_id=_rid(registration_id))


@blp.route("/archives/<objectid:registration_id>.xlsx")
class ArchiveExcel(MethodView):
    @require()
    @blp.response(200, description="Excel", content_type=XLSX_MIMETYPE)
    def get(self, registration_id):
        """The training archive as Excel."""
        return exports.archive_xlsx(service.trainee_archive(identity=current_identity(),
                                                            registration_id=_rid(registration_id)))
