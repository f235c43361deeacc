"""Registration endpoints: /api/v1/registrations/* and the class roster export."""

from flask import Response
from flask.views import MethodView

from schemas.registrations import (AdmissionNoticeSchema, BulkDecisionResultSchema, BulkDecisionSchema,
                                   DecisionSchema, ReasonSchema, RegistrationCreateSchema, RegistrationEditSchema,
                                   RegistrationPageSchema, RegistrationSchema, RequiredReasonSchema,
                                   ReviewListArgs, RosterArgs)
from service.classes import service as classes
from service.core.auth import ADMIN, PROVINCE_STAFF, current_identity, ensure_region, require
from service.core.blueprint import Blueprint
from service.core.errors import Forbidden
from service.core.ids import parse_object_id
from service.registrations import exports, notices, review, service
from service.registrations.states import LABELS

blp = Blueprint("registrations", __name__, url_prefix="/api/v1",
                description="Registration, qualification review and admission (报名、资格审核、录取)")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _view(registration):
    return {**service.shown_to(registration, current_identity()), "state_label": LABELS[registration["state"]]}


def _rid(registration_id):
    return parse_object_id(registration_id, "REGISTRATION_NOT_FOUND")


def _me():
    return current_identity().user_id


@blp.route("/registrations")
class Registrations(MethodView):
    @require("province_staff", "admin", "supervisor")
    @blp.arguments(ReviewListArgs, location="query")
    @blp.response(200, RegistrationPageSchema)
    def get(self, args):
        """Staff: registrations in my scope with the automatic qualification checks."""
        page = review.list_for_review(identity=current_identity(), **args)
        page["items"] = [_view(r) for r in page["items"]]
        return page

    @require()
    @blp.arguments(RegistrationCreateSchema)
    @blp.response(201, RegistrationSchema)
    def post(self, body):
        """Trainee: start a registration (draft) for a published class."""
        return _view(service.create_draft(user_id=_me(), **body))


@blp.route("/registrations/mine")
class MyRegistrations(MethodView):
    @require()
    @blp.response(200, RegistrationSchema(many=True))
    def get(self):
        """Trainee: my registrations, newest first."""
        return [_view(r) for r in service.list_mine(user_id=_me())]


@blp.route("/registrations/decisions")
class BulkDecisions(MethodView):
    @require("province_staff", "admin")
    @blp.arguments(BulkDecisionSchema)
    @blp.response(200, BulkDecisionResultSchema)
    def post(self, body):
        """Staff: apply one decision to many registrations (each succeeds or fails alone)."""
        return review.decide_many(identity=current_identity(), **body)


@blp.route("/registrations/<objectid:registration_id>")
class RegistrationItem(MethodView):
    @require()
    @blp.response(200, RegistrationSchema)
    def get(self, registration_id):
        """One registration with its history and its files' names (owner, reviewing staff, class supervisors)."""
        registration = review.readable_or_raise(registration_id=_rid(registration_id), identity=current_identity())
        registration = {**registration, "attachments": service.attachments_of(registration, current_identity())}
        if registration["user_id"] == current_identity().user_id or registration["state"] == "draft":
            return _view(registration)
        return _view(review.with_checks(registration))

    @require()
    @blp.arguments(RegistrationEditSchema)
    @blp.response(200, RegistrationSchema)
    def patch(self, body, registration_id):
        """Trainee: change attachments or note of a draft or returned registration."""
        return _view(service.edit(registration_id=_rid(registration_id), user_id=_me(), changes=body))


@blp.route("/registrations/<objectid:registration_id>/submit")
class Submit(MethodView):
    @require()
    @blp.response(200, RegistrationSchema)
    def post(self, registration_id):
        """Trainee: submit (or resubmit after return) before the deadline."""
        return _view(service.submit(registration_id=_rid(registration_id), user_id=_me()))


@blp.route("/registrations/<objectid:registration_id>/withdraw")
class Withdraw(MethodView):
    @require()
    @blp.arguments(ReasonSchema)
    @blp.response(200, RegistrationSchema)
    def post(self, body, registration_id):
        """Trainee: withdraw before admission."""
        return _view(service.withdraw(registration_id=_rid(registration_id), user_id=_me(), **body))


