"""Class endpoints: /api/v1/classes (setup by organizers, reading by everyone in scope)."""

from flask.views import MethodView

from schemas.classes import (ChangeSchema, ClassCreateSchema, ClassDetailSchema, ClassListArgs,
                             ClassPageSchema, ClassStatusSchema, ClassUpdateSchema, QuotaSetSchema,
                             QuotaTableSchema, RegionArgs, SessionCancelSchema, SessionInputSchema, SessionSchema,
                             SessionUpdateSchema, SupervisorsSetSchema, TimetableSchema)
from service.classes import access, exports, service, views
from service.core.auth import ADMIN, current_identity, require
from service.core.blueprint import Blueprint
from service.core.ids import parse_object_id
from service.staff import names

blp = Blueprint("classes", __name__, url_prefix="/api/v1/classes",
                description="Classes (班次), timetables and quotas")

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _detail(class_doc, region_code=None):
    return views.detail(class_doc, region_code=access.caller_region(current_identity(), region_code),
                        supervisors=service.supervisors(class_doc["_id"]))


def _visible(class_id):
    return service.get_visible(class_id=parse_object_id(class_id, "CLASS_NOT_FOUND"),
                               identity=current_identity())


@blp.route("")
class Classes(MethodView):
    @require()
    @blp.arguments(ClassListArgs, location="query")
    @blp.response(200, ClassPageSchema)
    def get(self, args):
        """List classes (published ones; filter by year, programme, region open to, status)."""
        identity = current_identity()
        page = service.list_classes(identity=identity, **args)
        region = access.caller_region(identity, args.get("region_code"))
        page["items"] = [views.summary(c, region_code=region) for c in page["items"]]
        return page

    @require(ADMIN)
    @blp.arguments(ClassCreateSchema)
    @blp.response(201, ClassDetailSchema)
    def post(self, body):
        """Create a class (draft) with its venue, deadlines and quota table."""
        return _detail(service.create(created_by=current_identity().user_id, **body))


@blp.route("/<objectid:class_id>")
class ClassItem(MethodView):
    @require()
    @blp.arguments(RegionArgs, location="query")
    @blp.response(200, ClassDetailSchema)
    def get(self, args, class_id):
        """A class with its timetable, quotas and the places left for your region."""
        return _detail(_visible(class_id), args.get("region_code"))

    @require(ADMIN)
    @blp.arguments(ClassUpdateSchema)
    @blp.response(200, ClassDetailSchema)
    def patch(self, body, class_id):
        """Change a class (send `version` to detect concurrent edits)."""
        version = body.pop("version")
        allow = body.pop("allow_date_change_with_registrations")
        return _detail(service.update(class_id=parse_object_id(class_id, "CLASS_NOT_FOUND"), changes=body,
                                      changed_by=current_identity().user_id, version=version,
                                      allow_date_change_with_registrations=allow))


@blp.route("/<objectid:class_id>/status")
class ClassStatus(MethodView):
    @require(ADMIN)
    @blp.arguments(ClassStatusSchema)
    @blp.response(200, ClassDetailSchema)
    def post(self, body, class_id):
        """Publish, start, finish, archive or cancel a class."""
        return _detail(service.change_status(class_id=parse_object_id(class_id, "CLASS_NOT_FOUND"),
                                             changed_by=current_identity().user_id, **body))


@blp.route("/<objectid:class_id>/changes")
class ClassChanges(MethodView):
    @require(ADMIN)
    @blp.response(200, ChangeSchema(many=True))
    def get(self, class_id):
        """Every recorded change of the class (who, when, what), oldest first."""
        class_doc = service.get_or_raise(class_id=parse_object_id(class_id, "CLASS_NOT_FOUND"))
        return names.with_by_names(class_doc.get("changes", []))


@blp.route("/<objectid:class_id>/sessions")
class Sessions(MethodView):
    @require()
    @blp.response(200, TimetableSchema)
    def get(self, class_id):
        """The class timetable with each session's check-in window and class hours."""
        return views.timetable(_visible(class_id))

    @require(ADMIN)
    @blp.arguments(SessionInputSchema)
    @blp.response(201, SessionSchema)
    def post(self, body, class_id):
        """Add a session to the timetable."""
        class_doc, session_id = service.add_session(
            class_id=parse_object_id(class_id, "CLASS_NOT_FOUND"), session=body,
            changed_by=current_identity().user_id)
        session = next(s for s in class_doc["sessions"] if s["_id"] == session_id)
        return views.session_view(class_doc, session)


