"""The ministries' tables (notice 243): targets and 附件5 self-evaluation, 附1-2 class plan, 附1-3 trainee forms.

Paths follow the reports' habit: /regions/{code}/years/{year}/..., the all-regions table under
/years/{year}/..., and an Excel twin with the .xlsx suffix.
"""

from flask.views import MethodView

from schemas.evaluation import (ClassPlanSchema, EvaluationSchema, NationalEvaluationSchema, TargetsInputSchema,
                                TargetsSchema, TraineeFormsArgs)
from service.core.auth import ADMIN, PROVINCE_STAFF, SUPERVISOR, current_identity, require
from service.core.blueprint import Blueprint
from service.core.excel import XLSX_MIMETYPE
from service.core.ids import parse_object_id
from service.evaluation import exports, service

blp = Blueprint("evaluation", __name__, url_prefix="/api/v1",
                description="The ministries' tables: performance targets and 附件5 self-evaluation, "
                            "附1-2 class plan, 附1-3 trainee forms (绩效自评与报表)")

# A programme year (service.core.years): outside the programme's range a 422 field error.
YEAR = "<year:year>"
REGION_YEAR = f"/regions/<region_code>/years/{YEAR}"


@blp.route(f"{REGION_YEAR}/targets")
class Targets(MethodView):
    @require(ADMIN, PROVINCE_STAFF)
    @blp.response(200, TargetsSchema)
    def get(self, region_code, year):
        """Organizers and the region's staff: the region's performance targets (绩效目标) for the year, with history."""
        return service.get_targets(identity=current_identity(), region_code=region_code, year=year)

    @require(ADMIN, PROVINCE_STAFF)
    @blp.arguments(TargetsInputSchema)
    @blp.response(200, TargetsSchema)
    def put(self, values, region_code, year):
        """Set the region's performance targets, as of the version read (0 the first time)."""
        return service.set_targets(identity=current_identity(), region_code=region_code, year=year, **values)


@blp.route(f"{REGION_YEAR}/evaluation")
class Evaluation(MethodView):
    @require(ADMIN, PROVINCE_STAFF)
    @blp.response(200, EvaluationSchema)
    def get(self, region_code, year):
        """The training rows of 附件5 scored: target, actual, points, the rule applied, and what is missing."""
        return service.region_evaluation(identity=current_identity(), region_code=region_code, year=year)


@blp.route(f"{REGION_YEAR}/evaluation.xlsx")
class EvaluationExcel(MethodView):
    @require(ADMIN, PROVINCE_STAFF)
    @blp.response(200, description="Excel", content_type=XLSX_MIMETYPE)
    def get(self, region_code, year):
        """The self-evaluation in the layout of 附件5's table, and the list of what is missing."""
        return exports.evaluation_xlsx(service.region_evaluation(identity=current_identity(),
                                                                 region_code=region_code, year=year))


@blp.route(f"/years/{YEAR}/evaluation")
class NationalEvaluation(MethodView):
    @require(ADMIN)
    @blp.response(200, NationalEvaluationSchema)
    def get(self, year):
        """Organizers: every region's training score for the year."""
        return service.national_evaluation(year=year)


@blp.route(f"/years/{YEAR}/evaluation.xlsx")
class NationalEvaluationExcel(MethodView):
    @require(ADMIN)
    @blp.response(200, description="Excel", content_type=XLSX_MIMETYPE)
    def get(self, year):
        """Organizers: every region's training score as Excel."""
        return exports.national_evaluation_xlsx(service.national_evaluation(year=year))


@blp.route(f"{REGION_YEAR}/class-plan")
class ClassPlan(MethodView):
    @require(ADMIN, PROVINCE_STAFF)
    @blp.response(200, ClassPlanSchema)
    def get(self, region_code, year):
        """The region's class plan (附1-2): classes where it has places, its places and confirmed trainees."""
        return service.class_plan(identity=current_identity(), year=year, region_code=region_code)


@blp.route(f"{REGION_YEAR}/class-plan.xlsx")
class ClassPlanExcel(MethodView):
    @require(ADMIN, PROVINCE_STAFF)
    @blp.response(200, description="Excel", content_type=XLSX_MIMETYPE)
    def get(self, region_code, year):
        """The region's class plan in the layout of 附1-2."""
        return exports.class_plan_xlsx(service.class_plan(identity=current_identity(), year=year,
                                                          region_code=region_code))


@blp.route(f"/years/{YEAR}/class-plan")
class NationalClassPlan(MethodView):
    @require(ADMIN)
    @blp.response(200, ClassPlanSchema)
    def get(self, year):
        """Organizers: every class of the year with all regions' places and confirmed trainees."""
        return service.class_plan(identity=current_identity(), year=year)


@blp.route(f"/years/{YEAR}/class-plan.xlsx")
class NationalClassPlanExcel(MethodView):
    @require(ADMIN)
    @blp.response(200, description="Excel", content_type=XLSX_MIMETYPE)
    def get(self, year):
        """Organizers: the whole year's class plan in the layout of 附1-2."""
        return exports.class_plan_xlsx(service.class_plan(identity=current_identity(), year=year))


@blp.route("/classes/<objectid:class_id>/trainee-forms.xlsx")
class TraineeForms(MethodView):
    @require(ADMIN, PROVINCE_STAFF, SUPERVISOR)
    @blp.arguments(TraineeFormsArgs, location="query")
    @blp.response(200, description="Excel", content_type=XLSX_MIMETYPE)
    def get(self, args, class_id):
        """Staff: one 附1-3 trainee form per confirmed trainee (photo included) and an index sheet."""
        result = service.trainee_forms(identity=current_identity(),
                                       class_id=parse_object_id(class_id, "CLASS_NOT_FOUND"),
                                       region_code=args["region_code"])
        return exports.trainee_forms_xlsx(result)
