"""Programme year endpoints: /api/v1/programmes."""

from flask.views import MethodView

from schemas.programmes import (ProgrammeCreateSchema, ProgrammeListArgs, ProgrammePageSchema,
                                ProgrammeSchema, ProgrammeStatusSchema, ProgrammeUpdateSchema)
from service.core.auth import ADMIN, current_identity, require
from service.core.blueprint import Blueprint
from service.core.ids import parse_object_id
from service.programmes import service

blp = Blueprint("programmes", __name__, url_prefix="/api/v1/programmes",
                description="Programme years (培训项目)")


@blp.route("")
class Programmes(MethodView):
    @require()
    @blp.arguments(ProgrammeListArgs, location="query")
    @blp.response(200, ProgrammePageSchema)
    def get(self, args):
        """List programme years (published ones; admins see all)."""
        return service.list_programmes(identity=current_identity(), **args)

    @require(ADMIN)
    @blp.arguments(ProgrammeCreateSchema)
    @blp.response(201, ProgrammeSchema)
    def post(self, body):
        """Create a programme year (draft)."""
        return service.create(created_by=current_identity().user_id, **body)


@blp.route("/<objectid:programme_id>")
class Programme(MethodView):
    @require()
    @blp.response(200, ProgrammeSchema)
    def get(self, programme_id):
        """One programme year."""
        return service.get_or_raise(programme_id=parse_object_id(programme_id),
                                    identity=current_identity())

    @require(ADMIN)
    @blp.arguments(ProgrammeUpdateSchema)
    @blp.response(200, ProgrammeSchema)
    def patch(self, body, programme_id):
        """Change a programme year's name, kind or eligibility switches."""
        return service.update(programme_id=parse_object_id(programme_id), changes=body)


@blp.route("/<objectid:programme_id>/status")
class ProgrammeStatus(MethodView):
    @require(ADMIN)
    @blp.arguments(ProgrammeStatusSchema)
    @blp.response(200, ProgrammeSchema)
    def post(self, body, programme_id):
        """Publish or cancel a programme year."""
        return service.change_status(programme_id=parse_object_id(programme_id),
                                     changed_by=current_identity().user_id, **body)