@blp.route("/registrations/<objectid:registration_id>/withdrawal-request")
class WithdrawalRequest(MethodView):
    @require()
    @blp.arguments(RequiredReasonSchema)
    @blp.response(200, RegistrationSchema)
    def post(self, body, registration_id):
        """Trainee: ask to withdraw after admission (an organizer approves)."""
        return _view(service.request_withdrawal(registration_id=_rid(registration_id), user_id=_me(), **body))


@blp.route("/registrations/<objectid:registration_id>/confirm")
class Confirm(MethodView):
    @require()
    @blp.response(200, RegistrationSchema)
    def post(self, registration_id):
        """Trainee: confirm participation (确认参训) before the confirmation deadline."""
        return _view(service.confirm(registration_id=_rid(registration_id), user_id=_me()))


@blp.route("/registrations/<objectid:registration_id>/decision")
class Decision(MethodView):
    @require("province_staff", "admin")
    @blp.arguments(DecisionSchema)
    @blp.response(200, RegistrationSchema)
    def post(self, body, registration_id):
        """Staff: recommend / return / reject (province); admit / waitlist / reject / cancel /
        approve_withdrawal (organizer)."""
        return _view(review.decide(registration_id=_rid(registration_id), identity=current_identity(), **body))


@blp.route("/registrations/<objectid:registration_id>/admission-notice")
class AdmissionNotice(MethodView):
    @require()
    @blp.response(200, AdmissionNoticeSchema)
    def get(self, registration_id):
        """Trainee: my admission notice (入学通知书) once confirmed."""
        return notices.admission_notice(service.own_or_raise(registration_id=_rid(registration_id), user_id=_me()))


@blp.route("/registrations/<objectid:registration_id>/admission-notice.png")
class AdmissionNoticeImage(MethodView):
    @require()
    @blp.response(200, description="PNG image", content_type="image/png")
    def get(self, registration_id):
        """Trainee: the admission notice as an image to save on the phone."""
        registration = service.own_or_raise(registration_id=_rid(registration_id), user_id=_me())
        return Response(notices.admission_notice_png(registration), mimetype="image/png")


@blp.route("/classes/<objectid:class_id>/roster.xlsx")
class Roster(MethodView):
    @require("province_staff", "admin", "supervisor")
    @blp.arguments(RosterArgs, location="query")
    @blp.response(200, description="Excel roster", content_type=XLSX_TYPE)
    def get(self, args, class_id):
        """Staff: class roster (花名册) as Excel; ID numbers masked unless an organizer exports for certificates."""
        identity = current_identity()
        class_doc = classes.get_or_raise(class_id=parse_object_id(class_id, "CLASS_NOT_FOUND"))
        region_code = args.get("region_code")
        if not identity.is_admin and not identity.supervises(class_doc["_id"]):
            if PROVINCE_STAFF not in identity.roles:
                raise Forbidden("OUT_OF_SCOPE", "只能导出本地区或本人负责班级的花名册")
            region_code = region_code or next(iter(sorted(identity.region_codes)))
            ensure_region(identity, region_code)
        if args["for_certificates"] and not identity.is_admin:
            raise Forbidden("ROLE_REQUIRED", "只有组织方可以导出完整身份证号码")
        return exports.roster_xlsx(class_doc=class_doc, region_code=region_code,
                                   full_id_numbers=args["for_certificates"])


@blp.route("/years/<year:year>/roster.xlsx")
class YearRoster(MethodView):
    @require(ADMIN)
    @blp.arguments(RosterArgs, location="query")
    @blp.response(200, description="Excel roster", content_type=XLSX_TYPE)
    def get(self, args, year):
        """Organizers: the programme year's roster (花名册) of every region and class as Excel, streamed
        (tens of thousands of rows); `region_code` limits it to one region."""
        return exports.year_roster_xlsx(year=year, region_code=args.get("region_code"),
                                        full_id_numbers=args["for_certificates"])
