"""Admin endpoints for staff accounts: /api/v1/staff."""

from flask.views import MethodView

from schemas.staff import (StaffCreateSchema, StaffListArgs, StaffPageSchema, StaffSchema,
                           StaffUpdateSchema, StaffWithCodeSchema)
from service.core.auth import ADMIN, current_identity, require
from service.core.blueprint import Blueprint
from service.core.ids import parse_object_id
from service.staff import service

blp = Blueprint("staff", __name__, url_prefix="/api/v1/staff", description="Staff accounts (admin)")


def _with_code(account, code):
    return {"account": account, "binding_code": code,
            "binding_expires_at": service.binding_expires_at(account)}


@blp.route("")
class StaffCollection(MethodView):
    @require(ADMIN)
    @blp.arguments(StaffListArgs, location="query")
    @blp.response(200, StaffPageSchema)
    def get(self, args):
        """List staff accounts (filter by role and region)."""
        return service.list_accounts(**args)

    @require(ADMIN)
    @blp.arguments(StaffCreateSchema)
    @blp.response(201, StaffWithCodeSchema)
    def post(self, body):
        """Create a staff account; the answer holds its one-time binding code."""
        account, code = service.create(created_by=current_identity().user_id, **body)
        return _with_code(account, code)


@blp.route("/<objectid:account_id>")
class StaffItem(MethodView):
    @require(ADMIN)
    @blp.response(200, StaffSchema)
    def get(self, account_id):
        """One staff account."""
        return service.get_or_raise(account_id=parse_object_id(account_id))

    @require(ADMIN)
    @blp.arguments(StaffUpdateSchema)
    @blp.response(200, StaffSchema)
    def patch(self, body, account_id):
        """Change a staff account's name, scope or active flag."""
        return service.update(account_id=parse_object_id(account_id), changes=body)


@blp.route("/<objectid:account_id>/binding-code")
class StaffBindingCode(MethodView):
    @require(ADMIN)
    @blp.response(201, StaffWithCodeSchema)
    def post(self, account_id):
        """Issue a new one-time binding code (unbinds the current WeChat identity)."""
        account, code = service.reissue_binding_code(account_id=parse_object_id(account_id))
        return _with_code(account, code)