@blp.route("/<objectid:class_id>/sessions/<objectid:session_id>")
class SessionItem(MethodView):
    @require(ADMIN)
    @blp.arguments(SessionUpdateSchema)
    @blp.response(200, SessionSchema)
    def patch(self, body, class_id, session_id):
        """Change a session."""
        session_id = parse_object_id(session_id, "SESSION_NOT_FOUND")
        class_doc = service.update_session(class_id=parse_object_id(class_id, "CLASS_NOT_FOUND"),
                                           session_id=session_id, changes=body,
                                           changed_by=current_identity().user_id)
        return views.session_view(class_doc, next(s for s in class_doc["sessions"] if s["_id"] == session_id))

    @require(ADMIN)
    @blp.response(204)
    def delete(self, class_id, session_id):
        """Remove a session from the timetable."""
        service.delete_session(class_id=parse_object_id(class_id, "CLASS_NOT_FOUND"),
                               session_id=parse_object_id(session_id, "SESSION_NOT_FOUND"),
                               changed_by=current_identity().user_id)


@blp.route("/<objectid:class_id>/sessions/<objectid:session_id>/cancel")
class SessionCancel(MethodView):
    @require(ADMIN)
    @blp.arguments(SessionCancelSchema)
    @blp.response(200, SessionSchema)
    def post(self, body, class_id, session_id):
        """Cancel a session that will not take place, with a reason (it then counts nowhere)."""
        session_id = parse_object_id(session_id, "SESSION_NOT_FOUND")
        class_doc = service.cancel_session(class_id=parse_object_id(class_id, "CLASS_NOT_FOUND"),
                                           session_id=session_id, reason=body["reason"],
                                           changed_by=current_identity().user_id)
        return views.session_view(class_doc, next(s for s in class_doc["sessions"] if s["_id"] == session_id))


@blp.route("/<objectid:class_id>/quotas")
class Quotas(MethodView):
    @require()
    @blp.response(200, QuotaTableSchema)
    def get(self, class_id):
        """The quota table with used / left (province staff: their region's row)."""
        class_doc = _visible(class_id)
        return views.quota_table(class_doc, only_region=access.quota_regions_visible(current_identity(), class_doc))


@blp.route("/<objectid:class_id>/quotas/<region_code>")
class QuotaItem(MethodView):
    @require(ADMIN)
    @blp.arguments(QuotaSetSchema)
    @blp.response(200, QuotaTableSchema)
    def put(self, body, class_id, region_code):
        """Set a region's places (never below the places already counted)."""
        class_doc = service.set_quota(class_id=parse_object_id(class_id, "CLASS_NOT_FOUND"),
                                      region_code=region_code, places=body["places"],
                                      changed_by=current_identity().user_id)
        return views.quota_table(class_doc)


@blp.route("/<objectid:class_id>/supervisors")
class Supervisors(MethodView):
    @require(ADMIN)
    @blp.arguments(SupervisorsSetSchema)
    @blp.response(200, ClassDetailSchema)
    def put(self, body, class_id):
        """Set the class's supervisors (班主任) by staff account id."""
        return _detail(service.assign_supervisors(class_id=parse_object_id(class_id, "CLASS_NOT_FOUND"),
                                                  staff_ids=body["staff_ids"],
                                                  changed_by=current_identity().user_id))


@blp.route("/<objectid:class_id>/timetable.xlsx")
class TimetableExport(MethodView):
    @require()
    @blp.response(200, description="Excel timetable", content_type=XLSX_TYPE)
    def get(self, class_id):
        """Download the timetable as Excel."""
        return exports.timetable_xlsx(_visible(class_id))


@blp.route("/<objectid:class_id>/quotas.xlsx")
class QuotaExport(MethodView):
    @require()
    @blp.response(200, description="Excel quota table",
                  content_type=XLSX_TYPE)
    def get(self, class_id):
        """Download the quota table with used / left as Excel."""
        class_doc = _visible(class_id)
        return exports.quota_xlsx(class_doc, only_region=access.quota_regions_visible(current_identity(), class_doc))
